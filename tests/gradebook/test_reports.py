"""What a grading writes (``tools.gradebook``): the grade sheet in Otter's columns, the question
statistics, the histogram and the review page, read from the mixed folder the batch grader graded
(``tests/helpers/graded_folder.py``); the review page's order on a sheet made here."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import nbformat
import pytest
from otter.grade.utils import POINTS_POSSIBLE_LABEL

from tests.helpers.graded_folder import HTML_ANSWER, OTTER_COLUMNS, QUESTIONS, TOTAL, _rows
from tools.gradebook.inputs import Submission
from tools.gradebook.records import Record, Status
from tools.gradebook.review_page import order, render_html
from tools.gradebook.sheet import Sheet, answer_rows


def test_the_columns_are_otters_own(sheet, mixed):
    """The grade sheet's Otter columns equal what otter.grade.utils makes of the same scores."""
    from otter.grade.utils import merge_scores_to_df
    from otter.test_files import GradingResults
    from otter.test_files.abstract_test import TestCase, TestCaseResult
    from otter.test_files.exception_test import ExceptionTestFile

    results = []
    for file, row in sheet.items():
        if file == POINTS_POSSIBLE_LABEL:
            continue
        if row["status"] != Status.GRADED:
            gr = GradingResults.without_results(Exception(row["reason"]))
        else:
            files = []
            for q in QUESTIONS:
                case = TestCase(q, "", False, _number(sheet[POINTS_POSSIBLE_LABEL][q]), None, None)
                tf = ExceptionTestFile(q, f"{q}.py", [case])
                tf.test_case_results = [TestCaseResult(case, "", True)]
                tf.update_score(_number(row[q]))
                files.append(tf)
            gr = GradingResults(files)
        gr.file = file
        results.append(gr)
    expected = merge_scores_to_df(results).to_csv(index=False)
    ours = grades_frame_from_csv(mixed["out"] / "final_grades.csv")
    assert ours == expected


def _number(text: str) -> int | float:
    return int(text) if re.fullmatch(r"-?\d+", text) else float(text)


def grades_frame_from_csv(path: Path) -> str:
    import pandas as pd

    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    return df[OTTER_COLUMNS].to_csv(index=False)



def test_question_statistics(mixed):
    stats = json.loads((mixed["out"] / "question_stats.json").read_text())
    assert [s["question"] for s in stats] == [*QUESTIONS, "total"]
    by_q = {s["question"]: s for s in stats}
    assert all(s["count"] == 4 for s in stats)  # full, partial, blank, export
    assert by_q["q1"]["max"] == 3 and by_q["q1"]["min"] == 0 and by_q["q1"]["zero"] >= 1
    assert by_q["q7"]["full"] >= 1 and by_q["q7"]["zero"] >= 2  # partial's "I am not sure." and blank
    assert by_q["total"]["max"] == TOTAL and by_q["total"]["min"] == 0
    totals = sorted(_totals(mixed))
    assert by_q["total"]["median"] == pytest.approx((totals[1] + totals[2]) / 2)
    assert by_q["total"]["mean"] == pytest.approx(sum(totals) / 4, abs=1e-3)
    csv_text = (mixed["out"] / "question_stats.csv").read_text()
    assert csv_text.splitlines()[0] == "question,possible,count,mean,median,min,max,full,zero"
    assert "question" in mixed["stdout"] and "median" in mixed["stdout"]


def _totals(mixed) -> list[float]:
    _, rows = _rows(mixed["out"] / "final_grades.csv")
    return [float(r["total_points_earned"]) for r in rows[1:] if r["status"] == Status.GRADED]


def test_histogram_is_a_png(mixed):
    assert (mixed["out"] / "score_histogram.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"



# --- the review sheet ---------------------------------------------------------------------


def _review_table(mixed) -> list[list[str]]:
    text = (mixed["out"] / "review.html").read_text(encoding="utf-8")
    body = text.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


def test_review_sheet_lists_every_written_answer_flagged_then_least_confident_first(mixed):
    from autograder.freetext import QUESTIONS as WRITTEN

    rows = _review_table(mixed)
    files = {"alice_full.ipynb", "bob_partial.ipynb", "carol_blank.ipynb", "dave_export.zip", "gina_endless.ipynb"}
    seen = {(re.sub(r"<.*", "", r[2], flags=re.S), r[3]) for r in rows}
    assert seen == {(f, q) for f in files for q in WRITTEN}
    assert len(rows) == len(files) * len(WRITTEN)
    # answers a second reader flags first, then the least confident; unanswered ones last
    blank = [i for i, r in enumerate(rows) if "carol_blank" in r[2]]
    assert blank == list(range(len(rows) - len(blank), len(rows)))
    answered = rows[:len(rows) - len(blank)]
    flagged = [("class=flag" in r[7] + r[8]) for r in answered]
    assert flagged == sorted(flagged, reverse=True)
    for block in (True, False):
        confidences = [float(r[1]) for r, f in zip(answered, flagged, strict=True) if f is block]
        assert confidences == sorted(confidences), block
    partial_q7 = next(r for r in rows if r[2].startswith("bob_partial.ipynb") and r[3] == "q7")
    assert "I am not sure." in partial_q7[4] and partial_q7[5] == "0 / 4"
    full_q1 = next(r for r in rows if r[2].startswith("alice_full.ipynb") and r[3] == "q1")
    assert full_q1[5] == "3 / 3" and "class=found" in full_q1[7]


def test_review_sheet_escapes_answers(mixed):
    text = (mixed["out"] / "review.html").read_text(encoding="utf-8")
    assert "<script>" not in text
    assert html.escape(HTML_ANSWER, quote=True) in text


@pytest.mark.fast
def test_review_puts_non_literal_answers_first(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("q1_answer = some_variable"), nbformat.v4.new_code_cell("q2_answer = ...")]
    path = tmp_path / "x.ipynb"
    nbformat.write(nb, path)
    sub = Submission("x.ipynb", path, "notebook")
    records = [Record("x.ipynb", Status.GRADED, "", {"q1": (0, 3)})]
    rows = order(answer_rows([sub], records))
    assert rows[0].question == "q1" and rows[0].answered and not rows[1].answered
    assert "not a string: some_variable" in render_html(Sheet(records, [sub], rows))
