"""``OUT/review.html``: every written answer with its score, the concepts found and missing, and
what to review first (read-only; ``make review`` is where grades are corrected).

Answers a second reader flags come first, then the least confident, then the rest; unanswered
questions last.
"""

from __future__ import annotations

import html
from pathlib import Path

from tools.files import write_atomic
from tools.gradebook.records import Status
from tools.gradebook.sheet import AnswerRow, ConceptCell, Sheet

BORDERLINE = 0.75  # an answer with a concept judged below this confidence is marked


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #ccc; padding: 4px 6px; vertical-align: top; text-align: left; }
th { background: #f0f0f0; position: sticky; top: 0; }
tr.borderline td.conf { background: #ffe0b2; font-weight: bold; }\n.flag { color: #6a1b9a; }
td.answer { max-width: 32em; white-space: pre-wrap; }
.found { color: #1b5e20; } .missing { color: #b71c1c; } .note { color: #555; font-style: italic; }
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _flag(c: ConceptCell) -> str:
    return f"<div class=flag>review: {_e(c.review)}</div>" if c.review else ""


def _confidence(a: AnswerRow) -> float:
    if not a.answered:
        return 1.0  # unanswered: nothing to judge
    if a.text is None:
        return 0.0  # written some other way (a variable, an f-string): a person must read it
    return min((c.confidence for c in a.concepts), default=1.0)


def order(answers: list[AnswerRow]) -> list[AnswerRow]:
    """Flagged first, then least confident, then lowest share of the rubric; unanswered last."""
    def key(a: AnswerRow) -> tuple:
        """Unanswered last; flagged first; then least confident, lowest share earned, file and question number."""
        earned = sum(c.points for c in a.concepts if c.found) / (sum(c.points for c in a.concepts) or 1)
        return (not a.answered, not a.flagged, _confidence(a), earned, a.file, int(a.question[1:]))

    return sorted(answers, key=key)


def render_html(sheet: Sheet, title: str = "Written answers to review") -> str:
    """The page, from the review sheet (scores as graded, before any decision)."""
    records = {r.file: r for r in sheet.records}
    rows = order(sheet.answers)
    flagged = sum(1 for a in rows if a.flagged and a.answered)
    borderline = sum(1 for a in rows if a.answered and _confidence(a) < BORDERLINE)
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        f"<p>{len(rows)} answers: {flagged} flagged by a second reader (first), {borderline} borderline (a concept "
        f"judged with confidence below {BORDERLINE:g}); unanswered last. Question score: the autograder's score for "
        "the whole question; rubric: the written answer's concepts. Correct grades with <code>make review</code>.</p>",
        "<table><thead><tr><th>#</th><th>confidence</th><th>submission</th><th>question</th><th>answer</th>"
        "<th>question score</th><th>rubric</th><th>concepts found</th><th>concepts missing</th></tr></thead><tbody>",
    ]
    for i, a in enumerate(rows, 1):
        record = records.get(a.file)
        confidence = _confidence(a)
        cls = ' class="borderline"' if a.answered and confidence < BORDERLINE else ""
        who = f"<br><span class=note>{_e(a.who)}</span>" if a.who else ""
        status = (f"<br><span class=note>({_e(record.status)})</span>"
                  if record is not None and record.status != Status.GRADED else "")
        if a.text is not None:
            answer = _e(a.text)
        else:
            answer = f"<span class=note>not a string: {_e(a.source or 'no answer')}</span>"
        score = record.scores.get(a.question) if record is not None else None
        qs = f"{score[0]:g} / {score[1]:g}" if score else "-"
        earned = sum(c.points for c in a.concepts if c.found)
        possible = sum(c.points for c in a.concepts)
        found = "".join(
            f"<div class=found>{_e(c.id)}{': &ldquo;' + _e(c.evidence) + '&rdquo;' if c.evidence else ''}"
            f" ({c.confidence:g})</div>{_flag(c)}" for c in a.concepts if c.found)
        missing = "".join(f"<div class=missing>{_e(c.id)}: {_e(c.message)} ({c.confidence:g})</div>{_flag(c)}"
                          for c in a.concepts if not c.found)
        out.append(
            f"<tr{cls}><td>{i}</td><td class=conf>{confidence:g}</td><td>{_e(a.file)}{who}{status}</td>"
            f"<td>{_e(a.question)}</td><td class=answer>{answer}</td><td>{qs}</td>"
            f"<td>{earned:g} / {possible:g}</td><td>{found}</td><td>{missing}</td></tr>"
        )
    out.append("</tbody></table></body></html>")
    return "\n".join(out) + "\n"


def write_review_page(sheet: Sheet, path: Path) -> Path:
    """Write the sheet's review page to ``path`` atomically; the path written."""
    write_atomic(Path(path), render_html(sheet))
    return Path(path)
