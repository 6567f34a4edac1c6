"""Warm batch workers: a fresh unprivileged kernel forked per submission from a TensorFlow-warm process.

The same submission gets the same scores warm, cold (a sandbox of its own, as on Gradescope) and
by `otter run`; the hostile gallery graded through the batch grader (`make grade`'s command,
warm by default) gains nothing, leaks nothing and leaves nothing for the next submission.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tests.integrity.test_gallery import CASES, SECRETS, _inject
from tools.batch.workers import WarmWorker
from tools.gradescope import grade as grade_cold
from tools.limits import GRADESCOPE_LIMITS
from tools.scores import question_scores


@pytest.mark.fast
def test_the_worker_refuses_to_run_outside_a_sandbox_of_its_own(tmp_path):
    """It empties /tmp between submissions: outside its sandbox that would be the machine's /tmp."""
    canary = Path("/tmp") / f"warm-canary-{tmp_path.name}"
    canary.write_text("still here")
    try:
        proc = subprocess.run([sys.executable, "-m", "autograder.isolation.fork_server", str(tmp_path)],
                              capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
        assert proc.returncode == 2, proc.stderr
        assert "sandbox" in proc.stderr or "root" in proc.stderr, proc.stderr
        assert canary.read_text() == "still here"
    finally:
        canary.unlink(missing_ok=True)


def test_warm_cold_and_otter_run_give_the_same_scores(ag_zip, submissions, grade):
    worker = WarmWorker(ag_zip, memory=GRADESCOPE_LIMITS.memory, cpus=1.0, name="test")
    try:
        for name in ("partial", "seed_answers", "full_credit", "blank"):
            warm = worker.grade(submissions[name], timeout=GRADESCOPE_LIMITS.timeout)
            assert warm.valid, (warm.problems, warm.log[-3000:])
            cold = grade_cold(submissions[name], zip_path=ag_zip, cpus=1.0)
            assert cold.valid, cold.problems
            by_otter_run = grade(submissions[name]).scores
            assert question_scores(warm.results) == question_scores(cold.results) == by_otter_run, name
        assert worker.jobs == 4 and worker.running is not None, "one warm worker graded all four"
    finally:
        worker.close()


def _distinct(base: Path, n: int, out: Path) -> Path:
    """The honest submission with a harmless cell of its own (distinct content, so it is graded)."""
    nb = nbformat.read(base, as_version=4)
    nb.cells.insert(len(nb.cells) - 1, nbformat.v4.new_code_cell(f"honest_copy = {n}"))
    nbformat.write(nb, out)
    return out


def test_hostile_gallery_through_the_batch_grader(ag_zip, submissions, grade, tmp_path):
    """Each hostile case is followed, on the same two workers, by an honest copy graded exactly."""
    folder = tmp_path / "class"
    folder.mkdir()
    base = submissions["full_credit"]
    honest = grade(base).scores
    twins = {}  # a case that starts from another base, or has an honest twin: that twin, graded alongside
    for i, name in enumerate(sorted(CASES)):
        case = CASES[name]
        _inject(base, case, folder / f"{i:02d}a_{name}.ipynb")
        _distinct(base, i, folder / f"{i:02d}b_honest.ipynb")
        if case.get("base", "full_credit") != "full_credit" or case.get("honest"):
            twin = {"base": case.get("base", "full_credit"), **case.get("honest", {})}
            twins[f"{i:02d}a_{name}.ipynb"] = _inject(base, twin, folder / f"{i:02d}c_twin.ipynb").name
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "tools.batch", str(folder), "--out", str(out), "--zip", str(ag_zip),
         "--workers", "2", "--no-progress"],
        capture_output=True, text=True, timeout=3000,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    rows = {row["file"]: row for row in csv.DictReader((out / "final_grades.csv").open())}
    for file, row in rows.items():
        if not file.endswith(".ipynb"):
            continue
        scores = {q: float(row[q]) for q in honest}
        if file.endswith("_honest.ipynb"):
            assert scores == {q: float(s) for q, (s, _) in honest.items()}, (file, row["reason"])
        elif file.endswith("_twin.ipynb"):
            continue
        else:
            assert all(scores[q] <= honest[q][0] for q in honest), (file, scores)
            if file in twins:  # no more than its honest twin
                twin = {q: float(rows[twins[file]][q]) for q in honest}
                case = CASES[file[4:-len(".ipynb")]]
                assert sum(scores.values()) <= sum(twin.values()) - case.get("withheld", 0), (file, scores, twin)
                if case["class"] == "host":  # found nothing of the grader's: exactly the twin's scores
                    assert scores == twin, (file, scores, twin)
    # what students would see (results.json's output) holds no secret, and no student text reached the
    # grade sheet or that output (the review sheet shows answers as written, escaped, by design)
    outputs = [json.loads(p.read_text()).get("output", "") for p in (out / ".state").glob("*.json")]
    for secret in SECRETS:
        assert not any(secret in text for text in outputs), secret
    assert "PWNED" not in (out / "final_grades.csv").read_text() + "".join(outputs)
    assert json.loads((out / "question_stats.json").read_text())
