"""Grade a submission with its code isolated: Otter's execution step, replaced.

Otter's ``grade_notebook`` runs the hidden tests inside the student's kernel and unpickles what
the kernel writes. This one (``plugin.IsolatedGrading`` puts it in Otter's place through
``upstream.replace_grade_notebook``) keeps everything of the grader's in the grading process:

1. the submission (minus ``otter_ignore`` cells, with Otter's seed variable), then the grader's
   public-check and export cells, are run by ``execute`` as the student user, in a scratch
   directory, under the grader's clock;
2. every process of the student user is ended;
3. the exported values are read back as data (``export.load_export``), each within its budget;
4. the hidden tests (loaded before step 1) run on them here (``hidden_tests.run``), each question
   in a child process within its time and memory budget (``hidden_tests.Budget``), none started
   after the deadline;
5. results are built from the grader's texts (``IsolatedResults``) and the report of the run
   (``notebook_report``: cells that raised or were stopped, the public checks run again), plugins'
   ``after_grading`` run, and Otter writes results.json.

Nothing is imported after step 1 starts that was not imported before (``imported_late`` in the
plugin data says so, for the instructor and the tests). A ``watchdog.Watchdog``, when the plugin
started one, hears the student's uid and each question's results as they come, so it can write a
result should this process not finish in time.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat

from autograder import upstream
from autograder.isolation import execute as execution
from autograder.isolation import export, hidden_tests, notebook_report, public_checks
from autograder.isolation.results import IsolatedResults, cells_line
from autograder.isolation.student import IsolationError, StudentUser
from autograder.isolation.watchdog import Watchdog

PLUGIN_DATA_KEY = "autograder.isolation"
HEAVY_MODULES = ("tensorflow", "keras")  # what the grading process never loads
# seconds kept before the deadline for grading the questions once the notebook has run: the
# notebook's total time is cut short if it would leave less (the full-credit notebook's questions
# take ~1 s; each may take ``question_timeout``)
QUESTIONS_RESERVE = 60.0


def _prepare(nb: Any, tests: hidden_tests.HiddenTests, seed_variable: str | None, seed: int | None) -> Any:
    """The cells that run: the submission's that Otter would run (numbered, seeded), then the grader's.

    The grader's cells: the public checks run again (``public_checks``), then the export cell.
    """
    cells = []
    for number, cell in enumerate(nb.cells, start=1):
        if upstream.is_ignored(cell):
            continue
        before = cell.source.count("\n")
        upstream.add_seed(cell, seed_variable, seed)
        # lines the seed added: a line number in an error the student reads counts from their first line
        cell.setdefault("metadata", {})["grading"] = {"cell": number, "lines_added": cell.source.count("\n") - before}
        cells.append(cell)
    grader = {"grading": {"grader": True}}
    cells.append(nbformat.v4.new_code_cell(public_checks.cell_source(tests.public), metadata=grader))
    names = [*tests.names, public_checks.VARIABLE]
    cells.append(nbformat.v4.new_code_cell(export.export_cell(names), metadata=grader))
    nb.cells = cells
    return nb


def _cells_for_log(report: notebook_report.NotebookReport) -> list[dict[str, Any]]:
    """The cells that did not finish, for the instructor log."""
    return [
        {"cell": p.number, "name": p.name, "stopped": p.stopped, "error": p.error, "questions": list(p.questions)}
        for p in report.problems
    ]


def grade_isolated(
    submission_path: str,
    *,
    tests: hidden_tests.HiddenTests,
    cell_timeout: float,
    total_timeout: float,
    seed: int | None = None,
    seed_variable: str | None = None,
    script: bool = False,
    before_execution: Callable[[Any], Any] | None = None,
    after_grading: Callable[[IsolatedResults], Any] | None = None,
    budget: hidden_tests.Budget | None = None,
    watchdog: Watchdog | None = None,
) -> IsolatedResults:
    """Execute ``submission_path`` as the student user and grade it here (see the module docstring).

    ``before_execution`` and ``after_grading`` are the plugins' events, run as Otter runs them.
    ``budget``: each question's time and memory and the deadline (``None``: unbounded, in process).
    """
    if script:
        source = Path(submission_path).read_text(encoding="utf-8")
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    else:
        nb = nbformat.read(submission_path, as_version=4)
    if before_execution is not None:
        nb = before_execution(nb)
    nb = _prepare(nb, tests, seed_variable, seed)

    log: list[str] = []
    user = StudentUser.acquire()
    if watchdog is not None:
        watchdog.student(user.uid)
    if budget is not None:  # the notebook leaves time for the questions before the deadline
        total_timeout = max(0.0, min(total_timeout, budget.deadline - time.monotonic() - QUESTIONS_RESERVE))
    scratch = user.make_scratch()
    try:
        if not script:  # the student's grader.check reads the public tests from the notebook itself
            copy = scratch / Path(submission_path).name
            shutil.copyfile(submission_path, copy)
            os.chown(copy, user.uid, user.gid)
        # the grading log (instructor-only) says what is going on, also if grading is killed midway
        print(
            f"Running the submission as the unprivileged user {user.uid} "
            f"(cell timeout {cell_timeout:g} s, total {total_timeout:g} s)",
            flush=True,
        )
        modules_before = set(sys.modules)
        ran = execution.execute(nb, user, scratch, cell_timeout=cell_timeout, total_timeout=total_timeout)
        if ran.kernel_failed:  # before any student code: the grader's problem, not the submission's
            raise IsolationError(f"the student's kernel did not start ({ran.kernel_failed})")
        namespace, problems = export.load_export(scratch, user.uid)
        log += problems
        graded = hidden_tests.run(
            tests, namespace or {}, budget, on_question=None if watchdog is None else watchdog.graded
        )
        log += graded.log
        results = IsolatedResults(list(graded.files.values()), notebook=ran.notebook)
        report = notebook_report.build(
            ran, tests.parameters, tests.public, namespace, cell_timeout=cell_timeout, scratch=scratch
        )
        imported_late = sorted((set(sys.modules) - modules_before) | graded.imported)
    finally:
        user.remove_scratch(scratch)
        user.release()

    results.set_report(report)  # cells that did not finish and the public checks, said in Public Tests
    if line := cells_line(report):
        results.set_output(line)
    results.set_plugin_data(
        PLUGIN_DATA_KEY,
        {
            "uid": user.uid,
            "exported": namespace is not None,
            "kernel_died": ran.kernel_died,
            "timed_out_cells": [ran.notebook.cells[i].metadata.get("grading", {}).get("cell") for i in ran.timed_out],
            "out_of_time": ran.out_of_time,
            "cells": _cells_for_log(report),
            "kill_rounds": ran.processes_ended,
            "imported_late": imported_late,
            # the hidden tests recompute every model in NumPy: TensorFlow stays in the student's kernel
            "tensorflow_loaded": any(name in sys.modules for name in HEAVY_MODULES),
            "parameters": {name: sorted(names) for name, names in tests.parameters.items()},
            "log": log,
        },
    )
    if after_grading is not None:
        after_grading(results)
    return results
