"""Free-text rubric grading for the RNN states lab.

    from autograder.freetext import grade_answer, require_concept
    grade_answer("q1", q1_answer).score

Rubrics are YAML files in ``autograder/rubrics`` (never shipped to students).
"""

from .grading import (
    ConceptResult,
    GradeResult,
    grade_answer,
    require_concept,
    rubric_concepts,
)
from .rubric import QUESTIONS

__all__ = [
    "QUESTIONS",
    "ConceptResult",
    "GradeResult",
    "grade_answer",
    "require_concept",
    "rubric_concepts",
]
