"""What the per-question budgets cost: the full-credit submission's hidden tests in the grading process
as they ran before (in process) and as they run now (a bounded child process per question).

    sudo .venv/bin/python benchmarks/bench_question_budgets.py [--repeat N]

The full-credit notebook runs once as the student user (as in grading) and its export is read
back; then the built zip's hidden tests run on it both ways, alternated, after one warm-up of
each. It prints the medians side by side and their ratio, and the score each way (they must be
equal). Needs root (the student user) and ``make dist``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autograder.freetext import grading
from autograder.isolation import execute, export, hidden_tests
from autograder.isolation.student import StudentUser
from tools.build import autograder_zip
from tools.submissions import build_submission

MiB = 1024 * 1024


def exported_values(notebook: Path, names: list[str]) -> dict:
    """The notebook's exported values, as grading reads them (run as the student user)."""
    nb = nbformat.read(notebook, as_version=4)
    nb.cells = [c for c in nb.cells if "otter_ignore" not in c.get("metadata", {}).get("tags", [])]
    nb.cells.append(nbformat.v4.new_code_cell(export.export_cell(names)))
    user = StudentUser.acquire()
    scratch = user.make_scratch()
    try:
        execute.execute(nb, user, scratch, cell_timeout=120, total_timeout=600)
        namespace, problems = export.load_export(scratch, user.uid)
        assert namespace is not None, problems
        return namespace
    finally:
        user.remove_scratch(scratch)
        user.release()


def timed(tests: hidden_tests.HiddenTests, namespace: dict, budget: hidden_tests.Budget | None) -> tuple[float, float]:
    grading._grade.cache_clear()  # as in a grading process: the reader has read nothing yet
    start = time.perf_counter()
    graded = hidden_tests.run(tests, namespace, budget)
    return time.perf_counter() - start, sum(f.score for f in graded.files.values())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        with zipfile.ZipFile(autograder_zip()) as zf:
            zf.extractall(tmp, [n for n in zf.namelist() if n.startswith("tests/")])
        tests = hidden_tests.load(Path(tmp) / "tests")
        namespace = exported_values(build_submission("full_credit", Path(tmp)), tests.names)
    budget = hidden_tests.Budget(seconds=20.0, memory=256 * MiB, deadline=time.monotonic() + 3600)
    runs: dict[str, list[float]] = {"in process": [], "bounded": []}
    scores: dict[str, float] = {}
    for i in range(args.repeat + 1):
        for label, b in (("in process", None), ("bounded", budget)):
            seconds, scores[label] = timed(tests, namespace, b)
            if i:  # the first round warms up both
                runs[label].append(seconds)
    medians = {label: statistics.median(values) for label, values in runs.items()}
    print(f"hidden tests of {len(tests.files)} questions on the full-credit export, median of {args.repeat}:")
    for label in runs:
        print(f"  {label:<11} {medians[label]:.3f} s   score {scores[label]:g}")
    print(f"  ratio bounded / in process: {medians['bounded'] / medians['in process']:.2f}x "
          f"(+{medians['bounded'] - medians['in process']:.3f} s a grading)")
    return 0 if scores["in process"] == scores["bounded"] else 1


if __name__ == "__main__":
    sys.exit(main())
