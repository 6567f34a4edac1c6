"""The question registry: the notebook's tests and the rubrics agree, and disagreement is named."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest

from autograder.freetext import QUESTIONS
from autograder.freetext.rubric import RUBRIC_DIR
from tools.registry import CODE, MASTER, SHAPE, WRITTEN, RegistryError, load, registry
from tools.submissions import load_answer_set

pytestmark = pytest.mark.fast


def test_this_checkout_has_no_disagreement():
    assert registry().problems() == []


def test_questions_kinds_and_total_come_from_the_notebook():
    reg = registry()
    assert reg.ids == [f"q{i}" for i in range(1, len(reg.ids) + 1)]
    assert {q.kind for q in reg.questions} <= {WRITTEN, SHAPE, CODE}
    assert [q.id for q in reg.written()] == list(QUESTIONS)  # the engine's list is the rubrics present
    assert reg.total == sum(q.points for q in reg.questions) > 0
    assert all(q.points == sum(t.points for t in q.tests) for q in reg.questions)


def test_the_full_credit_answer_set_expects_every_point():
    expect = {q: float(p) for q, p in load_answer_set("full_credit")["expect"].items()}
    assert expect == {q.id: q.points for q in registry().questions}


@pytest.fixture
def sources(tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the master notebook and the rubrics to break."""
    rubrics = tmp_path / "rubrics"
    shutil.copytree(RUBRIC_DIR, rubrics)
    master = tmp_path / MASTER.name
    shutil.copy(MASTER, master)
    return master, rubrics


def _edit_test(master: Path, test_name: str, old: str, new: str) -> None:
    nb = nbformat.read(master, as_version=4)
    cell = next(c for c in nb.cells if f"def {test_name}(" in c.source)
    assert old in cell.source
    cell.source = cell.source.replace(old, new)
    nbformat.write(nb, master)


def test_points_that_disagree_name_the_question_and_concept(sources):
    master, rubrics = sources
    _edit_test(master, "test_q4_concept_output_equals_h", "points: 1", "points: 2")
    problems = load(master, rubrics).problems()
    assert problems == [
        "q4 concept 'output_equals_h': the notebook's test test_q4_concept_output_equals_h gives 2 points, the rubric 1"
    ]


def test_a_rubric_concept_without_a_test_is_named(sources):
    master, rubrics = sources
    _edit_test(master, "test_q12_concept_last_step_equals_h", '"last_step_equals_h"', '"last_step"')
    problems = load(master, rubrics).problems()
    assert (
        "q12: test test_q12_concept_last_step_equals_h checks concept 'last_step', which the rubric does not define"
    ) in problems
    assert "q12 concept 'last_step_equals_h': the rubric defines it but no notebook test grades it" in problems


def test_a_rubric_without_a_question_and_a_test_without_a_rubric_are_named(sources):
    master, rubrics = sources
    (rubrics / "q8.yaml").rename(rubrics / "q99.yaml")
    (rubrics / "q99.yaml").write_text((rubrics / "q99.yaml").read_text().replace("question: q8", "question: q99"))
    problems = load(master, rubrics).problems()
    assert "q99: autograder/rubrics/q99.yaml has no question q99 in the master notebook" in problems
    assert "q8: test test_q8_concept_no_cell_state checks concept 'no_cell_state' but q8 has no rubric" in problems


def test_a_test_without_points_is_refused_with_its_name(sources):
    master, rubrics = sources
    _edit_test(master, "test_q12_concept_last_step_equals_h", "points: 1\n", "")
    with pytest.raises(RegistryError, match="q12: test test_q12_concept_last_step_equals_h has no 'points:'"):
        load(master, rubrics)


def test_the_build_refuses_a_notebook_and_rubrics_that_disagree(sources):
    from tools.build import BuildError, check_questions

    master, rubrics = sources
    check_questions(master, rubrics)  # as they are: agreed
    _edit_test(master, "test_q4_concept_output_equals_h", "points: 1", "points: 2")
    with pytest.raises(BuildError, match="q4 concept 'output_equals_h': the notebook's test"):
        check_questions(master, rubrics)
