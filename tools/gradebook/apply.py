"""Scores with a TA's decisions applied, and which rows they changed."""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from typing import Any

from tools.gradebook.decisions import Decision, latest
from tools.gradebook.records import Record, Status
from tools.gradebook.sheet import AnswerRow, ConceptCell, Sheet


def decision_for(force: dict[tuple[str, str, str, str], Decision], answer: AnswerRow,
                 concept: ConceptCell) -> Decision | None:
    """A decision on this submission's answer, else on every answer with the same text."""
    return force.get((answer.question, concept.id, answer.norm, answer.file)) or force.get(
        (answer.question, concept.id, answer.norm, ""))


def earned(force: dict[tuple[str, str, str, str], Decision], answer: AnswerRow, concept: ConceptCell) -> bool:
    """Whether the answer earns the concept: the decision in force if a TA made one, else the engine's verdict."""
    d = decision_for(force, answer, concept)
    return concept.found if d is None else d.given


def apply(sheet: Sheet, decisions: list[Decision]) -> tuple[list[Record], dict[str, str]]:
    """Records whose question scores carry the decisions, and per changed file what changed."""
    force = latest(decisions)
    graded = {r.file for r in sheet.records if r.status == Status.GRADED}
    delta: dict[str, Counter[str]] = defaultdict(Counter)
    notes: dict[str, list[str]] = defaultdict(list)
    for answer in sheet.answers:
        if answer.file not in graded:
            continue
        for concept in answer.concepts:
            d = decision_for(force, answer, concept)
            if d is None or d.given == concept.found:
                continue
            delta[answer.file][answer.question] += concept.points if d.given else -concept.points
            notes[answer.file].append(f"{answer.question} {concept.id} {'given' if d.given else 'withheld'}"
                                      f" by {d.reviewer}")
    records = []
    for r in sheet.records:
        if r.file in delta:
            scores = {q: (_clip(s + delta[r.file].get(q, 0), m), m) for q, (s, m) in r.scores.items()}
            r = dataclasses.replace(r, scores=scores)
        records.append(r)
    return records, {f: "; ".join(n) for f, n in notes.items()}


def _clip(score: float, possible: float) -> int | float:
    value = min(max(score, 0), possible)
    return int(value) if float(value).is_integer() else round(value, 4)


def class_stats(sheet: Sheet, decisions: list[Decision], top: int = 3) -> dict[str, dict[str, Any]]:
    """Per written question: the share of graded students who earned each concept, the share who
    asserted each misconception the rubric knows, and the most common answers that lost points."""
    force = latest(decisions)
    graded = {r.file for r in sheet.records if r.status == Status.GRADED}
    by_q: dict[str, list[AnswerRow]] = defaultdict(list)
    for a in sheet.answers:
        if a.file in graded:
            by_q[a.question].append(a)
    out: dict[str, dict[str, Any]] = {}
    for q, answers in by_q.items():
        n = len(answers)
        concepts: Counter[str] = Counter()
        misconceptions: Counter[str] = Counter()
        wrong: Counter[str] = Counter()
        for a in answers:
            got = 0
            for c in a.concepts:
                concepts[c.id] += 0
                if earned(force, a, c):
                    concepts[c.id] += 1
                    got += 1
                if c.misconception:
                    misconceptions[c.misconception] += 1
            if got < len(a.concepts) and a.norm:
                wrong[a.norm] += 1
        out[q] = {
            "students": n,
            "concepts": {c: round(k / n, 3) for c, k in concepts.items()},
            "misconceptions": {m: round(k / n, 3) for m, k in misconceptions.most_common()},
            "common_wrong_answers": [{"answer": t, "count": k} for t, k in wrong.most_common(top) if k > 1],
        }
    return out
