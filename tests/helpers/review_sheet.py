"""A small grading made from the rubric engine, no TensorFlow: three students' written answers
(q2 is where the TA will disagree with the engine) and a malformed submission, saved with its
reports in ``out``. The decisions' tests (tests/gradebook), the review app's (tests/review) and
calibration from decisions (tests/freetext) start from it; ``tests/conftest.py`` loads it as a plugin.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from autograder.freetext import grade_answer
from autograder.freetext.grading import read_answer
from tools.gradebook.inputs import Submission
from tools.gradebook.records import Record, Status
from tools.gradebook.reports import write_reports
from tools.gradebook.sheet import AnswerRow, ConceptCell, Sheet, save

# three students; q2 is where the TA will disagree with the engine
ANSWERS = {
    "ann.ipynb": {"q2": "output = final output of the lstm, h = hidden state, c = cell state",
                  "q8": "GRUs don't have a separate cell state."},
    "ben.ipynb": {"q2": "output = final output of the lstm, h = hidden state, c = cell state",
                  "q8": "the GRU doesn't have c"},
    "cat.ipynb": {"q2": "output is the prediction, h is the hidden state, c is the cell state",
                  "q8": "GRUs don't have a separate cell state."},
}


def _row(file: str, q: str, text: str | None) -> AnswerRow:
    g = grade_answer(q, text or "")
    cells = tuple(ConceptCell(c.id, c.points, bool(c.found), c.confidence, c.misconception, c.evidence)
                  for c in g.concepts)
    return AnswerRow(file, "", q, text, "", cells, tuple(read_answer(q, text)) if text else ())


def _sheet() -> Sheet:
    records, answers = [], []
    for file, qs in ANSWERS.items():
        rows = [_row(file, q, text) for q, text in qs.items()]
        answers += rows
        records.append(Record(file, Status.GRADED, "", {r.question: (sum(c.points for c in r.concepts if c.found),
                                                                     sum(c.points for c in r.concepts)) for r in rows}))
    records.append(Record("broken.ipynb", Status.MALFORMED, "not a notebook", {}))
    subs = [Submission(r.file, Path(r.file), "notebook") for r in records]
    return Sheet(records, subs, answers)


@pytest.fixture
def out(tmp_path: Path) -> Path:
    save(tmp_path, _sheet())
    write_reports(tmp_path)
    return tmp_path


def _csv(path: Path) -> dict[str, dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return {row["file"]: row for row in csv.DictReader(f)}
