"""Otter's own command, as its documentation gives it, from a directory that is not the checkout."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

from tools.registry import registry
from tools.scores import question_scores

OTTER = Path(sys.executable).with_name("otter")


def _otter_run(ag_zip: Path, submission: Path, cwd: Path) -> dict:
    out = cwd / "out"
    out.mkdir()
    proc = subprocess.run(
        [str(OTTER), "run", "-a", str(ag_zip), "-o", "out", str(submission)],
        cwd=cwd, capture_output=True, text=True, timeout=600,
    )
    assert (out / "results.json").is_file(), proc.stdout[-2000:] + proc.stderr[-3000:]
    return json.loads((out / "results.json").read_text())


def test_otter_run_from_any_directory_grades_with_the_plugins(ag_zip, submissions, tmp_path):
    results = _otter_run(ag_zip, submissions["full_credit"], tmp_path)
    scores = question_scores(results)
    assert sorted(scores) == sorted(registry().ids)
    assert sum(s for s, _ in scores.values()) == registry().total
    public = next(t for t in results["tests"] if t["name"] == "Public Tests")
    assert "ran in the grader" in public["output"], public  # the isolation plugin's sentence


def test_the_zip_being_graded_wins_over_the_installed_package(ag_zip, submissions, tmp_path):
    """A TA grades with the code and rubrics the zip ships, whatever the checkout holds."""
    patched = tmp_path / "patched.zip"
    marker = "graded by the zip's own copy of the engine"
    with zipfile.ZipFile(ag_zip) as src, zipfile.ZipFile(patched, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "autograder/freetext/grading.py":
                data = data.replace(
                    b"    result = grade_answer(question, answer).concept(concept_id)\n",
                    f"    raise AssertionError({marker!r})\n".encode(),
                )
                assert marker.encode() in data
            dst.writestr(item, data)
    workdir = tmp_path / "ta"
    workdir.mkdir()
    results = _otter_run(patched, submissions["full_credit"], workdir)
    q12 = next(t for t in results["tests"] if t["name"] == "q12")
    assert q12["score"] < q12["max_score"] and marker in q12["output"], q12
