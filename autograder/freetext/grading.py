"""Grade one answer against one rubric: the public entry points."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from .claims import judge as judge_claims
from .claims import read_claims
from .fuzzy import correct_typos
from .matching import Assignment, Verdict, assign_positions, build_context, match_pattern, match_position
from .negation import annotate
from .normalize import SKIP_KEYS, clean, merge_compounds, tokenize
from .rubric import QUESTIONS, Concept, Rubric, load_rubric


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

    def concept(self, concept_id: str) -> ConceptResult:
        for c in self.concepts:
            if c.id == concept_id:
                return c
        known = ", ".join(c.id for c in self.concepts)
        raise KeyError(f"{self.question} has no concept {concept_id!r}; known concepts: {known}")

    @property
    def found(self) -> list[str]:
        return [c.id for c in self.concepts if c.found]

    @property
    def missing(self) -> list[str]:
        return [c.id for c in self.concepts if not c.found]


def _rubric(question: object) -> Rubric:
    if not isinstance(question, str) or question not in QUESTIONS:
        raise ValueError(
            f"unknown question {question!r}; known questions: {', '.join(QUESTIONS)}"
        )
    return load_rubric(question)


def grade_answer(question: str, answer: object) -> GradeResult:
    """Grade a free-text answer; any non-string answer scores zero."""
    _rubric(question)
    text = answer if isinstance(answer, str) else ""
    # Cache on the folded text: require_concept grades the same answer once
    # per concept, and case/Unicode variants grade identically anyway.
    cached = _grade(question, clean(text))
    # A fresh list so a caller cannot alter the cached result.
    return GradeResult(cached.question, cached.score, cached.max_score, list(cached.concepts))


@lru_cache(maxsize=4096)
def _grade(question: str, answer: str) -> GradeResult:
    rubric = load_rubric(question)
    folded, tokens = tokenize(answer)
    tokens = merge_compounds(correct_typos(tokens, rubric.vocab))
    ann = annotate(tokens)
    ctx = build_context(ann)
    by_id = {c.id: c for c in rubric.concepts}
    if rubric.prompt and _echoes(tokens, rubric.prompt):
        # the question's own words pasted back assert nothing
        return GradeResult(question, 0.0, rubric.max_score, [
            ConceptResult(c.id, c.points, False, c.hint, 0.9, "") for c in rubric.concepts])
    claims = read_claims(ann, rubric.entities, rubric.roles, rubric.subject, rubric.modifiers,
                         rubric.aliases, rubric.dimension_roles)[0] \
        if rubric.entities else []
    verdicts: dict[str, Verdict] = {}
    assignment: list[Assignment] = []  # computed once, only for position concepts

    def judge(concept: Concept) -> Verdict:
        if concept.id in verdicts:
            return verdicts[concept.id]
        verdicts[concept.id] = Verdict()  # guards against requires-cycles
        if concept.position is not None:
            if not assignment:
                assignment.append(assign_positions(rubric, ctx))
            verdict = match_position(concept, assignment[0])
        else:
            verdict = Verdict()
            for pattern in concept.patterns:
                if any(not _found(judge(by_id[r])) for r in pattern.requires):
                    continue
                v = match_pattern(pattern, concept, ctx)
                verdict.denied |= v.denied
                if v.asserted and v.confidence > verdict.confidence:
                    verdict.asserted, verdict.confidence, verdict.span = True, v.confidence, v.span
        verdicts[concept.id] = verdict
        return verdict

    results = []
    for concept in rubric.concepts:
        if concept.key:
            cv = judge_claims(concept, claims)
            evidence = ""
            if cv.span:
                start = _cue_start(ann, cv.span[0])
                evidence = folded[tokens[start].start:tokens[cv.span[1] - 1].end]
            mis = cv.misconception
            results.append(ConceptResult(
                id=concept.id, points=concept.points, found=cv.found,
                message=mis.hint if mis else concept.hint, confidence=cv.confidence,
                evidence=evidence, misconception=mis.id if mis else "",
            ))
            continue
        verdict = judge(concept)
        found = _found(verdict)
        evidence = ""
        if found and verdict.span:
            s, e = verdict.span
            evidence = folded[tokens[s].start:tokens[e - 1].end]
        if found:
            conf = verdict.confidence
        elif verdict.asserted and verdict.denied:
            conf = 0.6  # contradiction: a human might read it either way
        else:
            conf = 0.8 if verdict.denied else 0.9
        results.append(ConceptResult(
            id=concept.id, points=concept.points, found=found,
            message=concept.hint, confidence=round(conf, 2),
            evidence=evidence,
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
    inside = sum(1 for w in words if w in set(prompt))
    return inside / len(words) >= 0.85 and len(words) <= 1.5 * len(prompt) + 3


def _found(v: Verdict) -> bool:
    return v.asserted and not v.denied


def require_concept(question: str, answer: object, concept_id: str) -> None:
    """Assert that the answer expresses a concept; the failure message is the hint."""
    result = grade_answer(question, answer).concept(concept_id)
    if not result.found:
        raise AssertionError(result.message)


def rubric_concepts(question: str) -> list[tuple[str, float]]:
    """(concept id, points) pairs, e.g. to check test points against the rubric."""
    return [(c.id, c.points) for c in _rubric(question).concepts]


def read_answer(question: str, answer: object) -> list[str]:
    """The claims the engine read in an answer, as text ("output is last", "h is not cell")."""
    rubric = _rubric(question)
    if not rubric.entities or not isinstance(answer, str):
        return []
    _, tokens = tokenize(clean(answer))
    tokens = merge_compounds(correct_typos(tokens, rubric.vocab))
    claims, _ = read_claims(annotate(tokens), rubric.entities, rubric.roles, rubric.subject, rubric.modifiers,
                         rubric.aliases, rubric.dimension_roles)
    seen = dict.fromkeys(
        f"{c.subject} {'is not' if c.negated else 'is'} {c.role}" for c in claims if c.role != "present"
        or c.negated)
    return list(seen)
