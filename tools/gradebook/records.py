"""What became of each input of a grading: its ``Status`` and its ``Record`` (what every report is made from)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from autograder.submission_check import Reason
from tools.scores import QuestionScores

RECORD_VERSION = 1  # of a record as stored (OUT/.state, OUT/review/sheet.json)


class Status(StrEnum):
    """A ``StrEnum``, so the CSV, the JSON state and the terminal show the plain strings."""

    GRADED = "graded"
    TIMEOUT = "timeout"
    MALFORMED = "malformed"
    WRONG_ASSIGNMENT = "wrong_assignment"
    CRASHED = "crashed"
    NOT_SUBMISSION = "not_submission"


# every reason autograder.submission_check gives (tests fail on one missing here)
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


@dataclass
class Record:
    """The outcome for one submission (what the reports are made from)."""

    file: str
    status: Status
    reason: str
    scores: QuestionScores  # question -> (score, max_score) as results.json has them; empty unless graded
    key: str = ""
    peak_memory: int = 0  # bytes, memory.max_usage_in_bytes of the submission's sandbox
    wall_time: float = 0.0
    worker: str = ""
    timeout: float = 0.0
    memory: int = 0
    cached: bool = False  # taken from OUT/.state, or from an identical submission, instead of graded
    log_tail: str = ""
    output: str = ""  # results.json's top-level output
    integrity: str = ""  # the integrity scan's verdict for the instructor (``integrity_note``); never a score

    @property
    def total(self) -> float:
        """The points earned, summed over the questions."""
        return sum(s for s, _ in self.scores.values())

    def to_json(self) -> dict[str, Any]:
        """The record as JSON with the format's version (``cached`` is this run's, not saved)."""
        d = dict(self.__dict__)
        d["scores"] = {q: list(v) for q, v in self.scores.items()}
        d.pop("cached")
        return {"version": RECORD_VERSION, **d}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Record:
        """A record from ``to_json``'s dict, ignoring unknown fields; ``ValueError`` for an unknown or missing
        status.
        """
        d = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        d["scores"] = {q: (v[0], v[1]) for q, v in d.get("scores", {}).items()}
        d["status"] = Status(d.get("status"))  # unknown or missing: ValueError, and State.load regrades
        return cls(**d)
