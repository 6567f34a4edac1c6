"""Reference submissions graded through `otter run` with the real autograder zip."""

from __future__ import annotations

import re

import pytest

from tools.registry import registry

QUESTIONS = registry().ids


def test_full_credit_scores_100_percent(submissions, grade, expected):
    result = grade(submissions["full_credit"])
    got, possible = result.total
    assert possible > 0 and got == possible, result.scores
    assert {q: s for q, (s, _) in result.scores.items()} == expected("full_credit")
    # every model is recomputed in NumPy: TensorFlow stays in the student's kernel
    assert "TensorFlow in the grading process: no" in result.log, result.log[-3000:]


def test_solutions_notebook_scores_100_percent(dist, grade):
    result = grade(dist / "autograder" / "rnn_states.ipynb")
    got, possible = result.total
    assert got == possible, result.scores


def test_blank_notebook_scores_zero_with_a_result_for_every_question(submissions, grade):
    result = grade(submissions["blank"])
    assert sorted(result.scores, key=lambda q: int(q[1:])) == QUESTIONS
    assert all(score == 0 and possible > 0 for score, possible in result.scores.values()), result.scores
    assert "Autograder Error" not in str(result.results)


def test_seed_answers_full_on_code_and_shapes_partial_on_q2(submissions, grade, expected):
    result = grade(submissions["seed_answers"])
    for question, points in expected("seed_answers").items():
        assert result.scores[question][0] == points, (question, result.scores[question])
    for question in ["q3", "q5", "q6", "q9", "q11"]:
        score, possible = result.scores[question]
        assert score == possible, (question, score, possible)
    q2, q2_possible = result.scores["q2"]
    assert 0 < q2 < q2_possible


def test_partial_submission_gets_exactly_its_points(submissions, grade, expected):
    result = grade(submissions["partial"])
    assert {q: s for q, (s, _) in result.scores.items()} == expected("partial")


def test_free_text_credit_is_reported_per_concept(submissions, grade):
    """One test case per concept: q2's output names only the concept A2 misses, by its hint."""
    result = grade(submissions["seed_answers"])
    q2 = next(t for t in result.results["tests"] if t["name"] == "q2")
    lines = q2["output"].splitlines()
    assert lines[0] == "**q2: 2 / 3**", q2["output"]
    assert [line for line in lines if line.startswith("- ")] == [
        "- The answer does not say what `output` is: which point of the sequence does it describe, and how does"
        " it relate to the layer's states?"
    ]


@pytest.mark.parametrize("name", ["partial", "seed_answers", "blank"])
def test_students_read_plain_words_per_question(submissions, grade, name):
    """Each question: its score, then one line per failed check in the check's words; nothing else."""
    result = grade(submissions[name])
    concept_ids = {t.concept[1] for q in registry().questions for t in q.tests if t.concept}
    for test in result.results["tests"]:
        if test["name"] not in registry().ids:
            continue
        output = test["output"]
        assert test.get("output_format") == "md", test
        assert output.startswith(f"**{test['name']}: {test['score']:g} / {test['max_score']:g}**"), output
        body = output.splitlines()[2:]
        assert body == ["Every check passed."] or all(line.startswith("- ") for line in body), output
        for raw in ("Test case", "def test_", "require_concept", "check_", "Traceback", "Error", "line "):
            assert raw not in output, (raw, output)
        assert not any(re.search(rf"\b{cid}\b", output) for cid in concept_ids), output


def test_grading_is_deterministic(submissions, grade, ag_zip, tmp_path):
    from tools.otter_run import otter_run

    first = grade(submissions["partial"])
    second = otter_run(submissions["partial"], ag_zip, tmp_path)
    assert first.results == second.results
