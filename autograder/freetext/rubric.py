"""Load and validate the per-question YAML rubrics.

Rubrics are data so a TA can tune phrasings without touching code; they
live next to this package (``autograder/rubrics``) and ship only in the
autograder zip.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

from .normalize import phrase_keys

RUBRIC_DIR = Path(__file__).resolve().parent.parent / "rubrics"
# libyaml's loader is ~8x faster; fall back to pure Python where it is missing.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# the written questions are the rubrics present: adding a rubric file adds the question
QUESTIONS = tuple(sorted((p.stem for p in RUBRIC_DIR.glob("*.yaml")), key=lambda q: (len(q), q)))
SCOPES = ("clause", "sentence", "answer")
UNLESS_SCOPES = SCOPES + ("span",)  # span: only between the matched terms


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
class Pattern:
    groups: tuple[Group, ...]
    negated: bool = False  # credited when the claim is negated (q8: no cell state)
    scope: str = "clause"
    ordered: bool = False
    unless: tuple[Group, ...] = ()
    unless_scope: str = "clause"
    unless_blocks: str = "both"  # or "denial": only stop it counting as the opposite
    weight: float = 1.0  # confidence of this way of expressing the concept
    requires: tuple[str, ...] = ()  # concept ids that must be found too
    deny: bool = False  # only ever counts against the concept ("no duplication")
    denies: bool = True  # an opposite-polarity match counts against the concept
    whole: bool = False  # the match must be the entire answer ("the output")


@dataclass(frozen=True)
class Concept:
    id: str
    points: float
    hint: str
    patterns: tuple[Pattern, ...] = ()
    claim: bool = False  # needs an asserted relation, not a bare keyword list
    position: tuple[int, str] | None = None  # (1-based index, position term)


@dataclass
class Rubric:
    question: str
    concepts: tuple[Concept, ...]
    position_terms: dict[str, Group] = field(default_factory=dict)
    position_values: dict[str, int] = field(default_factory=dict)
    ndims: int = 3
    vocab: dict[str, str] = field(default_factory=dict)  # surface word -> key

    @property
    def max_score(self) -> float:
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


def _resolve(ref: object, terms: dict[str, Group], where: str) -> Group:
    if isinstance(ref, bool):
        raise RubricError(f"{where}: a group name was read as a boolean; rename it (not yes/no/on/off)")
    if isinstance(ref, list):
        return _group("inline", ref, where)
    if isinstance(ref, str) and ref in terms:
        return terms[ref]
    raise RubricError(f"{where}: unknown term group {ref!r}")


def _pattern(raw: object, terms: dict[str, Group], where: str) -> Pattern:
    if isinstance(raw, list):
        raw = {"all": raw}
    if not isinstance(raw, dict) or "all" not in raw:
        raise RubricError(f"{where}: a pattern needs an 'all' list")
    scope = raw.get("scope", "clause")
    uscope = raw.get("unless_scope", "clause")
    if scope not in SCOPES or uscope not in UNLESS_SCOPES:
        raise RubricError(f"{where}: scope must be one of {SCOPES} (unless_scope may also be 'span')")
    if raw.get("unless_blocks", "both") not in ("both", "denial"):
        raise RubricError(f"{where}: unless_blocks must be 'both' or 'denial'")
    return Pattern(
        groups=tuple(_resolve(g, terms, where) for g in raw["all"]),
        negated=bool(raw.get("negated", False)),
        scope=scope,
        ordered=bool(raw.get("ordered", False)),
        unless=tuple(_resolve(g, terms, where) for g in raw.get("unless", [])),
        unless_scope=uscope,
        unless_blocks=str(raw.get("unless_blocks", "both")),
        weight=float(raw.get("weight", 1.0)),
        requires=tuple(str(r) for r in raw.get("requires", [])),
        deny=bool(raw.get("deny", False)),
        denies=bool(raw.get("denies", True)),
        whole=bool(raw.get("whole", False)),
    )


def parse_rubric(data: dict, source: str) -> Rubric:
    question = data.get("question")
    if not isinstance(question, str):
        raise RubricError(f"{source}: missing 'question'")
    terms = {name: _group(name, ph, source) for name, ph in (data.get("terms") or {}).items()}
    pos = data.get("positions") or {}
    pterms = {name: _group(name, ph, source) for name, ph in (pos.get("terms") or {}).items()}
    pvalues = {str(k): int(v) for k, v in (pos.get("values") or {}).items()}
    concepts = []
    for i, raw in enumerate(data.get("concepts") or []):
        where = f"{source}: concept #{i + 1}"
        cid, hint = raw.get("id"), raw.get("hint")
        if not cid or not hint:
            raise RubricError(f"{where}: needs 'id' and 'hint'")
        position = None
        if "position" in raw:
            p = raw["position"]
            if p.get("term") not in pterms:
                raise RubricError(f"{where}: position term {p.get('term')!r} not in positions.terms")
            position = (int(p["index"]), p["term"])
        patterns = tuple(_pattern(p, terms, where) for p in raw.get("patterns") or [])
        if not patterns and position is None:
            raise RubricError(f"{where}: needs 'patterns' or 'position'")
        concepts.append(Concept(
            id=str(cid), points=float(raw.get("points", 1)), hint=str(hint).strip(),
            patterns=patterns, claim=bool(raw.get("claim", False)), position=position,
        ))
    ids = {c.id for c in concepts}
    if len(ids) != len(concepts):
        raise RubricError(f"{source}: duplicate concept ids")
    for c in concepts:
        for p in c.patterns:
            if set(p.requires) - ids or c.id in p.requires:
                raise RubricError(f"{source}: {c.id} requires unknown concept {p.requires}")
    # Typo correction maps misspelt words onto this vocabulary: every word of
    # four or more letters used in any phrasing of this rubric.
    raw_phrases = [*(data.get("terms") or {}).values(), *(pos.get("terms") or {}).values()]
    vocab: dict[str, str] = {}
    for phrases in raw_phrases:
        for phrase in phrases if isinstance(phrases, list) else [phrases]:
            for w in str(phrase).casefold().split():
                keys = phrase_keys(w) if w.isalpha() and len(w) >= 4 else ()
                if keys:
                    vocab.setdefault(w, keys[0])
    return Rubric(question, tuple(concepts), pterms, pvalues, int(pos.get("ndims", 3)), vocab)


@cache
def load_rubric(question: str) -> Rubric:
    if question not in QUESTIONS:
        raise ValueError(
            f"unknown question {question!r}; known questions: {', '.join(QUESTIONS)}"
        )
    path = RUBRIC_DIR / f"{question}.yaml"
    with path.open(encoding="utf-8") as fh:
        data = yaml.load(fh, Loader=_LOADER)  # a safe loader either way
    rubric = parse_rubric(data, path.name)
    if rubric.question != question:
        raise RubricError(f"{path.name}: says question {rubric.question!r}")
    return rubric
