"""Read an answer as claims: *entity -> role*, with a polarity.

An answer is split into claim units (``units``: sentences, ``;``, ``|``, and commas, "and" or
brackets that close a complete claim). In each unit the reader finds the rubric's entity
mentions (``output``, ``h``, ``the last row of output``) and role mentions (``hidden state``,
``every step``, ``batch``) (``mentions``), and ties roles to the entity the unit is about by an
ordered table of named rules (``reading.READ_RULES``): "X is / = / : / -> Y", "X (Y)", "Y (X)",
terse lists, a role that modifies its entity ("the final output"), coordinated subjects, chains
("output = h = the hidden state"), pronouns for the previous unit's subject, else the rubric's
default subject. Sameness words equate the entities they compare (``sameness``).

A claim is negated when its role (or, for ``present``, the entity itself) lies in a negation
scope. Only asserted claims are kept (``assertions``): none from a question or someone else's
words, retracted ones reversed, hedged alternatives tagged with their branch. Grading a concept
then asks whether the key's claims are asserted and none of its misconceptions is (``verdicts``).
"""

from __future__ import annotations

from dataclasses import replace

from . import assertions
from .mentions import Mention, distributive, find_mentions, index_base, phrase_at
from .negation import Annotated
from .normalize import SKIP_KEYS
from .reading import Claim, Terms, read_unit
from .rubric import Group
from .sameness import sameness
from .units import units
from .words import (
    ALONE_FILLER,
    COUNT_WORDS,
    FUNCTION,
    HYPOTHETICAL,
    LEAD,
    LINKS,
    LIST_MIN_MENTIONS,
    NO,
    QUESTION_WORDS,
    SEPARATORS,
    TUPLE_GLUE,
    YES,
)

__all__ = ["Claim", "Mention", "read_claims"]


def read_claims(ann: Annotated, entities: dict[str, Group], roles: dict[str, Group],
                default_subject: str | None = None, modifiers: frozenset[str] = frozenset(),
                aliases: dict[str, str] | None = None, dimension_roles: frozenset[str] = frozenset(),
                same_roles: frozenset[str] = frozenset({"same", "duplicated"}),
                differ_roles: frozenset[str] = frozenset({"different"}),
                stance: list[str] | None = None) -> tuple[list[Claim], list[Mention]]:
    """Every claim the answer asserts, and the mentions it was read from. ``stance`` (per token,
    from ``assertions.frame``) drops unasserted claims and reverses denied ones."""
    mentions = index_base(find_mentions(ann, entities, roles))
    keys = [t.key for t in ann.tokens]
    terms = Terms(default_subject, modifiers, aliases or {}, same_roles, differ_roles, dimension_roles,
                  frozenset(p[-1] for g in entities.values() for p in g.phrases))
    claims: list[Claim] = []
    previous: list[str] = [default_subject] if default_subject else []
    bare = False
    alternatives = assertions.alternatives(keys)
    cuts = frozenset(alt.second[0] for alt in alternatives)
    first = 0  # mentions are sorted by start and units are in order: one pass over both
    for u, (a, b) in enumerate(units(ann, mentions, cuts)):
        while first < len(mentions) and mentions[first].start < a:
            first += 1
        last = first
        while last < len(mentions) and mentions[last].start < b:
            last += 1
        ms = mentions[first:last]
        unit_start = len(claims)
        content = [k for k in keys[a:b] if k not in ("(", ")", ",", "[", "]")]
        if len(ms) >= LIST_MIN_MENTIONS and not any(k in FUNCTION for k in content):
            continue  # a keyword list asserts nothing
        opening = next((k for k in keys[a:b] if k not in LEAD and k not in SKIP_KEYS and k != "\n"), "")
        if opening in HYPOTHETICAL:
            a = _consequent(keys, a, b, ms, opening)
            if a is None:
                continue  # "whether the states get returned", "if you keep output, h, c = ...": no claim
            ms = [m for m in ms if m.start >= a]
        if (b < len(keys) and keys[b] == "?" or keys[b - 1] == "?") and next(
                (k for k in keys[a:b] if k not in LEAD and k not in SKIP_KEYS and k != "\n"), "") in QUESTION_WORDS:
            continue  # a question asserts nothing ("is there any duplication?")
        claims.extend(read_unit(u, a, b, ms, ann, keys, terms, previous, bare))
        # "| c | final cell state |": an entity alone, its roles in the next cell of the table
        bare = len(ms) == 1 and ms[0].kind == "entity"
        if u == 0:
            opener = next((k for k in keys if k not in SKIP_KEYS and k not in ("(", "\n")), "")
            if opener in YES or opener in NO:
                # "Yes, ..." / "No, ...": the answer to a yes/no question
                claims.append(Claim("answer", "yes", opener in NO, 0, (0, 1)))
        named = [m for m in ms if not (m.kind == "entity" and "of" in keys[max(0, m.start - 2):m.start])]
        if u == 0 and b == len(keys) and len(named) == 1 and named[0].kind == "entity" and all(
                k in ALONE_FILLER for i, k in enumerate(keys) if not named[0].start <= i < named[0].end):
            # the whole answer names one entity: "the output", "output of the LSTM"
            claims.append(Claim(named[0].name, "alone", named[0].negated, u, (named[0].start, named[0].end)))
        claims.extend(sameness(u, ms, claims[unit_start:], keys, terms))
    if dimension_roles:
        # the unit id past the last: a list claims nothing with the units' subjects
        claims.extend(_in_order(len(claims) + 10_000, mentions, keys, dimension_roles))
        claims.extend(_sized(ann, keys, entities, roles, dimension_roles, mentions))
    asked = assertions.questions(keys, {m.start for m in mentions if m.kind == "entity"})
    claims = _asserted(claims, stance, asked)
    claims = _branched(claims, alternatives, mentions, keys)
    return claims, mentions


def _consequent(keys: list[str], a: int, b: int, ms: list[Mention], opening: str) -> int | None:
    """Where a conditional's claim starts, when its condition names nothing the rubric knows:
    "If I understand correctly, h is the hidden state" (asserted); a condition that is itself a
    claim ("if output is h, ...") or an embedded question ("whether ...") asserts nothing."""
    if opening == "whether":
        return None
    split = next((i for i in range(a, b) if keys[i] in (",", "then")), None)
    if split is None or any(m.start < split for m in ms) or not any(m.start > split for m in ms):
        return None
    return split + 1


def _asserted(claims: list[Claim], stance: list[str] | None, asked: list[tuple[int, int]]) -> list[Claim]:
    """The claims the answer asserts: none from a question or unasserted frame, denied ones reversed."""
    question = set()
    for s, e in asked:
        question.update(range(s, e))
    out = []
    for c in claims:
        where = stance[c.span[0]] if stance is not None and c.span[0] < len(stance) else assertions.ASSERTED
        if where == assertions.UNASSERTED or c.span[0] in question:
            continue
        out.append(replace(c, negated=not c.negated) if where == assertions.DENIED else c)
    return out


def _branched(claims: list[Claim], alternatives: list[assertions.Alternative], mentions: list[Mention],
              keys: list[str]) -> list[Claim]:
    """Tag each hedged branch's claims, and give a branch that elides its claim the other
    branch's: "the first dimension is the batch, or possibly the time steps" (the first dimension
    is the time steps), "maybe the last step of output is h, or maybe the first step" (the first
    step is h), "either the batch or the time steps is the first dimension" (the first dimension
    is the batch). Past ``MAX_ALTERNATIVES``, a hedged branch's claims are dropped."""
    if not alternatives:
        return claims
    tag: list[tuple[int, int] | None] = [None] * len(keys)  # one pass: each token's branch
    for alt in alternatives:
        for branch, (s, e) in enumerate((alt.first, alt.second)):
            for i in range(s, e):
                tag[i] = (alt.group, branch)
    out = []
    by_branch: dict[tuple[int, int], list[Claim]] = {}
    for c in claims:
        t = tag[c.span[0]] if c.span[0] < len(tag) else None
        if t is not None and t[0] >= assertions.MAX_ALTERNATIVES:
            continue
        c = replace(c, branch=t) if t is not None else c
        out.append(c)
        if t is not None and c.role != "present" and c.subject != "answer":
            by_branch.setdefault(t, []).append(c)
    said: dict[tuple[int, int], list[Mention]] = {}  # each branch's mentions
    for m in mentions:
        if tag[m.start] is not None:
            said.setdefault(tag[m.start], []).append(m)
    for alt in alternatives[:assertions.MAX_ALTERNATIVES]:
        first, second = by_branch.get((alt.group, 0), []), by_branch.get((alt.group, 1), [])
        if first and not (second and any(k in LINKS for k in keys[alt.second[0]:alt.second[1]])):
            last_unit = max(c.unit for c in first)  # the claim right before the second guess
            out += _elided([c for c in first if c.unit == last_unit], said.get((alt.group, 1), []), (alt.group, 1))
        elif second and not first:
            out += _elided(second, said.get((alt.group, 0), []), (alt.group, 0))
    return out


def _elided(claims: list[Claim], mentions: list[Mention], branch: tuple[int, int]) -> list[Claim]:
    """The claims a branch that names only a role or an entity makes, by the other branch's claims:
    a role replaces the other branch's roles, an entity its subject."""
    subject = claims[0].subject
    unit = 1_000_000 + 2 * branch[0] + branch[1]  # a unit of its own: the elided claim's roles belong together
    roles = [m for m in mentions if m.kind == "role"]
    entities = [m for m in mentions if m.kind == "entity" and m.name != subject]
    if roles:
        return [Claim(subject, r.name, r.negated, unit, (r.start, r.end), branch) for r in roles]
    if entities:
        e = entities[0]
        return [Claim(e.name, c.role, c.negated != e.negated, unit, (e.start, e.end), branch)
                for c in claims if c.subject == subject and c.role != "=" + e.name]
    return []




def _sized(ann: Annotated, keys: list[str], entities: dict[str, Group], roles: dict[str, Group],
           dimension_roles: frozenset[str], mentions: list[Mention]) -> list[Claim]:
    """"across all 8 time steps": a size right before a dimension's role ties them, even where a
    longer phrasing ("all 8 time steps" = every step) took the words."""
    sizes: dict[str, str] = {}
    for name, g in entities.items():
        for p in g.phrases:
            if name.startswith("dim") and len(p) == 1 and p[0].isdigit():
                sizes[p[0]] = name
    seq = [i for i, k in enumerate(keys) if k not in SKIP_KEYS]
    covered = {i for m in mentions if m.kind == "entity" for i in range(m.start, m.end)}
    out = []
    for n, i in enumerate(seq[:-1]):
        if keys[i] not in sizes or i in covered or ann.negated[i]:
            continue
        for name in dimension_roles:
            for phrase in roles[name].by_first.get(keys[seq[n + 1]], ()):
                end = phrase_at(keys, seq, n + 1, phrase)
                if end is not None and not distributive(keys, seq[end - 1] + 1):
                    out.append(Claim(sizes[keys[i]], name, False, -1, (i, seq[n + 1] + 1)))
                    break
    return out


def _in_order(u: int, ms: list[Mention], keys: list[str], dimension_roles: frozenset[str]) -> list[Claim]:
    """"(batch, timesteps, features)", "samples x time x features": the K-th role names dimension K."""
    runs: list[list[Mention]] = [[]]
    for m in ms:
        run = runs[-1]
        glue = keys[run[-1].end:m.start] if run else []
        if m.kind == "role" and m.name in dimension_roles and run and any(k in ("(", "[") for k in glue) \
                and not any(k in (")", "]") for k in glue):
            runs.append([m])  # "... at each time step, (batch, time, units)": the bracket is the list
        elif m.kind == "role" and m.name in dimension_roles and (not run or (
                all(k in TUPLE_GLUE or k in SKIP_KEYS or k in COUNT_WORDS for k in glue)
                and any(k in SEPARATORS for k in glue) and m.name not in {r.name for r in run})):
            run.append(m)
        elif m.kind == "role" and m.name in dimension_roles:
            runs.append([m])
        else:
            runs.append([])
    tied = {m.end for m in ms if m.kind == "entity"}  # "8 timesteps": tied to its number, not a list item
    out = []
    for run in runs:
        if len(run) >= 2 and not any(r.start in tied for r in run):
            for k, m in enumerate(run, 1):
                out.append(Claim(f"dim{k}", m.name, m.negated, u, (m.start, m.end)))
    return out
