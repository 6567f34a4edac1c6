"""What a batch grading leaves for the review: ``OUT/review/sheet.json``.

It holds the graded records (scores as results.json gave them, before any decision), who
submitted what, and every written answer with the concepts the rubric engine gave it and the
concepts a second reader flags for review (``autograder.freetext.review``), so the review app
and the reports work from ``OUT`` alone, without the submissions or a kernel.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from autograder.freetext import QUESTIONS, grade_answer
from autograder.freetext.grading import read_answer
from autograder.freetext.review import concept_flags
from tools.files import write_atomic
from tools.gradebook.answers import Answer, extract_answers
from tools.gradebook.decisions import normalise
from tools.gradebook.inputs import Submission, Submitter
from tools.gradebook.records import Record, Status

SHEET = Path("review") / "sheet.json"
DECISIONS = Path("review") / "decisions.jsonl"
VERSION = 2
UNREADABLE = (Status.MALFORMED, Status.WRONG_ASSIGNMENT, Status.NOT_SUBMISSION)  # no answers to read


@dataclass(frozen=True)
class ConceptCell:
    id: str
    points: float
    found: bool
    confidence: float
    misconception: str = ""  # the rubric misconception the answer asserted, if any
    evidence: str = ""
    message: str = ""  # what the student was told when the concept is missing (the hint)
    review: str = ""  # why a TA should decide it ("" when the engine is left to it): autograder.freetext.review


@dataclass(frozen=True)
class AnswerRow:
    file: str
    who: str
    question: str
    text: str | None  # None: not a string literal (a person must read the source)
    source: str
    concepts: tuple[ConceptCell, ...] = ()
    claims: tuple[str, ...] = ()  # what the engine read in the answer ("output is last")

    @property
    def norm(self) -> str:
        """The answer's text normalised as decisions key it (``normalise``)."""
        return normalise(self.text)

    @property
    def answered(self) -> bool:
        """A real answer: not the scaffold's ``...``, not blank (an unanswered question needs no review)."""
        if self.text is not None:
            return self.text.strip() not in BLANKS
        return self.source not in (*BLANKS, NO_ANSWER)

    @property
    def flagged(self) -> list[ConceptCell]:
        """The answer's concepts flagged for a TA's review."""
        return [c for c in self.concepts if c.review]


@dataclass
class Sheet:
    records: list[Record]
    subs: list[Submission]
    answers: list[AnswerRow] = field(default_factory=list)
    flags_from: str = ""  # the digest of the second reader whose flags the answers carry ("" none)


class SheetError(ValueError):
    """OUT holds no usable grading (says what to run)."""


NO_ANSWER = "(no assignment found)"
BLANKS = ("", "...")  # what the student notebook's answer cells hold before a student writes


def answer_rows(subs: list[Submission], records: list[Record]) -> list[AnswerRow]:
    """Every written answer of every readable notebook, graded by the engine (``reflag`` adds the flags)."""

    rows: list[AnswerRow] = []
    for sub, record in zip(subs, records, strict=True):
        if record.status in UNREADABLE:
            continue
        nb = sub.notebook()
        if nb is None:
            continue
        answers = extract_answers(nb)
        for q in QUESTIONS:
            answer = answers.get(q, Answer(q, None, NO_ANSWER))
            result = grade_answer(q, answer.text or "")
            cells = tuple(ConceptCell(c.id, c.points, bool(c.found), c.confidence, c.misconception, c.evidence,
                                      c.message) for c in result.concepts)
            claims = tuple(read_answer(q, answer.text)) if (answer.text or "").strip() else ()
            rows.append(AnswerRow(sub.file, sub.names or "", q, answer.text, answer.source, cells, claims))
    return rows


def reflag(sheet: Sheet, reader: Any) -> Sheet:
    """The sheet with every answered concept's review reason from ``reader`` (a ``SecondReader``).

    The engine's verdicts are the sheet's own; the reader reads each question's answers in one batch.
    """
    answered = [i for i, a in enumerate(sheet.answers) if (a.text or "").strip() not in BLANKS]
    by_question: dict[str, list[int]] = {}
    for i in answered:
        by_question.setdefault(sheet.answers[i].question, []).append(i)
    reasons: dict[int, dict[str, str]] = {}
    for question, rows in by_question.items():
        probabilities = reader.probabilities(question, [sheet.answers[i].text for i in rows])
        for i, p in zip(rows, probabilities, strict=True):
            a = sheet.answers[i]
            reasons[i] = {f.concept: f.why for f in concept_flags(question, a.concepts, p)}
    answers = [dataclasses.replace(a, concepts=tuple(dataclasses.replace(c, review=reasons.get(i, {}).get(c.id, ""))
                                                     for c in a.concepts))
               for i, a in enumerate(sheet.answers)]
    return Sheet(sheet.records, sheet.subs, answers, reader.digest)


def write(out: Path, subs: list[Submission], records: list[Record], reader: Any = None) -> Sheet:
    """Read every written answer of the graded submissions and save the sheet."""
    sheet = Sheet(records, subs, answer_rows(subs, records))
    return save(out, sheet if reader is None else reflag(sheet, reader))


def save(out: Path, sheet: Sheet) -> Sheet:
    """Write the grade sheet (records, submissions, answers) to ``out`` atomically; returns the sheet."""
    records, subs = sheet.records, sheet.subs
    data = {
        "version": VERSION,
        "flags_from": sheet.flags_from,
        "records": [r.to_json() for r in records],
        "subs": [{"file": s.file, "kind": s.kind, "submission_id": s.submission_id,
                  "submitters": [asdict(p) for p in s.submitters]} for s in subs],
        "answers": [{**asdict(a), "concepts": [asdict(c) for c in a.concepts]} for a in sheet.answers],
    }
    write_atomic(Path(out) / SHEET, json.dumps(data, ensure_ascii=False))
    return sheet


def read(out: Path) -> Sheet:
    """The grade sheet a batch grading wrote to ``out``; ``SheetError`` saying what to run when it is
    missing, unreadable or of another version.
    """
    path = Path(out) / SHEET
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SheetError(f"{out} holds no batch grading ({SHEET} is missing): run "
                         f"`make grade SUBMISSIONS=... OUT={out}` first") from None
    except (OSError, json.JSONDecodeError) as e:
        raise SheetError(f"cannot read {path}: {e}; run the batch grading again to rewrite it") from None
    if data.get("version") != VERSION:
        raise SheetError(f"{path} was written by another version; run the batch grading again")
    records = [Record.from_json(r) for r in data["records"]]
    subs = [Submission(s["file"], Path(s["file"]), s["kind"], s.get("submission_id"),
                       [Submitter(**p) for p in s.get("submitters", [])]) for s in data["subs"]]
    answers = [AnswerRow(a["file"], a["who"], a["question"], a["text"], a["source"],
                         tuple(ConceptCell(**c) for c in a["concepts"]), tuple(a.get("claims", ())))
               for a in data["answers"]]
    return Sheet(records, subs, answers, str(data.get("flags_from", "")))
