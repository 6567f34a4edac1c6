"""How the batch grader classifies a sandbox run, reuses a stored grading and grades identical
submissions once (``tools.batch.grade``), without a sandbox."""

from __future__ import annotations

import json

import pytest

from autograder.plugins.safe_run import refusal
from autograder.submission_check import Problem, Reason
from tools.gradebook.inputs import Submission
from tools.gradebook.records import Record, Status


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
