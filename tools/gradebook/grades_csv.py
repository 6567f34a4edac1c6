"""``final_grades.csv`` in the format ``otter grade`` writes, from results.json (never results.pkl).

The rows are built by Otter's own ``merge_scores_to_df`` (``autograder.upstream``) from stand-ins for
its ``GradingResults`` made of the results.json scores, so the columns, the
``points-per-question`` first row, the sorting and the number formatting are Otter's. A
submission that was not graded is a "catastrophic failure" row, as in ``otter grade``: zero
points and the reason as ``grading_status``. After Otter's columns come ``status`` and
``reason``, ``reviewed`` (what a TA's decisions changed), ``integrity`` (the static scan's notes:
"review: N note(s)" for code that reaches for the grader, "N note(s)" otherwise; the grading log
and results.json's ``extra_data`` say what they are; no note changes a score) and, for Gradescope
exports, ``submission_id``, ``names``, ``sids`` and ``emails``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from autograder import upstream
from autograder.upstream import (
    POINTS_POSSIBLE_LABEL,
    SCORES_DICT_FILE_KEY,
    SCORES_DICT_GRADING_STATUS_KEY,
    SCORES_DICT_PERCENT_CORRECT_KEY,
    SCORES_DICT_TOTAL_POINTS_KEY,
)
from tools.files import write_atomic
from tools.gradebook.inputs import Submission
from tools.gradebook.records import Record, Status

__all__ = [
    "POINTS_POSSIBLE_LABEL",
    "SCORES_DICT_FILE_KEY",
    "SCORES_DICT_GRADING_STATUS_KEY",
    "SCORES_DICT_PERCENT_CORRECT_KEY",
    "SCORES_DICT_TOTAL_POINTS_KEY",
    "EXTRA_COLUMNS",
    "IDENTITY_COLUMNS",
    "grades_frame",
    "write_csv",
]

EXTRA_COLUMNS = ["status", "reason", "reviewed", "integrity"]
IDENTITY_COLUMNS = ["submission_id", "names", "sids", "emails"]


class _Results:
    """The part of ``otter.test_files.GradingResults`` that ``merge_scores_to_df`` reads."""

    def __init__(self, record: Record):
        self.file = record.file
        self._scores = record.scores if record.status == Status.GRADED else {}
        self._error = None if record.status == Status.GRADED else (record.reason or record.status)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """Question -> its score and possible points, as Otter's results hold them."""
        # the numbers as results.json has them (int or float), as Otter's own results hold them
        return {q: {"score": s, "possible": m} for q, (s, m) in self._scores.items()}

    def has_catastrophic_failure(self) -> bool:
        """Whether the submission was not graded (its status is not ``graded``)."""
        return self._error is not None

    @property
    def catastrophic_error(self) -> str | None:
        """Why the submission was not graded (its reason, else its status), or None."""
        return self._error

    @property
    def total(self) -> int | float:
        """The points earned; 0 when the submission was not graded."""
        return 0 if self._error else sum(s for s, _ in self._scores.values())

    @property
    def possible(self) -> int | float:
        """The points possible; 0 when the submission was not graded."""
        return 0 if self._error else sum(m for _, m in self._scores.values())

    @property
    def percent(self) -> float:
        """The share of the possible points earned (0 to 1, four decimals); 0 when nothing was possible."""
        return 0 if self.possible == 0 else round(self.total / self.possible, 4)


def grades_frame(records: list[Record], subs: list[Submission], reviewed: dict[str, str] | None = None):
    """The grade sheet as a pandas DataFrame (Otter's columns, then ours).

    ``reviewed``: per file, what a TA's decisions changed in its scores (``tools.review``).
    """
    df = upstream.grades_frame([_Results(r) for r in records])
    by_file = {r.file: r for r in records}
    subs_by_file = {s.file: s for s in subs}
    is_points = df[SCORES_DICT_FILE_KEY] == POINTS_POSSIBLE_LABEL
    df["status"] = [("" if p else by_file[f].status) for f, p in zip(df[SCORES_DICT_FILE_KEY], is_points, strict=True)]
    df["reason"] = [("" if p else by_file[f].reason) for f, p in zip(df[SCORES_DICT_FILE_KEY], is_points, strict=True)]
    reviewed = reviewed or {}
    df["reviewed"] = [("" if p else reviewed.get(f, "")) for f, p in zip(df[SCORES_DICT_FILE_KEY], is_points,
                                                                          strict=True)]
    df["integrity"] = [("" if p else by_file[f].integrity) for f, p in zip(df[SCORES_DICT_FILE_KEY], is_points,
                                                                           strict=True)]
    if any(s.kind == "folder" or s.submitters for s in subs):
        for column in IDENTITY_COLUMNS:
            values = []
            for f, p in zip(df[SCORES_DICT_FILE_KEY], is_points, strict=True):
                sub = subs_by_file.get(f)
                values.append("" if p or sub is None else (getattr(sub, column) or ""))
            df[column] = values
    return df


def write_csv(records: list[Record], subs: list[Submission], path: Path,
              reviewed: dict[str, str] | None = None) -> Path:
    """Write ``final_grades.csv`` atomically (a temporary file, then ``os.replace``)."""
    df = grades_frame(records, subs, reviewed)
    write_atomic(Path(path), df.to_csv(index=False))
    return Path(path)
