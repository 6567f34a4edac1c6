"""The mixed folder of the batch grader's tests, graded once per session by ``python -m tools.batch``.

Full, partial and blank notebooks, a ``grader.export()`` zip, a truncated notebook, another
assignment's notebook, a notebook with never-ending cells and a text file, graded with the CLI:
real sandboxes (bubblewrap, cgroup v1), real Otter and TensorFlow, two workers. The batch grader's
tests (tests/batch), the reports' (tests/gradebook) and the TA's review in Chromium (tests/review)
read the same grading; ``tests/conftest.py`` loads this module as a plugin so that it runs once.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from otter.grade.utils import POINTS_POSSIBLE_LABEL

from tools.build import DIST, ROOT, autograder_zip, build
from tools.gradebook.records import Status
from tools.registry import registry
from tools.submissions import build_submission, run_as_student

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "batch"
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


@pytest.fixture(scope="session")
def batch_zip() -> Path:
    """The built autograder zip (``GRADESCOPE_ZIP=path`` grades with another, as in grading/test_gradescope.py)."""
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


@pytest.fixture(scope="session")
def mixed(batch_zip: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The mixed folder, graded once by the CLI (once per session: three test folders read it)."""
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
