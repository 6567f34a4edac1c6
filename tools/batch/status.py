"""The status of a row of the grade sheet: what became of one input."""

from __future__ import annotations

from enum import StrEnum

from autograder.submission_check import Reason


class Status(StrEnum):
    """A ``StrEnum``, so the CSV, the JSON state and the terminal show the plain strings."""

    GRADED = "graded"
    TIMEOUT = "timeout"
    MALFORMED = "malformed"
    WRONG_ASSIGNMENT = "wrong_assignment"
    CRASHED = "crashed"
    NOT_SUBMISSION = "not_submission"


# every reason autograder.submission_check gives (tests/test_batch.py fails on one missing here)
_BY_REASON = {
    Reason.NOT_UTF8: Status.MALFORMED,
    Reason.NOT_JSON: Status.MALFORMED,
    Reason.NOT_NOTEBOOK: Status.MALFORMED,
    Reason.NO_ASSIGNMENT: Status.WRONG_ASSIGNMENT,
    Reason.WRONG_ASSIGNMENT: Status.WRONG_ASSIGNMENT,
}


def status_of(reason: Reason) -> Status:
    """The grade-sheet status of a file that is not a notebook of this assignment."""
    return _BY_REASON[reason]
