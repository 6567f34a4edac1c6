"""How long a student's Restart & Run All takes, and how long `otter run` takes to grade it.

    .venv/bin/python benchmarks/bench_student_notebook.py [--repeat N]

Prints measured figures; the package issue asks for "well under a minute" in a fresh kernel.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools.build import autograder_zip
from tools.otter_run import otter_run
from tools.submissions import build_submission, run_as_student


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    zip_path = autograder_zip()
    with tempfile.TemporaryDirectory() as tmp:
        notebook = build_submission("full_credit", Path(tmp))
        run_times, grade_times = [], []
        for i in range(args.repeat):
            start = time.perf_counter()
            run = run_as_student(notebook, Path(tmp) / f"run{i}")
            run_times.append(time.perf_counter() - start)
            assert not run.errors and all(run.public_checks.values()), run
            start = time.perf_counter()
            result = otter_run(notebook, zip_path, Path(tmp) / f"grade{i}")
            grade_times.append(time.perf_counter() - start)
            assert result.total[0] == result.total[1], result.scores
    print(
        f"student run (fresh kernel, all cells, checks, export): median {statistics.median(run_times):.1f} s, "
        f"max {max(run_times):.1f} s over {args.repeat} runs"
    )
    print(
        f"otter run grading (full credit):                       median {statistics.median(grade_times):.1f} s, "
        f"max {max(grade_times):.1f} s over {args.repeat} runs"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
