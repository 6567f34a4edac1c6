"""What a TA should look at: the concepts flagged for review, and why; answers grouped so one decision grades many.

A concept is flagged when a second reader (``second_reader``) disagrees with the engine, doubts a
point the engine gave, or when the engine is unsure and the second reader cannot settle it. The
thresholds are ``POLICY``, declared once; they were chosen before the frozen sets they are
measured on were read (see ``ReviewPolicy``).
A flag never changes a grade: it orders the TA's review.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

from .grading import GradeResult
from .rubric import load_rubric

DISAGREES = "second_reader"  # the second reader reads the answer the other way
DOUBTED = "doubted"  # the engine gave the point and the second reader is not confident of it
UNSETTLED = "unsure"  # the engine is unsure and the second reader is near even


@dataclass(frozen=True)
class ReviewPolicy:
    """When a concept is flagged for review.

    Chosen before round 6 was read, on rounds 4 and 5 (w15-w22, never tuned on by the engine),
    each row flagged by a second reader never trained on its writer (leave one writer out over the
    train, dev, round 4 and round 5 rows): the policy of the first release (disagreement at 0.5,
    unsure verdicts from 0.4) reviewed 16.3% of concepts for 96.4% answer agreement and caught 18
    of the engine's 34 false credits; doubting every point the second reader gives less than 0.7
    catches 31 of them, 17.9% for 97.5%. The engine's credit is where review by confidence never
    looks (every "found" verdict has confidence 0.9), so a point is worth a look before a missing
    one is.
    """

    disagree_at: float = 0.55  # the second reader says "earned" at this probability or above
    doubt_credit_below: float = 0.7  # a point the engine gave is checked when the second reader is below this
    unsure_below: float = 0.7  # engine confidence below this is unsure (it read about the concept, not the key)
    unsettled_from: float = 0.5  # an unsure "missing" is flagged when the second reader's probability is this or more

    def reasons(self, concept: Any, probability: float | None) -> list[str]:
        """The reasons to review one concept of one answer (empty: leave it to the engine)."""
        if probability is None:
            return []
        if concept.found:
            if probability < self.disagree_at:
                return [DISAGREES]
            return [DOUBTED] if probability < self.doubt_credit_below else []
        if probability >= self.disagree_at:
            return [DISAGREES]
        if concept.confidence < self.unsure_below and probability >= self.unsettled_from:
            return [UNSETTLED]
        return []


POLICY = ReviewPolicy()


@dataclass(frozen=True)
class Flag:
    """One concept of one answer a TA should decide, with the reason in words."""

    concept: str
    reason: str  # DISAGREES, DOUBTED or UNSETTLED
    why: str  # for the TA
    probability: float  # the second reader's

    def to_json(self) -> dict:
        """The flag as a JSON-ready dict of its fields."""
        return asdict(self)


@lru_cache(maxsize=1024)
def _concept_terms(question: str, concept: str) -> tuple[frozenset[str], frozenset[str]]:
    c = next((c for c in load_rubric(question).concepts if c.id == concept), None)
    if c is None or not c.key:
        return frozenset(), frozenset()
    terms = [t for alt in c.key for t in alt] + [t for m in c.misconceptions for alt in m.terms for t in alt]
    return frozenset(t.subject for t in terms), frozenset(r for t in terms for r in t.roles)


def concept_claims(question: str, concept: str, claims: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Of the claims the engine read (``read_answer``), those about the concept's entities (key and misconceptions).

    Answers that agree on these, the verdict and the misconception were read alike for this concept:
    one group, one decision.
    """
    subjects, roles = _concept_terms(question, concept)
    out = []
    for claim in claims:
        subject, _, rest = claim.partition(" is ")
        role = rest.removeprefix("not ")
        if subject in subjects or "*" in subjects and role in roles:
            out.append(claim)
    return tuple(sorted(set(out)))


def group_key(question: str, concept: Any, claims: tuple[str, ...] | list[str]) -> tuple:
    """What an answer shares with the others of its review group for ``concept`` (a ``ConceptResult``
    or anything with its ``id``, ``found`` and ``misconception``): question, concept, verdict,
    misconception, and the claims read about the concept's entities."""
    return (question, concept.id, concept.found, concept.misconception, concept_claims(question, concept.id, claims))


@lru_cache(maxsize=256)
def meaning(question: str, concept: str) -> str:
    """What the concept means, in words a TA reads (the rubric's ``meaning``, else its id)."""
    for c in load_rubric(question).concepts:
        if c.id == concept:
            return c.meaning or c.id.replace("_", " ")
    return concept


def why(question: str, concept: Any, reason: str) -> str:
    """The sentence a TA reads next to a flagged concept."""
    says = meaning(question, concept.id)
    if reason == DISAGREES and concept.found:
        return f"a second reader thinks this answer does not say: {says}"
    if reason == DISAGREES:
        return f"a second reader thinks this answer does say: {says}"
    if reason == DOUBTED:
        return f"the engine gave this point and a second reader is not sure the answer says: {says}"
    return f"the engine read something about this but not the key, and a second reader is unsure too: {says}"


def flags(result: GradeResult, probabilities: Mapping[str, float], policy: ReviewPolicy = POLICY) -> list[Flag]:
    """The concepts of one graded answer a TA should decide, in the rubric's order."""
    return concept_flags(result.question, result.concepts, probabilities, policy)


def concept_flags(question: str, concepts: Sequence[Any], probabilities: Mapping[str, float],
                  policy: ReviewPolicy = POLICY) -> list[Flag]:
    """``flags`` for concepts as stored (anything with ``id``, ``found`` and ``confidence``)."""
    out = []
    for concept in concepts:
        p = probabilities.get(concept.id)
        for reason in policy.reasons(concept, p):
            out.append(Flag(concept.id, reason, why(question, concept, reason), round(float(p), 3)))
    return out
