"""The grading results Otter writes to results.json, made only of the grader's own texts.

Otter turns ``GradingResults`` into Gradescope's results.json (``to_gradescope_dict``). This
subclass keeps Otter's scores and visibility rules and makes sure of two things: every test entry
is complete (``score``, ``max_score``, ``visibility``, ``output``), and the "Public Tests" entry
says what happened in the grader's words (public tests are the student's checks in Jupyter; they
are not rerun during grading). The per-question outputs come from ``hidden_tests`` (check
messages) and the top-level output from the grader (``set_output``), never from the kernel.
"""

from __future__ import annotations

from typing import Any

from otter.test_files import GradingResults

from autograder.upstream import PUBLIC_TESTS

PUBLIC_SUMMARY = (
    "Your notebook ran in the grader and every question was graded from the values it computed. "
    "The public checks are the ones you ran in Jupyter with grader.check; the hidden tests' results "
    "appear when grades are published."
)


class IsolatedResults(GradingResults):
    """``GradingResults`` of an isolated grading run (see the module docstring)."""

    def to_gradescope_dict(self, ag_config: Any) -> dict[str, Any]:
        output = super().to_gradescope_dict(ag_config)
        for test in output.get("tests", []):
            if test.get("name") == PUBLIC_TESTS:
                test["output"] = PUBLIC_SUMMARY
                test["status"] = "passed"
            test.setdefault("score", 0)
            test.setdefault("max_score", 0)
            test.setdefault("visibility", "visible")
            test.setdefault("output", "")
        return output
