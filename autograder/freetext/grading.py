"""Grade one answer against one rubric: the public entry points."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field, replace
from functools import lru_cache

from . import lookalikes
from .assertions import frame
from .bounds import cut_note, first_part
from .claims import Claim, read_claims
from .fuzzy import correct_typos
from .negation import Annotated, annotate
from .normalize import SKIP_KEYS, clean, merge_compounds, tokenize
from .rubric import QUESTIONS, Rubric, load_rubric
from .verdicts import judge


@dataclass(frozen=True)
class ConceptResult:
    id: str
    points: float
    found: bool
    message: str  # the student-safe hint (what to add), never the accepted phrasings
    confidence: float  # 0..1, how sure the grader is of ``found``
    evidence: str  # the student's own words that matched, or ""
    misconception: str = ""  # id of the rubric misconception that cancelled it, or ""


@dataclass(frozen=True)
class GradeResult:
    question: str
    score: float
    max_score: float
    concepts: list[ConceptResult] = field(default_factory=list)
    # why a TA should read this answer whatever the verdicts: "cut" (only its first part was read),
    # "mixed-script" (a word mixes scripts), "look-alikes" (letters of another script read as Latin)
    flags: tuple[str, ...] = ()

    def concept(self, concept_id: str) -> ConceptResult:
        """The result for ``concept_id``; ``KeyError`` listing the question's concepts if it has none by that id."""
        for c in self.concepts:
            if c.id == concept_id:
                return c
        known = ", ".join(c.id for c in self.concepts)
        raise KeyError(f"{self.question} has no concept {concept_id!r}; known concepts: {known}")

    @property
    def found(self) -> list[str]:
        """The ids of the concepts the answer earned."""
        return [c.id for c in self.concepts if c.found]

    @property
    def missing(self) -> list[str]:
        """The ids of the concepts the answer did not earn."""
        return [c.id for c in self.concepts if not c.found]


def _rubric(question: object) -> Rubric:
    if not isinstance(question, str) or question not in QUESTIONS:
        raise ValueError(
            f"unknown question {question!r}; known questions: {', '.join(QUESTIONS)}"
        )
    return load_rubric(question)


# A flagged answer's concepts get at most this confidence, so a review ordered by confidence
# shows it first (verdicts are 0.6 where unsure, 0.85 cancelled, 0.9 sure).
FLAGGED_CONFIDENCE = 0.5


def grade_answer(question: str, answer: object) -> GradeResult:
    """Grade a free-text answer; any non-string answer scores zero.

    Only the first ``bounds.MAX_ANSWER_CHARS`` characters are read; a longer answer is flagged
    ("cut") and every concept's message says so."""
    _rubric(question)
    text = answer if isinstance(answer, str) else ""
    read, cut = first_part(text)
    # Cache on the folded text: require_concept grades the same answer once
    # per concept, and case/Unicode variants grade identically anyway.
    cached = _grade(question, clean(read))
    concepts = list(cached.concepts)  # a fresh list so a caller cannot alter the cached result
    flags = (("cut",) if cut else ()) + lookalikes.flags(unicodedata.normalize("NFKC", read))
    if flags:
        note = cut_note(len(text)) if cut else ""
        concepts = [replace(c, confidence=min(c.confidence, FLAGGED_CONFIDENCE),
                            message=f"{c.message} {note}".strip()) for c in concepts]
    return GradeResult(cached.question, cached.score, cached.max_score, concepts, flags)


@lru_cache(maxsize=4096)
def _grade(question: str, answer: str) -> GradeResult:
    rubric = load_rubric(question)
    folded, tokens = tokenize(answer)
    tokens = merge_compounds(correct_typos(tokens, rubric.vocab))
    if rubric.prompt and _echoes(tokens, rubric.prompt):
        # the question's own words pasted back assert nothing
        return GradeResult(question, 0.0, rubric.max_score, [
            ConceptResult(c.id, c.points, False, c.hint, 0.9, "") for c in rubric.concepts])
    ann, claims = _read(rubric, tokens)
    tokens = ann.tokens
    results = []
    for concept in rubric.concepts:
        verdict = judge(concept, claims)
        evidence = ""
        if verdict.span:
            start = _cue_start(ann, verdict.span[0])
            evidence = folded[tokens[start].start:tokens[verdict.span[1] - 1].end]
        mis = verdict.misconception
        results.append(ConceptResult(
            id=concept.id, points=concept.points, found=verdict.found,
            message=mis.hint if mis else concept.hint, confidence=verdict.confidence,
            evidence=evidence, misconception=mis.id if mis else "",
        ))
    score = float(sum(r.points for r in results if r.found))
    return GradeResult(question, score, rubric.max_score, results)


def _cue_start(ann, start: int) -> int:
    """Where the evidence of a negated claim starts: at its cue ("don't have a cell state")."""
    if not ann.negated[start]:
        return start
    while start > 0 and ann.negated[start - 1]:
        start -= 1
    return start


def _echoes(tokens: list, prompt: tuple[str, ...]) -> bool:
    """Whether the answer is (nearly) the question's own text."""
    words = [t.key for t in tokens if t.kind != "punct" and t.key not in SKIP_KEYS]
    if not words:
        return False
    vocabulary = set(prompt)
    inside = sum(1 for w in words if w in vocabulary)
    return inside / len(words) >= 0.85 and len(words) <= 1.5 * len(prompt) + 3



def require_concept(question: str, answer: object, concept_id: str) -> None:
    """Assert that the answer expresses a concept; the failure message is the hint."""
    result = grade_answer(question, answer).concept(concept_id)
    if not result.found:
        raise AssertionError(result.message)


def rubric_concepts(question: str) -> list[tuple[str, float]]:
    """(concept id, points) pairs, e.g. to check test points against the rubric."""
    return [(c.id, c.points) for c in _rubric(question).concepts]


def _read(rubric: Rubric, tokens: list) -> tuple[Annotated, list[Claim]]:
    """The one reading pipeline: stances framed out, negation annotated, claims read."""
    stances = frame(tokens)
    ann = annotate(stances.tokens)
    claims = read_claims(ann, rubric.entities, rubric.roles, rubric.subject, rubric.modifiers,
                         rubric.aliases, rubric.dimension_roles, stance=stances.stance)[0]
    return ann, claims


def claims_read(question: str, answer: object) -> list[Claim]:
    """Every claim the engine read in an answer, in reading order (what ``judge`` is given)."""
    rubric = _rubric(question)
    if not isinstance(answer, str):
        return []
    _, tokens = tokenize(clean(first_part(answer)[0]))
    return _read(rubric, merge_compounds(correct_typos(tokens, rubric.vocab)))[1]


def read_answer(question: str, answer: object) -> list[str]:
    """The claims the engine read in an answer, as text ("output is last", "h is not cell")."""
    claims = claims_read(question, answer)
    seen = dict.fromkeys(
        f"{c.subject} {'is not' if c.negated else 'is'} {c.role}{' (hedged)' if c.branch else ''}" for c in claims
        if c.role != "present" or c.negated)
    return list(seen)
