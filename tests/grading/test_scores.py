"""A question's score as results.json gives it (``tools.scores``)."""

from __future__ import annotations

import pytest


@pytest.mark.fast
def test_question_scores_keep_results_json_numbers_and_skip_what_is_not_a_question():
    from tools.scores import question_scores

    results = {"tests": [
        {"name": "Public Tests", "score": 0, "max_score": 0},
        {"name": "q1", "score": 3, "max_score": 3},
        {"name": "q2", "score": 1.5, "max_score": 3.0},
        {"name": "q3", "score": "3", "max_score": 3},  # not a number: not read as one
        {"name": "q4", "max_score": 3},
        "not a test",
    ]}
    scores = question_scores(results)
    assert scores == {"q1": (3, 3), "q2": (1.5, 3.0)}
    assert type(scores["q1"][0]) is int and type(scores["q2"][1]) is float  # the CSV writes them as Otter does
    assert question_scores(None) == question_scores({"tests": "?"}) == {}
