"""A concept's verdict from the claims read: the key asserted, not contradicted, and none of
the concept's misconceptions asserted."""

from __future__ import annotations

from dataclasses import dataclass

from .claims import Claim
from .rubric import Concept, Misconception, Term


def holds(term: Term, claims: list[Claim]) -> tuple[int, int] | None:
    """The span of a unit where ``term`` is claimed, or None."""
    by_unit: dict[tuple[int, str], dict[str, Claim]] = {}
    for c in claims:
        if c.negated == term.negated and (term.subject == "*" or c.subject == term.subject):
            by_unit.setdefault((c.unit, c.subject), {}).setdefault(c.role, c)
    units_with = {c.unit for c in claims if c.role in term.without or c.subject in term.without}
    for (unit, _), found in by_unit.items():
        if unit in units_with:
            continue
        if all(r in found for r in term.roles):
            spans = [found[r].span for r in term.roles]
            return min(s for s, _ in spans), max(e for _, e in spans)
    return None


def contradicted(term: Term, claims: list[Claim]) -> bool:
    """Whether the answer also claims the opposite of a one-role term."""
    if len(term.roles) != 1 or term.roles[0] == "present":
        return False  # naming h again later does not take back "no h"

    roles: dict[tuple[int, str], set[str]] = {}  # (unit, subject) -> roles: one pass, not one per claim
    for o in claims:
        if o.role != "present":
            roles.setdefault((o.unit, o.subject), set()).add(o.role)

    def plain(c: Claim) -> bool:
        """Whether claim ``c`` may take back the term: always for a positive term; for a negated one, only if
        the subject has no other role in that unit.
        """
        # "no cell state ... merges the cell state and the hidden state" describes the absence:
        # only a bare "has a cell state" takes back a "has no cell state"
        return not term.negated or not roles.get((c.unit, c.subject), set()) - {c.role}

    return any(c.role == term.roles[0] and c.negated != term.negated
               and (term.subject == "*" or c.subject == term.subject) and plain(c) for c in claims)


def first_alternative(alternatives: tuple[tuple[Term, ...], ...],
                      claims: list[Claim]) -> tuple[tuple[Term, ...], tuple[int, int]] | None:
    """The first alternative whose terms all hold in ``claims``, with the span from its first to its last
    term's evidence; None if none holds.
    """
    for alt in alternatives:
        spans = [holds(t, claims) for t in alt]
        if all(s is not None for s in spans):
            return alt, (min(s[0] for s in spans), max(s[1] for s in spans))
    return None


@dataclass(frozen=True)
class ClaimVerdict:
    found: bool
    confidence: float
    span: tuple[int, int] | None = None
    misconception: Misconception | None = None


def hedged(concept: Concept, claims: list[Claim]) -> ClaimVerdict | None:
    """The verdict where the key is claimed only inside hedged alternatives ("maybe X, or maybe
    Y"): earned if it holds in every branch ("the hidden state, or maybe the short-term
    memory"); else the writer did not commit to it, and a branch stating a misconception makes
    it that misconception ("the batch size, or possibly the number of time steps"): no credit
    either way, which is what the labelled corpus's TAs give; a straddle between the key and a
    claim the rubric does not know is flagged (0.6) for a TA."""
    for group in sorted({c.branch[0] for c in claims if c.branch is not None}):
        def within(branch: int, group: int = group) -> list[Claim]:
            """The claims outside any hedge, plus those in ``branch`` of this hedged group."""
            return [c for c in claims if c.branch is None or c.branch == (group, branch)]

        hits = [first_alternative(concept.key, within(b)) for b in (0, 1)]
        if all(h is None for h in hits):
            continue
        if all(h is not None for h in hits):
            return ClaimVerdict(True, 0.9, hits[0][1])
        for b in (0, 1):
            for mis in concept.misconceptions:
                if first_alternative(mis.terms, within(b)) is not None:
                    return ClaimVerdict(False, 0.85, None, mis)
        return ClaimVerdict(False, 0.6)
    return None


def judge(concept: Concept, claims: list[Claim]) -> ClaimVerdict:
    """The key asserted, not contradicted, and no misconception of the concept claimed. Claims
    inside hedged alternatives count only through ``hedged``."""
    every = claims
    claims = [c for c in claims if c.branch is None]
    for mis in concept.misconceptions:
        if first_alternative(mis.terms, claims) is not None:
            return ClaimVerdict(False, 0.85, None, mis)
    hit = first_alternative(concept.key, claims)
    if hit is None and len(every) > len(claims):
        verdict = hedged(concept, every)
        if verdict is not None:
            return verdict
    if hit is None:
        # Nothing claimed about what the key is about: surely missing. Something said about it
        # that the rubric did not read as the key: a TA should look (review sorts by confidence).
        about = {t.subject for alt in concept.key for t in alt} - {"*"}
        said = any(c.subject in about and c.role != "present" for c in every)
        return ClaimVerdict(False, 0.6 if said else 0.9)
    alt, span = hit
    identities = [t for a in concept.key for t in a if t.roles[0].startswith("=") and t.subject != "*"]
    if any(contradicted(t, claims) for t in (*alt, *identities)):
        return ClaimVerdict(False, 0.6)  # "h is the last row. h is not the last row."
    return ClaimVerdict(True, 0.9, span)
