"""Grading one submission against its floor: executing the same notebook once in a fresh kernel.

    .venv/bin/python benchmarks/bench_floor.py [--repeat N]

Floor: ``jupyter execute`` of the full-credit notebook without its export cell (the student's
code, once, in a fresh kernel). Grading: ``otter run`` with the built zip, as a TA runs it. The
two alternate, after one warm-up of each, so the machine's noise falls on both; the ratio of
the medians is the figure (the grading issue asks for at most 1.25x).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools.build import autograder_zip
from tools.otter_run import otter_run
from tools.submissions import build_submission


def floor_notebook(notebook: Path, out: Path) -> Path:
    """``notebook`` without its export cell (the floor executes the student's code only)."""
    nb = nbformat.read(notebook, as_version=4)
    nb.cells = [c for c in nb.cells if not (c.cell_type == "code" and "export_submission(grader)" in c.source)]
    nbformat.write(nb, out)
    return out


def time_floor(notebook: Path, workdir: Path) -> float:
    jupyter = Path(sys.executable).with_name("jupyter")
    start = time.perf_counter()
    subprocess.run([str(jupyter), "execute", "--allow-errors", str(notebook)], cwd=workdir, check=True,
                   capture_output=True)
    return time.perf_counter() - start


def time_grading(notebook: Path, zip_path: Path) -> float:
    start = time.perf_counter()
    result = otter_run(notebook, zip_path)
    elapsed = time.perf_counter() - start
    assert result.total[0] == result.total[1], result.scores
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    zip_path = autograder_zip()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        submission = build_submission("full_credit", workdir)
        floor_nb = floor_notebook(submission, workdir / "floor.ipynb")
        time_floor(floor_nb, workdir), time_grading(submission, zip_path)  # warm-up: page cache
        floors, gradings = [], []
        for _ in range(args.repeat):
            floors.append(time_floor(floor_nb, workdir))
            gradings.append(time_grading(submission, zip_path))
    floor, grading = statistics.median(floors), statistics.median(gradings)
    print(f"floor (jupyter execute, no export cell): median {floor:.1f} s  {[round(t, 1) for t in floors]}")
    print(f"otter run with the built zip:            median {grading:.1f} s  {[round(t, 1) for t in gradings]}")
    print(f"grading / floor: {grading / floor:.2f}x over {args.repeat} alternated runs each")
    return 0


if __name__ == "__main__":
    sys.exit(main())
