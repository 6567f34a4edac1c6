"""The zip grades in the ``/autograder`` that otter grade's image holds, without Docker.

``tools.docker.layout`` lays out ``/autograder`` from the zip as the installed Otter's grade
Dockerfile does (only the files it ADDs, an empty ``submission_metadata.json``), the submission
goes where ``otter grade`` copies it, and the image's ``run_autograder`` runs as root in a
sandbox (``tools.sandbox``) with the project's environment as ``otter-env`` (activated by the
stand-in mamba of ``tools/docker/standins``). What otter grade reads back is the
``results.pkl`` Otter's grading process writes, so that is what is checked.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import dill
import pytest

from autograder.plugins.safe_run import NOT_GRADED
from tools.docker.layout import ENVIRONMENT_COMMANDS, LayoutError, instructions, lay_out
from tools.sandbox import DEFAULT_PATH, run
from tools.submissions import BLANK

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".venv"
MAMBA = ROOT / "tools" / "docker" / "standins" / "mamba"
REFERENCE = ("full_credit", "partial", "seed_answers", BLANK)


def stand_in_conda(root: Path) -> Path:
    """A conda root for the stand-in mamba whose ``otter-env`` has the project's packages but not its own.

    The image's otter-env is made from environment.yml: the grader package is not installed in
    it, only shipped in the zip. The project's venv has it installed (editable), which would hide
    a zip that lacks it; so otter-env is a venv of the same Python that sees the project's
    site-packages through a path entry, where the editable install's ``.pth`` hook does not run.
    """
    (root / "bin").mkdir(parents=True)
    shutil.copy2(MAMBA, root / "bin" / "mamba")
    env = root / "envs" / "otter-env"
    base = subprocess.run([VENV / "bin" / "python", "-c", "import sys; print(sys._base_executable)"],
                          capture_output=True, text=True, check=True).stdout.strip()
    subprocess.run([base, "-m", "venv", "--without-pip", env], check=True)
    purelib = subprocess.run([VENV / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                             capture_output=True, text=True, check=True).stdout.strip()
    own = subprocess.run([env / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                         capture_output=True, text=True, check=True).stdout.strip()
    Path(own, "project-packages.pth").write_text(purelib + "\n")
    return root


def grade_in_image_layout(zip_path: Path, submission: Path, work: Path):
    """Grade ``submission`` in otter grade's layout; return (GradingResults or None, tree, log)."""
    tree = work / "autograder"
    lay_out(zip_path, tree)
    shutil.copy2(submission, tree / "submission" / submission.name)  # where otter grade copies it
    conda = stand_in_conda(work / "miniforge3")
    log = work / "run_autograder.log"
    result = run(
        ["bash", "/autograder/run_autograder"],
        root=tree,
        cpus=1.0,  # the layout is under test here, not the quota
        env={"PATH": f"{conda / 'bin'}:{DEFAULT_PATH}", "MAMBA_ROOT_PREFIX": str(conda), "HOME": "/root",
             "LANG": "C.UTF-8"},
        cwd="/",
        output=log,
        read_only=[work, VENV],
    )
    pickled = tree / "results" / "results.pkl"
    results = dill.loads(pickled.read_bytes()) if pickled.is_file() and pickled.stat().st_size else None
    text = log.read_text(errors="replace")
    assert result.returncode == 0 or results is None, text[-3000:]
    return results, tree, text


@pytest.fixture(scope="module")
def graded(ag_zip, submissions):
    work = Path(tempfile.mkdtemp(prefix="otter-layout-"))
    try:
        def one(name):
            (work / name).mkdir()
            return name, grade_in_image_layout(ag_zip, submissions[name], work / name)

        with ThreadPoolExecutor(2) as pool:
            yield dict(pool.map(one, REFERENCE))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_stand_in_env_has_the_packages_but_not_the_grader(tmp_path):
    python = stand_in_conda(tmp_path / "conda") / "envs" / "otter-env" / "bin" / "python"
    assert subprocess.run([python, "-c", "import otter, tensorflow"], capture_output=True).returncode == 0
    done = subprocess.run([python, "-c", "import autograder"], capture_output=True, text=True, cwd=tmp_path)
    assert "No module named 'autograder'" in done.stderr


def test_layout_is_the_dockerfiles(ag_zip, tmp_path):
    layout = lay_out(ag_zip, tmp_path / "autograder")
    tree = tmp_path / "autograder"
    # what the image has, and what it lacks: the zip-root package is not ADDed
    assert (tree / "run_autograder").is_file() and os.access(tree / "run_autograder", os.X_OK)
    assert (tree / "submission_metadata.json").read_bytes() == b""
    assert (tree / "source" / "files" / "autograder" / "integrity" / "shipped_cells.json").is_file()
    assert not (tree / "source" / "autograder").exists()
    assert any("setup.sh" in step for step in layout.skipped)


@pytest.mark.fast
def test_a_changed_dockerfile_is_refused(tmp_path):
    zip_path = tmp_path / "ag.zip"
    with zipfile.ZipFile(zip_path, "w") as zf:
        zf.writestr("run_autograder", "#!/bin/bash\n")
    with pytest.raises(LayoutError, match="WORKDIR"):
        lay_out(zip_path, tmp_path / "a", "FROM x\nWORKDIR /autograder\n")
    with pytest.raises(LayoutError, match="pip install"):
        lay_out(zip_path, tmp_path / "b", "FROM x\nRUN mkdir -p /autograder && pip install otter-grader\n")
    with pytest.raises(LayoutError, match="outside"):
        lay_out(zip_path, tmp_path / "c", "FROM x\nADD run_autograder /usr/local/bin/\n")
    assert instructions("RUN a && \\\n    b\n# c\nADD x y/") == [("RUN", "a && b"), ("ADD", "x y/")]
    assert set(ENVIRONMENT_COMMANDS) == {"apt-get", "bash /autograder/source/setup.sh", "rm -rf"}


@pytest.mark.parametrize("name", REFERENCE)
def test_reference_submission_grades_exactly(name, graded, expected, grade, submissions):
    results, _, log = graded[name]
    assert results is not None, f"no results.pkl for otter grade to read:\n{log[-3000:]}"
    assert not results.has_catastrophic_failure(), results.catastrophic_error
    scores = {q: tf.score for q, tf in results.results.items()}
    # the questions the answer set fixes (the blank notebook: none earns a point), and every
    # question as `otter run` grades it
    fixed = {q: 0.0 for q in scores} if name == BLANK else expected(name)
    assert {q: scores[q] for q in fixed} == fixed
    otter_run = {q: s for q, (s, _) in grade(submissions[name]).scores.items() if q in scores}
    assert scores == otter_run
    assert results.possible == 44


def test_truncated_notebook_is_refused_with_its_reason(ag_zip, submissions, tmp_path):
    data = submissions["full_credit"].read_bytes()
    truncated = tmp_path / "truncated.ipynb"
    truncated.write_bytes(data[: len(data) // 2])
    results, tree, log = grade_in_image_layout(ag_zip, truncated, tmp_path)
    assert results is not None, log[-3000:]
    reason = str(results.catastrophic_error)
    assert reason.startswith(NOT_GRADED) and "truncated.ipynb" in reason and "JSON" in reason, reason
    assert (tree / "results" / "results.json").is_file()


def test_blank_metadata_reads_as_no_metadata(graded):
    _, tree, _ = graded["blank"]
    assert (tree / "submission_metadata.json").read_text().strip() == "{}"
