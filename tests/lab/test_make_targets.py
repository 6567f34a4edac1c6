"""Each make target installs what its job needs and no more (read from ``make -n``, nothing runs)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def dry_run(*args: str) -> str:
    done = subprocess.run(["make", "-n", *args], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.fast
@pytest.mark.parametrize("target", ["grade", "gradescope"])
def test_grading_installs_bubblewrap_not_the_browser(target):
    commands = dry_run(target, "SUBMISSIONS=x", "SUBMISSION=x")
    assert "bubblewrap" in commands
    assert "chromium" not in commands and "docker" not in commands


@pytest.mark.fast
def test_otter_grade_runs_the_wrapper_without_the_browser():
    commands = dry_run("otter-grade", "SUBMISSIONS=x", "EXT=zip")
    assert "-m tools.docker.otter_grade" in commands and "--ext zip" in commands
    assert "chromium" not in commands


@pytest.mark.fast
def test_the_tests_get_the_browser_and_docker():
    commands = dry_run("test")
    assert "chromium" in commands and "bubblewrap" in commands
    assert "-m tools.docker.engine" in commands and "-m tools.docker.base_image" in commands
