"""Load and validate the per-question YAML rubrics.

Rubrics are data so a TA can tune phrasings without touching code; they
live next to this package (``autograder/rubrics``) and ship only in the
autograder zip.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

from .normalize import phrase_keys

RUBRIC_DIR = Path(__file__).resolve().parent.parent / "rubrics"
VOCABULARY = RUBRIC_DIR / "vocabulary.yml"  # .yml: not a question
# libyaml's loader is ~8x faster; fall back to pure Python where it is missing.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# the written questions are the rubrics present: adding a rubric file adds the question
QUESTIONS = tuple(sorted((p.stem for p in RUBRIC_DIR.glob("*.yaml")), key=lambda q: (len(q), q)))


class RubricError(ValueError):
    """A rubric file is malformed (a bug in the rubric, not in the answer)."""


@dataclass(frozen=True)
class Group:
    name: str
    phrases: tuple[tuple[str, ...], ...]  # longest first
    # first key -> phrasings starting with it (longest first): matching only
    # tries the phrasings that can start at a token.
    by_first: dict[str, tuple[tuple[str, ...], ...]] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Term:
    """One claim an answer must make: ``subject`` has every role, with a polarity."""

    subject: str  # an entity name, or "*" for any
    roles: tuple[str, ...]  # role names, "=<entity>", "=*" or "present"
    negated: bool = False
    without: tuple[str, ...] = ()  # roles the same claim must not carry ("merged but not gates")

    def __str__(self) -> str:
        verb = "is not" if self.negated else "is"
        but = f" but not {' or '.join(self.without)}" if self.without else ""
        return f"{self.subject} {verb} {' and '.join(self.roles)}{but}"


@dataclass(frozen=True)
class Misconception:
    id: str
    terms: tuple[tuple[Term, ...], ...]  # any alternative; each needs all its terms
    hint: str  # student-safe: names the wrong idea, not the accepted phrasings


@dataclass(frozen=True)
class Concept:
    id: str
    points: float
    hint: str
    key: tuple[tuple[Term, ...], ...] = ()  # claims that earn it (any alternative, all its terms)
    misconceptions: tuple[Misconception, ...] = ()
    meaning: str = ""  # what the concept asserts, in a TA's words (the review app shows it)


@dataclass
class Rubric:
    question: str
    concepts: tuple[Concept, ...]
    vocab: dict[str, str] = field(default_factory=dict)  # surface word -> key
    entities: dict[str, Group] = field(default_factory=dict)
    roles: dict[str, Group] = field(default_factory=dict)
    subject: str | None = None  # what a unit naming no entity is about ("it returns ...")
    prompt: tuple[str, ...] = ()  # the question's own words: pasting them earns nothing
    modifiers: frozenset[str] = frozenset()  # roles that belong to the nearest entity ("only")
    aliases: dict[str, str] = field(default_factory=dict)  # role -> entity it names in a comparison
    dimension_roles: frozenset[str] = frozenset()  # roles a bare list assigns to dimensions in order
    question_text: str = ""  # the question as the rubric's ``prompt`` words it (a TA reads it in the review app)

    @property
    def max_score(self) -> float:
        """The question's points: the sum of its concepts' points."""
        return float(sum(c.points for c in self.concepts))


def _group(name: str, phrases: object, where: str) -> Group:
    if isinstance(phrases, str):
        phrases = [phrases]
    if not isinstance(phrases, list) or not phrases:
        raise RubricError(f"{where}: term group {name!r} must be a non-empty list")
    bad = [p for p in phrases if not isinstance(p, (str, int))]
    if bad or any(isinstance(p, bool) for p in phrases):
        raise RubricError(f"{where}: term group {name!r} has non-text phrasings {bad}; quote them")
    keys = {phrase_keys(str(p)) for p in phrases}
    keys.discard(())
    phrases_ = tuple(sorted(keys, key=lambda k: (-len(k), k)))
    by_first: dict[str, list[tuple[str, ...]]] = {}
    for k in phrases_:
        by_first.setdefault(k[0], []).append(k)
    return Group(name, phrases_, {f: tuple(v) for f, v in by_first.items()})


# Roles the claim reader gives without a rubric word: named at all, the whole answer.
BUILTIN_ROLES = frozenset({"present", "alone"})
_TERM = re.compile(r"^\s*(\S+)\s+(is not|is|!=|=)\s+(.+?)\s*$")


def _term(text: object, names: set[str], where: str) -> Term:
    m = _TERM.match(str(text))
    if not m:
        raise RubricError(f"{where}: cannot read claim {text!r}; write 'X is ROLE', 'X is not ROLE' or 'X = Y'")
    subject, verb, rest = m.groups()
    rest, _, but = rest.partition(" but not ")
    without = tuple(r.strip() for r in but.split(" or ")) if but else ()
    if verb in ("=", "!="):
        roles: tuple[str, ...] = ("=" + rest,)
        negated = verb == "!="
        objects = [rest]
    else:
        roles = tuple(r.strip() for r in rest.split(" and "))
        negated = verb == "is not"
        objects = []
    if roles == ("absent",):
        roles, negated = ("present",), not negated
    unknown = [n for n in (subject, *objects, *roles, *without) if n not in names and n not in ("*", "answer", "yes")
               and not n.startswith("=") and n not in BUILTIN_ROLES]
    unknown += [r[1:] for r in roles if r.startswith("=") and r[1:] not in names and r != "=*"]
    if unknown:
        raise RubricError(f"{where}: claim {text!r} names {unknown}, not among the rubric's entities and roles")
    return Term(subject, roles, negated, without)


def _alternatives(raw: object, names: set[str], where: str) -> tuple[tuple[Term, ...], ...]:
    if not isinstance(raw, list) or not raw:
        raise RubricError(f"{where}: 'claims' must be a non-empty list")
    return tuple(tuple(_term(t, names, where) for t in str(alt).split(";")) for alt in raw)


# ("the first number" is not one: "the second the number of time steps" would lose its role)
_ORDINALS = {
    1: ["first", "1st", "first one", "first value", "first entry", "first element"],
    2: ["second", "2nd", "second one", "middle", "middle one"],
    3: ["third", "3rd", "third one", "last one", "last dimension", "last dim", "last axis", "final one",
        "final dimension"],
}


def dimension_entities(count: int, sizes: dict[str, int]) -> dict[str, list[str]]:
    """Entity words for the dimensions of a shape: ordinals, "dim K"/"axis K" (index K, 0- or
    1-based, see ``claims.index_base``) and each dimension's size ("8 time steps")."""
    entities: dict[str, list[str]] = {}
    for k in range(1, count + 1):
        ords = _ORDINALS.get(k, []) if k < count else _ORDINALS[3]
        words = [*ords, *(f"{o} {w}" for o in ords[:2] for w in ("dimension", "dim", "axis", "entry"))]
        entities[f"dim{k}"] = words + [s for s, d in sizes.items() if d == k]
    for k in range(count + 1):
        entities[f"index{k}"] = [f"dim {k}", f"dimension {k}", f"axis {k}", f"dim{k}", f"d{k}"]
    return entities


def parse_rubric(data: dict, source: str) -> Rubric:
    """A rubric from a rubric file's parsed YAML; ``RubricError`` naming ``source`` if it is malformed or in
    the old co-occurrence format (``terms``/``positions``).
    """
    question = data.get("question")
    if not isinstance(question, str):
        raise RubricError(f"{source}: missing 'question'")
    if "terms" in data or "positions" in data:
        raise RubricError(f"{source}: 'terms' and 'positions' are the old co-occurrence format; write "
                          "'entities', 'roles' and claims (README, Rubrics)")
    raw_entities = dict(data.get("entities") or {})
    dims = data.get("dimensions")
    if dims is not None:
        if not isinstance(dims, dict) or not isinstance(dims.get("count"), int):
            raise RubricError(f"{source}: 'dimensions' needs a 'count' (and 'sizes': size -> dimension)")
        sizes = {str(k): int(v) for k, v in (dims.get("sizes") or {}).items()}
        raw_entities.update(dimension_entities(dims["count"], sizes))
    entities = {n: _group(n, ph, source) for n, ph in raw_entities.items()}
    roles = {n: _group(n, ph, source) for n, ph in (data.get("roles") or {}).items()}
    concepts = _concepts(data.get("concepts") or [], set(entities) | set(roles), source)
    vocab = _vocabulary([*raw_entities.values(), *(data.get("roles") or {}).values()])
    prompt = phrase_keys(" ".join(str(data.get("prompt", "")).casefold().split())) if data.get("prompt") else ()
    subject, modifiers, aliases, dimension_roles = _reading_settings(data, entities, roles, source)
    return Rubric(question, tuple(concepts), vocab, entities, roles, subject, prompt, modifiers, aliases,
                  dimension_roles, " ".join(str(data.get("prompt", "")).split()))


def _concepts(raws: list, names: set[str], source: str) -> list[Concept]:
    concepts = []
    for i, raw in enumerate(raws):
        where = f"{source}: concept #{i + 1}"
        cid, hint = raw.get("id"), raw.get("hint")
        if not cid or not hint:
            raise RubricError(f"{where}: needs 'id' and 'hint'")
        if "claims" not in raw:
            raise RubricError(f"{where}: needs 'claims' (the claims that earn it)")
        key = _alternatives(raw["claims"], names, where)
        wrong = []
        for j, mis in enumerate(raw.get("misconceptions") or []):
            if not isinstance(mis, dict) or "claims" not in mis or "hint" not in mis:
                raise RubricError(f"{where}: misconception #{j + 1} needs 'claims' and 'hint'")
            wrong.append(Misconception(str(mis.get("id", f"{cid}-{j + 1}")),
                                       _alternatives(mis["claims"], names, where),
                                       " ".join(str(mis["hint"]).split())))
        concepts.append(Concept(
            id=str(cid), points=float(raw.get("points", 1)), hint=str(hint).strip(),
            key=key, misconceptions=tuple(wrong), meaning=" ".join(str(raw.get("meaning", "")).split()),
        ))
    if len({c.id for c in concepts}) != len(concepts):
        raise RubricError(f"{source}: duplicate concept ids")
    return concepts


def _vocabulary(raw_phrases: list) -> dict[str, str]:
    """What typo correction maps misspelt words onto: every word of four or more letters used
    in any phrasing of this rubric."""
    vocab: dict[str, str] = {}
    for phrases in raw_phrases:
        for phrase in phrases if isinstance(phrases, list) else [phrases]:
            for w in str(phrase).casefold().split():
                keys = phrase_keys(w) if w.isalpha() and len(w) >= 4 else ()
                if keys:
                    vocab.setdefault(w, keys[0])
    return vocab


def _reading_settings(data: dict, entities: dict[str, Group], roles: dict[str, Group],
                      source: str) -> tuple[str | None, frozenset[str], dict[str, str], frozenset[str]]:
    """The default subject, modifiers, aliases and dimension roles, each checked against the groups."""
    subject = data.get("subject")
    if subject is not None and subject not in entities:
        raise RubricError(f"{source}: default subject {subject!r} is not an entity")
    modifiers = frozenset(data.get("modifiers") or ())
    if modifiers - set(roles):
        raise RubricError(f"{source}: modifiers {sorted(modifiers - set(roles))} are not roles")
    aliases = {str(k): str(v) for k, v in (data.get("aliases") or {}).items()}
    bad = {k: v for k, v in aliases.items() if k not in roles or v not in entities}
    if bad:
        raise RubricError(f"{source}: aliases {bad} must map a role to an entity")
    dimension_roles = frozenset((data.get("dimensions") or {}).get("roles") or ())
    if dimension_roles - set(roles):
        raise RubricError(f"{source}: dimensions.roles {sorted(dimension_roles - set(roles))} are not roles")
    return subject, modifiers, aliases, dimension_roles


def with_vocabulary(data: dict, shared: dict) -> dict:
    """The rubric with the shared entities and roles under its own (``null`` drops one)."""
    merged = dict(data)
    # a word the rubric gives a group of its own belongs to that group only ("lstm" as an entity
    # of q13 is not also the shared "layer")
    own = {str(w) for part in ("entities", "roles") for words in (data.get(part) or {}).values()
           for w in (words or [])}
    for part in ("entities", "roles"):
        shared_groups = {name: [w for w in words if str(w) not in own]
                         for name, words in (shared.get(part) or {}).items() if words}
        groups = {**{n: w for n, w in shared_groups.items() if w}, **(data.get(part) or {})}
        merged[part] = {name: words for name, words in groups.items() if words is not None}
    return merged


def _yaml(path: Path) -> dict:
    with path.open(encoding="utf-8") as fh:
        return yaml.load(fh, Loader=_LOADER) or {}  # a safe loader either way


def read_rubric(path: Path) -> Rubric:
    """Parse one rubric file, with the shared vocabulary of its folder."""
    data = _yaml(path)
    if not isinstance(data, dict):
        raise RubricError(f"{path.name}: a rubric is a mapping of question, concepts, ...")
    shared = path.parent / VOCABULARY.name
    if ("entities" in data or "roles" in data) and shared.is_file():
        data = with_vocabulary(data, _yaml(shared))
    return parse_rubric(data, path.name)


@cache
def load_rubric(question: str) -> Rubric:
    """The rubric of ``question`` from ``RUBRIC_DIR``, parsed once and cached; ``ValueError`` for an unknown
    question, ``RubricError`` if the file is for another question.
    """
    if question not in QUESTIONS:
        raise ValueError(
            f"unknown question {question!r}; known questions: {', '.join(QUESTIONS)}"
        )
    path = RUBRIC_DIR / f"{question}.yaml"
    rubric = read_rubric(path)
    if rubric.question != question:
        raise RubricError(f"{path.name}: says question {rubric.question!r}")
    return rubric
