"""Sameness words ("same", "identical"; "different") compare entities: the ones they equate are
found by ``COMPARED``, an ordered table of named rules (each adds the entities one way of
saying it names), then every pair is claimed equal (or, negated or "different", told apart)
and each is claimed "=*" (the same as something).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .mentions import Mention
from .normalize import SKIP_KEYS
from .reading import Claim, Terms
from .rules import Example, Rule, apply
from .words import COORDINATORS


@dataclass
class Comparison:
    """One sameness word of a unit and the entities it compares, as the rules find them."""

    u: int
    ms: list[Mention]
    idx: int  # the sameness word's mention
    keys: list[str]
    aliases: dict[str, str]  # a role that names an entity ("the hidden state" as h)
    claims: list[Claim]  # the unit's claims so far
    names: list[str] = field(default_factory=list)

    @property
    def m(self) -> Mention:
        """The sameness word's own mention."""
        return self.ms[self.idx]

    def entity(self, e: Mention) -> Mention:
        """A role that names an entity, as that entity."""
        if e.kind == "role" and e.name in self.aliases:
            return Mention("entity", self.aliases[e.name], e.start, e.end, e.negated, e.paren)
        return e

    def unit_subjects(self) -> list[str]:
        """The subjects of the unit's claims so far, without the catch-all ``answer``."""
        return [c.subject for c in self.claims if c.unit == self.u and c.subject != "answer"]


def _before(c: Comparison, at: None) -> None:
    for e in reversed(c.ms[:c.idx]):
        e = c.entity(e)
        if e.kind == "entity":
            if any(k in (":", "(", ")", "[", "]") for k in c.keys[e.end:c.m.start]):
                break  # "(output, h, c): the first two are equal", "(output = h), ... c to be different"
            c.names.insert(0, e.name)


def _compared_entity(c: Comparison) -> Mention | None:
    nxt = c.entity(c.ms[c.idx + 1]) if c.idx + 1 < len(c.ms) else None
    if nxt is not None and nxt.kind == "entity" and all(
            k in ("as", "to", "with", "between", "than", "of") or k in SKIP_KEYS for k in c.keys[c.m.end:nxt.start]):
        return nxt
    return None


def _compared_with(c: Comparison, at: None) -> None:
    nxt = _compared_entity(c)
    c.names.append(nxt.name)
    later = c.ms[c.idx + 2] if c.idx + 2 < len(c.ms) else None
    if later is not None and later.kind == "entity" and c.keys[nxt.end:later.start] in (["and"], ["&"]):
        c.names.append(later.name)  # "between output and h"


def _pair_after(c: Comparison, at: None) -> None:
    end = c.m.end
    for e in c.ms[c.idx + 1:]:
        if e.kind != "entity" or not all(
                k in COORDINATORS or k in (":", "-", "between") or k in SKIP_KEYS for k in c.keys[end:e.start]):
            break
        c.names.append(e.name)
        end = e.end


def _given_the_role(c: Comparison, at: None) -> None:
    m = c.m
    c.names += [x.subject for x in c.claims if x.unit == c.u and x.span == (m.start, m.end) and x.subject != "answer"]


def _they(c: Comparison, at: None) -> bool:
    return not c.names and len(set(c.unit_subjects())) >= 2


COMPARED: tuple[Rule[Comparison, None], ...] = (
    Rule("entities-before",
         "the entities before the sameness word, back to a bracket or a colon",
         Example("q4", "output and h match", reads=("output is =h",)),
         does=_before, stops=False),
    Rule("compared-with",
         "the entity after 'as', 'to', 'with', 'between', 'than' (and one more after 'and')",
         Example("q12", "the last output is identical to h", reads=("h is =*",)),
         when=lambda c, at: _compared_entity(c) is not None, does=_compared_with, stops=False),
    Rule("pair-follows",
         "with none found yet, the entities listed right after it",
         Example("q4", "dup: output <-> h", reads=("output is =h",)),
         when=lambda c, at: not c.names, does=_pair_after, stops=False),
    Rule("subjects-given-the-role",
         "the subjects the reader gave the sameness word to",
         Example("q10", "duplication output h", reads=("output is =h",)),
         does=_given_the_role, stops=False),
    Rule("they-are-the-unit-subjects",
         "with none found, the unit's subjects ('they are different')",
         Example("q10", "Same values: the GRU's last output IS its last hidden state h_T.", reads=("h is =*",)),
         when=_they, does=lambda c, at: setattr(c, "names", c.unit_subjects()), stops=False),
)


def sameness(u: int, ms: list[Mention], claims: list[Claim], keys: list[str], terms: Terms) -> list[Claim]:
    """Sameness words equate the entities before them ("output and h are the same") and the one
    they compare with ("the same as h"); negated or "different", they tell them apart."""
    out: list[Claim] = []
    for idx, m in enumerate(ms):
        if m.kind != "role" or m.name not in terms.compared:
            continue
        neg = m.negated != (m.name in terms.differ_roles)
        c = Comparison(u, ms, idx, keys, terms.aliases, claims)
        apply(COMPARED, c, None)
        names = list(dict.fromkeys(c.names))
        for x in names:
            for y in names:
                if x != y:
                    out.append(Claim(x, "=" + y, neg, u, (m.start, m.end)))
        compared = any(k in ("as", "to", "like") for k in keys[m.end:m.end + 2])
        for x in names or list(dict.fromkeys(c.unit_subjects()))[:1] or ([] if compared else ["answer"]):
            out.append(Claim(x, "=*", neg, u, (m.start, m.end)))
    return out
