"""The Docker tooling's own logic, without Docker (``tests/docker/test_otter_grade.py`` runs it for real).

The TA wrapper's reading of otter grade's grade sheet and log (each way a row can fail, a
missing row, the exit-0 case, on sheets in otter grade's format); the base image's stand-ins,
each declared in ``DEVIATIONS``; the stand-in mamba's reading of conda specs.
"""

from __future__ import annotations

import csv
import importlib.util
import subprocess
from importlib.machinery import SourceFileLoader
from pathlib import Path

import pytest

from tools.docker.base_image import DEVIATIONS, FILES, STANDINS
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


@pytest.mark.fast
def test_every_stand_in_is_a_declared_deviation():
    assert {p.name for p in STANDINS.iterdir()} == set(FILES)
    declared = " ".join(f"{d.online} {d.here} {d.why}" for d in DEVIATIONS)
    for name in FILES:
        assert f"tools/docker/standins/{name}" in declared, name


@pytest.mark.fast
def test_stand_in_mamba_reads_conda_specs_and_checks_python(tmp_path):
    loader = SourceFileLoader("mamba_standin", str(STANDINS / "mamba"))
    mamba = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))
    loader.exec_module(mamba)
    assert mamba.pip_spec("python=3.11") == ("python", "python==3.11.*")
    assert mamba.pip_spec("jupyter_server") == ("jupyter_server", "jupyter_server")
    assert mamba.pip_spec("numpy>=2") == ("numpy", "numpy>=2")
    requirements, skipped = mamba.split_conda(["pip", "jupyter_server", "nb_conda_kernels"])
    assert requirements == ["jupyter_server"] and [s.split(":")[0] for s in skipped] == ["pip", "nb_conda_kernels"]
    hook = subprocess.run([STANDINS / "mamba", "shell", "hook", "--shell", "bash"], capture_output=True, text=True,
                          env={"MAMBA_ROOT_PREFIX": str(tmp_path), "PATH": "/usr/bin:/bin"}, check=True).stdout
    assert f'. "{tmp_path}/envs/${{2:-base}}/bin/activate"' in hook
    wrong = subprocess.run([STANDINS / "mamba", "env", "create", "-f", tmp_path / "missing.yml"],
                           capture_output=True, text=True)
    assert wrong.returncode == 2 and "existing environment file" in wrong.stderr
    refused = subprocess.run([STANDINS / "mamba", "update", "--all"], capture_output=True, text=True)
    assert refused.returncode == 2 and "not supported" in refused.stderr
