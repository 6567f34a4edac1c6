"""Read an answer as claims: *entity -> role*, with a polarity.

An answer is split into claim units (sentences, ``;``, ``|``, and commas or
"and" that close a complete claim).  In each unit the reader finds the
rubric's entity mentions (``output``, ``h``, ``the last row of output``)
and role mentions (``hidden state``, ``every step``, ``batch``), and ties
roles to the entity the unit is about:

* ``X is / = / : / -> Y``, ``X (Y)``, ``Y (X)``, ``X Y`` (terse lists) and
  "Y X" where a role modifies the entity ("the final output");
* coordinated subjects ("output and h are the same", "output/h: ...");
* an entity after a link is an object: ``output = h`` claims ``output =h``;
  a role word for sameness makes every entity of the unit equal;
* a unit with no entity is about the previous unit's subject when it opens
  with a pronoun ("it", "which"), else about the rubric's default subject.

A claim is negated when its role (or, for ``present``, the entity itself)
lies in a negation scope. Only asserted claims are kept (``assertions``): none from a question
or someone else's words, retracted ones reversed, hedged alternatives tagged with their branch.
Grading a concept then asks whether the key's claims are asserted and none of its
misconceptions is (``verdicts``).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace

from . import assertions
from .bounds import MAX_UNIT_TOKENS
from .negation import NEG_CUES, Annotated
from .normalize import NUM, PUNCT, SKIP_KEYS
from .rubric import Group

# Tokens that tie a subject to what follows it.
LINKS = frozenset({
    "is", "are", "was", "were", "be", "been", "becom", ":", "equals", "equal", "repres",
    "mean", "contain", "hold", "give", "store", "correspond", "denot", "indic", "refer",
    "describ", "has", "have", "had", "keep", "carri", "return", "act", "serv",
    "stand", "aka", "ie", "includ", "show", "=", "get", "print", "produc", "provid",
})
# An entity inside a formula ("o_t * tanh(c_t)") is an operand, not a claim.
FORMULA = frozenset({"tanh", "sigmoid", "sigma", "*", "softmax"})
# Words before an entity that make it part of the predicate, not a new subject:
# "out is what h is at each step", "same as h".
NOT_SUBJECT_BEFORE = frozenset({"what", "as", "like", "than", "of", "to", "with", "in", "from", "and", "or"})
PRONOUNS = frozenset({"it", "they", "this", "which", "that", "these", "those", "both", "thes"})
HARD_BREAKS = frozenset({".", "!", "?", ";", "\n", "|", assertions.BOUNDARY})
SOFT_BREAKS = frozenset({",", "/", "and", "but", "howev", "wherea", "while", "whilst", "so",
                         "becaus", "sinc", "therefor", "henc", "thus", "although", "though",
                         "which", "instead", "then", "yet", "bc", "b", "caus", "cuz"})
# Between coordinated entities: "output, h and c", "output as well as h".
COORDINATORS = frozenset({",", "and", "or", "&", "/", "as", "well", "plus", "nor"})
# What may stand between a subject and its link: "output (1, 3) is", "h now is".
_BEFORE_LINK = frozenset({"(", ")", "[", "]", "onli", "just", "also", "still", "now", "alway", "basic", "realli",
                          "actual", "literal", "simpli", "essenti", "technic", "effect", "here"})
# Words an answer that only names an entity may also hold: "the output of the LSTM".
ALONE_FILLER = SKIP_KEYS | frozenset({"of", "lstm", "layer", "model", "it", "now", "return", "is", "just",
                                      "onli", "from", ".", "!", "the", "array", "tensor", "(", ")", ","})
HYPOTHETICAL = frozenset({"whether", "if", "unless"})
QUESTION_WORDS = frozenset({"is", "are", "doe", "do", "what", "which", "how", "whi", "can", "could", "was",
                            "were", "will", "would", "should", "ani", "if"})
YES = frozenset({"yes", "yeah", "yep", "yup", "ye", "true", "correct", "indeed"})
NO = frozenset({"no", "nope", "nah"})
# Words that may stand between a link and the entity it equates: "is exactly the same as h".
_EQUATING = frozenset({"just", "exact", "simpli", "basic", "realli", "actual", "also", "again", "onli", "same",
                       "as", "to", "ident", "like", "what", "=", ":", "(", ")", ",", "literal", "itself",
                       "precis", "effect", "still", "now", "then", "alway", "equival", "ie", "i", "e", "aka",
                       "so", "its", "the", "that", "both", "too", "not"})
# Before a dimension's role, these make it a modifier of another: "features per time step".
_MODIFYING = frozenset({"per", "each", "everi", "at", "in", "on", "for", "from", "over", "through", "across",
                        "/", "within", "by", "along", "to", "after", "befor", "until"})
# "the number of": words before a role that still make it the role's phrase
_COUNT_WORDS = frozenset({"number", "amount", "count", "size", "of", "quantiti"})
# Words before a unit's first real word: "so now it ...".
_LEAD = frozenset({",", "(", ")", "and", "but", "so", "now", "then", "basic", "also", "well", "ok", "still", ":",
                   "becaus", "sinc", "therefor", "henc", "thus", "wherea", "while", "although", "though", "yet",
                   "bc", "caus", "cuz"})
# Words that always start a new claim.
CLAUSE_CUTS = frozenset({"but", "howev", "wherea", "while", "whilst", "so", "becaus", "sinc", "therefor", "whether",
                         "henc", "thus", "although", "though", "which", "instead", "yet", "bc", "caus", "cuz"})
# Function words: a unit with none of them and many mentions is a keyword list, not a claim.
FUNCTION = LINKS | SKIP_KEYS | frozenset({
    "and", "or", "not", "no", "for", "in", "on", "at", "with", "by", "it", "they", "this", "that",
    "there", "its", "their", "each", "everi", "all", "onli", "just", "per", "so", "what", "which",
    "one", "both", "also", "we", "of", "=", "(", ")", "but", "becaus", "sinc", "now", "anymor",
    "into", "from", "to", "as", "than", "instead",
})
LIST_MIN_MENTIONS = 4
# What may stand between a comma and the entity that opens the next claim: "(2) h = ...".
_FILLER = SKIP_KEYS | frozenset({"1", "2", "3", "and", "then", "while", "finally", "also", "last", "lastli"})
MAX_GAP = 2  # tokens a multi-word phrasing may skip ("each of the 8 steps")
# An entity's words may only be split by these: "the last of the 8 rows", "the last row (t=8) of output".
ENTITY_GAP_WORDS = frozenset({"of", "8", "3", "(", ")", "its", "in"})
# The only words such a gap may hold.
GAP_WORDS = frozenset({"of", "8", "3", "all", "its", "their", "lstm", "gru", "layer", "model", "see",
                       "read", "process", "go", "through", "the", "these", "those", "sequenc", "input", "it", "we",
                       "(", ")", "[", "]", "has", "have", "keep", "carri", "use"})


@dataclass(frozen=True)
class Mention:
    kind: str  # "entity" or "role"
    name: str
    start: int  # token index, inclusive
    end: int  # exclusive
    negated: bool
    paren: bool  # inside parentheses


@dataclass(frozen=True)
class Claim:
    subject: str
    role: str  # a role name, "=<entity>" for sameness, or "present"
    negated: bool
    unit: int
    span: tuple[int, int]
    # (group, branch) of a hedged alternative the claim was read in ("maybe X, or maybe Y"), else None
    branch: tuple[int, int] | None = None


def _phrase_at(keys: list[str], seq: list[int], i: int, phrase: tuple[str, ...],
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
            end = _phrase_at(keys, seq, i, phrase) if kind == "role" else _phrase_at(
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
                 and not _distributive(keys, out[i + 1].end)))]


def _distributive(keys: list[str], i: int) -> bool:
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


# How far past a comma or bracket the reader looks for the entities and link of a new claim
# ("(2) h and c are ..."); the longest such opening in the corpora is under ten tokens.
_LOOKAHEAD = 24


def units(ann: Annotated, mentions: list[Mention], cuts: frozenset[int] = frozenset()) -> list[tuple[int, int]]:
    """Token ranges of claim units; each token index in ``cuts`` starts one."""
    tokens = ann.tokens
    starts = {m.start: m for m in mentions}
    cut = [0]
    has_link = has_role = seen_mention = False
    depth = 0

    ends = {m.end for m in mentions if m.kind == "entity"}

    def opens_claim(i: int, link_only: bool = False, colon_links: bool = True) -> bool:
        """Do entities start right after token i ("h and c"), followed by a link or a role?"""
        j = i + 1
        # looks a few words ahead only: "(((((...": each bracket would scan them all
        end = min(len(tokens), i + _LOOKAHEAD)
        while j < end and (tokens[j].kind == PUNCT and tokens[j].key not in ("/",)
                           or tokens[j].key in _FILLER) and j not in starts:
            j += 1
        seen = False
        while j < end and j in starts and starts[j].kind == "entity":
            seen = True
            j = starts[j].end
            if j < end and tokens[j].key in ("and", ",", "/", "&", "or") and j + 1 in starts:
                j += 1
        if not seen:
            return False
        if i in ends and not has_link:
            link_only = True  # "output/h identical", "output, h and c are ...": one subject list
        while j < end and (tokens[j].key in SKIP_KEYS or tokens[j].key in _BEFORE_LINK
                           or tokens[j].key == "not"):
            j += 1
        if j < end and tokens[j].key in LINKS and (colon_links or tokens[j].key != ":"):
            return True
        # "2nd the number of time steps": a role within a few words
        return not link_only and any(k in starts and starts[k].kind == "role" for k in range(j, min(j + 3, end))
                                     if all(tokens[x].key in _COUNT_WORDS for x in range(j, k)))

    for i, t in enumerate(tokens):
        k = t.key
        spaced_slash = k == "/" and 0 < i < len(tokens) - 1 and tokens[i - 1].end < t.start \
            and tokens[i + 1].start > t.end
        if k in ("(", "["):
            depth += 1
            if opens_claim(i):  # "(h hidden, c cell)": claims of their own
                cut.append(i)
                has_link = has_role = seen_mention = False
                continue
        elif k in (")", "]"):
            depth = max(0, depth - 1)
        if ((t.kind == PUNCT or k == "|") and k in HARD_BREAKS) or spaced_slash or i in cuts:
            cut.append(i)
            has_link = has_role = seen_mention = False
            continue
        if k in CLAUSE_CUTS and i > 0:
            cut.append(i)
            has_link = has_role = seen_mention = False
            continue
        if k == "/" and not spaced_slash:
            pass  # "output/h", "outputs/units": one pair or one choice, never two claims
        elif k in SOFT_BREAKS or k == ":":
            ready = has_link if k == ":" else has_role or has_link
            # "output and h match": after an entity, "and" joins a pair unless a copula follows
            pair = k == "and" and i in ends
            if ready and (k not in (",", "/", "and") or opens_claim(i, k == "and" and (not has_role or pair),
                                                                      colon_links=not pair)):
                cut.append(i)
                has_link = has_role = seen_mention = False
                continue
        if k in LINKS and seen_mention:
            has_link = True
        m = starts.get(i)
        if m is not None:
            seen_mention = True
        if m is not None and m.kind == "role":
            has_role = True
    cut.append(len(tokens))
    out = []
    for a, b in zip(cut, cut[1:], strict=False):
        # a unit is read in pieces of at most MAX_UNIT_TOKENS: reading one costs its length squared
        out.extend((x, min(x + MAX_UNIT_TOKENS, b)) for x in range(a, b, MAX_UNIT_TOKENS))
    return out


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
    aliases = aliases or {}
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
        opening = next((k for k in keys[a:b] if k not in _LEAD and k not in SKIP_KEYS and k != "\n"), "")
        if opening in HYPOTHETICAL:
            a = _consequent(keys, a, b, ms, opening)
            if a is None:
                continue  # "whether the states get returned", "if you keep output, h, c = ...": no claim
            ms = [m for m in ms if m.start >= a]
        if (b < len(keys) and keys[b] == "?" or keys[b - 1] == "?") and next(
                (k for k in keys[a:b] if k not in _LEAD and k not in SKIP_KEYS and k != "\n"), "") in QUESTION_WORDS:
            continue  # a question asserts nothing ("is there any duplication?")
        claims.extend(_read_unit(u, a, b, ms, ann, keys, previous, default_subject, modifiers, aliases,
                                 same_roles | differ_roles, dimension_roles, bare))
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
        claims.extend(_sameness(u, ms, claims[unit_start:], keys, same_roles, differ_roles, aliases))
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


_TUPLE_GLUE = frozenset({",", "x", "|", "/", "(", ")", "[", "]", "then", "by", ":", "*", "\n", ";", "-"})
_SEPARATORS = frozenset({",", "x", "|", "/", "*", "then", "by", ";", "\n", "-", "]"})


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
                end = _phrase_at(keys, seq, n + 1, phrase)
                if end is not None and not _distributive(keys, seq[end - 1] + 1):
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
                all(k in _TUPLE_GLUE or k in SKIP_KEYS or k in _COUNT_WORDS for k in glue)
                and any(k in _SEPARATORS for k in glue) and m.name not in {r.name for r in run})):
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


def _sameness(u: int, ms: list[Mention], claims: list[Claim], keys: list[str], same_roles: frozenset[str],
              differ_roles: frozenset[str], aliases: dict[str, str]) -> list[Claim]:
    """Sameness words equate the entities before them ("output and h are the same") and the one
    they compare with ("the same as h"); negated or "different", they tell them apart."""
    out: list[Claim] = []
    subjects = [c.subject for c in claims if c.unit == u and c.subject != "answer"]
    for idx, m in enumerate(ms):
        if m.kind != "role" or (m.name not in same_roles and m.name not in differ_roles):
            continue
        neg = m.negated != (m.name in differ_roles)
        names: list[str] = []
        names_end = m.end
        for e in reversed(ms[:idx]):
            if e.kind == "role" and e.name in aliases:
                e = Mention("entity", aliases[e.name], e.start, e.end, e.negated, e.paren)
            if e.kind == "entity":
                if any(k in (":", "(", ")", "[", "]") for k in keys[e.end:m.start]):
                    break  # "(output, h, c): the first two are equal", "(output = h), ... c to be different"
                names.insert(0, e.name)
        nxt = ms[idx + 1] if idx + 1 < len(ms) else None
        if nxt is not None and nxt.kind == "role" and nxt.name in aliases:
            nxt = Mention("entity", aliases[nxt.name], nxt.start, nxt.end, nxt.negated, nxt.paren)
        if nxt is not None and nxt.kind == "entity" and all(
                k in ("as", "to", "with", "between", "than", "of") or k in SKIP_KEYS for k in keys[m.end:nxt.start]):
            names.append(nxt.name)
            later = ms[idx + 2] if idx + 2 < len(ms) else None
            if later is not None and later.kind == "entity" and keys[nxt.end:later.start] in (["and"], ["&"]):
                names.append(later.name)  # "between output and h"
        if not names:
            # "dup: output <-> h", "duplicates - output and h": the pair follows
            for e in ms[idx + 1:]:
                if e.kind != "entity" or not all(
                        k in COORDINATORS or k in (":", "-", "between") or k in SKIP_KEYS
                        for k in keys[(names_end if names else m.end):e.start]):
                    break
                names.append(e.name)
                names_end = e.end
        names += [c.subject for c in claims if c.unit == u and c.span == (m.start, m.end)
                  and c.subject not in ("answer",)]
        names = list(dict.fromkeys(names))
        for x in names:
            for y in names:
                if x != y:
                    out.append(Claim(x, "=" + y, neg, u, (m.start, m.end)))
        if not names and len(set(subjects)) >= 2:
            names = list(dict.fromkeys(subjects))  # "they are different"
            for x in names:
                for y in names:
                    if x != y:
                        out.append(Claim(x, "=" + y, neg, u, (m.start, m.end)))
        compared = any(k in ("as", "to", "like") for k in keys[m.end:m.end + 2])
        for x in names or list(dict.fromkeys(subjects))[:1] or ([] if compared else ["answer"]):
            out.append(Claim(x, "=*", neg, u, (m.start, m.end)))
    return out


def _equates(between: list[str]) -> bool:
    """Do the words between a subject's link and an entity make them one ("is just", "same as")?"""
    return all(k in LINKS or k in SKIP_KEYS or k in _EQUATING or k.isdigit() or len(k) == 1 for k in between)


def _link_after(keys: list[str], m: Mention, b: int) -> bool:
    for k in keys[m.end:min(b, m.end + 3)]:
        if k in LINKS or k == "=":
            return True
        if k not in _BEFORE_LINK and k not in SKIP_KEYS:
            return False
    return False


def _read_unit(u: int, a: int, b: int, ms: list[Mention], ann: Annotated, keys: list[str],
               previous: list[str], default_subject: str | None, modifiers: frozenset[str],
               aliases: dict[str, str], same_roles: frozenset[str],
               dimension_roles: frozenset[str] = frozenset(), after_bare: bool = False) -> list[Claim]:
    out: list[Claim] = []
    subjects: list[str] = []
    collecting = True  # still reading the subject (no link or role yet)
    linked = False
    first = next((k for k in keys[a:b] if k not in SKIP_KEYS and k not in _LEAD and k not in HARD_BREAKS), "")
    # after a full stop, "that"/"this" mostly point at the whole sentence ("That's the layout ...")
    inherited = first in PRONOUNS and not (keys[a] in HARD_BREAKS and first in ("this", "that", "thes"))

    sized: set[str] = set()  # subjects given a dimension role in this unit: one each

    def claim(s: str, role: str, neg: bool, m: Mention) -> None:
        if role in dimension_roles:
            if s in sized:
                return  # "8 is the number of time steps in the sequence": the first role is the claim
            sized.add(s)
        out.append(Claim(s, role, neg, u, (m.start, m.end)))

    ms = [m for m in ms if not (m.kind == "entity" and any(
        k in FORMULA for k in keys[max(a, m.start - 2):m.start]))]  # operands of a formula
    spread: list[tuple[Mention, tuple[str, ...]]] = []  # roles given to several subjects at once
    inverted: list[Mention] = []  # the roles the unit opens with, before its link
    setting: set[int] = set()  # mentions that set the scene ("for a GRU, ...")
    last_named: str | None = None  # what a following "it"/"which" refers to
    prev_end = a
    last_object: str | None = None
    premod: Mention | None = None  # a role before an entity, carried over "output, h and c"
    for idx, m in enumerate(ms):
        between = keys[prev_end:m.start]
        # a link before anything is named ("Yes: output and h ...", "why: output ...") links nothing,
        # unless a pronoun or the question's subject stands there ("it is ...")
        opener = idx == 0 and not inherited
        if any(k in LINKS for k in between) and not opener:
            linked = True
            collecting = False
            if last_object is not None and last_object not in subjects:
                subjects.append(last_object)  # a chain: "output = h = the hidden state"
            last_object = None
        if m.kind == "entity":
            claim(m.name, "present", m.negated, m)
            coordinated = idx > 0 and ms[idx - 1].kind == "entity" and all(
                k in COORDINATORS or k in SKIP_KEYS for k in between)
            if premod is not None and coordinated:
                claim(m.name, premod.name, premod.negated, premod)
            elif not coordinated and not (premod is not None and ms[idx - 1] is premod):
                premod = None
            before = next((k for k in reversed(keys[a:m.start]) if k not in SKIP_KEYS), "")
            if before != "of" and not m.paren:
                last_named = m.name
            owner = _apposition(ms, idx, keys)
            named_as = _named_as(ms, idx, keys)
            if named_as is not None:
                claim(named_as, "=" + m.name, m.negated, m)  # "h_T as the last row"
                claim(m.name, "=" + named_as, m.negated, m)
            own_role = idx + 1 < len(ms) and ms[idx + 1].kind == "role" and all(
                k in SKIP_KEYS for k in keys[m.end:ms[idx + 1].start])
            if inverted and not subjects and not own_role and all(
                    x.kind == "role" or i in setting for i, x in enumerate(ms[:idx])):
                for r in inverted:
                    claim(m.name, r.name, r.negated, r)
                subjects, collecting, linked = [m.name], False, True
            elif owner is not None:
                claim(owner, "=" + m.name, m.negated, m)  # "its output (final h)"
                claim(m.name, "=" + owner, m.negated, m)
            elif collecting and not m.paren and before in ("of", "from", "in", "for", "by") and subjects:
                pass  # "the output of the LSTM": the LSTM owns the subject
            elif collecting and not subjects and before in ("for", "in", "unlike", "like", "with") \
                    and all(k in _LEAD or k in SKIP_KEYS or k in HARD_BREAKS or k in ("for", "in", "unlike", "like",
                                                                                       "with", "a")
                            for k in keys[a:m.start]):
                setting.add(idx)  # "for a GRU, the hidden state is the output": the setting, not the subject
            elif collecting and (not m.paren or subjects and coordinated and ms[idx - 1].paren):
                if m.name not in subjects:
                    subjects.append(m.name)  # "output and h", "(1, 8, 2)"; "the first dimension, 1, ..." once
            elif m.paren and not subjects and not linked:
                # "the last hidden state (h)", "middle (h) = ...": the bracket names the subject
                for r in _roles_before(ms, idx):
                    claim(m.name, r.name, r.negated, r)
                subjects, collecting = [m.name], True
            elif not m.paren and _link_after(keys, m, b) and before not in NOT_SUBJECT_BEFORE and not (
                    linked and subjects and before in ("=", "is", "are") and m.name not in subjects
                    and ms[idx - 1].kind == "entity"):
                # a new subject, unless a chain goes on: "the last row = h = h_8"
                subjects, collecting, linked, last_object = [m.name], True, False, None
            elif len(subjects) >= 2 and linked and m.name in subjects:
                subjects = [m.name]  # "(1, 8, 2) -> one sequence, ...": the one described next
            elif subjects and linked and (_equates(between) and (
                    any(k in LINKS for k in between) or ms[idx - 1].kind == "role")
                    or coordinated and last_object is not None):
                # "out is what h is at each step": the relative clause's verb is not a chain
                last_object = None if before in ("what", "like", "as") else m.name
                for s in subjects:
                    if s != m.name:
                        neg = m.negated or _neg_between(ann, prev_end, m.start)
                        claim(s, "=" + m.name, neg, m)
                        claim(m.name, "=" + s, neg, m)
        else:
            if m.name in aliases and (
                    (collecting and subjects and idx > 0 and ms[idx - 1].kind == "entity"
                     and all(k in COORDINATORS or k in SKIP_KEYS for k in between))
                    or (idx > 0 and ms[idx - 1].kind == "role" and ms[idx - 1].name in same_roles
                        and all(k in ("as", "to", "with", "than") or k in SKIP_KEYS for k in between))):
                # "output and the hidden state are the same", "the same as the hidden state":
                # the role names an entity being compared, it says nothing about the subject
                prev_end = m.end
                continue
            collecting = False
            lead = [k for k in keys[a:m.start] if k not in SKIP_KEYS][-2:]
            own_entity = any(x.kind == "entity" for x in ms[idx + 1:])  # "/ timesteps = 8", not "/ timestep"
            modifier = lead and (lead[-1] in _MODIFYING or len(lead) == 2 and lead[0] in (
                _MODIFYING - {"/"}) and lead[1] in ("that", "this", "each", "everi", "one"))
            if m.name in dimension_roles and modifier and not (m.start == a + 1 and own_entity):
                prev_end = m.end  # "2 features per timestep": the time steps say which features
                continue
            owner = _bracket_owner(ms, idx, keys)
            if idx > 0 and ms[idx - 1].kind == "entity" and ms[idx - 1].name not in subjects \
                    and [k for k in keys[ms[idx - 1].end:m.start] if k not in SKIP_KEYS] == ["of"]:
                prev_end = m.end  # "c is the output of the cell": the cell owns the output
                continue
            if m.name in modifiers:
                # "only": about the nearest entity ("returns only the output", "output only")
                target = _nearest_entity(ms, idx, keys)
                if target is not None:
                    claim(target, m.name, m.negated, m)
                    prev_end = m.end
                    continue
                if inherited and not subjects and not any(x.kind == "entity" for x in ms[idx + 1:]):
                    prev_end = m.end
                    continue  # "they're still computed, we just don't see them": an adverb
            if not owner and not subjects and not inherited and all(
                    x.kind == "role" or i in setting for i, x in enumerate(ms[:idx])) and _link_after(keys, m, b):
                # "The hidden state is the working state": about the role, not an entity;
                # "the last hidden state is the output": the entity after the link has the roles
                inverted = [x for i, x in enumerate(ms[:idx + 1]) if i not in setting]
                prev_end = m.end
                continue
            nxt = ms[idx + 1] if idx + 1 < len(ms) else None
            # ", after the last step": a comma's continuation is about the same subject
            continues = idx == 0 and not linked and (keys[a] in (",", "and", "/", ":") and m.start - a <= 3
                                                     or after_bare)
            # with nobody named, the claim is the answer's own ("the hidden state is returned as output")
            targets = [owner] if owner else subjects or (previous if inherited or continues else []) or (
                [default_subject] if default_subject else ["answer"])
            prev = ms[idx - 1] if idx > 0 else None
            premodifies = m.name not in dimension_roles and nxt is not None and nxt.kind == "entity" \
                and not nxt.paren and all(k in SKIP_KEYS for k in keys[m.end:nxt.start])
            if prev is not None and prev.kind == "entity" and not prev.paren and not premodifies \
                    and all(k in SKIP_KEYS for k in between) \
                    and (m.name in dimension_roles
                         or next((k for k in reversed(keys[a:prev.start]) if k not in SKIP_KEYS), "") != "of"):
                # an entity with its role right after it: "8 time points", "2 values (features)"
                claim(prev.name, m.name, m.negated, m)
                prev_end = m.end
                continue
            if idx > 0 and nxt is not None and nxt.kind == "entity" and nxt.paren == m.paren \
                    and any(k in LINKS for k in keys[m.end:nxt.start]) \
                    and all(k in LINKS or k in SKIP_KEYS for k in keys[m.end:nxt.start]):
                # "..., num_features = 2": the role names the entity after its link
                claim(nxt.name, m.name, m.negated, m)
                prev_end = m.end
                continue
            if nxt is not None and nxt.kind == "entity" and nxt.paren == m.paren and all(
                    k in SKIP_KEYS or (k == "of" and m.name in dimension_roles) for k in keys[m.end:nxt.start]):
                # a role before its entity: "the final output", "last h", "removed h and c",
                # "a sequence length of 8"
                claim(nxt.name, m.name, m.negated, m)
                premod = m
                if not subjects or (linked and nxt.name in subjects):
                    # "(1, 8, 3) = (batch 1, ...)": the role is the 1's, not every dimension's
                    if not subjects and targets == ["answer"]:
                        subjects = [nxt.name]  # "the last output of an LSTM is its last hidden state"
                    elif not subjects:
                        subjects = list(targets) if owner is None and targets != [nxt.name] else []
                    prev_end = m.end
                    continue
            if not (m.name in dimension_roles and len(targets) >= 2):
                # a list of dimensions takes a list of roles one each (below), never one role all
                for s in targets:
                    claim(s, m.name, m.negated, m)
            if len(targets) >= 2:
                spread.append((m, tuple(targets)))
            if not subjects and not owner and targets != ["answer"]:
                subjects = list(targets)
        prev_end = m.end
    for r in inverted:
        if default_subject and not any(c.span == (r.start, r.end) and c.subject != "answer" for c in out):
            claim(default_subject, r.name, r.negated, r)  # "all hidden states: (1, 8, 3)"
    if spread and len(spread) == len(spread[0][1]) and len({t for _, t in spread}) == 1 \
            and len({m.name for m, _ in spread}) == len(spread) and all(
                any(k in ("and", ",", "/") for k in keys[x.end:y.start])
                and all(k in COORDINATORS or k in SKIP_KEYS or k in ("respect", "(", ")") for k in keys[x.end:y.start])
                for (x, _), (y, _) in itertools.pairwise(spread)):
        # "h and c are the hidden and cell states": one role each, in order
        drop = {(m.start, m.end) for m, _ in spread}
        out = [c for c in out if c.span not in drop or c.role == "present"]
        for (m, _), s in zip(spread, spread[0][1], strict=True):
            claim(s, m.name, m.negated, m)
    if last_named is not None and last_named not in subjects:
        previous[:] = [last_named]  # "duplication in the last row: it is equal to h"
    elif subjects:
        previous[:] = subjects
    return out


def _named_as(ms: list[Mention], idx: int, keys: list[str]) -> str | None:
    """The entity just before "as <entity>": "contains h_T as its last row"."""
    m = ms[idx]
    if idx == 0 or [k for k in keys[ms[idx - 1].end:m.start] if k not in SKIP_KEYS] not in (["as"], ["as", "its"]):
        return None
    j = idx - 1
    while j >= 0 and ms[j].kind == "role":
        j -= 1
    if j >= 0 and ms[j].name != m.name and m.start - ms[j].end <= 4:
        return ms[j].name
    return None


def _apposition(ms: list[Mention], idx: int, keys: list[str]) -> str | None:
    """The entity an entity in brackets right after it renames: "output (final h)"."""
    m = ms[idx]
    if not m.paren or idx == 0:
        return None
    j = idx - 1
    while j >= 0 and ms[j].paren and ms[j].kind == "role" and ms[j].start > ms[idx - 1].start - 1:
        j -= 1
    prev = ms[j] if j >= 0 else None
    if prev is not None and prev.kind == "entity" and not prev.paren and "(" in keys[prev.end:m.start] \
            and prev.name != m.name:
        return prev.name
    return None


def _nearest_entity(ms: list[Mention], idx: int, keys: list[str]) -> str | None:
    """The entity a modifier such as "only" belongs to: the next one in reach, else the one before."""
    if idx > 0 and ms[idx - 1].kind == "entity" and ms[idx].start == ms[idx - 1].end:
        return ms[idx - 1].name
    in_roles = {i for m in ms if m.kind == "role" for i in range(m.start, m.end)}
    for j, m in enumerate(ms[idx + 1:], idx + 1):
        if m.kind == "entity":
            between = range(ms[idx].end, m.start)
            # "only returns the output", not "just gotta remove h"
            if m.start - ms[idx].end <= 4 and all(
                    keys[i] in SKIP_KEYS or keys[i] in LINKS or i in in_roles for i in between):
                nxt = ms[j + 1] if j + 1 < len(ms) else None
                if m.name == "layer" and nxt is not None and nxt.kind == "entity" and nxt.start == m.end:
                    return nxt.name  # "only the LSTM output": the output
                return m.name
            break
    return None


def _bracket_owner(ms: list[Mention], idx: int, keys: list[str]) -> str | None:
    """The entity right before the bracket a role sits in: "output (last hidden state)"."""
    m = ms[idx]
    if not m.paren:
        return None
    j = idx - 1
    while j >= 0 and ms[j].paren and ms[j].kind == "role":
        j -= 1
    if j >= 0 and ms[j].kind == "entity" and not ms[j].paren and "(" in keys[ms[j].end:ms[j].end + 2] \
            and ")" not in keys[ms[j].end:m.start][:-1]:
        return ms[j].name  # "output (last hidden state)", "2 values (features)"
    return None


def _roles_before(ms: list[Mention], idx: int) -> list[Mention]:
    out = []
    j = idx - 1
    while j >= 0 and ms[j].kind == "role":
        out.append(ms[j])
        j -= 1
    return out


def _neg_between(ann: Annotated, a: int, b: int) -> bool:
    return any(ann.negated[a:b]) and any(t.key in ("not", "no", "never") for t in ann.tokens[a:b])
