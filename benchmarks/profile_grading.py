"""Where the seconds of one ``otter run`` go: the grading process sampled, step by step.

    .venv/bin/python benchmarks/profile_grading.py [--repeat N] [--zip ZIP]

Runs ``otter run -p`` with the built zip on the full-credit notebook (as ``tools.otter_run`` runs
it, from a directory of its own) under py-spy, a sampling profiler that reads the process from
outside (no overhead in the process; wall-clock time, waiting included), ``--repeat`` times, and
prints the median seconds of each step of the grading process's main thread: Otter's import, the
plugins (grader code, rubrics, test files), the integrity scan, the isolation's own steps, the
student's kernel starting, the notebook's cells (split by the kernel's own clock into the
student's cells and the grader's two: the public checks run again and the export), the kernel's
shutdown and the end of the student's processes, the export read back, the hidden tests (each
question in a bounded child process), the report and the results written. What is left is Otter's
own work around them (its configuration, the zip unpacked, the summary it prints). Alternated with
each run, the floor of ``bench_floor.py`` (``jupyter execute`` of the cells grading runs) is sampled
the same way: Jupyter's import, the notebook's run, its cells by the kernel's clock. Needs root.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import dill

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from tools.build import autograder_zip
from tools.submissions import build_submission

RATE = 250  # samples a second
REST = "Otter's own work around the steps (configuration, zip unpacked, summary printed)"
NO_FRAME = "Python's start and exit (no Python frame on the stack)"
# (step, function as py-spy names it, end of its file's path, the function it calls or ""): a sample
# belongs to the innermost step whose frame is on its stack
STEPS: list[tuple[str, str, str, str]] = [
    ("Otter's import (the otter package and CLI: nbformat, nbconvert, pandas, ...)", "<module>", "otter/__init__.py",
     ""),
    ("Otter's import (the otter package and CLI: nbformat, nbconvert, pandas, ...)", "<module>", "otter/cli.py", ""),
    ("plugins loaded (grader code, rubrics)", "PluginCollection.__init__", "otter/plugins/__init__.py", ""),
    ("test files parsed", "load", "isolation/hidden_tests.py", ""),
    ("integrity scan", "IntegrityPlugin.before_execution", "integrity/plugin.py", ""),
    ("isolation's own steps (notebook read, cells added, user, scratch)", "grade_isolated", "isolation/grade.py", ""),
    ("the notebook's cells (nbclient)", "execute", "isolation/execute.py", ""),
    ("kernel started (launch.py, ipykernel)", "_GeneratorContextManager.__enter__", "contextlib.py",
     "NotebookClient.setup_kernel"),
    ("kernel shut down", "_GeneratorContextManager.__exit__", "contextlib.py", "NotebookClient.setup_kernel"),
    ("student's processes ended", "StudentUser.end_processes", "isolation/student.py", ""),
    ("export read back (values.json, arrays.npz)", "load_export", "isolation/export.py", ""),
    ("hidden tests (a bounded child per question)", "run", "isolation/hidden_tests.py", ""),
    ("report of the run", "build", "isolation/notebook_report.py", ""),
    ("results.pkl (dill)", "dump", "dill/_dill.py", ""),
    ("results.json (to_gradescope_dict)", "IsolatedResults.to_gradescope_dict", "isolation/results.py", ""),
]


def _frame(text: str) -> tuple[str, str]:
    """``(function, file)`` of one py-spy frame, ``function (file:line)``."""
    function, _, where = text.rpartition(" (")
    return function, where.rsplit(":", 1)[0]


def _step(frames: list[tuple[str, str]]) -> str:
    found = REST if frames else NO_FRAME
    for i, (function, path) in enumerate(frames):
        calls = frames[i + 1][0] if i + 1 < len(frames) else ""
        for step, name, suffix, callee in STEPS:
            if function == name and path.endswith(suffix) and (not callee or calls == callee):
                found = step
    return found


def _main_thread(raw: str) -> list[tuple[list[tuple[str, str]], int]]:
    """The main thread's samples in py-spy's raw output (``--threads``): (frames, count)."""
    stacks = []
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        thread, *frames = stack.split(";")
        stacks.append((thread, [_frame(f) for f in frames], int(count)))
    main = next(t.split(":")[0] for t, _, _ in stacks if t.endswith(": MainThread"))
    return [(frames, count) for thread, frames, count in stacks if thread.split(":")[0] == main]


def steps_of(raw: str) -> dict[str, float]:
    """Seconds per step of the grading process's main thread."""
    seconds: Counter[str] = Counter()
    for frames, count in _main_thread(raw):
        seconds[_step(frames)] += count / RATE
    return {step: seconds[step] for step, *_ in STEPS} | {REST: seconds[REST], NO_FRAME: seconds[NO_FRAME]}


def cell_seconds(notebook: Any) -> tuple[float, float]:
    """(the student's cells, the grader's cells): seconds by the kernel's clock (nbclient's timing)."""
    student = grader = 0.0
    for cell in getattr(notebook, "cells", None) or []:
        timing = cell.get("metadata", {}).get("execution", {})
        if "iopub.execute_input" not in timing or "shell.execute_reply" not in timing:
            continue
        began, ended = (datetime.fromisoformat(timing[k].replace("Z", "+00:00"))
                        for k in ("iopub.execute_input", "shell.execute_reply"))
        if cell.get("metadata", {}).get("grading", {}).get("grader"):
            grader += (ended - began).total_seconds()
        else:
            student += (ended - began).total_seconds()
    return student, grader


def profile_once(submission: Path, zip_path: Path) -> dict[str, float]:
    """One ``otter run``, sampled: seconds per step, the cells split, and the wall time."""
    spy = Path(sys.executable).with_name("py-spy")
    otter = Path(sys.executable).with_name("otter")
    with tempfile.TemporaryDirectory(prefix="profile-") as tmp:
        raw = Path(tmp) / "samples.txt"
        command = [str(spy), "record", "--format", "raw", "--rate", str(RATE), "--idle", "--threads",
                   "--output", str(raw), "--", str(otter), "run", "-p", "-a", str(zip_path), "-o", tmp,
                   str(submission)]
        start = time.perf_counter()
        subprocess.run(command, cwd=tmp, check=True, capture_output=True)
        wall = time.perf_counter() - start
        steps = steps_of(raw.read_text())
        results = dill.loads((Path(tmp) / "results.pkl").read_bytes())
    student, grader = cell_seconds(results.notebook)
    return {
        **steps,
        "  of the cells: the student's (kernel's clock)": student,
        "  of the cells: the grader's public checks and export (kernel's clock)": grader,
        "sampled in all": sum(steps.values()),
        "wall time (py-spy included)": wall,
    }


def steps_of_floor(raw: str) -> dict[str, float]:
    """Seconds of ``jupyter execute``'s main thread: its import, the notebook's run, its start and exit."""
    seconds: Counter[str] = Counter()
    for frames, count in _main_thread(raw):
        functions = [function for function, _ in frames]
        if not functions:
            step = NO_FRAME
        elif "NbClientApp.run_notebook" in functions:
            step = "the notebook's run (kernel started, cells, kernel shut down)"
        elif "_find_and_load" in functions:
            step = "Jupyter's import (nbclient, nbformat and jsonschema, jupyter_client)"
        else:
            step = "Jupyter's own work around them"
        seconds[step] += count / RATE
    return dict(sorted(seconds.items()))


def profile_floor(floor: Path) -> dict[str, float]:
    """One ``jupyter execute`` of the floor notebook, sampled (``jupyter-execute``: the same app, one process)."""
    spy = Path(sys.executable).with_name("py-spy")
    execute = Path(sys.executable).with_name("jupyter-execute")
    with tempfile.TemporaryDirectory(prefix="profile-floor-") as tmp:
        notebook = Path(tmp) / floor.name
        notebook.write_bytes(floor.read_bytes())
        raw = Path(tmp) / "samples.txt"
        command = [str(spy), "record", "--format", "raw", "--rate", str(RATE), "--idle", "--threads",
                   "--output", str(raw), "--", str(execute), "--allow-errors", "--inplace", str(notebook)]
        start = time.perf_counter()
        subprocess.run(command, cwd=tmp, check=True, capture_output=True)
        wall = time.perf_counter() - start
        steps = steps_of_floor(raw.read_text())
        import nbformat

        student, _ = cell_seconds(nbformat.read(notebook, as_version=4))
    return {**steps, "  of the run: the cells (kernel's clock)": student, "sampled in all": sum(steps.values()),
            "wall time (py-spy included)": wall}


def _table(runs: list[dict[str, float]]) -> None:
    width = max(len(step) for run in runs for step in run)
    for step in dict.fromkeys(step for run in runs for step in run):
        values = [run.get(step, 0.0) for run in runs]
        print(f"{step:<{width}}  {statistics.median(values):6.2f} s  {[round(v, 2) for v in values]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--zip", type=Path, help="the autograder zip (default: the one in dist/autograder)")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("otter run grades with the student's code as another user, and py-spy reads another process:"
              " run this as root", file=sys.stderr)
        return 2
    zip_path = (args.zip or autograder_zip()).resolve()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    from bench_floor import floor_notebook

    with tempfile.TemporaryDirectory() as tmp:
        submission = build_submission("full_credit", Path(tmp))
        floor = floor_notebook(submission, Path(tmp) / "floor.ipynb")
        runs, floors = [], []
        for _ in range(args.repeat):  # alternated, so the machine's noise falls on both
            runs.append(profile_once(submission, zip_path))
            floors.append(profile_floor(floor))
    print("otter run (the grading process):")
    _table(runs)
    print("jupyter execute of the cells grading runs (the floor):")
    _table(floors)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
