"""Read one claim unit, mention by mention, by an ordered table of named rules.

The reader walks the unit's mentions (``mentions.Mention``: the rubric's entities and roles it
names) and, at each, applies ``READ_RULES`` in order (``rules.apply``): a rule that goes on
(``stops=False``) lets later rules apply too; the first rule that applies and stops has read
the mention. After the last mention, ``END_RULES`` settle the unit. Every rule reads and changes
one explicit state, ``Reading``; what a rule looks at around a mention is ``At``. A rule's
example is its test (``tests/freetext/test_rules.py``).

How a rule is added: README, "Changing the lab".
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from functools import cached_property

from .mentions import Mention
from .negation import Annotated
from .normalize import SKIP_KEYS
from .rules import Example, Rule, apply
from .words import (
    BEFORE_LINK,
    COORDINATORS,
    EQUATING,
    FORMULA,
    HARD_BREAKS,
    LEAD,
    LINKS,
    MODIFYING,
    NOT_SUBJECT_BEFORE,
    PRONOUNS,
    VERB_BEFORE,
    VERB_ENDINGS,
    VERB_NAMES,
)


@dataclass(frozen=True)
class Claim:
    subject: str
    role: str  # a role name, "=<entity>" for sameness, or "present"
    negated: bool
    unit: int
    span: tuple[int, int]
    # (group, branch) of a hedged alternative the claim was read in ("maybe X, or maybe Y"), else None
    branch: tuple[int, int] | None = None


@dataclass(frozen=True)
class Terms:
    """What the rubric tells the reader beyond its words: the subject of a claim that names none,
    roles that modify the nearest entity ("only"), roles that name an entity ("the hidden state"
    as h), roles that compare entities ("same", "different"), roles that are a dimension's."""

    default_subject: str | None = None
    modifiers: frozenset[str] = frozenset()
    aliases: dict[str, str] = field(default_factory=dict)
    same_roles: frozenset[str] = frozenset({"same", "duplicated"})
    differ_roles: frozenset[str] = frozenset({"different"})
    dimension_roles: frozenset[str] = frozenset()
    # the last word of every entity's phrasings ("lstm", "h", "memory"): a word that can be a subject
    entity_heads: frozenset[str] = frozenset()

    @property
    def compared(self) -> frozenset[str]:
        """The roles that compare entities: the sameness roles and the difference roles."""
        return self.same_roles | self.differ_roles


@dataclass
class Reading:
    """The reading state of one unit: what is given, and what the rules have read so far."""

    u: int  # the unit's number
    a: int  # its tokens: keys[a:b]
    b: int
    ms: list[Mention]  # its mentions, without the operands of a formula
    ann: Annotated
    keys: list[str]  # the whole answer's keys
    terms: Terms
    previous: list[str]  # what a pronoun opening the unit refers to; END_RULES update it for the next unit
    after_bare: bool  # the unit before named one entity alone ("| c | final cell state |")
    inherited: bool  # the unit opens with a pronoun that refers to ``previous``
    out: list[Claim] = field(default_factory=list)
    subjects: list[str] = field(default_factory=list)  # what the unit is about
    collecting: bool = True  # still reading the subject (no link or role yet)
    linked: bool = False  # a link ("is", "=", ":") came after the subject
    sized: set[str] = field(default_factory=set)  # subjects given a dimension's role: one each
    spread: list[tuple[Mention, tuple[str, ...]]] = field(default_factory=list)  # roles given to several subjects
    inverted: list[Mention] = field(default_factory=list)  # the roles the unit opens with, before its link
    setting: set[int] = field(default_factory=set)  # mentions that set the scene ("for a GRU, ...")
    last_named: str | None = None  # what a following "it"/"which" refers to
    last_object: str | None = None  # the entity a link equated last: a chain goes on from it
    premod: Mention | None = None  # a role before an entity, carried over "output, h and c"

    def claim(self, subject: str, role: str, negated: bool, m: Mention) -> None:
        """Record that ``subject`` has ``role`` in this unit; a subject keeps only its first dimension role."""
        if role in self.terms.dimension_roles:
            if subject in self.sized:
                return  # "8 is the number of time steps in the sequence": the first role is the claim
            self.sized.add(subject)
        self.out.append(Claim(subject, role, negated, self.u, (m.start, m.end)))

    def claim_equal(self, x: str, y: str, negated: bool, m: Mention) -> None:
        """Record that ``x`` and ``y`` are (or, negated, are not) the same, as a claim about each."""
        self.claim(x, "=" + y, negated, m)
        self.claim(y, "=" + x, negated, m)

    def targets(self, at: At) -> list[str]:
        """Whom a role is about: the entity its bracket follows, the unit's subjects, the previous
        unit's (after a pronoun or a comma's continuation), else the rubric's default subject."""
        owner = at.bracket_owner
        # ", after the last step": a comma's continuation is about the same subject
        continues = at.idx == 0 and not self.linked and (
            self.keys[self.a] in (",", "and", "/", ":") and at.m.start - self.a <= 3 or self.after_bare)
        # with nobody named, the claim is the answer's own ("the hidden state is returned as output")
        return [owner] if owner else self.subjects or (self.previous if self.inherited or continues else []) or (
            [self.terms.default_subject] if self.terms.default_subject else ["answer"])

    def opens_unit(self, idx: int) -> bool:
        """Is every mention before ``idx`` a role or the scene ("for a GRU, the hidden state ...")?"""
        return all(x.kind == "role" or i in self.setting for i, x in enumerate(self.ms[:idx]))


class At:
    """Where the reader stands: one mention of the unit, its neighbours and the words around it."""

    def __init__(self, r: Reading, idx: int) -> None:
        self.r, self.idx, self.m = r, idx, r.ms[idx]
        self.prev = r.ms[idx - 1] if idx > 0 else None
        self.nxt = r.ms[idx + 1] if idx + 1 < len(r.ms) else None

    @cached_property
    def between(self) -> list[str]:
        """The words since the previous mention (or the unit's start)."""
        return self.r.keys[(self.prev.end if self.prev else self.r.a):self.m.start]

    @cached_property
    def before(self) -> str:
        """The word right before the mention in its unit."""
        return next((k for k in reversed(self.r.keys[self.r.a:self.m.start]) if k not in SKIP_KEYS), "")

    @cached_property
    def coordinated(self) -> bool:
        """An entity listed with the one before it: "output, h and c", "output/h"."""
        return self.prev is not None and self.prev.kind == "entity" and all(
            k in COORDINATORS or k in SKIP_KEYS for k in self.between)

    def prev_is(self, kind: str) -> bool:
        """Whether the mention before this one is of ``kind`` (``entity``, ``role``, ...)."""
        return self.prev is not None and self.prev.kind == kind

    def nxt_is(self, kind: str) -> bool:
        """Whether the mention after this one is of ``kind`` (``entity``, ``role``, ...)."""
        return self.nxt is not None and self.nxt.kind == kind

    @cached_property
    def link_after(self) -> bool:
        """A link within three words after the mention: "h (1, 3) is", "h now ="."""
        for k in self.r.keys[self.m.end:min(self.r.b, self.m.end + 3)]:
            if k in LINKS or k == "=":
                return True
            if k not in BEFORE_LINK and k not in SKIP_KEYS:
                return False
        return False

    @cached_property
    def own_role(self) -> bool:
        """A role right after the entity: "h hidden"."""
        return self.nxt_is("role") and all(k in SKIP_KEYS for k in self.r.keys[self.m.end:self.nxt.start])

    @cached_property
    def entity_follows(self) -> bool:
        """Whether an entity is mentioned anywhere after this mention in the unit."""
        return any(x.kind == "entity" for x in self.r.ms[self.idx + 1:])

    @cached_property
    def modifying(self) -> bool:
        """Words before the role that make it modify another: "features per time step"."""
        lead = [k for k in self.r.keys[self.r.a:self.m.start] if k not in SKIP_KEYS][-2:]
        return bool(lead) and (lead[-1] in MODIFYING or len(lead) == 2 and lead[0] in (
            MODIFYING - {"/"}) and lead[1] in ("that", "this", "each", "everi", "one"))

    @cached_property
    def premodifies(self) -> bool:
        """A role right before an entity it describes: "the final output"."""
        return self.m.name not in self.r.terms.dimension_roles and self.nxt_is("entity") and not self.nxt.paren \
            and all(k in SKIP_KEYS for k in self.r.keys[self.m.end:self.nxt.start])

    @cached_property
    def named_as(self) -> str | None:
        """The entity just before "as <entity>": "contains h_T as its last row"."""
        ms, idx, m = self.r.ms, self.idx, self.m
        if idx == 0 or [k for k in self.between if k not in SKIP_KEYS] not in (["as"], ["as", "its"]):
            return None
        j = idx - 1
        while j >= 0 and ms[j].kind == "role":
            j -= 1
        if j >= 0 and ms[j].name != m.name and m.start - ms[j].end <= 4:
            return ms[j].name
        return None

    @cached_property
    def apposition(self) -> str | None:
        """The entity an entity in brackets right after it renames: "output (final h)"."""
        ms, idx, m = self.r.ms, self.idx, self.m
        if not m.paren or idx == 0:
            return None
        j = idx - 1
        while j >= 0 and ms[j].paren and ms[j].kind == "role" and ms[j].start > ms[idx - 1].start - 1:
            j -= 1
        prev = ms[j] if j >= 0 else None
        if prev is not None and prev.kind == "entity" and not prev.paren and "(" in self.r.keys[prev.end:m.start] \
                and prev.name != m.name:
            return prev.name
        return None

    @cached_property
    def bracket_owner(self) -> str | None:
        """The entity right before the bracket a role sits in: "output (last hidden state)"."""
        ms, keys, m = self.r.ms, self.r.keys, self.m
        if not m.paren:
            return None
        j = self.idx - 1
        while j >= 0 and ms[j].paren and ms[j].kind == "role":
            j -= 1
        if j >= 0 and ms[j].kind == "entity" and not ms[j].paren and "(" in keys[ms[j].end:ms[j].end + 2] \
                and ")" not in keys[ms[j].end:m.start][:-1]:
            return ms[j].name  # "output (last hidden state)", "2 values (features)"
        return None

    @cached_property
    def nearest_entity(self) -> str | None:
        """The entity a modifier such as "only" belongs to: the next one in reach, else the one before."""
        ms, idx, keys = self.r.ms, self.idx, self.r.keys
        if self.prev_is("entity") and self.m.start == self.prev.end:
            return self.prev.name
        in_roles = {i for m in ms if m.kind == "role" for i in range(m.start, m.end)}
        for j, m in enumerate(ms[idx + 1:], idx + 1):
            if m.kind == "entity":
                # "only returns the output", not "just gotta remove h"
                if m.start - self.m.end <= 4 and all(
                        keys[i] in SKIP_KEYS or keys[i] in LINKS or i in in_roles for i in range(self.m.end, m.start)):
                    nxt = ms[j + 1] if j + 1 < len(ms) else None
                    if m.name == "layer" and nxt is not None and nxt.kind == "entity" and nxt.start == m.end:
                        return nxt.name  # "only the LSTM output": the output
                    return m.name
                break
        return None

    def roles_before(self) -> list[Mention]:
        """The roles right before the mention, nearest first."""
        out = []
        j = self.idx - 1
        while j >= 0 and self.r.ms[j].kind == "role":
            out.append(self.r.ms[j])
            j -= 1
        return out


def _equates(between: list[str]) -> bool:
    """Do the words between a subject's link and an entity make them one ("is just", "same as")?"""
    return all(k in LINKS or k in SKIP_KEYS or k in EQUATING or k.isdigit() or len(k) == 1 for k in between)


def _neg_between(ann: Annotated, a: int, b: int) -> bool:
    return any(ann.negated[a:b]) and any(t.key in ("not", "no", "never") for t in ann.tokens[a:b])


def _nothing(r: Reading, at: At) -> None:
    """The rule's whole point is that nothing else reads the mention."""


# ---------------------------------------------------------------- any mention

def _after_link(r: Reading, at: At) -> bool:
    # a link before anything is named ("Yes: output and h ...", "why: output ...") links nothing,
    # unless a pronoun or the question's subject stands there ("it is ...")
    opener = at.idx == 0 and not r.inherited
    return not opener and any(k in LINKS for k in at.between)


def _close_subject(r: Reading, at: At) -> None:
    r.linked, r.collecting = True, False
    if r.last_object is not None and r.last_object not in r.subjects:
        r.subjects.append(r.last_object)  # a chain: "output = h = the hidden state"
    r.last_object = None


def _a_verb(r: Reading, at: At) -> bool:
    """A one-word mention that is a verb here ("the layer carries h forward"), not the name it is
    also ("the carry"): a verb's form, or the bare word after its subject or an auxiliary."""
    m = at.m
    if m.end - m.start != 1 or r.keys[m.start] not in VERB_NAMES:
        return False
    if r.ann.tokens[m.start].text.endswith(VERB_ENDINGS):
        return True
    before = r.keys[m.start - 1] if m.start > 0 else ""
    return before in VERB_BEFORE or before in r.terms.entity_heads


# ---------------------------------------------------------------- entities

def _present(r: Reading, at: At) -> None:
    r.claim(at.m.name, "present", at.m.negated, at.m)


def _premod_spreads(r: Reading, at: At) -> None:
    r.claim(at.m.name, r.premod.name, r.premod.negated, r.premod)


def _premod_lapses(r: Reading, at: At) -> bool:
    return not at.coordinated and not (r.premod is not None and at.prev is r.premod)


def _premod_drop(r: Reading, at: At) -> None:
    r.premod = None


def _is_antecedent(r: Reading, at: At) -> bool:
    return at.before != "of" and not at.m.paren


def _remember(r: Reading, at: At) -> None:
    r.last_named = at.m.name


def _named_as(r: Reading, at: At) -> None:
    r.claim(at.named_as, "=" + at.m.name, at.m.negated, at.m)
    r.claim(at.m.name, "=" + at.named_as, at.m.negated, at.m)


def _takes_opening_roles(r: Reading, at: At) -> bool:
    return bool(r.inverted) and not r.subjects and not at.own_role and r.opens_unit(at.idx)


def _give_opening_roles(r: Reading, at: At) -> None:
    for x in r.inverted:
        r.claim(at.m.name, x.name, x.negated, x)
    r.subjects, r.collecting, r.linked = [at.m.name], False, True


def _renames(r: Reading, at: At) -> None:
    r.claim(at.apposition, "=" + at.m.name, at.m.negated, at.m)  # "its output (final h)"
    r.claim(at.m.name, "=" + at.apposition, at.m.negated, at.m)


def _owns_subject(r: Reading, at: At) -> bool:
    return r.collecting and not at.m.paren and at.before in ("of", "from", "in", "for", "by") and bool(r.subjects)


def _sets_scene(r: Reading, at: At) -> bool:
    return r.collecting and not r.subjects and at.before in ("for", "in", "unlike", "like", "with") and all(
        k in LEAD or k in SKIP_KEYS or k in HARD_BREAKS or k in ("for", "in", "unlike", "like", "with", "a")
        for k in r.keys[r.a:at.m.start])


def _scene(r: Reading, at: At) -> None:
    r.setting.add(at.idx)


def _joins_subjects(r: Reading, at: At) -> bool:
    return r.collecting and (not at.m.paren or bool(r.subjects) and at.coordinated and at.prev.paren)


def _add_subject(r: Reading, at: At) -> None:
    if at.m.name not in r.subjects:
        r.subjects.append(at.m.name)  # "output and h", "(1, 8, 2)"; "the first dimension, 1, ..." once


def _bracket_subject(r: Reading, at: At) -> None:
    for x in at.roles_before():
        r.claim(at.m.name, x.name, x.negated, x)
    r.subjects, r.collecting = [at.m.name], True


def _starts_claim(r: Reading, at: At) -> bool:
    # a chain goes on ("the last row = h = h_8"): an entity right after "=" is its next link
    chain = r.linked and bool(r.subjects) and at.before in ("=", "is", "are") and at.m.name not in r.subjects \
        and at.prev_is("entity")
    return not at.m.paren and at.link_after and at.before not in NOT_SUBJECT_BEFORE and not chain


def _new_subject(r: Reading, at: At) -> None:
    r.subjects, r.collecting, r.linked, r.last_object = [at.m.name], True, False, None


def _narrow(r: Reading, at: At) -> None:
    r.subjects = [at.m.name]


def _equated(r: Reading, at: At) -> bool:
    if not (r.subjects and r.linked):
        return False
    return _equates(at.between) and (any(k in LINKS for k in at.between) or at.prev_is("role")) \
        or at.coordinated and r.last_object is not None


def _equate(r: Reading, at: At) -> None:
    # "out is what h is at each step": the relative clause's verb is not a chain
    r.last_object = None if at.before in ("what", "like", "as") else at.m.name
    neg = at.m.negated or _neg_between(r.ann, at.prev.end if at.prev else r.a, at.m.start)
    for s in r.subjects:
        if s != at.m.name:
            r.claim_equal(s, at.m.name, neg, at.m)


# ---------------------------------------------------------------- roles

def _names_compared_entity(r: Reading, at: At) -> bool:
    if at.m.name not in r.terms.aliases:
        return False
    listed = r.collecting and bool(r.subjects) and at.prev_is("entity") and all(
        k in COORDINATORS or k in SKIP_KEYS for k in at.between)
    compared = at.prev_is("role") and at.prev.name in r.terms.compared and all(
        k in ("as", "to", "with", "than") or k in SKIP_KEYS for k in at.between)
    return listed or compared


def _end_subject(r: Reading, at: At) -> None:
    r.collecting = False


def _dimension_modifies(r: Reading, at: At) -> bool:
    m = at.m
    return m.name in r.terms.dimension_roles and at.modifying and not (m.start == r.a + 1 and at.entity_follows)


def _owned_by_entity(r: Reading, at: At) -> bool:
    return at.prev_is("entity") and at.prev.name not in r.subjects \
        and [k for k in at.between if k not in SKIP_KEYS] == ["of"]


def _modifies_nearest(r: Reading, at: At) -> bool:
    return at.m.name in r.terms.modifiers and at.nearest_entity is not None


def _modify(r: Reading, at: At) -> None:
    r.claim(at.nearest_entity, at.m.name, at.m.negated, at.m)


def _adverb(r: Reading, at: At) -> bool:
    return at.m.name in r.terms.modifiers and r.inherited and not r.subjects and not at.entity_follows


def _opens_inverted(r: Reading, at: At) -> bool:
    return not at.bracket_owner and not r.subjects and not r.inherited and r.opens_unit(at.idx) and at.link_after


def _invert(r: Reading, at: At) -> None:
    r.inverted = [x for i, x in enumerate(r.ms[:at.idx + 1]) if i not in r.setting]


def _entity_then_role(r: Reading, at: At) -> bool:
    prev = at.prev
    if not at.prev_is("entity") or prev.paren or at.premodifies or not all(k in SKIP_KEYS for k in at.between):
        return False
    before_prev = next((k for k in reversed(r.keys[r.a:prev.start]) if k not in SKIP_KEYS), "")
    return at.m.name in r.terms.dimension_roles or before_prev != "of"


def _role_of_prev(r: Reading, at: At) -> None:
    r.claim(at.prev.name, at.m.name, at.m.negated, at.m)


def _names_next_by_link(r: Reading, at: At) -> bool:
    if at.idx == 0 or not at.nxt_is("entity") or at.nxt.paren != at.m.paren:
        return False
    gap = r.keys[at.m.end:at.nxt.start]
    return any(k in LINKS for k in gap) and all(k in LINKS or k in SKIP_KEYS for k in gap)


def _role_of_next(r: Reading, at: At) -> None:
    r.claim(at.nxt.name, at.m.name, at.m.negated, at.m)


def _before_its_entity(r: Reading, at: At) -> bool:
    return at.nxt_is("entity") and at.nxt.paren == at.m.paren and all(
        k in SKIP_KEYS or (k == "of" and at.m.name in r.terms.dimension_roles) for k in r.keys[at.m.end:at.nxt.start])


def _before_new_subject(r: Reading, at: At) -> bool:
    return _before_its_entity(r, at) and (not r.subjects or r.linked and at.nxt.name in r.subjects)


def _premodify(r: Reading, at: At) -> None:
    r.claim(at.nxt.name, at.m.name, at.m.negated, at.m)
    r.premod = at.m


def _premodify_subject(r: Reading, at: At) -> None:
    targets = r.targets(at)
    _premodify(r, at)
    # "(1, 8, 3) = (batch 1, ...)": the role is the 1's, not every dimension's
    if not r.subjects and targets == ["answer"]:
        r.subjects = [at.nxt.name]  # "the last output of an LSTM is its last hidden state"
    elif not r.subjects:
        r.subjects = list(targets) if at.bracket_owner is None and targets != [at.nxt.name] else []


def _role_to_targets(r: Reading, at: At) -> None:
    targets = r.targets(at)
    m = at.m
    if not (m.name in r.terms.dimension_roles and len(targets) >= 2):
        # a list of dimensions takes a list of roles one each (END_RULES), never one role all
        for s in targets:
            r.claim(s, m.name, m.negated, m)
    if len(targets) >= 2:
        r.spread.append((m, tuple(targets)))
    if not r.subjects and not at.bracket_owner and targets != ["answer"]:
        r.subjects = list(targets)


READ_RULES: tuple[Rule[Reading, At], ...] = (
    Rule("link-closes-subject",
         "a link after the subject ends it; in a chain the entity last equated joins the subjects",
         Example("q10", "output = h", reads=("output is =h", "h is =output")),
         when=_after_link, does=_close_subject, stops=False),
    Rule("verb-not-name",
         "a word that is a verb as well as a name ('carry') names nothing where the answer uses it as the verb",
         Example("q2", "h is the hidden state, the short-term memory the layer carries forward",
                 reads=("h is hidden",), not_reads=("h is cell",)),
         when=_a_verb, does=_nothing),
    # entities
    Rule("entity-is-present",
         "every entity named is present (not present where denied: 'no h')",
         Example("q5", "there is no h or c anymore", reads=("h is not present", "c is not present")),
         does=_present, stops=False, kind="entity"),
    Rule("premodifier-spreads",
         "a role before a list of entities is each one's",
         Example("q5", "It returns output, h and c.", reads=("h is returned", "c is returned")),
         when=lambda r, at: r.premod is not None and at.coordinated, does=_premod_spreads, stops=False,
         kind="entity"),
    Rule("premodifier-lapses",
         "that role stops at the first entity not listed with the one before",
         Example("q5", "The model returns output without h and c", not_reads=("c is returned",)),
         when=_premod_lapses, does=_premod_drop, stops=False, kind="entity"),
    Rule("antecedent",
         "an entity named outside brackets, not after 'of', is what the next unit's pronoun means",
         Example("q5", "Returns the output, which is the final value.",
                 reads=("output is last",), not_reads=("layer is last",)),
         when=_is_antecedent, does=_remember, stops=False, kind="entity"),
    Rule("named-as",
         "'X ... as Y' makes X and Y the same",
         Example("q12", "output contains h_T as last row", reads=("h is =last_row",)),
         when=lambda r, at: at.named_as is not None, does=_named_as, stops=False, kind="entity"),
    Rule("opening-roles-find-their-entity",
         "roles that open the unit before its link belong to the first entity after it",
         Example("q1", "timesteps = 8 and num_features = 2", reads=("dim2 is timesteps",)),
         when=_takes_opening_roles, does=_give_opening_roles, kind="entity"),
    Rule("bracket-renames-entity",
         "an entity in brackets right after another renames it",
         Example("q5", "now its just the output (last hidden state)", reads=("output is =h",)),
         when=lambda r, at: at.apposition is not None, does=_renames, kind="entity"),
    Rule("owner-of-subject",
         "an entity after 'of', 'from', 'in', 'for' or 'by' in the subject owns it, it is not a subject",
         Example("q4", "Yes, because the output of the LSTM is the hidden state.", not_reads=("layer is hidden",)),
         when=_owns_subject, does=_nothing, kind="entity"),
    Rule("scene",
         "an opening 'for X', 'in X', 'like X' sets the scene; X is not the subject",
         Example("q10", "for a GRU the output is the hidden state",
                 reads=("output is hidden",), not_reads=("layer is hidden",)),
         when=_sets_scene, does=_scene, kind="entity"),
    Rule("coordinated-subjects",
         "entities before the link are the unit's subjects",
         Example("q4", "h and c are the same", reads=("h is same", "c is same")),
         when=_joins_subjects, does=_add_subject, kind="entity"),
    Rule("bracket-names-subject",
         "an entity in brackets before any subject names it, with the roles right before it",
         Example("q2", "the last hidden state (h) is returned too",
                 reads=("h is returned",), not_reads=("answer is returned",)),
         when=lambda r, at: at.m.paren and not r.subjects and not r.linked, does=_bracket_subject, kind="entity"),
    Rule("new-subject",
         "an entity right before a link starts a claim about it, unless a chain goes on",
         Example("q5", "returns only the LSTM output = final hidden state, no c.",
                 reads=("output is last",), not_reads=("layer is last",)),
         when=_starts_claim, does=_new_subject, kind="entity"),
    Rule("one-of-the-subjects",
         "of several subjects, the one named again after the link is the one described",
         Example("q7", "(1, 8, 3) means 1 batch, 8 timesteps, 3 units", not_reads=("dim1 is =dim2",)),
         when=lambda r, at: len(r.subjects) >= 2 and r.linked and at.m.name in r.subjects, does=_narrow,
         kind="entity"),
    Rule("link-equates",
         "an entity after the link equals the subjects",
         Example("q7", "output is h", reads=("output is =h",)),
         when=_equated, does=_equate, kind="entity"),
    # roles
    Rule("role-names-compared-entity",
         "a role that names an entity, listed with or compared to one, is that entity",
         Example("q4", "yes the output and hidden state are identical", not_reads=("output is hidden",)),
         when=_names_compared_entity, does=_nothing, kind="role"),
    Rule("role-closes-subject",
         "a role ends the list of subjects",
         Example("q5", "returns output + h (c dropped)", not_reads=("h is gone", "output is gone")),
         does=_end_subject, stops=False, kind="role"),
    Rule("dimension-modifies-another",
         "a dimension's role after 'per', 'each', 'at' ... modifies another, it claims nothing",
         Example("q7", "output at each ts; dims = (1,8,3)", not_reads=("output is timesteps",)),
         when=_dimension_modifies, does=_nothing, kind="role"),
    Rule("owned-by-entity",
         "a role right after 'X of' is X's, not the subject's",
         Example("q4", "c is the output of the cell", not_reads=("c is cell",)),
         when=_owned_by_entity, does=_nothing, kind="role"),
    Rule("modifier-of-nearest-entity",
         "a modifier ('only') is the nearest entity's",
         Example("q5", "It returns only the output.", reads=("output is only",), not_reads=("layer is only",)),
         when=_modifies_nearest, does=_modify, kind="role"),
    Rule("modifier-as-adverb",
         "after an opening pronoun with no entity to follow, a modifier is an adverb",
         Example("q5", "It only returns one array of shape (1, 3).", not_reads=("layer is only",)),
         when=_adverb, does=_nothing, kind="role"),
    Rule("opening-roles",
         "roles that open the unit before its link wait for the entity after the link",
         Example("q1", "batch=1, T=8, F=2", reads=("dim1 is batch",), not_reads=("answer is batch",)),
         when=_opens_inverted, does=_invert, kind="role"),
    Rule("entity-then-role",
         "a role right after an entity is that entity's",
         Example("q1", "it has 8 time steps and 2 features",
                 reads=("dim2 is timesteps",), not_reads=("answer is timesteps",)),
         when=_entity_then_role, does=_role_of_prev, kind="role"),
    Rule("role-names-entity-after-link",
         "a role linked to the entity after it names that entity",
         Example("q1", "timesteps = 8 and num_features = 2", reads=("dim3 is features",)),
         when=_names_next_by_link, does=_role_of_next, kind="role"),
    Rule("role-before-new-subject",
         "a role right before an entity, with no subject yet, makes that entity the subject",
         Example("q5", "returns output (1,3)", reads=("output is returned",), not_reads=("layer is returned",)),
         when=_before_new_subject, does=_premodify_subject, kind="role"),
    Rule("role-before-entity",
         "a role right before an entity is that entity's",
         Example("q12", "output contains h", reads=("h is contained",)),
         when=_before_its_entity, does=_premodify, stops=False, kind="role"),
    Rule("role-of-subjects",
         "any other role is the subjects' (else the pronoun's, else the rubric's default subject's)",
         Example("q2", "h is the hidden state", reads=("h is hidden",)),
         does=_role_to_targets, kind="role"),
)


def _defaults_inverted(r: Reading, at: None) -> None:
    for x in r.inverted:
        if not any(c.span == (x.start, x.end) and c.subject != "answer" for c in r.out):
            r.claim(r.terms.default_subject, x.name, x.negated, x)  # "all hidden states: (1, 8, 3)"


def _one_role_each(r: Reading, at: None) -> bool:
    spread, keys = r.spread, r.keys
    return bool(spread) and len(spread) == len(spread[0][1]) and len({t for _, t in spread}) == 1 \
        and len({m.name for m, _ in spread}) == len(spread) and all(
            any(k in ("and", ",", "/") for k in keys[x.end:y.start])
            and all(k in COORDINATORS or k in SKIP_KEYS or k in ("respect", "(", ")") for k in keys[x.end:y.start])
            for (x, _), (y, _) in itertools.pairwise(spread))


def _respectively(r: Reading, at: None) -> None:
    drop = {(m.start, m.end) for m, _ in r.spread}
    r.out = [c for c in r.out if c.span not in drop or c.role == "present"]
    for (m, _), s in zip(r.spread, r.spread[0][1], strict=True):
        r.claim(s, m.name, m.negated, m)


def _refer_to_last_named(r: Reading, at: None) -> None:
    r.previous[:] = [r.last_named]  # "duplication in the last row: it is equal to h"


def _refer_to_subjects(r: Reading, at: None) -> None:
    r.previous[:] = r.subjects


END_RULES: tuple[Rule[Reading, None], ...] = (
    Rule("opening-roles-default-subject",
         "opening roles no entity took are the rubric's default subject's",
         Example("q7", "all intermediate hidden states: (1 seq, 8 t, 3 nodes)", reads=("output is every",)),
         when=lambda r, at: bool(r.inverted and r.terms.default_subject), does=_defaults_inverted,
         stops=False),
    Rule("one-role-each",
         "as many roles as subjects, listed alike: one each, in order",
         Example("q2", "h and c are the hidden and cell states",
                 reads=("h is hidden", "c is cell"), not_reads=("h is cell", "c is hidden")),
         when=_one_role_each, does=_respectively, stops=False),
    Rule("last-named-is-referred-to",
         "the next unit's pronoun means the last entity named, if it is not a subject",
         Example("q5", "Returns the output, which is the final value.",
                 reads=("output is last",), not_reads=("layer is last",)),
         when=lambda r, at: r.last_named is not None and r.last_named not in r.subjects, does=_refer_to_last_named),
    Rule("subjects-are-referred-to",
         "else it means this unit's subjects",
         Example("q1", "The 1st dimension is NOT the batch; it's the time steps.", reads=("dim1 is timesteps",)),
         when=lambda r, at: bool(r.subjects), does=_refer_to_subjects),
)


def _inherits(keys: list[str], a: int, b: int) -> bool:
    """Does the unit open with a pronoun for the previous unit's subject ("it is ...", "which ...")?
    After a full stop, "that"/"this" mostly point at the whole sentence ("That's the layout ...")."""
    first = next((k for k in keys[a:b] if k not in SKIP_KEYS and k not in LEAD and k not in HARD_BREAKS), "")
    return first in PRONOUNS and not (keys[a] in HARD_BREAKS and first in ("this", "that", "thes"))


def read_unit(u: int, a: int, b: int, ms: list[Mention], ann: Annotated, keys: list[str], terms: Terms,
              previous: list[str], after_bare: bool = False) -> list[Claim]:
    """The claims of unit ``u`` (tokens ``a:b``, mentions ``ms``); ``previous`` is what an opening
    pronoun refers to, and is left as what the next unit's pronoun will refer to."""
    ms = [m for m in ms if not (m.kind == "entity" and any(
        k in FORMULA for k in keys[max(a, m.start - 2):m.start]))]  # operands of a formula: "o_t * tanh(c_t)"
    r = Reading(u, a, b, ms, ann, keys, terms, previous, after_bare, _inherits(keys, a, b))
    for idx in range(len(ms)):
        apply(READ_RULES, r, At(r, idx), ms[idx].kind)
    apply(END_RULES, r, None)
    return r.out
