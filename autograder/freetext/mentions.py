"""Where an answer names the rubric's entities and roles: ``Mention``s, found phrasing by phrasing
(longest first, small gaps allowed), with their negation and whether they sit in brackets."""

from __future__ import annotations

from dataclasses import dataclass

from .negation import NEG_CUES, Annotated
from .normalize import NUM, SKIP_KEYS
from .rubric import Group
from .words import ENTITY_GAP_WORDS, GAP_WORDS, MAX_GAP


@dataclass(frozen=True)
class Mention:
    kind: str  # "entity" or "role"
    name: str
    start: int  # token index, inclusive
    end: int  # exclusive
    negated: bool
    paren: bool  # inside parentheses


def phrase_at(keys: list[str], seq: list[int], i: int, phrase: tuple[str, ...],
              max_gap: int = MAX_GAP, gap_words: frozenset[str] | None = None) -> int | None:
    """End (exclusive, in ``seq`` positions) of ``phrase`` starting at seq[i], small gaps allowed."""
    pos = i
    for n, word in enumerate(phrase):
        if n == 0:
            if keys[seq[pos]] != word:
                return None
            pos += 1
            continue
        if pos < len(seq) and keys[seq[pos]] == "(":
            close = next((x for x in range(pos, min(pos + 10, len(seq))) if keys[seq[x]] == ")"), None)
            if close is not None:
                pos = close + 1  # "one (1, 3) array": a shape in brackets between the words
        for gap in range(max_gap + 1):
            j = pos + gap
            if j >= len(seq):
                return None
            if keys[seq[j]] == word:
                pos = j + 1
                break
            if keys[seq[j]] not in (GAP_WORDS if gap_words is None else gap_words):
                return None
        else:
            return None
    return pos


def find_mentions(ann: Annotated, entities: dict[str, Group], roles: dict[str, Group]) -> list[Mention]:
    """Every entity and role the answer names, in order; overlapping phrasings keep the longest."""
    keys = [t.key for t in ann.tokens]
    seq = [i for i, k in enumerate(keys) if k not in SKIP_KEYS]
    depth, paren = 0, []
    for t in ann.tokens:
        if t.key in ("(", "["):
            depth += 1
        paren.append(depth > 0)
        if t.key in (")", "]"):
            depth = max(0, depth - 1)
    # every phrasing by its first word: one look-up per token, whatever the number of groups
    index: dict[str, list[tuple[str, str, tuple[str, ...]]]] = {}
    for kind, groups in (("entity", entities), ("role", roles)):
        for g in groups.values():
            for first, phrases in g.by_first.items():
                index.setdefault(first, []).extend((kind, g.name, phrase) for phrase in phrases)
    cands = []
    for i, j in enumerate(seq):
        for kind, name, phrase in index.get(keys[j], ()):
            # an entity is named in one piece ("lstm cell" is not "LSTM keeps a cell")
            end = phrase_at(keys, seq, i, phrase) if kind == "role" else phrase_at(
                keys, seq, i, phrase, 2, ENTITY_GAP_WORDS)
            if end is not None:
                # longest first, entities before roles on a tie, then leftmost
                cands.append((-(end - i), -len(phrase), kind != "entity", i, end, kind, name))
    cands.sort()
    used: set[int] = set()
    out = []
    for *_, i, end, kind, name in cands:
        span = set(range(i, end))
        if used & span:
            continue
        used |= span
        s, e = seq[i], seq[end - 1] + 1
        # a phrasing that holds its own negation ("not just the last") is not negated by it
        own_cue = any(k in NEG_CUES or k == "instead" for k in keys[s:e])
        negated = (ann.negated[s - 1] and keys[s - 1] not in NEG_CUES) if own_cue and s > 0 else (
            False if own_cue else any(ann.negated[s:e]))
        out.append(Mention(kind, name, s, e, negated, paren[s]))
    out.sort(key=lambda m: m.start)
    # "one row per step", "one value per node": a number written as a word names a size only
    # when a dimension's role follows it ("one sample", "eight steps")
    tokens = ann.tokens
    out = _owned_by_layer(out, keys)
    return [m for i, m in enumerate(out) if not (
        m.kind == "entity" and m.name.startswith("dim") and m.end - m.start == 1
        and tokens[m.start].kind == NUM and tokens[m.start].text.isalpha()
        and not (i + 1 < len(out) and out[i + 1].kind == "role" and out[i + 1].start == m.end
                 and not distributive(keys, out[i + 1].end)))]


def distributive(keys: list[str], i: int) -> bool:
    """"one value per unit", "1 number for each node": a share, not a dimension's size."""
    return keys[i:i + 1] == ["per"] or keys[i:i + 2] in (["for", "each"], ["for", "everi"])


def _owned_by_layer(mentions: list[Mention], keys: list[str]) -> list[Mention]:
    """"the GRU output", "the LSTM's h": one entity, the layer only says whose it is;
    "both are the GRU's hidden state": the role is not the layer's claim."""
    out: list[Mention] = []
    for m in mentions:
        prev = out[-1] if out else None
        if prev is not None and prev.kind == "entity" and prev.name == "layer" and m.name != "layer" \
                and all(k in ("s", "'") for k in keys[prev.end:m.start]):
            if m.kind == "entity":
                out[-1] = Mention("entity", m.name, prev.start, m.end, m.negated, m.paren)
                continue
            if prev.start > 0 and keys[prev.start - 1] in SKIP_KEYS:
                out.pop()
        out.append(m)
    return out


def index_base(mentions: list[Mention]) -> list[Mention]:
    """"dim 1" is the first dimension, unless the answer counts from "dim 0" (then the second)."""
    names = {m.name for m in mentions}
    shift = 1 if "index0" in names else 0
    out = []
    for m in mentions:
        if m.kind == "entity" and m.name.startswith("index") and m.name[5:].isdigit():
            m = Mention("entity", f"dim{int(m.name[5:]) + shift}", m.start, m.end, m.negated, m.paren)
        out.append(m)
    return out
