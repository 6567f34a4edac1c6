"""Bounded work in the grading process: each question within its time and memory, the watchdog's result.

Real processes, real signals, real Otter test files and results: a check that never ends, one that
allocates without limit and a grading process that hangs or is killed are each graded to a
complete results.json (and a results.pkl ``otter grade`` can read) within a few seconds.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from autograder.isolation import bounded, hidden_tests
from autograder.isolation.results import complete_results, write_results
from autograder.isolation.watchdog import GRACE
from autograder.not_gradable import NotGradable

MiB = 1024 * 1024

TESTS = {
    "q1.py": """
        @test_case(points=1, hidden=True)
        def test_q1_first(q1_answer):
            assert q1_answer == "ok", "q1 is not ok"

        @test_case(points=1, hidden=True)
        def test_q1_forever(q1_answer):
            while True:
                pass
    """,
    "q2.py": """
        @test_case(points=2, hidden=True)
        def test_q2_hungry(q2_answer):
            hoard = []
            while True:
                hoard.append(bytearray(16 * 1024 * 1024))
    """,
    "q3.py": """
        @test_case(points=0, hidden=False)
        def test_q3_public(q3_answer):
            assert False, "public cases are not rerun"

        @test_case(points=1, hidden=True)
        def test_q3_fine(q3_answer):
            import tabnanny  # nothing else in the suite imports it (colorsys did not stay so)
            assert q3_answer == 3, "q3 is wrong"

        @test_case(points=1, hidden=True)
        def test_q3_too_long(q3_text):
            assert isinstance(q3_text, str), "no text"
    """,
}


@pytest.fixture
def tests_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "tests"
    directory.mkdir()
    for name, body in TESTS.items():
        header = f'from otter.test_files import test_case\n\nOK_FORMAT = False\n\nname = "{name[:-3]}"\npoints = None\n'
        (directory / name).write_text(header + textwrap.dedent(body))
    return directory


NAMESPACE = {"q1_answer": "ok", "q2_answer": "x", "q3_answer": 3, "q3_text": NotGradable("text", "it is too long")}


def _scores(graded: hidden_tests.Graded) -> dict[str, float]:
    return {name: test_file.score for name, test_file in graded.files.items()}


def _messages(graded: hidden_tests.Graded, name: str) -> list[str]:
    return [r.message for r in graded.files[name].test_case_results]


@pytest.mark.fast
def test_each_question_runs_within_its_budget_and_the_others_are_graded(tests_dir):
    budget = hidden_tests.Budget(seconds=2.0, memory=64 * MiB, deadline=time.monotonic() + 60)
    heard: dict[str, list] = {}
    start = time.monotonic()
    graded = hidden_tests.run(hidden_tests.load(tests_dir), NAMESPACE, budget, on_question=heard.__setitem__)
    took = time.monotonic() - start
    assert took < 2.0 + 2.0 + 5.0, took  # q1 used its 2 s, q2 stopped at 64 MiB, q3 at once
    assert _scores(graded) == {"q1": 1, "q2": 0, "q3": 1}
    q1 = _messages(graded, "q1")
    assert q1[0] == hidden_tests.PASSED and "took longer than the grader allows (2 s)" in q1[1]
    assert "needed more memory than the grader allows (64 MiB)" in _messages(graded, "q2")[0]
    q3 = _messages(graded, "q3")
    assert q3 == [hidden_tests.PASSED, hidden_tests.FAILED + "q3_text could not be graded: it is too long."]
    assert set(heard) == {"q1", "q2", "q3"} and heard["q3"][0] == (True, hidden_tests.PASSED)
    assert "tabnanny" in graded.imported and "tabnanny" not in sys.modules  # imported in the child only
    assert any(line.startswith("q1: stopped after") and "(time)" in line for line in graded.log), graded.log


@pytest.mark.fast
def test_no_question_starts_after_the_deadline(tests_dir):
    budget = hidden_tests.Budget(seconds=2.0, memory=64 * MiB, deadline=time.monotonic())
    graded = hidden_tests.run(hidden_tests.load(tests_dir), NAMESPACE, budget)
    assert _scores(graded) == {"q1": 0, "q2": 0, "q3": 0}
    assert all("ran out of time before this question was reached" in m for m in _messages(graded, "q3"))


@pytest.mark.fast
def test_a_bounded_run_sends_its_items_as_it_goes():
    def produce():
        yield 1
        yield 2
        time.sleep(30)

    ran = bounded.run_bounded(produce, seconds=1.0, memory=64 * MiB)
    assert ran.items == [1, 2] and ran.ended == bounded.TIME and ran.seconds < 5


# --- the watchdog, with a real grading process --------------------------------------------------

DEADLINE = 20  # seconds after the grading process starts (its imports take up to ~10 s on a busy machine)

GRADING_PROCESS = """
import os, re, sys, time
from pathlib import Path
from autograder.isolation import hidden_tests
from autograder.isolation.watchdog import Watchdog
from autograder.isolation.results import IsolatedResults
from autograder.upstream import run_autograder  # noqa: F401 - Otter's runner loaded, as in grading

tests_dir, results_dir, mode = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
tests = hidden_tests.load(tests_dir)
from otter.run.run_autograder.autograder_config import AutograderConfig
config = AutograderConfig({})
watchdog = Watchdog.start(tests=tests, ag_config=config, results_dir=results_dir, seconds=float(sys.argv[4]))
watchdog.graded("q3", [(True, hidden_tests.PASSED), (False, hidden_tests.FAILED + "no text")])
print("graded q3", flush=True)
if mode == "hang":  # catastrophic backtracking in C (the regex engine still checks for signals)
    re.match(r"(a+)+$", "a" * 40 + "b")
elif mode == "sleep":  # stuck in a system call
    time.sleep(600)
elif mode == "deaf":  # a process that cannot take the watchdog's signal: it is killed after the grace
    import signal
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
    time.sleep(600)
elif mode == "killed":  # what the OOM killer does
    os.kill(os.getpid(), 9)
elif mode == "finish":  # Otter writes its own results.json and exits
    from autograder.isolation.results import write_results
    write_results(IsolatedResults(tests.files), config, results_dir)
"""


def _grading(tmp_path: Path, tests_dir: Path, mode: str, deadline: float) -> tuple[subprocess.CompletedProcess, Path]:
    results = tmp_path / "results"
    script = tmp_path / "grading.py"
    script.write_text(GRADING_PROCESS)
    # the deadline counts from the process's start, as on Gradescope: add this interpreter's start-up
    ran = subprocess.run(
        [sys.executable, str(script), str(tests_dir), str(results), mode, str(deadline)],
        capture_output=True, text=True, timeout=120, cwd=Path(__file__).parents[2],
    )
    return ran, results


def _read_back(results: Path) -> dict:
    data = json.loads((results / "results.json").read_text())
    # results.pkl as `otter grade` reads it: dill, in a process without this package's modules
    data["_pickle"] = _read_back_pickle(results / "results.pkl")
    return data


@pytest.mark.parametrize("mode", ["hang", "sleep", "deaf"])
def test_at_the_deadline_the_watchdog_writes_results_and_ends_grading(tmp_path, tests_dir, mode):
    start = time.monotonic()
    ran, results = _grading(tmp_path, tests_dir, mode, deadline=DEADLINE)
    took = time.monotonic() - start
    assert took < DEADLINE + GRACE + 5, took  # by the deadline, plus the grace before SIGKILL
    assert "graded q3" in ran.stdout and f"Watchdog: the deadline ({DEADLINE} s) has come" in ran.stdout, ran.stdout
    # the watchdog's signal ends grading with status 0 (`otter grade` reads only such a result), SIGKILL if not
    assert ran.returncode == (-signal.SIGKILL if mode == "deaf" else 0), (ran.returncode, ran.stderr[-2000:])
    data = _read_back(results)
    scores = {t["name"]: t["score"] for t in data["tests"]}
    assert scores == {"Public Tests": 0, "q1": 0, "q2": 0, "q3": 1}
    assert f"time limit ({DEADLINE} s)" in data["output"]
    assert data["_pickle"] == ["GradingResults", "1", "6"]
    q1 = next(t for t in data["tests"] if t["name"] == "q1")
    assert "grading stopped before this question was graded" in q1["output"]


def test_a_grading_process_killed_midway_still_gets_its_results(tmp_path, tests_dir):
    start = time.monotonic()
    ran, results = _grading(tmp_path, tests_dir, "killed", deadline=300)
    assert ran.returncode == -signal.SIGKILL
    for _ in range(50):  # the watchdog writes as soon as the grading process is gone
        if complete_results(results):
            break
        time.sleep(0.1)
    assert time.monotonic() - start < 30
    data = _read_back(results)
    assert {t["name"]: t["score"] for t in data["tests"]}["q3"] == 1
    assert "stopped before it could write its results" in data["output"]


def test_results_written_by_grading_are_left_alone(tmp_path, tests_dir):
    ran, results = _grading(tmp_path, tests_dir, "finish", deadline=300)
    assert ran.returncode == 0, ran.stderr
    time.sleep(0.5)
    data = _read_back(results)
    assert "output" not in data or "time limit" not in str(data.get("output"))
    assert "Watchdog: wrote" not in ran.stdout


@pytest.mark.fast
def test_results_are_written_whole(tmp_path, tests_dir):
    from otter.run.run_autograder.autograder_config import AutograderConfig

    from autograder.isolation.results import IsolatedResults

    tests = hidden_tests.load(tests_dir)
    write_results(IsolatedResults(tests.files), AutograderConfig({}), tmp_path / "results")
    assert sorted(os.listdir(tmp_path / "results")) == ["results.json", "results.pkl"]  # no temporary file left
    assert complete_results(tmp_path / "results") and not complete_results(tmp_path / "results", time.time() + 60)


@pytest.mark.fast
def test_otters_own_results_pkl_needs_otter_only(tmp_path):
    """Otter's runner pickles the ``IsolatedResults`` it was handed; ``otter grade`` unpickles that
    on the TA's machine, where this package may not be installed: it must arrive as Otter's own class."""
    import dill

    from autograder.isolation.results import IsolatedResults

    results = IsolatedResults([])
    results.set_report(None)
    (tmp_path / "results.pkl").write_bytes(dill.dumps(results))
    assert _read_back_pickle(tmp_path / "results.pkl")[0] == "GradingResults"


def _read_back_pickle(path: Path) -> list[str]:
    probe = (
        "import dill, sys\n"
        "r = dill.load(open(sys.argv[1], 'rb'))\n"
        "print(type(r).__name__, r.total, r.possible)\n"
        "assert not any(m.startswith('autograder') for m in sys.modules), 'needs the grader package'\n"
    )
    loaded = subprocess.run([sys.executable, "-c", probe, str(path)], capture_output=True, text=True, cwd="/")
    assert loaded.returncode == 0, loaded.stderr
    return loaded.stdout.split()
