"""Reference submissions graded through `otter run` with the real autograder zip."""

from __future__ import annotations

QUESTIONS = [f"q{i}" for i in range(1, 13)]


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
    """One test case per concept: q2's output lists a failure only for the concept A2 misses."""
    result = grade(submissions["seed_answers"])
    q2 = next(t for t in result.results["tests"] if t["name"] == "q2")
    # the concepts h and c (public checks are the student's, run in Jupyter, not rerun in grading)
    assert q2["output"].count("Test case passed") == 2
    assert q2["output"].count("Test case failed") == 1
    assert "does not say what `output` is" in q2["output"]  # the hint of the concept A2 misses


def test_grading_is_deterministic(submissions, grade, ag_zip, tmp_path):
    from tools.otter_run import otter_run

    first = grade(submissions["partial"])
    second = otter_run(submissions["partial"], ag_zip, tmp_path)
    assert first.results == second.results
