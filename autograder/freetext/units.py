"""Cut an answer into claim units: sentences, ``;`` and ``|``, and commas, "and" or brackets
that close a complete claim and open another. ``CUT_RULES`` says where a unit starts, in order;
the first that applies at a token cuts there. Each unit is then read on its own (``reading``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .bounds import MAX_UNIT_TOKENS
from .mentions import Mention
from .negation import Annotated
from .normalize import PUNCT, SKIP_KEYS, Token
from .rules import Example, Rule, apply
from .words import BEFORE_LINK, CLAUSE_CUTS, COUNT_WORDS, FILLER, HARD_BREAKS, LINKS, LOOKAHEAD, SOFT_BREAKS


@dataclass
class Cutting:
    """What the cutter knows at a token: the unit so far (a link? a role? any mention?)."""

    tokens: list[Token]
    starts: dict[int, Mention]  # mention by its first token
    ends: frozenset[int]  # where an entity's mention ends
    cuts: frozenset[int]  # where a hedge's second guess starts ("..., or maybe ...")
    cut: list[int] = field(default_factory=lambda: [0])
    has_link: bool = False
    has_role: bool = False
    seen_mention: bool = False

    def key(self, i: int) -> str:
        """The key (normalised form) of token ``i``."""
        return self.tokens[i].key

    def opens_claim(self, i: int, link_only: bool = False, colon_links: bool = True) -> bool:
        """Do entities start right after token i ("h and c"), followed by a link or a role?"""
        # looks a few words ahead only: "(((((...": each bracket would scan them all
        end = min(len(self.tokens), i + LOOKAHEAD)
        j = self._after_entities(i + 1, end)
        if j is None:
            return False
        if i in self.ends and not self.has_link:
            link_only = True  # "output/h identical", "output, h and c are ...": one subject list
        while j < end and (self.key(j) in SKIP_KEYS or self.key(j) in BEFORE_LINK or self.key(j) == "not"):
            j += 1
        if j < end and self.key(j) in LINKS and (colon_links or self.key(j) != ":"):
            return True
        # "2nd the number of time steps": a role within a few words
        return not link_only and any(
            k in self.starts and self.starts[k].kind == "role" for k in range(j, min(j + 3, end))
            if all(self.key(x) in COUNT_WORDS for x in range(j, k)))

    def _after_entities(self, j: int, end: int) -> int | None:
        """Past the filler and the coordinated entities from token j ("(2) h and c"), or None if
        no entity is there."""
        while j < end and (self.tokens[j].kind == PUNCT and self.key(j) != "/" or self.key(j) in FILLER) \
                and j not in self.starts:
            j += 1
        seen = False
        while j < end and j in self.starts and self.starts[j].kind == "entity":
            seen = True
            j = self.starts[j].end
            if j < end and self.key(j) in ("and", ",", "/", "&", "or") and j + 1 in self.starts:
                j += 1
        return j if seen else None

    def spaced_slash(self, i: int) -> bool:
        """A slash with spaces on both sides ("h = hidden / c = cell") separates claims."""
        t = self.tokens[i]
        return t.key == "/" and 0 < i < len(self.tokens) - 1 and self.tokens[i - 1].end < t.start \
            and self.tokens[i + 1].start > t.end

    def ready(self) -> bool:
        """Has the unit so far said something about its subject (a link or a role)?"""
        return self.has_role or self.has_link

    def note(self, i: int) -> None:
        """A token that cut nothing joins the unit."""
        if self.key(i) in LINKS and self.seen_mention:
            self.has_link = True
        m = self.starts.get(i)
        if m is not None:
            self.seen_mention = True
            if m.kind == "role":
                self.has_role = True


def _cut(c: Cutting, i: int) -> None:
    c.cut.append(i)
    c.has_link = c.has_role = c.seen_mention = False


def _and_or_comma_opens(c: Cutting, i: int) -> bool:
    k = c.key(i)
    # "output and h match": after an entity, "and" joins a pair unless a copula follows
    pair = k == "and" and i in c.ends
    return c.ready() and c.opens_claim(i, k == "and" and (not c.has_role or pair), colon_links=not pair)


CUT_RULES: tuple[Rule[Cutting, int], ...] = (
    Rule("bracket-opens-claims",
         "a bracket whose entities are followed by a link or a role holds claims of its own",
         Example("q7", "all intermediate hidden states: (1 seq, 8 t, 3 nodes)",
                 reads=("dim1 is sequence",), not_reads=("output is sequence",)),
         when=lambda c, i: c.key(i) in ("(", "[") and c.opens_claim(i), does=_cut),
    Rule("sentence-break",
         "a sentence end, ';', '|' or a line break ends a claim",
         Example("q5", "Output is returned. I removed h and c.", not_reads=("output is gone",)),
         when=lambda c, i: (c.tokens[i].kind == PUNCT or c.key(i) == "|") and c.key(i) in HARD_BREAKS, does=_cut),
    Rule("spaced-slash",
         "a slash with spaces around it separates claims ('output/h' is one pair)",
         Example("q1", "batch size 1 / 8 time steps / 2 features",
                 reads=("dim1 is batch", "dim2 is timesteps", "dim3 is features")),
         when=Cutting.spaced_slash, does=_cut),
    Rule("second-guess",
         "a hedge's second guess starts a claim of its own",
         Example("q12", "I think h is the same as the first row of output, or maybe the last one, I'd have to "
                        "check again.", not_reads=("h is =last_row",)),
         when=lambda c, i: i in c.cuts, does=_cut),
    Rule("clause-word",
         "'but', 'because', 'so', 'which', 'whereas' ... start a claim",
         Example("q4", "yes output and h, because h is the hidden state", not_reads=("output is hidden",)),
         when=lambda c, i: c.key(i) in CLAUSE_CUTS and i > 0, does=_cut),
    Rule("comma-or-and-opens-claim",
         "after a claim, a comma or 'and' before entities and a link (or a role) starts another",
         Example("q1", "8 timesteps, 2 features", reads=("dim2 is timesteps", "dim3 is features")),
         when=lambda c, i: c.key(i) in (",", "and") and _and_or_comma_opens(c, i), does=_cut),
    Rule("then-after-claim",
         "after a claim, 'then' starts another",
         Example("q1", "batch first, then time steps, then features", reads=("dim1 is batch",)),
         when=lambda c, i: c.key(i) in SOFT_BREAKS - {",", "/", "and"} and c.ready(), does=_cut),
    Rule("colon-after-link",
         "after a linked claim, a colon starts another",
         Example("q12", "yes. h_8 shows up twice: as output's last row and as h", not_reads=("h is =last_row",)),
         when=lambda c, i: c.key(i) == ":" and c.has_link, does=_cut),
)


def units(ann: Annotated, mentions: list[Mention], cuts: frozenset[int] = frozenset()) -> list[tuple[int, int]]:
    """Token ranges of claim units; each token index in ``cuts`` starts one."""
    tokens = ann.tokens
    c = Cutting(tokens, {m.start: m for m in mentions}, frozenset(m.end for m in mentions if m.kind == "entity"),
                cuts)
    for i in range(len(tokens)):
        if apply(CUT_RULES, c, i) is None:
            c.note(i)
    c.cut.append(len(tokens))
    out = []
    for a, b in zip(c.cut, c.cut[1:], strict=False):
        # a unit is read in pieces of at most MAX_UNIT_TOKENS: reading one costs its length squared
        out.extend((x, min(x + MAX_UNIT_TOKENS, b)) for x in range(a, b, MAX_UNIT_TOKENS))
    return out
