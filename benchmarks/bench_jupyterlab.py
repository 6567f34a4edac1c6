"""A student's Restart & Run All in JupyterLab, export included, and the export on its own.

    .venv/bin/python benchmarks/bench_jupyterlab.py [--repeat N]

Opens the full-credit notebook (saved) in JupyterLab in headless Chromium, as the browser test
does, and times through the page:
- Restart Kernel and Run All Cells, until the export cell has run;
- the export cell run again right after (its test run is the kernel's own in-order run);
- the export after a cell was run out of order (it then falls back to Otter's test run of the
  zip in a fresh kernel, which every export did before).
Figures are wall times from the click to the cell's execution count, polled every 0.25 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import nbformat

from tests.helpers.jupyterlab import LabPage, browser_missing, chromium, jupyterlab
from tools.submissions import MASTER, build_submission


def _timed(page: LabPage, index: int, start) -> float:
    before = page.prompt(index)
    began = time.perf_counter()
    start()
    page.wait_run(index, timeout=600, before=before)
    return time.perf_counter() - began


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if missing := browser_missing():
        print(missing, file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        work, home = tmp / "work", tmp / "home"
        work.mkdir()
        home.mkdir()
        notebook = build_submission("full_credit", tmp)
        notebook.rename(work / MASTER.name)
        cells = nbformat.read(work / MASTER.name, as_version=4).cells
        export = max(i for i, c in enumerate(cells) if c.source.rstrip().endswith("export_submission(grader)"))
        data_cell = next(i for i, c in enumerate(cells) if c.source.startswith("rng_seed"))
        run_all, fast, fallback = [], [], []
        with jupyterlab(work, home) as url, chromium(tmp / "profile") as driver:
            page = LabPage(driver, url.format(path=MASTER.name), cell_count=len(cells))

            def restart_and_run_all() -> None:
                page.menu("Kernel", "Restart Kernel and Run All Cells…")
                page.accept_dialog()

            for _ in range(args.repeat):
                run_all.append(_timed(page, export, restart_and_run_all))
                assert "upload this file" in " ".join(t for _, t in page.outputs(export))
                fast.append(_timed(page, export, lambda: page.run_cell(export)))
                page.run_cell(data_cell)  # out of order: the export can no longer trust the kernel's run
                page.wait_run(data_cell, timeout=60, before="")
                fallback.append(_timed(page, export, lambda: page.run_cell(export)))
                assert "upload this file" in " ".join(t for _, t in page.outputs(export))

    def row(name: str, times: list[float]) -> str:
        return f"{name:<58} median {statistics.median(times):6.1f} s  (min {min(times):.1f}, max {max(times):.1f})"

    print(f"JupyterLab 4, headless Chromium, full-credit notebook, {args.repeat} runs")
    print(row("Restart & Run All, export included", run_all))
    print(row("export cell alone, after Run All (in-kernel checks)", fast))
    print(row("export cell alone, after an out-of-order run (fresh kernel)", fallback))
    print(f"export: in-kernel / fresh-kernel test run = {statistics.median(fast) / statistics.median(fallback):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
