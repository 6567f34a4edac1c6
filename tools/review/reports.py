"""The grade sheet and the statistics, rewritten with the TA's decisions applied.

The batch grader calls ``write_reports`` after grading (so a re-run keeps every decision) and
the review app after each decision.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.batch.csv_report import write_csv
from tools.batch.stats import write_stats
from tools.review import decisions as decisions_file
from tools.review.apply import apply, class_stats
from tools.review.sheet import DECISIONS, Sheet, read


@dataclass
class Written:
    stats: list[dict[str, Any]]
    reviewed: dict[str, str] = field(default_factory=dict)  # file -> what the decisions changed
    problems: list[str] = field(default_factory=list)  # decision lines that could not be read


def write_reports(out: Path, sheet: Sheet | None = None) -> Written:
    out = Path(out)
    sheet = sheet if sheet is not None else read(out)
    decisions, problems = decisions_file.load(out / DECISIONS)
    records, reviewed = apply(sheet, decisions)
    write_csv(records, sheet.subs, out / "final_grades.csv", reviewed=reviewed)
    stats = write_stats(records, out / "question_stats.csv", out / "question_stats.json",
                        written=class_stats(sheet, decisions))
    return Written(stats, reviewed, problems)
