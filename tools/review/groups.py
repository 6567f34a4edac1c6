"""Answers grouped so that one TA decision grades many of them.

Per question and concept, answers with the same normalised text are one answer; answers the
engine read the same way for this concept (the same verdict, misconception and claims about the
concept's entities) are one group, a TA's unit of work. Groups come least confident first, then
largest first. A decision on a group is recorded for each distinct answer text in it; a TA who
sees a group mixing right and wrong answers splits it by deciding one text (or one submission).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field

from autograder.freetext.review import concept_claims
from tools.gradebook.apply import decision_for
from tools.gradebook.decisions import Decision, latest
from tools.gradebook.sheet import AnswerRow, ConceptCell, Sheet


@dataclass
class Member:
    answer: AnswerRow
    cell: ConceptCell
    decision: Decision | None  # in force for this submission's answer


@dataclass
class Group:
    id: str
    question: str
    concept: str
    points: float
    found: bool  # the engine's verdict
    misconception: str
    confidence: float  # the least confident member's
    claims: tuple[str, ...]  # what the engine read about this concept's entities
    members: list[Member] = field(default_factory=list)

    @property
    def texts(self) -> dict[str, list[Member]]:
        """Distinct normalised answers -> their members, most common first."""
        by: dict[str, list[Member]] = defaultdict(list)
        for m in self.members:
            by[m.answer.norm].append(m)
        return dict(sorted(by.items(), key=lambda kv: (-len(kv[1]), kv[0])))

    @property
    def verdicts(self) -> set[bool]:
        """What the members get now (decisions applied)."""
        return {m.cell.found if m.decision is None else m.decision.given for m in self.members}

    @property
    def decided(self) -> bool:
        return all(m.decision is not None for m in self.members)


def build(sheet: Sheet, decisions: list[Decision]) -> dict[tuple[str, str], list[Group]]:
    """(question, concept) -> its groups, least confident first, then largest."""
    force = latest(decisions)
    by_key: dict[tuple, Group] = {}
    for answer in sheet.answers:
        for cell in answer.concepts:
            claims = concept_claims(answer.question, cell.id, answer.claims) if answer.text else ()
            # an answer that is not a string literal is its own group: a person must read it
            own = answer.file if answer.text is None else ""
            key = (answer.question, cell.id, cell.found, cell.misconception, claims, own)
            group = by_key.get(key)
            if group is None:
                gid = hashlib.sha1(repr(key).encode()).hexdigest()[:12]
                group = by_key[key] = Group(gid, answer.question, cell.id, cell.points, cell.found,
                                            cell.misconception, cell.confidence, claims)
            group.confidence = min(group.confidence, cell.confidence)
            group.members.append(Member(answer, cell, decision_for(force, answer, cell)))
    out: dict[tuple[str, str], list[Group]] = defaultdict(list)
    for g in by_key.values():
        out[(g.question, g.concept)].append(g)
    for groups in out.values():
        groups.sort(key=lambda g: (g.decided, g.confidence, -len(g.members), g.id))
    return dict(out)
