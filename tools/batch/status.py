"""The status of a row of the grade sheet: what became of one input."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """A ``StrEnum``, so the CSV, the JSON state and the terminal show the plain strings."""

    GRADED = "graded"
    TIMEOUT = "timeout"
    MALFORMED = "malformed"
    WRONG_ASSIGNMENT = "wrong_assignment"
    CRASHED = "crashed"
    NOT_SUBMISSION = "not_submission"

