"""Find concepts in an annotated answer.

Two kinds of concept:

* relation concepts: a pattern is a set of term groups that must all occur
  in one clause (or sentence / the whole answer if the rubric says so).
  The match is *asserted* when none of its terms is negated and *denied*
  when one is; a rubric pattern with ``negated: true`` swaps the two.
  A concept is found when asserted and never denied (a contradiction earns
  nothing).
* position concepts (q1, q7 axes): terms are tied to the dimension the
  student gives them (ordinal, "dimension 2", the size 8, or list order)
  and checked against the expected index.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from .negation import CLAUSE_WORDS, NEG_CUES, SCOPE_MAX, SENTENCE_END, Annotated
from .normalize import NUM, PUNCT, SKIP_KEYS
from .rubric import Concept, Group, Pattern, Rubric

# Tokens that turn a string of nouns into a claim (copulas, relational
# verbs, "as"/"to" in "same as"/"identical to", "=").
LINK_KEYS = frozenset({
    "is", "are", "was", "were", "be", "been", "am", "has", "have", "had", "as", "to",
    "equal", "equals", "=", "match", "repres", "return", "mean", "contain", "hold", "give",
    "store", "use", "consid", "show", "correspond", "includ", "becom", "serv", "act",
    "treat", "taken", "exist", "do", "doe", "did", "can", "will", "keep", "get", "appear",
    "merg", "combin", "lack", "than", "from", "of", "refer", "denot", "indic",
    "describ", "carri", "maintain", "track", "remov", "drop", "omit", "lose", ":",
    "yes",  # answers "is there any duplication?" with a claim
})
# Anything that shows a clause is prose rather than a bare keyword list.
FUNCTION_KEYS = LINK_KEYS | SKIP_KEYS | frozenset({
    "and", "or", "not", "no", "for", "in", "on", "at", "with", "by", "it", "they",
    "this", "that", "there", "its", "their", "each", "everi", "all", "onli", "just",
    "x", "per", "whi", "so", "what", "which", "one", "both", "also", "we",
})
LIST_MIN_TOKENS = 6
# Words a terse whole-answer match may carry: "the output of the LSTM".
WHOLE_FILLER = frozenset({
    "of", "lstm", "layer", "model", "network", "rnn", "it", "now", "return", "is", "from", "this",
})


@dataclass
class Occ:
    start: int  # token index, inclusive
    end: int  # token index, exclusive
    neg: bool
    fuzzy: bool


@dataclass
class Verdict:
    asserted: bool = False
    denied: bool = False
    confidence: float = 0.0
    span: tuple[int, int] | None = None  # token span of the best evidence
    denied_span: tuple[int, int] | None = None


@dataclass
class Context:
    ann: Annotated
    keys: list[str]
    seq: list[int]  # indices of tokens that matching looks at (no articles)
    list_like: set[int] = field(default_factory=set)  # clause ids that are keyword lists
    cache: dict[str, list[Occ]] = field(default_factory=dict)


def build_context(ann: Annotated) -> Context:
    keys = [t.key for t in ann.tokens]
    seq = [i for i, k in enumerate(keys) if k not in SKIP_KEYS]
    ctx = Context(ann, keys, seq)
    by_clause: dict[int, list[str]] = {}
    for i, c in enumerate(ann.clause):
        if c >= 0 and ann.tokens[i].kind != PUNCT:
            by_clause.setdefault(c, []).append(keys[i])
    for c, ks in by_clause.items():
        if len(ks) >= LIST_MIN_TOKENS and not any(k in FUNCTION_KEYS for k in ks):
            ctx.list_like.add(c)
    return ctx


def find(group: Group, ctx: Context) -> list[Occ]:
    """All non-overlapping occurrences of a group's phrasings, longest first."""
    hit = ctx.cache.get(group.name) if group.name != "inline" else None
    if hit is not None:
        return hit
    keys, seq, ann = ctx.keys, ctx.seq, ctx.ann
    cands = []
    for i, j in enumerate(seq):
        for phrase in group.by_first.get(keys[j], ()):
            idx = seq[i:i + len(phrase)]
            if len(idx) == len(phrase) and all(keys[a] == k for a, k in zip(idx, phrase, strict=True)):
                cands.append((-len(phrase), i, idx))
    cands.sort()  # longest first, then leftmost
    used: set[int] = set()
    out: list[Occ] = []
    for _, _, idx in cands:
        if used.intersection(idx):
            continue
        if len({ann.clause[j] for j in idx}) != 1 or ann.clause[idx[0]] < 0:
            continue
        used.update(idx)
        out.append(Occ(idx[0], idx[-1] + 1, any(ann.negated[j] for j in idx),
                       any(ann.tokens[j].fuzzy for j in idx)))
    out.sort(key=lambda o: o.start)
    if group.name != "inline":
        ctx.cache[group.name] = out
    return out


def _unit(ctx: Context, scope: str, tok: int) -> int:
    if scope == "clause":
        return ctx.ann.clause[tok]
    if scope == "sentence":
        return ctx.ann.sentence[tok]
    return 0


def _has_link(ctx: Context, scope: str, unit: int) -> bool:
    for i, k in enumerate(ctx.keys):
        if k in LINK_KEYS and _unit(ctx, scope, i) == unit and ctx.ann.clause[i] >= 0:
            return True
    return False


def match_pattern(pattern: Pattern, concept: Concept, ctx: Context) -> Verdict:
    v = Verdict()
    per_group = [find(g, ctx) for g in pattern.groups]
    if any(not occs for occs in per_group):
        return v
    ann = ctx.ann
    units: dict[int, list[list[Occ]]] = {}
    for gi, occs in enumerate(per_group):
        for o in occs:
            if ann.clause[o.start] in ctx.list_like:
                continue  # keyword stuffing carries no claim
            u = _unit(ctx, pattern.scope, o.start)
            units.setdefault(u, [[] for _ in per_group])[gi].append(o)
    for u, groups in units.items():
        if any(not g for g in groups):
            continue
        if concept.claim and not _has_link(ctx, pattern.scope, u):
            continue
        by_span = pattern.unless_scope == "span"
        blocked = bool(pattern.unless) and not by_span and _blocked(pattern, ctx, groups[0][0].start)
        if blocked and pattern.unless_blocks == "both":
            continue
        asserted_here = False
        denied_here: tuple[int, int] | None = None
        for combo in itertools.islice(itertools.product(*groups), 4000):
            spans = sorted((o.start, o.end) for o in combo)
            if any(a[1] > b[0] for a, b in zip(spans, spans[1:], strict=False)):
                continue  # one phrase cannot serve two roles
            if pattern.ordered and [o.start for o in combo] != sorted(o.start for o in combo):
                continue
            if pattern.whole and not _covers_answer(ctx, combo):
                continue
            neg = any(o.neg for o in combo)
            span = (spans[0][0], spans[-1][1])
            if neg:
                span = (_cue_before(ctx, span[0]), span[1])
            if by_span and pattern.unless:
                blocked = _blocked_in_span(pattern, ctx, span)
                if blocked and pattern.unless_blocks == "both":
                    continue
            if pattern.deny:
                if neg == pattern.negated and not blocked:
                    v.denied = True
                    v.denied_span = v.denied_span or span
                continue
            if neg == pattern.negated:
                asserted_here = True
                conf = pattern.weight * (0.85 if any(o.fuzzy for o in combo) else 1.0)
                if not v.asserted or conf > v.confidence:
                    v.asserted, v.confidence, v.span = True, conf, span
            elif pattern.denies and not blocked and not (pattern.negated and len(combo) == 1):
                # A bare mention is no claim, so it cannot deny "no X".
                denied_here = denied_here or span
        # Within one clause, a reading that asserts the concept wins over
        # recombining its words with a negation from a neighbouring claim
        # ("doesn't have c - it only uses h"); contradictions are caught
        # across clauses.
        if denied_here and not asserted_here:
            v.denied = True
            v.denied_span = v.denied_span or denied_here
    return v


def _covers_answer(ctx: Context, combo: tuple[Occ, ...]) -> bool:
    """A terse answer that is nothing but the matched terms."""
    covered = {i for o in combo for i in range(o.start, o.end)}
    return all(i in covered or ctx.ann.tokens[i].kind == PUNCT or ctx.keys[i] in WHOLE_FILLER for i in ctx.seq)


def _cue_before(ctx: Context, start: int) -> int:
    """Start evidence at the negation cue, so it reads "don't have c"."""
    for j in range(start, max(-1, start - SCOPE_MAX - 1), -1):
        if ctx.keys[j] in NEG_CUES:
            return j
        if ctx.ann.clause[j] < 0:
            break
    return start


def _blocked_in_span(pattern: Pattern, ctx: Context, span: tuple[int, int]) -> bool:
    """An unless-term between the matched terms ("output is the same as ...")."""
    return any(
        not o.neg and span[0] <= o.start and o.end <= span[1]
        for g in pattern.unless for o in find(g, ctx)
    )


def _blocked(pattern: Pattern, ctx: Context, tok: int) -> bool:
    unit = _unit(ctx, pattern.unless_scope, tok)
    for g in pattern.unless:
        for o in find(g, ctx):
            if not o.neg and _unit(ctx, pattern.unless_scope, o.start) == unit:
                return True
    return False


# ---------------------------------------------------------------- positions

ORDINAL_KEYS = {"first": 1, "second": 2, "third": 3, "middl": 2}
LAST_KEYS = frozenset({"last", "final"})
# An ordinal names a dimension only when followed by one of these (or by
# punctuation): "the first dimension", "the 2nd is", not "the last time step".
ORDINAL_NEXT = frozenset({
    "dimens", "dim", "axi", "axe", "one", "index", "entri", "element", "number", "valu",
    "compon", "part", "posit", "item", "is", "are", "repres", "mean", "equal", "equals",
    "field", "coordin", "slot", "shape", "refer", "denot", "indic", "describ", "term", "how", "what",
    "and", "or",  # "the second and third are ..."
})
INDEX_PREV = frozenset({"dimens", "dim", "axi", "axe", "index", "posit", "shape", "["})
ZERO_BASED_PREV = frozenset({"axi", "axe", "index", "["})
PRONOUNS = frozenset({"it", "that", "this", "which"})
QUANTIFIERS = frozenset({"each", "everi", "all", "per", "across", "entir", "whole", "full"})
POSITION_BREAK = frozenset({",", ";", "\n"}) | SENTENCE_END


@dataclass
class Assignment:
    pos: dict[str, set[int]] = field(default_factory=dict)
    neg: dict[str, set[int]] = field(default_factory=dict)
    by_order: set[str] = field(default_factory=set)
    spans: dict[tuple[str, int], tuple[int, int]] = field(default_factory=dict)


def _tuple_numbers(ctx: Context) -> set[int]:
    """Numbers inside a written shape like (1, 8, 2): sizes, not assignments."""
    toks, out = ctx.ann.tokens, set()
    i = 0
    while i < len(toks):
        if toks[i].key in ("(", "["):
            j, nums = i + 1, []
            while j < len(toks) and (toks[j].kind == NUM or toks[j].key == ","):
                if toks[j].kind == NUM:
                    nums.append(j)
                j += 1
            if len(nums) >= 2 and j < len(toks) and toks[j].key in (")", "]"):
                out.update(nums)
            i = j
        i += 1
    return out


def _markers(ctx: Context, rubric: Rubric, term_starts: set[int]) -> dict[int, int]:
    """Token index -> dimension index the token names."""
    toks, keys = ctx.ann.tokens, ctx.keys
    skip = _tuple_numbers(ctx)
    nxt = {}
    prev = {}
    real = [i for i in ctx.seq]
    for a, b in zip(real, real[1:], strict=False):
        nxt[a], prev[b] = b, a
    zero_based = any(
        toks[i].kind == NUM and keys[i] == "0" and keys[prev.get(i, -1)] in ZERO_BASED_PREV
        for i in real if i in prev
    )
    out: dict[int, int] = {}
    for i in real:
        k = keys[i]
        after = nxt.get(i)
        if k in ORDINAL_KEYS or k in LAST_KEYS:
            raw = i + 1 if i + 1 < len(toks) else None
            if raw is not None and raw in term_starts:
                continue  # "first time step" is a step, not a dimension
            if (after is None or toks[after].kind == PUNCT or keys[after] in ORDINAL_NEXT
                    or keys[raw] in SKIP_KEYS):  # "the first, the batch"
                out[i] = ORDINAL_KEYS.get(k, rubric.ndims)
        elif toks[i].kind == NUM and i not in skip and k.isdigit():
            before = prev.get(i)
            pk = keys[before] if before is not None else ""
            if pk in INDEX_PREV:
                n = int(k) + (1 if zero_based and pk in ZERO_BASED_PREV | {"dimens", "dim"} else 0)
                if 1 <= n <= rubric.ndims:
                    out[i] = n
            elif k in rubric.position_values:
                out[i] = rubric.position_values[k]
    return out


def assign_positions(rubric: Rubric, ctx: Context) -> Assignment:
    ann, keys, seq = ctx.ann, ctx.keys, ctx.seq
    # Longest phrasing first across all position terms, so "time step
    # samples" is a time-step term and not also a sample term.
    cands = []
    for i, j in enumerate(seq):
        for name, g in rubric.position_terms.items():
            for phrase in g.by_first.get(keys[j], ()):
                idx = seq[i:i + len(phrase)]
                if len(idx) == len(phrase) and all(keys[a] == k for a, k in zip(idx, phrase, strict=True)):
                    cands.append((-len(phrase), i, idx, name))
    cands.sort()
    used: set[int] = set()
    terms: list[tuple[int, int, str, bool]] = []
    for _, _, idx, name in cands:
        if used.intersection(idx) or any(ann.tokens[j].kind == PUNCT for j in idx):
            continue
        used.update(idx)
        terms.append((idx[0], idx[-1] + 1, name, any(ann.negated[j] for j in idx)))
    terms.sort()
    markers = _markers(ctx, rubric, {t[0] for t in terms})

    # Segment: a dimension and its meaning are stated within one segment.
    seg, segment = 0, []
    for i, tok in enumerate(ann.tokens):
        # "and" does not split: in-order pairing handles "the first is batch
        # and the second time steps" and "the second and third are X and Y".
        if (tok.kind == PUNCT and tok.key in POSITION_BREAK) or keys[i] in CLAUSE_WORDS:
            seg += 1
        segment.append(seg)
    result = Assignment()
    last, last_name = 0, ""
    prev_tok = dict(zip(ctx.seq[1:], ctx.seq, strict=False))
    for s in sorted({segment[t[0]] for t in terms}):
        ts = [t for t in terms if segment[t[0]] == s and ann.clause[t[0]] not in ctx.list_like]
        ms = sorted(i for i in markers if segment[i] == s)
        pairs: list[tuple[tuple[int, int, str, bool], int, bool]] = []
        # "the output at each time step", "one per unit", "the time steps in the
        # sequence" describe, they do not assign.
        ts = [t for t in ts if not _describes(t[0], prev_tok, keys)]
        if not ts:
            continue
        if not ms:
            first = min(i for i, g in enumerate(segment) if g == s and ann.tokens[i].kind != PUNCT)
            # "The 1st is not the batch; it's the time steps": "it" refers
            # back to the dimension just named, not to the next one.
            step = 0 if keys[first] in PRONOUNS and last else 1
            # "the batch size, i.e. the number of samples": the same meaning
            # restated does not move on to the next dimension.
            if last and ts[0][2] == last_name:
                step = 0
            for t in ts:
                last = min(last + step, rubric.ndims)
                step = 1
                pairs.append((t, last, True))
        elif len(ms) == len(ts):
            pairs = [(t, markers[m], False) for t, m in zip(ts, ms, strict=False)]
        else:
            cand = sorted(
                (abs(m - t[0]) + (0.5 if m > t[0] else 0), ti, m)
                for ti, t in enumerate(ts) for m in ms
            )
            done_t, done_m = set(), set()
            for _, ti, m in cand:
                if ti not in done_t and m not in done_m:
                    done_t.add(ti)
                    done_m.add(m)
                    pairs.append((ts[ti], markers[m], False))
        for (start, end, name, neg), p, by_order in pairs:
            target = result.neg if neg else result.pos
            target.setdefault(name, set()).add(p)
            if not neg:
                result.spans.setdefault((name, p), (start, end))
                if by_order:
                    result.by_order.add(name)
            last = max(last, p) if not by_order else p
            last_name = name
    return result


ARTICLES = frozenset({"the", "a", "an", "each", "everi", "one"})
LOCATIVES = frozenset({"in", "within", "insid"})


def _describes(tok: int, prev_tok: dict[int, int], keys: list[str]) -> bool:
    """Whether the term at ``tok`` follows a quantifier or locative ("in the sequence")."""
    k = prev_tok.get(tok)
    if k is not None and keys[k] in QUANTIFIERS:
        return True
    while k is not None and keys[k] in ARTICLES:
        k = prev_tok.get(k)
    return k is not None and keys[k] in LOCATIVES


def match_position(concept: Concept, asg: Assignment) -> Verdict:
    assert concept.position is not None
    index, name = concept.position
    v = Verdict()
    mine = asg.pos.get(name, set())
    others_here = [n for n, ps in asg.pos.items() if n != name and index in ps]
    if index in mine:
        v.asserted = True
        v.span = asg.spans.get((name, index))
        v.confidence = 0.9 if name in asg.by_order else 1.0
    if (mine - {index}) or others_here or index in asg.neg.get(name, set()):
        v.denied = True
    return v
