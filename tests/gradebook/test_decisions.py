"""A TA's decisions on written answers (``tools.gradebook.decisions``) and the scores with them
applied (``tools.gradebook.apply``): a torn last line, a decision for a group and for one
submission, the grade sheet and statistics rewritten. The grading is a sheet made from the rubric
engine (``tests/helpers/review_sheet.py``)."""

from __future__ import annotations

import json

import pytest

from tests.helpers.review_sheet import ANSWERS, _csv
from tools.gradebook import decisions
from tools.gradebook.apply import apply, class_stats
from tools.gradebook.reports import write_reports
from tools.gradebook.sheet import DECISIONS, read

pytestmark = pytest.mark.fast


def test_decisions_survive_a_torn_last_line(tmp_path):
    path = tmp_path / "review" / "decisions.jsonl"
    decisions.decide(path, "q2", "output_last_step", "Output  = FINAL", True, "ta")
    with path.open("a", encoding="utf-8") as f:
        f.write('{"question": "q2", "concept": "out')  # the app killed mid-write
    decisions.decide(path, "q2", "output_last_step", "output = final", False, "ta")
    loaded, problems = decisions.load(path)
    assert [d.given for d in loaded] == [True, False] and len(problems) == 1 and "line 2" in problems[0]
    assert loaded[0].answer == "output = final"  # normalised
    assert not decisions.latest(loaded)[("q2", "output_last_step", "output = final", "")].given
    with pytest.raises(decisions.DecisionError, match="reviewer"):
        decisions.decide(path, "q2", "output_last_step", "x", True, " ")


def test_a_group_decision_changes_every_identical_answer_and_the_sheet_says_so(out):
    before = _csv(out / "final_grades.csv")
    assert float(before["ann.ipynb"]["q2"]) == 3 and before["ann.ipynb"]["reviewed"] == ""
    text = ANSWERS["ann.ipynb"]["q2"]
    decisions.decide(out / DECISIONS, "q2", "output_last_step", text, False, "ta", "final output is vague")
    written = write_reports(out)
    after = _csv(out / "final_grades.csv")
    for who in ("ann.ipynb", "ben.ipynb"):
        assert float(after[who]["q2"]) == 2 and "q2 output_last_step withheld by ta" in after[who]["reviewed"]
    assert after["cat.ipynb"]["q2"] == before["cat.ipynb"]["q2"] and after["cat.ipynb"]["reviewed"] == ""
    assert float(after["ann.ipynb"]["total_points_earned"]) == float(before["ann.ipynb"]["total_points_earned"]) - 1
    assert written.reviewed.keys() == {"ann.ipynb", "ben.ipynb"}
    stats = {row["question"]: row for row in json.loads((out / "question_stats.json").read_text())}
    assert stats["q2"]["concepts"]["output_last_step"] == 0.0  # nobody earns it now
    assert stats["q2"]["mean"] == 2.0


def test_a_split_decision_changes_one_submission_only(out):
    sheet = read(out)
    text = ANSWERS["ben.ipynb"]["q8"]
    decisions.decide(out / DECISIONS, "q8", "no_cell_state", text, True, "ta", file="ben.ipynb")
    records, reviewed = apply(sheet, decisions.load(out / DECISIONS)[0])
    scores = {r.file: r.scores.get("q8") for r in records}
    assert scores["ben.ipynb"] == (1, 1) and scores["ann.ipynb"] == (1, 1) and list(reviewed) == ["ben.ipynb"]


def test_scores_stay_within_the_question(out):
    sheet = read(out)
    text = ANSWERS["ann.ipynb"]["q8"]
    made = [decisions.Decision("q8", "no_cell_state", decisions.normalise(text), True, "ta", 1.0)] * 3
    records, _ = apply(sheet, made)
    assert all(r.scores.get("q8", (0, 1))[0] <= 1 for r in records)


def test_class_statistics_count_concepts_and_misconceptions(out):
    stats = class_stats(read(out), [])
    assert stats["q2"]["students"] == 3
    assert stats["q2"]["concepts"]["h_hidden_state"] == 1.0
    assert stats["q8"]["concepts"]["no_cell_state"] == round(2 / 3, 3)
