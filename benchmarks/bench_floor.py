"""Grading one submission against its floor: the cells grading runs, executed once in a fresh kernel.

    .venv/bin/python benchmarks/bench_floor.py [--repeat N] [--with-helper] [--compare ZIP]

Floor: ``jupyter execute`` of the full-credit notebook holding only the cells grading runs. Otter
leaves out every cell tagged ``otter_ignore`` (the locked "Submission helper" cell and the export
cell), so the floor leaves them out too: they are the student's tools in Jupyter, not what grading
costs. Grading: ``otter run`` with the built zip, as a TA runs it (Otter's process, the isolation,
the grader's public-check and export cells in the kernel, the hidden tests in their bounded child
processes, the results). The two alternate, after one warm-up of each, so the machine's noise falls
on both; the ratio of the medians is the figure (the issue asks for at most 1.25x). The machine is
shared: its load average is printed before and after. ``--with-helper`` also times the floor this
benchmark used to measure (the helper cell kept, the export cell dropped), for comparison;
``--compare ZIP`` also times ``otter run`` with another zip (an earlier build), in the same rounds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autograder.upstream import is_ignored
from tools.build import autograder_zip
from tools.otter_run import otter_run
from tools.submissions import build_submission


def floor_notebook(notebook: Path, out: Path) -> Path:
    """``notebook`` with only the cells grading runs (Otter skips those tagged ``otter_ignore``)."""
    nb = nbformat.read(notebook, as_version=4)
    nb.cells = [c for c in nb.cells if not is_ignored(c)]
    nbformat.write(nb, out)
    return out


def helper_floor_notebook(notebook: Path, out: Path) -> Path:
    """The floor as this benchmark measured it before: only the export cell dropped, the helper kept."""
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


def rounded(times: list[float]) -> list[float]:
    return [round(t, 1) for t in times]


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--with-helper", action="store_true", help="also time the old floor (helper cell kept)")
    parser.add_argument("--compare", type=Path, help="also time otter run with this zip, in the same rounds")
    args = parser.parse_args()
    zip_path = autograder_zip()
    print(f"load average (1, 5, 15 min) before: {load()}  ({os.cpu_count()} CPUs)", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        submission = build_submission("full_credit", workdir)
        floor_nb = floor_notebook(submission, workdir / "floor.ipynb")
        kept = sum(1 for c in nbformat.read(floor_nb, as_version=4).cells if c.cell_type == "code")
        print(f"floor: {kept} code cells, those grading runs (otter_ignore cells left out)", flush=True)
        helper_nb = helper_floor_notebook(submission, workdir / "helper.ipynb") if args.with_helper else None
        time_floor(floor_nb, workdir), time_grading(submission, zip_path)  # warm-up: page cache
        if args.compare:
            time_grading(submission, args.compare)
        floors, gradings, helpers, compared = [], [], [], []
        for i in range(args.repeat):
            floors.append(time_floor(floor_nb, workdir))
            gradings.append(time_grading(submission, zip_path))
            if helper_nb is not None:
                helpers.append(time_floor(helper_nb, workdir))
            if args.compare:
                compared.append(time_grading(submission, args.compare))
            print(f"  round {i + 1}: floor {floors[-1]:.1f} s, grading {gradings[-1]:.1f} s"
                  + (f", floor with the helper {helpers[-1]:.1f} s" if helpers else "")
                  + (f", grading with {args.compare.name} {compared[-1]:.1f} s" if compared else ""), flush=True)
    floor, grading = statistics.median(floors), statistics.median(gradings)
    print(f"floor (jupyter execute, the cells grading runs): median {floor:.1f} s  {rounded(floors)}")
    print(f"otter run with the built zip:                     median {grading:.1f} s  {rounded(gradings)}")
    if helpers:
        helper = statistics.median(helpers)
        print(f"old floor (the helper cell kept):                 median {helper:.1f} s  "
              f"{rounded(helpers)}: grading / old floor {grading / helper:.2f}x")
    if compared:
        other = statistics.median(compared)
        print(f"otter run with {args.compare.name}: median {other:.1f} s  {rounded(compared)}: "
              f"{other / floor:.2f}x the floor")
    print(f"grading / floor: {grading / floor:.2f}x over {args.repeat} alternated runs each")
    print(f"load average (1, 5, 15 min) after: {load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
