"""Answers grouped so that one TA decision grades many of them.

Per question and concept, answers with the same normalised text are one answer; answers the
engine read the same way for this concept (the same verdict, misconception and claims about the
concept's entities) are one group, a TA's unit of work. Unanswered questions (the scaffold's
``...``) need no review and are in no group. Groups come undecided first, then those a second
reader flags (``autograder.freetext.review``: each says why), then least confident, then largest.
A decision on a group is recorded for each distinct answer text in it; a TA who sees a group
mixing right and wrong answers splits it by deciding one text (or one submission).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field

from autograder.freetext.review import group_key
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
    def reasons(self) -> list[str]:
        """Why a TA should look: the second reader's reasons for its members, most common first."""
        counts: dict[str, int] = defaultdict(int)
        for m in self.members:
            if m.cell.review:
                counts[m.cell.review] += 1
        return sorted(counts, key=lambda r: -counts[r])

    @property
    def flagged(self) -> bool:
        """Whether any answer of the group is flagged for review."""
        return any(m.cell.review for m in self.members)

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
        """Whether a TA has decided every answer of the group."""
        return all(m.decision is not None for m in self.members)


def build(sheet: Sheet, decisions: list[Decision]) -> dict[tuple[str, str], list[Group]]:
    """(question, concept) -> its groups, in review ``order``."""
    force = latest(decisions)
    by_key: dict[tuple, Group] = {}
    for answer in sheet.answers:
        if not answer.answered:
            continue
        for cell in answer.concepts:
            # read alike for this concept (autograder.freetext.review.group_key, as calibrate counts groups);
            # an answer that is not a string literal is its own group: a person must read it
            key = (*group_key(answer.question, cell, answer.claims if answer.text else ()),
                   answer.file if answer.text is None else "")
            claims = key[4]
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
        groups.sort(key=order)
    return dict(out)


def order(group: Group) -> tuple:
    """Undecided first; among them flagged, then least confident, then largest."""
    return (group.decided, not group.flagged, group.confidence, -len(group.members), group.id)
