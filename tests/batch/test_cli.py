"""Batch grading of a folder without Docker (``python -m tools.batch``), end to end.

A mixed folder (full, partial and blank notebooks, a ``grader.export()`` zip, a truncated
notebook, another assignment's notebook, a notebook with never-ending cells and a text file)
is graded once per module with the CLI: real sandboxes (bubblewrap, cgroup v1), real Otter
and TensorFlow, two workers. The tests then read every row of ``final_grades.csv``, the
statistics, the histogram and the review sheet; a second run resumes from ``.state``, a
Gradescope export folder reuses those gradings, and Ctrl-C leaves no half-written report.
Needs what ``tests/test_gradescope.py`` needs (root, cgroup v1, bubblewrap).
"""

from __future__ import annotations

import csv
import html
import json
import os
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

from autograder.plugins.safe_run import refusal, submission_problem
from autograder.submission_check import Problem, Reason
from tools.batch.discover import discover, read_metadata
from tools.build import DIST, ROOT, autograder_zip, build
from tools.gradebook.answers import extract_answers
from tools.gradebook.inputs import Submission
from tools.gradebook.records import Record, Status
from tools.gradebook.review_page import order, render_html
from tools.gradebook.sheet import Sheet, answer_rows
from tools.registry import registry
from tools.submissions import build_submission, load_answer_set, run_as_student

FIXTURES = Path(__file__).parent / "fixtures" / "batch"
QUESTIONS = registry().ids
TOTAL = registry().total
OTTER_COLUMNS = ["file", *sorted(QUESTIONS), "total_points_earned", "percent_correct", "grading_status"]
TIMEOUT_S = 100  # the endless notebook's three `while True` cells need 3 x 60 s under the grading guard
HTML_ANSWER = 'No: <script>alert("x")</script> & c < h, "quoted"'

EXPECTED_STATUS = {
    "alice_full.ipynb": Status.GRADED,
    "bob_partial.ipynb": Status.GRADED,
    "carol_blank.ipynb": Status.GRADED,
    "dave_export.zip": Status.GRADED,
    "erin_truncated.ipynb": Status.MALFORMED,
    "frank_other_lab.ipynb": Status.WRONG_ASSIGNMENT,
    "gina_endless.ipynb": Status.TIMEOUT,
    "notes.txt": Status.NOT_SUBMISSION,
}


@pytest.fixture(scope="module")
def batch_zip() -> Path:
    """The built autograder zip (``GRADESCOPE_ZIP=path`` grades with another, as in test_gradescope)."""
    if os.environ.get("GRADESCOPE_ZIP"):
        return Path(os.environ["GRADESCOPE_ZIP"]).resolve()
    if not DIST.exists():
        build(run_tests=False)
    return autograder_zip()


def _run_cli(folder: Path, out: Path, zip_path: Path, *extra: str, timeout: float = 900) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "tools.batch", str(folder), "--out", str(out), "--zip", str(zip_path),
               "--workers", "2", "--timeout", str(TIMEOUT_S), *extra]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def _edited(nb_path: Path, out: Path, edit) -> Path:
    nb = nbformat.read(nb_path, as_version=4)
    edit(nb)
    nbformat.write(nb, out)
    return out


def _endless(nb: nbformat.NotebookNode) -> None:
    answer_cells = [c for c in nb.cells if c.cell_type == "code" and re.match(r"q\d+_answer = ", c.source)]
    for cell in answer_cells[:3]:  # three never-ending cells
        cell.source += "\nwhile True:\n    pass"
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source.startswith("q7_answer = "):
            cell.source = f"q7_answer = {HTML_ANSWER!r}"


def _other_assignment(nb: nbformat.NotebookNode) -> None:
    nb.metadata["otter"]["assignment_name"] = "lstm_basics"


@pytest.fixture(scope="module")
def mixed(batch_zip: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The mixed folder, graded once by the CLI."""
    base = tmp_path_factory.mktemp("batch")
    built = base / "built"
    refs = {name: build_submission(name, built) for name in ("full_credit", "partial", "blank", "seed_answers")}
    folder = base / "submissions"
    folder.mkdir()
    shutil.copy(refs["full_credit"], folder / "alice_full.ipynb")
    shutil.copy(refs["partial"], folder / "bob_partial.ipynb")
    shutil.copy(refs["blank"], folder / "carol_blank.ipynb")
    export = run_as_student(refs["seed_answers"], base / "student-run").export_zip
    assert export is not None, "the student run of seed_answers wrote no export zip"
    shutil.copy(export, folder / "dave_export.zip")
    data = refs["full_credit"].read_bytes()
    (folder / "erin_truncated.ipynb").write_bytes(data[: len(data) // 2])
    _edited(refs["full_credit"], folder / "frank_other_lab.ipynb", _other_assignment)
    _edited(refs["full_credit"], folder / "gina_endless.ipynb", _endless)
    (folder / "notes.txt").write_text("Grading notes: Gina's notebook never finishes.\n")

    out = base / "out"
    started = time.monotonic()
    proc = _run_cli(folder, out, batch_zip)
    wall = time.monotonic() - started
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return {"folder": folder, "out": out, "stdout": proc.stdout, "stderr": proc.stderr, "wall": wall,
            "zip": batch_zip, "base": base}


def _rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


@pytest.fixture(scope="module")
def sheet(mixed) -> dict[str, dict[str, str]]:
    header, rows = _rows(mixed["out"] / "final_grades.csv")
    assert header == [*OTTER_COLUMNS, "status", "reason", "reviewed", "integrity"], header
    assert rows[0]["file"] == POINTS_POSSIBLE_LABEL
    return {row["file"]: row for row in rows}


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


# --- statistics, histogram, logs, terminal ---------------------------------------------------


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


def test_summary_names_every_failure_and_reports_worker_memory(mixed):
    out = mixed["stdout"]
    for file, status in EXPECTED_STATUS.items():
        if status != Status.GRADED:
            assert f"{file}: {status}" in out, out
    peaks = re.findall(r"worker_\d+: \d+ submissions, peak memory (\d+) MiB", out)
    assert peaks and all(0 < int(p) <= 768 for p in peaks), out
    assert (mixed["out"] / "logs" / "gina_endless.ipynb.log").is_file()
    assert "grading" in mixed["stderr"]  # the tqdm progress bar


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
def test_answers_are_read_statically():
    nb = {"cells": [
        {"cell_type": "code", "source": "q1_answer = 'first'\nq1_answer = 'second'"},
        {"cell_type": "code", "source": ["%matplotlib inline\n", "q2_answer = ('implicit '\n", "  'concatenation')"]},
        {"cell_type": "code", "source": "q4_answer = f'{1 + 1} states'"},
        {"cell_type": "code", "source": "q5_answer = 'kept despite' \nthis is not python("},
        {"cell_type": "code", "source": "q7_answer = ..."},
        {"cell_type": "markdown", "source": "q8_answer = 'markdown is not code'"},
        {"cell_type": "code", "source": "import os\nos.system('touch /tmp/pwned')\nq10_answer = 'x'"},
    ]}
    answers = extract_answers(nb)
    assert answers["q1"].text == "second"
    assert answers["q2"].text == "implicit concatenation"
    assert answers["q4"].text is None and "f'" in answers["q4"].source
    assert answers["q5"].text == "kept despite"
    assert answers["q7"].text is None and answers["q7"].source == "..."
    assert "q8" not in answers
    assert answers["q10"].text == "x"
    assert not Path("/tmp/pwned").exists()


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


@pytest.mark.fast
def test_discover_handles_a_folder_holding_an_export(tmp_path):
    export = tmp_path / "assignment_777_export"
    (export / "submission_1001").mkdir(parents=True)
    shutil.copy(FIXTURES / "submission_metadata.yml", export / "submission_metadata.yml")
    (export / "submission_1001" / "rnn_states.ipynb").write_text("{")
    (tmp_path / "stray").mkdir()
    subs = discover(tmp_path, "rnn_states")
    assert [(s.file, s.problem[0]) for s in subs] == [
        ("assignment_777_export/submission_1001", Status.MALFORMED),
        ("stray", Status.NOT_SUBMISSION),
    ]
    assert subs[0].submitters[0].email == "ann.lee@example.edu"
    assert read_metadata(FIXTURES / "submission_metadata.yml")["submission_1002"][1].name == "Chloé Ruiz"


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


# --- classification of a sandbox run, without a sandbox ------------------------------------------


def _fake_run(results=None, *, timed_out=False, oom=False, log="", problems=()):
    from types import SimpleNamespace

    sandbox = SimpleNamespace(timed_out=timed_out, oom_killed=oom, peak_memory=0, wall_time=1.0)
    return SimpleNamespace(sandbox=sandbox, results=results, problems=list(problems), log=log)


@pytest.mark.fast
def test_classify_covers_every_way_a_run_ends():
    from pathlib import Path as P

    from tools.batch.grade import Options, classify

    options = Options(zip_path=P("x.zip"), memory=768 * 2**20, cpus=1.0, timeout=30, workers=1)
    expected_timeout = (Status.TIMEOUT, "grading took longer than 30 s and was stopped")
    assert classify(_fake_run(timed_out=True), options)[:2] == expected_timeout
    status, reason, _ = classify(_fake_run(oom=True), options)
    assert status == Status.CRASHED and "out of memory (limit 768 MiB)" in reason
    status, reason, _ = classify(_fake_run(log="Traceback ...\nModuleNotFoundError: No module named 'x'\n"), options)
    assert status == Status.CRASHED and "ModuleNotFoundError: No module named 'x'" in reason
    failed = {"tests": [{"name": "Autograder Failed", "output": "..."},
                        {"name": "Autograder Exception", "output": "Traceback\nValueError: boom"}]}
    status, reason, _ = classify(_fake_run(failed), options)
    assert status == Status.CRASHED and "ValueError: boom" in reason
    other = Problem(Reason.WRONG_ASSIGNMENT, "x.ipynb", detail="other", expected="rnn_states")
    assert classify(_fake_run(refusal(other, {})), options) == (Status.WRONG_ASSIGNMENT, other.message(), {})
    graded = {"tests": [{"name": "Public Tests", "score": 0, "max_score": 0},
                        {"name": "q1", "score": 1.5, "max_score": 3}, {"name": "q2", "score": 3, "max_score": 3}],
              "output": "Cell 9 ran longer than 60 s and was stopped"}
    status, reason, scores = classify(_fake_run(graded), options)
    assert (status, scores) == (Status.GRADED, {"q1": (1.5, 3), "q2": (3, 3)}) and "Cell 9" in reason


@pytest.mark.fast
@pytest.mark.parametrize(
    "reason, status",
    [
        (Reason.NOT_UTF8, Status.MALFORMED),
        (Reason.NOT_JSON, Status.MALFORMED),
        (Reason.NOT_NOTEBOOK, Status.MALFORMED),
        (Reason.NO_ASSIGNMENT, Status.WRONG_ASSIGNMENT),
        (Reason.WRONG_ASSIGNMENT, Status.WRONG_ASSIGNMENT),
    ],
)
def test_classify_reads_the_refusal_reason_not_its_words(reason, status):
    from pathlib import Path as P

    from tools.batch.grade import Options, classify

    # a file name that the old English-matching ("grades '", "notebook for") would have misread
    problem = Problem(reason, "grades 'x' notebook for.ipynb", detail="other", expected="rnn_states")
    refused = json.loads(json.dumps(refusal(problem, {})))  # as read back from results.json
    options = Options(zip_path=P("x.zip"), memory=768 * 2**20, cpus=1.0, timeout=30, workers=1)
    assert classify(_fake_run(refused), options) == (status, problem.message(), {})


@pytest.mark.fast
def test_every_refusal_reason_has_a_status():
    from tools.gradebook.records import status_of

    assert {status_of(reason) for reason in Reason} <= {Status.MALFORMED, Status.WRONG_ASSIGNMENT}


def _notebook_bytes(assignment: str | None) -> bytes:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("q1_answer = 'x'")])
    if assignment is not None:
        nb.metadata["otter"] = {"assignment_name": assignment}
    return nbformat.writes(nb).encode()


@pytest.mark.fast
def test_discover_and_the_zip_refuse_a_file_in_the_same_words(tmp_path):
    """The batch grader's static check and the zip's entry point give one verdict, word for word."""
    good = _notebook_bytes("rnn_states")
    files = {
        "binary.ipynb": b"PK\x03\x04\xff\xfe not text",
        "truncated.ipynb": good[: len(good) // 2],
        "list.ipynb": b"[1, 2]",
        "nameless.ipynb": _notebook_bytes(None),
        "other.ipynb": _notebook_bytes("lstm_basics"),
        "good.ipynb": good,
    }
    folder = tmp_path / "subs"
    folder.mkdir()
    for name, data in files.items():
        (folder / name).write_bytes(data)
    statuses = {}
    for sub in discover(folder, "rnn_states"):
        ag = tmp_path / "ag" / sub.file
        (ag / "submission").mkdir(parents=True)
        shutil.copy(sub.path, ag / "submission" / sub.file)
        problem = submission_problem(str(ag), {"assignment_name": "rnn_states"})
        assert (sub.problem and sub.problem[1]) == (problem and problem.message()), sub.file
        statuses[sub.file] = (sub.problem[0] if sub.problem else None, problem and problem.reason)
    assert statuses == {
        "binary.ipynb": (Status.MALFORMED, Reason.NOT_UTF8),
        "truncated.ipynb": (Status.MALFORMED, Reason.NOT_JSON),
        "list.ipynb": (Status.MALFORMED, Reason.NOT_NOTEBOOK),
        "nameless.ipynb": (Status.WRONG_ASSIGNMENT, Reason.NO_ASSIGNMENT),
        "other.ipynb": (Status.WRONG_ASSIGNMENT, Reason.WRONG_ASSIGNMENT),
        "good.ipynb": (None, None),
    }


@pytest.mark.fast
def test_stored_timeouts_are_regraded_with_a_longer_timeout():
    from pathlib import Path as P

    from tools.batch.grade import Options, reusable

    record = Record("x.ipynb", Status.TIMEOUT, "", {}, timeout=30)
    assert reusable(record, Options(P("x.zip"), 768, 1.0, 30, 1))
    assert not reusable(record, Options(P("x.zip"), 768, 1.0, 60, 1))


@pytest.mark.fast
def test_identical_submissions_are_graded_once(tmp_path, monkeypatch):
    from tools.batch import grade as grade_module

    calls = []

    def fake_grade_one(sub, options, key, cancel):
        calls.append(sub.file)
        return Record(sub.file, Status.GRADED, "", {"q1": (3, 3)}, key=key, worker="worker_0")

    monkeypatch.setattr(grade_module, "grade_one", fake_grade_one)
    for name in ("a.ipynb", "b.ipynb", "c.ipynb"):
        (tmp_path / name).write_text("same" if name != "c.ipynb" else "different")
    subs = [Submission(n, tmp_path / n, "notebook") for n in ("a.ipynb", "b.ipynb", "c.ipynb")]
    (tmp_path / "ag.zip").write_bytes(b"zip")
    options = grade_module.Options(tmp_path / "ag.zip", 768, 1.0, 60, 2)
    records = grade_module.grade_all(subs, options, tmp_path / "out")
    assert sorted(calls) == ["a.ipynb", "c.ipynb"]
    assert [r.file for r in records] == ["a.ipynb", "b.ipynb", "c.ipynb"]
    assert records[1].cached and records[1].scores == {"q1": (3, 3)}
    again = grade_module.grade_all(subs, options, tmp_path / "out")  # resumed: nothing graded
    assert len(calls) == 2 and all(r.cached for r in again)


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


# --- the TA's review in a browser ------------------------------------------------------------


def _start_review(out: Path) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "tools.review", str(out), "--reviewer", "ta", "--port", "0"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    match = re.search(r"(http://127\.0\.0\.1:\d+/)", line)
    assert match, (line, proc.stderr.read() if proc.poll() is not None else "")
    return proc, match.group(1)


def test_a_ta_reviews_flagged_groups_first_and_decides_by_keyboard_in_chromium(mixed, tmp_path):
    from autograder.freetext import rubric_concepts
    from tests.jupyterlab import browser_missing, chromium
    from tools.gradebook import decisions as decisions_file
    from tools.gradebook.apply import apply
    from tools.gradebook.sheet import DECISIONS, read

    missing = browser_missing()
    if missing:
        pytest.fail(missing)
    out = tmp_path / "out"
    shutil.copytree(mixed["out"], out)
    before_csv = (out / "final_grades.csv").read_text(encoding="utf-8")
    before_stats = json.loads((out / "question_stats.json").read_text(encoding="utf-8"))
    sheet = read(out)
    proc, url = _start_review(out)
    try:
        with chromium(tmp_path / "profile") as driver:
            from selenium.webdriver.common.action_chains import ActionChains
            from selenium.webdriver.common.by import By
            from selenium.webdriver.support.ui import WebDriverWait

            def press(key: str) -> None:  # to whatever has the focus, as a person typing
                ActionChains(driver).send_keys(key).perform()

            driver.get(url)
            # what to review first: bob's partial q2 answer is one a second reader reads otherwise
            index = driver.find_element(By.TAG_NAME, "body").text
            assert "need no review" in index and "flagged" in index
            driver.find_element(By.CSS_SELECTOR, "a[href='/q/q2/output_last_step']").click()
            WebDriverWait(driver, 20).until(
                lambda d: d.execute_script("return document.activeElement.matches('section.group')"))
            page = driver.find_element(By.TAG_NAME, "body").text
            assert "q2 asks: What do output, h and c represent?" in page
            assert "The concept is earned when the answer says: output is the LSTM's output at the last" in page
            sections = driver.find_elements(By.CSS_SELECTOR, "section.group")
            flagged = ["flagged" in g.get_attribute("class").split() for g in sections]
            assert flagged[0] and flagged == sorted(flagged, reverse=True), flagged  # flagged groups first
            bob = next(g for g in sections if "bob_partial.ipynb" in g.text)
            assert "flagged" in bob.get_attribute("class").split(), bob.text
            assert "flagged: a second reader thinks this answer does say: output is" in bob.text
            assert re.search(r"\b1 answer\b", bob.text) and "1 answers" not in page
            assert "carol_blank" not in page  # an unanswered question is in no group
            driver.get(url)
            driver.find_element(By.LINK_TEXT, "every_step").click()
            WebDriverWait(driver, 20).until(
                lambda d: d.execute_script("return document.activeElement.matches('section.group')"))
            groups = driver.find_elements(By.CSS_SELECTOR, "section.group")
            assert len(groups) >= 2
            first = groups[0].get_attribute("id")
            engine_gave = "engine: given" in groups[0].text
            # keyboard alone: decide the focused group the other way from the engine
            press("w" if engine_gave else "g")
            WebDriverWait(driver, 20).until(lambda d: len(decisions_file.load(out / DECISIONS)[0]) >= 1)
            WebDriverWait(driver, 20).until(
                lambda d: d.execute_script("return document.readyState") == "complete"
                and d.execute_script("return document.activeElement.matches('section.group')"))
            # the page comes back on the next group (a decided group sorts after the open ones);
            # j moves on, k back
            focused = driver.execute_script("return document.activeElement.id")
            assert focused != first
            assert "decided" in driver.find_element(By.ID, first).get_attribute("class")
            order = [g.get_attribute("id") for g in driver.find_elements(By.CSS_SELECTOR, "section.group")]
            press("j")
            assert driver.execute_script("return document.activeElement.id") == order[order.index(focused) + 1]
            press("k")
            assert driver.execute_script("return document.activeElement.id") == focused
            driver.get(url + "class")
            assert "every_step" in driver.page_source
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    made, problems = decisions_file.load(out / DECISIONS)
    assert not problems and made and all(d.question == "q7" and d.concept == "every_step" and d.reviewer == "ta"
                                         and d.given != engine_gave for d in made)
    records, reviewed = apply(sheet, made)
    changed = {r.file for r in records if r.status == Status.GRADED} & set(reviewed)
    assert changed, "the decision changed no graded submission's score"
    after = {row["file"]: row for row in csv.DictReader((out / "final_grades.csv").open(encoding="utf-8"))}
    old = {row["file"]: row for row in csv.DictReader(before_csv.splitlines())}
    points = dict(rubric_concepts("q7"))["every_step"]
    for file in changed:
        delta = float(after[file]["q7"]) - float(old[file]["q7"])
        assert delta == (-points if engine_gave else points) and "q7 every_step" in after[file]["reviewed"]
    for file in set(old) - changed - {POINTS_POSSIBLE_LABEL}:
        assert after[file]["q7"] == old[file]["q7"] and after[file]["reviewed"] == ""
    stats = json.loads((out / "question_stats.json").read_text(encoding="utf-8"))
    q7_before = next(s for s in before_stats if s["question"] == "q7")
    q7_after = next(s for s in stats if s["question"] == "q7")
    assert q7_after["concepts"]["every_step"] != q7_before["concepts"]["every_step"]
    # a re-run of the batch grader keeps the decision
    proc = _run_cli(mixed["folder"], out, mixed["zip"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rerun = {row["file"]: row for row in csv.DictReader((out / "final_grades.csv").open(encoding="utf-8"))}
    assert all(rerun[f]["q7"] == after[f]["q7"] and rerun[f]["reviewed"] for f in changed)
