"""A review sheet of the written answers, least confident first, for a TA to check the borderline ones.

The ``qN_answer = "..."`` strings are read from the submitted notebook statically (the code
cells' syntax trees; ``ast.literal_eval`` for a cell that does not parse): no student code
runs in the TA's process. Each answer is put through the rubric engine
(``autograder.freetext.grade_answer``) for the concepts found and missing and their
confidence, next to the question's score from the autograder's results.
"""

from __future__ import annotations

import ast
import html
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.batch.discover import Submission
from tools.batch.grade import Record
from tools.batch.status import Status
from tools.files import write_atomic

ANSWER_NAME = re.compile(r"^(q\d+)_answer$")
BORDERLINE = 0.75  # answers with a concept judged below this confidence are flagged


@dataclass
class Answer:
    question: str
    text: str | None  # None: no string literal was assigned
    source: str  # how it was written, when it is not a plain string literal ("" otherwise)


@dataclass
class ReviewRow:
    file: str
    who: str
    status: Status
    question: str
    answer: Answer
    question_score: tuple[float, float] | None  # from the autograder's results
    rubric_score: float
    rubric_max: float
    found: list[tuple[str, str, float]] = field(default_factory=list)  # (concept, evidence, confidence)
    missing: list[tuple[str, str, float]] = field(default_factory=list)  # (concept, hint, confidence)
    confidence: float = 1.0


def _cell_source(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _without_magics(source: str) -> str:
    # IPython syntax (%magic, !shell, ?help) is not Python: blank those lines, keep the numbering
    return "\n".join("" if line.lstrip().startswith(("%", "!", "?")) else line for line in source.split("\n"))


def _assignments_ast(source: str) -> list[tuple[str, ast.expr, str]] | None:
    try:
        tree = ast.parse(_without_magics(source))
    except (SyntaxError, ValueError):
        return None
    found = []
    for node in ast.walk(tree):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets = [node.target]
        for target in targets:
            if isinstance(target, ast.Name) and ANSWER_NAME.match(target.id):
                segment = ast.get_source_segment(source, node.value) or ""
                found.append((target.id, node.value, segment, node.lineno))
    found.sort(key=lambda item: item[3])
    return [(name, value, segment) for name, value, segment, _ in found]


def _assignments_lines(source: str) -> list[tuple[str, Any, str]]:
    """For a cell that does not parse: ``qN_answer = <literal>`` lines, one by one."""
    out = []
    for line in source.split("\n"):
        m = re.match(r"^\s*(q\d+_answer)\s*=\s*(.+?)\s*$", line)
        if m:
            try:
                value: Any = ast.literal_eval(m.group(2))
            except (ValueError, SyntaxError, MemoryError, RecursionError):
                value = None
            out.append((m.group(1), value, m.group(2)))
    return out


def extract_answers(nb: dict[str, Any]) -> dict[str, Answer]:
    """``question -> Answer`` from the last assignment to ``qN_answer`` in the notebook's code cells."""
    answers: dict[str, Answer] = {}
    for cell in nb.get("cells", []):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = _cell_source(cell)
        if "_answer" not in source:
            continue
        parsed = _assignments_ast(source)
        if parsed is not None:
            for name, value, segment in parsed:
                q = ANSWER_NAME.match(name).group(1)
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    answers[q] = Answer(q, value.value, "")
                elif isinstance(value, ast.Constant) and value.value is Ellipsis:
                    answers[q] = Answer(q, None, "...")
                else:
                    answers[q] = Answer(q, None, segment)
        else:
            for name, value, segment in _assignments_lines(source):
                q = ANSWER_NAME.match(name).group(1)
                text = value if isinstance(value, str) else None
                answers[q] = Answer(q, text, "" if text is not None else segment)
    return answers


def review_rows(subs: list[Submission], records: list[Record]) -> list[ReviewRow]:
    """Every written answer of every readable notebook of this assignment, least confident first."""
    from autograder.freetext import QUESTIONS, grade_answer

    rows: list[ReviewRow] = []
    for sub, record in zip(subs, records, strict=True):
        if record.status in (Status.MALFORMED, Status.WRONG_ASSIGNMENT, Status.NOT_SUBMISSION):
            continue
        nb = sub.notebook()
        if nb is None:
            continue
        answers = extract_answers(nb)
        who = sub.names or ""
        for q in QUESTIONS:
            answer = answers.get(q, Answer(q, None, "(no assignment found)"))
            result = grade_answer(q, answer.text or "")
            found = [(c.id, c.evidence, c.confidence) for c in result.concepts if c.found]
            missing = [(c.id, c.message, c.confidence) for c in result.concepts if not c.found]
            if answer.text is None and answer.source not in ("...", "(no assignment found)"):
                confidence = 0.0  # written some other way (a variable, an f-string): a person must read it
            elif not (answer.text or "").strip():
                confidence = 1.0  # unanswered: nothing to judge
            else:
                confidence = min((c.confidence for c in result.concepts), default=1.0)
            rows.append(ReviewRow(sub.file, who, record.status, q, answer, record.scores.get(q),
                                  result.score, result.max_score, found, missing, confidence))
    rows.sort(key=lambda r: (r.confidence, r.rubric_score / (r.rubric_max or 1), r.file, int(r.question[1:])))
    return rows


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #ccc; padding: 4px 6px; vertical-align: top; text-align: left; }
th { background: #f0f0f0; position: sticky; top: 0; }
tr.borderline td.conf { background: #ffe0b2; font-weight: bold; }
td.answer { max-width: 32em; white-space: pre-wrap; }
.found { color: #1b5e20; } .missing { color: #b71c1c; } .note { color: #555; font-style: italic; }
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def render_html(rows: list[ReviewRow], title: str = "Written answers to review") -> str:
    borderline = sum(1 for r in rows if r.confidence < BORDERLINE)
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        f"<p>{len(rows)} answers, {borderline} borderline (a concept judged with confidence below "
        f"{BORDERLINE:g}), least confident first. Question score: the autograder's score for the whole "
        "question; rubric: the written answer's concepts.</p>",
        "<table><thead><tr><th>#</th><th>confidence</th><th>submission</th><th>question</th><th>answer</th>"
        "<th>question score</th><th>rubric</th><th>concepts found</th><th>concepts missing</th></tr></thead><tbody>",
    ]
    for i, r in enumerate(rows, 1):
        cls = ' class="borderline"' if r.confidence < BORDERLINE else ""
        who = f"<br><span class=note>{_e(r.who)}</span>" if r.who else ""
        status = f"<br><span class=note>({_e(r.status)})</span>" if r.status != Status.GRADED else ""
        if r.answer.text is not None:
            answer = _e(r.answer.text)
        else:
            answer = f"<span class=note>not a string: {_e(r.answer.source or 'no answer')}</span>"
        qs = f"{r.question_score[0]:g} / {r.question_score[1]:g}" if r.question_score else "-"
        found = "".join(
            f"<div class=found>{_e(cid)}{': &ldquo;' + _e(ev) + '&rdquo;' if ev else ''} ({conf:g})</div>"
            for cid, ev, conf in r.found
        )
        missing = "".join(f"<div class=missing>{_e(cid)}: {_e(hint)} ({conf:g})</div>" for cid, hint, conf in r.missing)
        out.append(
            f"<tr{cls}><td>{i}</td><td class=conf>{r.confidence:g}</td><td>{_e(r.file)}{who}{status}</td>"
            f"<td>{_e(r.question)}</td><td class=answer>{answer}</td><td>{qs}</td>"
            f"<td>{r.rubric_score:g} / {r.rubric_max:g}</td><td>{found}</td><td>{missing}</td></tr>"
        )
    out.append("</tbody></table></body></html>")
    return "\n".join(out) + "\n"


def write_review(subs: list[Submission], records: list[Record], path: Path) -> list[ReviewRow]:
    rows = review_rows(subs, records)
    write_atomic(Path(path), render_html(rows))
    return rows
