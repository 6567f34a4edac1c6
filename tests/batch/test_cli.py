"""Batch grading of a folder without Docker (``python -m tools.batch``), end to end.

The mixed folder of ``tests/helpers/graded_folder.py`` (full, partial and blank notebooks, a
``grader.export()`` zip, a truncated notebook, another assignment's notebook, a notebook with
never-ending cells and a text file) is graded once per session with the CLI: real sandboxes
(bubblewrap, cgroup v1), real Otter and TensorFlow, two workers. These tests read what the batch
grader decided for every input (``final_grades.csv``'s rows, the summary it prints); a second run
resumes from ``.state``, a Gradescope export folder reuses those gradings, and Ctrl-C leaves no
half-written report. The reports' format is tested in ``tests/gradebook/test_reports.py``.
Needs what ``tests/grading/test_gradescope.py`` needs (root, cgroup v1, bubblewrap).
"""
from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from otter.grade.utils import POINTS_POSSIBLE_LABEL

from tests.helpers.graded_folder import (
    EXPECTED_STATUS,
    FIXTURES,
    OTTER_COLUMNS,
    QUESTIONS,
    TIMEOUT_S,
    TOTAL,
    _edited,
    _rows,
    _run_cli,
)
from tools.build import ROOT
from tools.gradebook.records import Status
from tools.submissions import load_answer_set

# --- the grade sheet ------------------------------------------------------------------------


def test_every_input_has_exactly_one_row_in_file_order(mixed, sheet):
    _, rows = _rows(mixed["out"] / "final_grades.csv")
    files = [r["file"] for r in rows[1:]]
    assert files == sorted(EXPECTED_STATUS), files  # Otter sorts the rows by file name
    assert {f: sheet[f]["status"] for f in files} == EXPECTED_STATUS, mixed["stdout"]


def test_points_per_question_row(sheet):
    points = sheet[POINTS_POSSIBLE_LABEL]
    expected = {q: float(p) for q, p in load_answer_set("full_credit")["expect"].items()}
    assert {q: float(points[q]) for q in QUESTIONS} == expected
    assert float(points["total_points_earned"]) == sum(expected.values()) == TOTAL
    assert float(points["percent_correct"]) == 1 and points["grading_status"] == "--"
    assert points["status"] == points["reason"] == ""


@pytest.mark.parametrize(
    "file, answer_set", [("alice_full.ipynb", "full_credit"), ("bob_partial.ipynb", "partial")]
)
def test_graded_notebooks_score_as_their_answer_sets_expect(sheet, file, answer_set):
    row = sheet[file]
    expected = {q: float(p) for q, p in load_answer_set(answer_set)["expect"].items()}
    assert {q: float(row[q]) for q in QUESTIONS} == expected, row
    assert float(row["total_points_earned"]) == sum(expected.values())
    assert float(row["percent_correct"]) == round(sum(expected.values()) / TOTAL, 4)
    assert row["grading_status"] == "Completed"


def test_blank_notebook_is_graded_zero(sheet):
    row = sheet["carol_blank.ipynb"]
    assert row["status"] == Status.GRADED and row["grading_status"] == "Completed"
    assert all(float(row[q]) == 0 for q in QUESTIONS)
    assert float(row["total_points_earned"]) == 0 and float(row["percent_correct"]) == 0


def test_export_zip_is_graded_like_its_notebook(sheet):
    row = sheet["dave_export.zip"]
    assert row["status"] == Status.GRADED and row["grading_status"] == "Completed", row
    for q, points in load_answer_set("seed_answers")["expect"].items():
        assert float(row[q]) == float(points), (q, row)


@pytest.mark.parametrize(
    "file, words",
    [
        ("erin_truncated.ipynb", ["not valid JSON"]),
        ("frank_other_lab.ipynb", ["lstm_basics", "rnn_states"]),
        ("gina_endless.ipynb", [f"{TIMEOUT_S:g} s"]),
        ("notes.txt", ["not a notebook"]),
    ],
)
def test_ungraded_inputs_are_zero_rows_saying_why(sheet, file, words):
    row = sheet[file]
    assert all(float(row[q]) == 0 for q in QUESTIONS)
    assert float(row["total_points_earned"]) == 0 and float(row["percent_correct"]) == 0
    assert row["grading_status"] == row["reason"]  # Otter puts the error in grading_status
    for word in words:
        assert word in row["reason"], row



def test_summary_names_every_failure_and_reports_worker_memory(mixed):
    out = mixed["stdout"]
    for file, status in EXPECTED_STATUS.items():
        if status != Status.GRADED:
            assert f"{file}: {status}" in out, out
    peaks = re.findall(r"worker_\d+: \d+ submissions, peak memory (\d+) MiB", out)
    assert peaks and all(0 < int(p) <= 768 for p in peaks), out
    assert (mixed["out"] / "logs" / "gina_endless.ipynb.log").is_file()
    assert "grading" in mixed["stderr"]  # the tqdm progress bar



# --- resuming, Gradescope exports, interruption -----------------------------------------------


def test_rerun_resumes_without_regrading(mixed):
    before = (mixed["out"] / "final_grades.csv").read_bytes()
    proc = _run_cli(mixed["folder"], mixed["out"], mixed["zip"], "--no-progress", timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "graded in this run: 0," in proc.stdout, proc.stdout
    assert (mixed["out"] / "final_grades.csv").read_bytes() == before
    assert not list(mixed["out"].rglob("*.tmp"))


def test_gradescope_export_rows_carry_the_submitters(mixed, tmp_path):
    export = tmp_path / "assignment_777_export"
    export.mkdir()
    shutil.copy(FIXTURES / "submission_metadata.yml", export / "submission_metadata.yml")
    (export / "submission_1001").mkdir()
    shutil.copy(mixed["folder"] / "alice_full.ipynb", export / "submission_1001" / "rnn_states.ipynb")
    (export / "submission_1002").mkdir()
    shutil.copy(mixed["folder"] / "carol_blank.ipynb", export / "submission_1002" / "rnn_states.ipynb")
    (export / "submission_1003").mkdir()
    (export / "submission_1003" / "answers.txt").write_text("I could not get Jupyter to start.\n")
    out = tmp_path / "out"
    shutil.copytree(mixed["out"] / ".state", out / ".state")  # same content: nothing to regrade

    proc = _run_cli(export, out, mixed["zip"], "--no-progress", timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "graded in this run: 0," in proc.stdout, proc.stdout
    header, rows = _rows(out / "final_grades.csv")
    assert header == [*OTTER_COLUMNS, "status", "reason", "reviewed", "integrity", "submission_id", "names", "sids",
                      "emails"]
    by_file = {r["file"]: r for r in rows}
    assert set(by_file) == {POINTS_POSSIBLE_LABEL, "submission_1001", "submission_1002", "submission_1003"}
    assert by_file["submission_1001"]["names"] == "Ann Lee"
    assert float(by_file["submission_1001"]["total_points_earned"]) == TOTAL
    group = by_file["submission_1002"]
    assert group["submission_id"] == "1002" and group["names"] == "Ben Ode; Chloé Ruiz"
    assert group["sids"] == "3031002; 3031003" and group["emails"] == "ben.ode@example.edu; chloe.ruiz@example.edu"
    no_notebook = by_file["submission_1003"]
    assert no_notebook["status"] == Status.NOT_SUBMISSION and no_notebook["sids"] == "3031004"
    review = (out / "review.html").read_text(encoding="utf-8")
    assert "Ben Ode; Chlo" in review


def test_ctrl_c_leaves_no_half_written_report(mixed, tmp_path):
    folder = tmp_path / "subs"
    folder.mkdir()
    _edited(mixed["folder"] / "bob_partial.ipynb", folder / "late.ipynb",
            lambda nb: nb.cells.append(nbformat.v4.new_markdown_cell("late")))
    out = tmp_path / "out"
    command = [sys.executable, "-m", "tools.batch", str(folder), "--out", str(out), "--zip", str(mixed["zip"]),
               "--no-progress"]
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not _sandboxes(proc.pid) and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
        assert _sandboxes(proc.pid), "no sandbox was started"
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=40)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stdout + stderr
    assert "interrupted" in stderr
    assert not (out / "final_grades.csv").exists()
    assert not list(out.rglob("*.tmp")) and not list((out / ".state").glob("*.json"))
    assert not _sandboxes(proc.pid)


def _sandboxes(pid: int) -> list[Path]:
    from tools.sandbox import own_cgroup

    return list(own_cgroup("memory").glob(f"sandbox-{pid}-*"))
