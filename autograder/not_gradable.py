"""``NotGradable``: what stands for a student's value that did not arrive as data.

The export (``autograder.isolation.export``) puts it in the namespace the hidden tests run on for a
value it could not carry out of the student's kernel, or read back within its budgets; the checks
(``autograder.checks``) and the hidden-test runner (``autograder.isolation.hidden_tests``) tell the
student its ``reason``. It lives on its own, below both, so neither imports the other for it.
"""

from __future__ import annotations


class NotGradable:
    """Stands for a value that could not be exported as data (or read back from it)."""

    __slots__ = ("kind", "reason")

    def __init__(self, kind: str = "value", reason: str = ""):
        self.kind = kind  # what it was: "value", "text", "array" or "model"
        self.reason = reason  # grader text, never the student's

    def __repr__(self) -> str:
        return "<a value that could not be graded>"
