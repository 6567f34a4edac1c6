"""Otter's own ``otter grade`` grades the built zip on a real Docker engine, and so does Gradescope's layout.

Everything runs the real thing: Debian's Docker engine (``make docker`` installs and starts it),
the project's offline base image (``tools.docker.base_image``) given to ``otter grade --image``,
Otter's own Dockerfile and the zip's own setup.sh. The reference submissions, a hostile one
and a truncated one are graded with the command the README gives a TA, from another directory;
the TA's wrapper is run on a folder where one submission's container fails; and the reference
submissions are graded again in containers laid out as Gradescope does, at its limits.

    pytest -m docker        # these tests alone (the first image build takes a few minutes)
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest
import yaml

from autograder.plugins.safe_run import NOT_GRADED
from tools.docker import gradescope as container
from tools.docker.base_image import build as build_base
from tools.docker.engine import ensure_engine
from tools.docker.otter_grade import (
    COMPLETED,
    assignment_name,
    container_outputs,
    otter_grade_command,
    read_grade_sheet,
    run_otter_grade,
)
from tools.submissions import BLANK

pytestmark = pytest.mark.docker

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ("full_credit", "partial", "seed_answers", BLANK)
HOSTILE = "pickle_results_plain"  # forges the results.pkl otter grade unpickles on the TA's machine
CASES = yaml.safe_load((ROOT / "tests" / "hostile" / "cases.yaml").read_text())


def _hostile(base: Path, out: Path, canary: Path) -> Path:
    """The hostile case, its payload's trace moved to ``canary`` on the host, where otter grade unpickles."""
    nb = nbformat.read(base, as_version=4)
    cells = [src.replace("/autograder/results/PWNED-1a", str(canary)) for src in CASES[HOSTILE]["cells"]]
    assert all(str(canary) in src for src in cells[:1]), "the case no longer writes that trace"
    nb.cells[len(nb.cells) - 1:len(nb.cells) - 1] = [nbformat.v4.new_code_cell(src) for src in cells]
    nbformat.write(nb, out)
    return out


def _scores(row: dict[str, str]) -> dict[str, float]:
    return {q: float(v) for q, v in row.items() if q.startswith("q")}


@pytest.fixture(scope="module")
def engine():
    ensure_engine()
    image, _ = build_base()
    return image


@pytest.fixture(scope="module")
def graded_folder(engine, ag_zip, submissions, tmp_path_factory):
    """The README's bare otter grade command, run by a TA from another directory."""
    folder = tmp_path_factory.mktemp("submissions")
    for name in REFERENCE:
        (folder / f"{name}.ipynb").write_bytes(submissions[name].read_bytes())
    canary = tmp_path_factory.mktemp("host") / "PWNED-on-the-TAs-machine"
    _hostile(submissions["full_credit"], folder / f"hostile_{HOSTILE}.ipynb", canary)
    data = submissions["full_credit"].read_bytes()
    (folder / "truncated.ipynb").write_bytes(data[: len(data) // 2])
    out = tmp_path_factory.mktemp("out")
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    command = otter_grade_command(ag_zip, [folder], out, engine, containers=2)
    code, build_s, grade_s = run_otter_grade(command, out / "otter-grade.log", echo=False, cwd=elsewhere)
    log = (out / "otter-grade.log").read_text()
    assert code == 0, log[-5000:]
    print(f"\notter grade: image ready after {build_s:.0f} s, 6 submissions graded in {grade_s:.0f} s")
    rows = {r["file"]: r for r in read_grade_sheet(out / "final_grades.csv")}
    return rows, canary, log


@pytest.mark.parametrize("name", REFERENCE)
def test_reference_submission_grades_exactly(name, graded_folder, expected, grade, submissions):
    rows, _, log = graded_folder
    row = rows[f"{name}.ipynb"]
    assert row["grading_status"] == COMPLETED, (row["grading_status"], container_outputs(log).get(f"{name}.ipynb"))
    scores = _scores(row)
    fixed = {q: 0.0 for q in scores} if name == BLANK else expected(name)
    assert {q: scores[q] for q in fixed} == fixed
    assert scores == {q: float(s) for q, (s, _) in grade(submissions[name]).scores.items() if q in scores}
    assert float(row["total_points_earned"]) == sum(scores.values())


def test_hostile_submission_gains_nothing_and_runs_nothing_on_the_host(graded_folder):
    rows, canary, _ = graded_folder
    hostile, honest = rows[f"hostile_{HOSTILE}.ipynb"], rows["full_credit.ipynb"]
    assert hostile["grading_status"] == COMPLETED
    assert float(hostile["total_points_earned"]) <= float(honest["total_points_earned"])
    assert all(_scores(hostile)[q] <= s for q, s in _scores(honest).items())
    assert not canary.exists(), "a student's pickle ran on the machine that ran otter grade"


def test_truncated_notebook_is_named_with_its_reason(graded_folder):
    rows, _, _ = graded_folder
    row = rows["truncated.ipynb"]
    status = row["grading_status"]
    assert status.startswith(NOT_GRADED) and "truncated.ipynb" in status and "JSON" in status, status
    assert "container failed" not in status and float(row["total_points_earned"]) == 0


def test_image_installs_no_pdf_tools(graded_folder, ag_zip):
    image = f"otter-grade:{assignment_name(ag_zip)}"
    probe = "dpkg -s texlive-xetex >/dev/null 2>&1 || command -v pandoc || ls /root/.cache/ms-playwright 2>/dev/null"
    done = subprocess.run(["docker", "run", "--rm", "--network", "none", image, "sh", "-c", probe],
                          capture_output=True, text=True)
    assert done.returncode != 0 and not done.stdout.strip(), done.stdout


def test_base_image_refuses_a_github_download_it_has_no_stand_in_for(engine):
    url = "https://github.com/jgm/pandoc/releases/download/3.1.11.1/pandoc-3.1.11.1-1-amd64.deb"
    done = subprocess.run(["docker", "run", "--rm", "--network", "none", engine, "wget", "-nv", url, "-O", "/tmp/x"],
                          capture_output=True, text=True)
    assert done.returncode == 4 and "has no stand-in" in done.stderr, done.stderr


def test_wrapper_names_the_submission_whose_container_failed(engine, ag_zip, submissions, tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    with zipfile.ZipFile(folder / "good.zip", "w") as zf:
        zf.write(submissions["full_credit"], "rnn_states.ipynb")
    with zipfile.ZipFile(folder / "broken.zip", "w") as zf:  # two notebooks: Otter's runner exits 1
        zf.write(submissions["full_credit"], "rnn_states.ipynb")
        zf.write(submissions["partial"], "rnn_states (1).ipynb")
    out = tmp_path / "out" / "nested"  # the wrapper creates it
    done = subprocess.run(
        [sys.executable, "-m", "tools.docker.otter_grade", str(folder), "--ext", "zip", "--out", str(out),
         "--zip", str(ag_zip)],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    assert "NOT GRADED: 1 submission(s)" in done.stderr, done.stderr
    assert "broken.zip: Executing" in done.stderr and "Exit code: 1" in done.stderr, done.stderr
    assert "More than one .ipynb file found in submission" in done.stderr, done.stderr
    assert "good.zip" not in done.stderr
    rows = {r["file"]: r for r in read_grade_sheet(out / "final_grades.csv")}
    assert rows["good.zip"]["grading_status"] == COMPLETED and float(rows["good.zip"]["total_points_earned"]) == 44


@pytest.fixture(scope="module")
def gradescope_runs(graded_folder, ag_zip, submissions):
    image = container.image_for(ag_zip)
    with ThreadPoolExecutor(2) as pool:  # two half-CPU containers on two cores
        runs = pool.map(lambda name: (name, container.grade(submissions[name], ag_zip, image)), REFERENCE)
        return dict(runs)


@pytest.mark.parametrize("name", REFERENCE)
def test_gradescope_layout_in_a_container_at_gradescopes_limits(name, gradescope_runs, grade, submissions):
    run = gradescope_runs[name]
    print(f"\n{container.format_run(run)}")
    assert not run.problems, run.log[-3000:]
    assert not run.oom_killed and not run.timed_out and run.exit_code == 0
    scores = {q: s for q, (s, _) in run.question_scores.items()}
    assert scores == {q: s for q, (s, _) in grade(submissions[name]).scores.items()}
