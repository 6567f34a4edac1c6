"""The TA wrapper's reading of otter grade's grade sheet and log (``tools.docker.otter_grade``), without Docker.

``tests/test_otter_grade.py`` runs it on a real failing container; these check each way a row
can fail, a missing row and the exit-0 case on sheets in otter grade's format.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tools.docker.otter_grade import COMPLETED, Failure, OtterGradeRun, check_grade_sheet, report

LOG = """[DEBUG otter.grade.containers.grade_submission] Grading /x/a.ipynb in container 0123456789ab...
[INFO otter.grade.containers.grade_submission] Grading a.ipynb
[DEBUG otter.grade.containers.grade_submission] Container 0123456789ab logs:
    Traceback (most recent call last):

    ModuleNotFoundError: No module named 'autograder'
[ERROR otter.grade.containers.grade_submission] An error occurred while grading "a.ipynb":
"""


def _sheet(path: Path, rows: list[tuple[str, str]]) -> Path:
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["file", "q1", "total_points_earned", "percent_correct", "grading_status"])
        writer.writerow(["points-per-question", 3, 3, 1.0, "--"])
        for file, status in rows:
            writer.writerow([file, 0, 0, 0.0, status])
    return path


@pytest.mark.fast
def test_grade_sheet_check_names_failures_and_missing_rows(tmp_path):
    sheet = _sheet(tmp_path / "final_grades.csv", [
        ("a.ipynb", "Executing '/x/a.ipynb' in docker container failed! Exit code: 1"),
        ("b.ipynb", COMPLETED),
        ("c.ipynb", "Executing '/x/c.ipynb' in docker container timed out in 600 seconds"),
    ])
    failures, missing = check_grade_sheet(sheet, ["a.ipynb", "b.ipynb", "c.ipynb", "d.ipynb"], LOG)
    assert [(f.file, f.container_said) for f in failures] == [
        ("a.ipynb", "ModuleNotFoundError: No module named 'autograder'"), ("c.ipynb", "")]
    assert "timed out" in failures[1].reason and missing == ["d.ipynb"]
    failures, missing = check_grade_sheet(_sheet(tmp_path / "ok.csv", [("b.ipynb", COMPLETED)]), ["b.ipynb"])
    assert failures == [] and missing == []


@pytest.mark.fast
def test_report_says_what_to_do_with_the_zero_rows(tmp_path):
    run = OtterGradeRun([], tmp_path / "final_grades.csv", tmp_path / "otter-grade.log", [{"file": "a"}, {"file": "b"}],
                        [Failure("a", "Executing 'a' in docker container failed! Exit code: 1", "KeyError: 'x'")])
    text = report(run)
    assert "graded 1 of 2" in text and "NOT GRADED: 1" in text and "do not upload" in text
    assert "a: Executing" in text and "its container's last line: KeyError: 'x'" in text
