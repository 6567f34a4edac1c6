"""Is this file a notebook of this assignment, and if not, why.

The checks Otter makes of a submitted notebook before grading it, made first so that a file
Otter cannot grade gets a reason instead of a traceback. Two readers: the zip's entry point
(``autograder.plugins.safe_run``) answers the student with ``Problem.message()``, and the TA's
batch grader (``tools.batch.discover``) puts the same words in its grade sheet.

Standard library only: ``safe_run`` imports this before Otter, in the image's Python.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from autograder import upstream


class Reason(StrEnum):
    """Why a file is not a gradable notebook of this assignment (the value is machine-readable)."""

    NOT_UTF8 = "not_utf8"  # bytes that are not text: a PDF, a zip renamed .ipynb
    NOT_JSON = "not_json"  # text that is not JSON: truncated, or edited outside Jupyter
    NOT_NOTEBOOK = "not_notebook"  # JSON without a notebook's "cells" list and "nbformat"
    NO_ASSIGNMENT = "no_assignment"  # a notebook whose metadata names no Otter assignment
    WRONG_ASSIGNMENT = "wrong_assignment"  # a notebook of another assignment


@dataclass(frozen=True)
class Problem:
    reason: Reason
    file: str  # as the reader knows it ("rnn_states.ipynb", "dave.zip:rnn_states.ipynb")
    detail: str = ""  # NOT_JSON: the parser's error; WRONG_ASSIGNMENT: the notebook's assignment
    expected: str = ""  # the assignment this autograder grades (the name checks only)

    def message(self) -> str:
        """What went wrong and what to upload instead, in words for the student."""
        upload = "Upload the .ipynb file or the zip its export cell makes."
        resubmit = f"Submit your {self.expected} notebook (the zip its export cell makes)."
        if self.reason is Reason.NOT_UTF8:
            return f"{self.file} is not a Jupyter notebook (it is not UTF-8 text). {upload}"
        if self.reason is Reason.NOT_JSON:
            return (
                f"{self.file} could not be read as a Jupyter notebook: it is not valid JSON ({self.detail})."
                " The file is probably truncated or was edited outside Jupyter. Open it in Jupyter, save it,"
                " run the export cell and upload the zip it makes."
            )
        if self.reason is Reason.NOT_NOTEBOOK:
            return f"{self.file} is JSON but not a Jupyter notebook (no 'cells' list or 'nbformat' field). {upload}"
        if self.reason is Reason.NO_ASSIGNMENT:
            return (
                f"This autograder grades '{self.expected}', but {self.file} names no assignment (its metadata"
                f" has no Otter assignment name, so it was not made from the '{self.expected}' notebook handed"
                f" out). {resubmit}"
            )
        return (
            f"This autograder grades '{self.expected}', but {self.file} is a notebook for assignment"
            f" '{self.detail}'. {resubmit}"
        )

    def to_json(self) -> dict[str, str]:
        """The problem as a JSON-ready dict of its fields."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: Any) -> Problem | None:
        """The problem ``to_json`` wrote, or None for anything else (an unknown reason included)."""
        if not isinstance(data, dict):
            return None
        try:
            reason = Reason(data.get("reason"))
        except ValueError:
            return None
        fields = {k: data.get(k, "") for k in ("file", "detail", "expected")}
        if not all(isinstance(v, str) for v in fields.values()):
            return None
        return cls(reason, **fields)


def notebook_assignment(nb: dict[str, Any]) -> str | None:
    """The assignment name Otter Assign wrote into the notebook (where: ``autograder.upstream``), or None."""
    name = upstream.notebook_assignment(nb)
    return name if isinstance(name, str) else None


def read_notebook(file: str, data: bytes) -> tuple[dict[str, Any] | None, Problem | None]:
    """``(notebook, None)`` when ``data`` is a Jupyter notebook, else ``(None, why not)``."""
    try:
        nb = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        return None, Problem(Reason.NOT_UTF8, file)
    except ValueError as e:
        return None, Problem(Reason.NOT_JSON, file, detail=str(e))
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list) or "nbformat" not in nb:
        return None, Problem(Reason.NOT_NOTEBOOK, file)
    return nb, None


def check_notebook(file: str, data: bytes, expected: str | None) -> Problem | None:
    """Why ``data`` cannot be graded as a notebook of assignment ``expected``, or None.

    Without ``expected`` (a config without an assignment name) any notebook will do.
    """
    nb, problem = read_notebook(file, data)
    if nb is None:
        return problem
    got = notebook_assignment(nb)
    if expected and got != expected:
        if not got:
            return Problem(Reason.NO_ASSIGNMENT, file, expected=expected)
        return Problem(Reason.WRONG_ASSIGNMENT, file, detail=got, expected=expected)
    return None
