"""Otter plugin that keeps a bad submission from costing the whole Gradescope run.

Enabled in ``otter_config.json``::

    "plugins": [{"autograder.plugins.grading_guard.GradingGuard": {"cell_timeout": 60, "total_timeout": 360}}]

Otter imports plugins in its grading process, whose ``sys.path`` starts with the directory of
``run_otter.py`` (``/autograder/source`` on Gradescope, the repo root for ``otter assign`` and
``otter run``). So the zip must carry ``autograder/`` at its root as well as under ``files/``
(where Otter Assign puts ``autograder_files``, out of ``sys.path``); otherwise Gradescope fails
with ``No module named 'autograder'`` (``tests/test_gradescope.py`` catches that).

* **Cell timeout.** ``before_execution`` puts a first cell into the notebook that arms a
  ``SIGALRM`` timer around every cell the kernel runs (IPython ``pre_run_cell`` /
  ``post_run_cell`` events). A cell that runs longer than ``cell_timeout`` seconds is stopped
  with ``CellTimeoutError`` (a ``BaseException``, so ``except Exception`` in student code does
  not swallow it) and grading goes on with the next cell; ``total_timeout`` caps the sum so
  several endless cells still finish well inside Gradescope's 10 minutes. Otter itself runs
  the notebook without any timeout, so one ``while True: pass`` would otherwise end in
  Gradescope's generic "autograder timed out" with no results at all.
* **Saying which cell.** ``after_grading`` finds the cells that were stopped (each cell is
  tagged with its number in the submitted notebook) and writes the top-level ``output`` of
  results.json: "Cell 23 (``while True: ...``) ran longer than 60 s and was stopped".
* **Complete test entries.** Otter's "Public Tests" summary has no ``score``/``max_score``;
  it gets ``0``/``0`` so every test in results.json is complete.

Only the standard library and Otter are imported here: this module is loaded into Otter's
grading process, which already holds pandas; TensorFlow stays in the kernel.
"""

from __future__ import annotations

from typing import Any

from otter.plugins import AbstractOtterPlugin
from otter.test_files import GradingResults

CELL_KEY = "grading_guard"  # cell metadata key: {"cell": <1-based number in the submission>}
ERROR_NAME = "CellTimeoutError"
DEFAULT_CELL_TIMEOUT = 60.0
DEFAULT_TOTAL_TIMEOUT = 360.0
MIN_CELL_TIMEOUT = 5.0

# Runs in the kernel before the student's first cell. Everything lives in one function so the
# student's namespace only gains the (harmless) function name, deleted at the end.
SETUP_SOURCE = """\
def __grading_guard_setup(cell_limit, total_limit, min_limit):
    import signal
    import time

    from IPython import get_ipython

    class CellTimeoutError(BaseException):
        \"\"\"A cell ran longer than the autograder allows.\"\"\"

    start = time.monotonic()
    state = {{"limit": cell_limit}}

    def on_alarm(signum, frame):
        raise CellTimeoutError(
            f"this cell ran longer than {{state['limit']:.0f}} s and was stopped by the autograder"
        )

    def arm(*args):
        remaining = total_limit - (time.monotonic() - start)
        state["limit"] = max(min_limit, min(cell_limit, remaining))
        signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, state["limit"])

    def disarm(*args):
        signal.setitimer(signal.ITIMER_REAL, 0)

    events = get_ipython().events
    events.register("pre_run_cell", arm)
    events.register("post_run_cell", disarm)


__grading_guard_setup({cell:g}, {total:g}, {minimum:g})
del __grading_guard_setup
"""


def _first_line(source: str, width: int = 60) -> str:
    for line in source.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            line = line.strip()
            return line if len(line) <= width else line[: width - 3] + "..."
    return ""


class _CompleteResults(GradingResults):
    """GradingResults whose Gradescope dict gives every test a score and a max_score."""

    def to_gradescope_dict(self, ag_config: Any) -> dict[str, Any]:
        output = super().to_gradescope_dict(ag_config)
        for test in output.get("tests", []):
            test.setdefault("score", 0)
            test.setdefault("max_score", 0)
            test.setdefault("visibility", "visible")
            test.setdefault("output", "")
        return output


class GradingGuard(AbstractOtterPlugin):
    """Per-cell timeout with a message naming the cell; complete test entries in results.json."""

    def _limits(self) -> tuple[float, float]:
        config = self.plugin_config or {}
        cell = float(config.get("cell_timeout", DEFAULT_CELL_TIMEOUT))
        total = float(config.get("total_timeout", DEFAULT_TOTAL_TIMEOUT))
        return cell, total

    def before_execution(self, submission: Any) -> Any:
        if isinstance(submission, str):  # a .py submission: nothing to number
            return submission
        import nbformat

        for number, cell in enumerate(submission.cells, start=1):
            first = _first_line(cell.get("source", "")) if cell.get("cell_type") == "code" else ""
            cell.setdefault("metadata", {})[CELL_KEY] = {"cell": number, "first_line": first}
        cell_limit, total_limit = self._limits()
        setup = nbformat.v4.new_code_cell(
            SETUP_SOURCE.format(cell=cell_limit, total=total_limit, minimum=MIN_CELL_TIMEOUT)
        )
        submission.cells.insert(0, setup)
        return submission

    def after_grading(self, results: GradingResults) -> None:
        if isinstance(results, GradingResults) and type(results) is GradingResults:
            results.__class__ = _CompleteResults
        stopped = []
        for cell in getattr(results.notebook, "cells", None) or []:
            for out in cell.get("outputs", []):
                if out.get("output_type") == "error" and out.get("ename") == ERROR_NAME:
                    tag = cell.get("metadata", {}).get(CELL_KEY, {})
                    number, first = tag.get("cell"), tag.get("first_line", "")
                    limit = out.get("evalue", "").partition("longer than ")[2].partition(" s")[0]
                    where = f"Cell {number}" if number else "A cell added by the autograder"
                    stopped.append(f"{where}{f' (`{first}`)' if first else ''} ran longer than {limit} s")
        if stopped:
            results.set_output(
                "Grading stopped cells that did not finish: "
                + "; ".join(stopped)
                + ". Everything after them was still graded, but answers computed in a stopped cell"
                " are missing. Make sure every cell finishes (Kernel > Restart & Run All) and resubmit."
            )
