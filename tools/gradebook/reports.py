"""Everything a grading writes under ``OUT``, with the TA's decisions applied: the one owner.

* ``write_grading`` (the batch grader, once per run): ``review/sheet.json`` (``sheet``), then
  ``write_reports``, ``score_histogram.png``, ``review.html`` and ``logs/`` for submissions
  that were not graded;
* ``write_reports`` (also the review app, after every decision): ``final_grades.csv`` with a
  ``reviewed`` column (``grades_csv``) and ``question_stats.csv/.json`` with each concept's and
  misconception's share of the class (``stats``, ``apply``).

A re-run of the batch grader keeps every decision: the decisions live in
``review/decisions.jsonl`` and are applied here, never written into the records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.files import write_atomic
from tools.gradebook import decisions as decisions_file
from tools.gradebook import sheet as review_sheet
from tools.gradebook.apply import apply, class_stats
from tools.gradebook.grades_csv import write_csv
from tools.gradebook.inputs import Submission
from tools.gradebook.records import Record, Status
from tools.gradebook.review_page import write_review_page
from tools.gradebook.sheet import DECISIONS, Sheet, read
from tools.gradebook.stats import write_histogram, write_stats

LOGS = "logs"


@dataclass
class Written:
    stats: list[dict[str, Any]]
    reviewed: dict[str, str] = field(default_factory=dict)  # file -> what the decisions changed
    problems: list[str] = field(default_factory=list)  # decision lines that could not be read


def write_reports(out: Path, sheet: Sheet | None = None) -> Written:
    """``final_grades.csv`` and ``question_stats.csv/.json`` from the sheet, decisions applied."""
    out = Path(out)
    sheet = sheet if sheet is not None else read(out)
    decisions, problems = decisions_file.load(out / DECISIONS)
    records, reviewed = apply(sheet, decisions)
    write_csv(records, sheet.subs, out / "final_grades.csv", reviewed=reviewed)
    stats = write_stats(records, out / "question_stats.csv", out / "question_stats.json",
                        written=class_stats(sheet, decisions))
    return Written(stats, reviewed, problems)


def write_grading(out: Path, subs: list[Submission], records: list[Record], reader: Any = None) -> Written:
    """Everything a batch grading leaves in ``out`` (``reader``: the second reader that flags answers)."""
    out = Path(out)
    for record in records:
        if record.status != Status.GRADED and record.log_tail:
            write_atomic(out / LOGS / (record.file.replace("/", "__") + ".log"), record.log_tail)
    sheet = review_sheet.write(out, subs, records, reader)
    written = write_reports(out, sheet)
    write_histogram(records, out / "score_histogram.png")
    write_review_page(sheet, out / "review.html")
    return written
