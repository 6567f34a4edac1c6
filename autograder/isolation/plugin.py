"""The Otter plugin that puts isolated grading in place of Otter's in-kernel grading.

Enabled first in ``otter_config.json``::

    "plugins": [{"autograder.isolation.plugin.IsolatedGrading": {"cell_timeout": 60}}, ...]

Its settings (type, default, description) are declared once in ``IsolationSettings``
(``autograder.settings``); grading and the build check them alike.

At ``__init__`` (Otter's grading process, before any student code): the grader code and rubrics
are imported and loaded and the test files parsed, all in memory. At ``before_grading``: the
autograder directory is made root-only (``0700``: the student user can neither read nor write
anything in it: tests, rubrics, grader code, results), an uploaded ``.OTTER_LOG`` (which Otter
would unpickle next) is deleted, and Otter's execution step is replaced by
``grade.grade_isolated`` (``upstream.replace_grade_notebook``: Otter's runner calls the
replacement after ``before_grading``), and, in containerized grading, the watchdog is forked
(``watchdog.Watchdog``: results.json by ``deadline`` seconds, whatever happens).
"""

from __future__ import annotations

import gc
import os
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from otter.plugins import AbstractOtterPlugin

import autograder.checks  # noqa: F401 - loaded now, before student code, as everything the tests use
from autograder import upstream
from autograder.freetext import QUESTIONS, lookalikes
from autograder.freetext.rubric import load_rubric
from autograder.isolation import hidden_tests
from autograder.isolation.grade import PLUGIN_DATA_KEY, QUESTIONS_RESERVE, grade_isolated
from autograder.isolation.hidden_tests import Budget
from autograder.isolation.student import IsolationError
from autograder.isolation.watchdog import Watchdog, seconds_since_process_start
from autograder.settings import DeclaredSettings, Kind, SettingsError, seconds, setting

MIN_TIMEOUT = 5.0  # below this a kernel cannot even start and import NumPy
# Otter prints "No log found with which to verify student scores." above this report on every grading
NO_LOG_NOTE = (
    "Otter's \"No log found with which to verify student scores.\" above is expected: this autograder "
    "deletes the notebook's .OTTER_LOG unread (Otter would unpickle it) and grades by running the notebook."
)
MiB = 1024 * 1024
# Gradescope stops an autograder at 600 s; the deadline leaves room for the container's start
# before the grading process and for the watchdog to write and stop (it takes about a second)
OUTER_LIMIT = 600.0
# the grading process holds ~110 MiB and the kernel is gone when questions are graded: 256 MiB
# more stays well inside Gradescope's 768 MiB; a question of this lab needs a few MiB
MIN_QUESTION_MEMORY = 32
# the last question starts this long before the watchdog's deadline, so grading writes its own
# results first (the integrity plugin, Otter's summary and the two files take about a second)
WRITE_RESERVE = 15.0


def mebibytes(minimum: int) -> Kind:
    """The kind of a setting in whole MiB, at least ``minimum``."""
    return Kind(
        f"a whole number of MiB, at least {minimum}",
        lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= minimum,
    )

for _question in QUESTIONS:  # rubrics parsed now, from the grader's files as shipped
    load_rubric(_question)
lookalikes.load_tables()  # which the reader loads only for an answer with letters of other scripts


@dataclass(frozen=True)
class IsolationSettings:
    """The plugin's settings in ``otter_config.json``: the notebook's time, each question's budget, the deadline."""

    cell_timeout: float = setting(
        60.0, seconds(minimum=MIN_TIMEOUT), "seconds one cell may run before the grader interrupts it"
    )
    total_timeout: float = setting(
        360.0,
        seconds(minimum=MIN_TIMEOUT),
        "seconds for the whole notebook, so several endless cells still end well inside Gradescope's 10 minutes",
    )
    question_timeout: float = setting(
        20.0,
        seconds(minimum=1),
        "seconds the hidden tests of one question may run in the grading process (the written-answer reader "
        "and the checks, on the student's values); past it the question's remaining checks score 0 and say why",
    )
    question_memory: int = setting(
        256,
        mebibytes(MIN_QUESTION_MEMORY),
        "MiB the hidden tests of one question may allocate in the grading process; past it the question's "
        "remaining checks score 0 and say why",
    )
    deadline: float = setting(
        540.0,
        seconds(minimum=60),
        f"seconds after the grading process starts by which results.json is written whatever the student's code "
        f"did: questions not graded by then score 0 and say why (Gradescope stops at {OUTER_LIMIT:g} s)",
    )


class IsolatedGrading(DeclaredSettings, AbstractOtterPlugin):
    """The Otter plugin that grades with the student's code isolated (see the module docstring)."""

    Settings = IsolationSettings

    @classmethod
    def validate_settings(cls, config: Any) -> IsolationSettings:
        """The declared checks, and the limits' order: the notebook's time, then the questions', inside the deadline."""
        settings: IsolationSettings = super().validate_settings(config)
        if settings.deadline >= OUTER_LIMIT:
            raise SettingsError(
                f"{cls.__name__} setting 'deadline': {settings.deadline:g} s is not before Gradescope's "
                f"{OUTER_LIMIT:g} s limit, so no result would be written in time"
            )
        if settings.total_timeout + QUESTIONS_RESERVE + WRITE_RESERVE > settings.deadline:
            raise SettingsError(
                f"{cls.__name__}: total_timeout ({settings.total_timeout:g} s) leaves less than "
                f"{QUESTIONS_RESERVE + WRITE_RESERVE:g} s before the deadline ({settings.deadline:g} s) to grade the "
                "questions and write the results"
            )
        return settings

    def __init__(self, submission_path: str, submission_metadata: dict, plugin_config: dict):
        super().__init__(submission_path, submission_metadata, plugin_config)
        self.settings: IsolationSettings = self.validate_settings(plugin_config)
        self.results: Any = None
        # Otter copied the tests next to the submission (none when Otter Generate builds the zip)
        self.tests = hidden_tests.load(Path("tests")) if submission_path and Path("tests").is_dir() else None

    def before_grading(self, config: Any) -> None:
        """Lock the autograder directory, drop an uploaded log, start the watchdog and replace Otter's execution."""
        if getattr(config, "grade_from_log", False):
            raise upstream.grading_error("grade_from_log is not supported: the notebook is always run in isolation.")
        if self.tests is None:
            raise upstream.grading_error("the autograder has no tests directory next to the submission")
        tests = self.tests
        autograder_dir = Path.cwd().parent  # Otter runs plugins from <autograder dir>/submission
        deadline = time.monotonic() + self.settings.deadline - seconds_since_process_start()
        budget = Budget(self.settings.question_timeout, self.settings.question_memory * MiB, deadline - WRITE_RESERVE)
        # Everything loaded so far (Otter, the grader code, rubrics, tests) lives until this process
        # exits: out of the collector's sight, the processes forked from here (the watchdog, a child
        # per question) do not copy it page by page when they collect, and no full collection walks
        # it again, the one at exit included (0.65 s of the grading process's exit before)
        gc.freeze()
        watchdog = None
        if not getattr(config, "otter_run", False):  # `otter run` is the TA's own process: no outer limit
            watchdog = Watchdog.start(
                tests=tests, ag_config=config, results_dir=autograder_dir / "results", seconds=self.settings.deadline
            )
        os.chmod(autograder_dir, 0o700)
        if os.path.lexists(upstream.OTTER_LOG):  # Otter would unpickle an uploaded log (dill) right after this event
            os.remove(upstream.OTTER_LOG)
        plugin = self

        def grade_notebook(submission_path: str, **run_options: Any) -> Any:
            """Otter's ``grade_notebook`` replaced: grade in isolation and keep the results on the plugin; a failure
            becomes a grading error with a sentence for the student (the traceback goes to the instructor's log).
            """
            try:
                plugin.results = grade_isolated(
                    submission_path,
                    tests=tests,
                    cell_timeout=plugin.settings.cell_timeout,
                    total_timeout=plugin.settings.total_timeout,
                    budget=budget,
                    watchdog=watchdog,
                    **run_options,
                )
            except IsolationError as e:
                raise upstream.grading_error(f"Student code cannot be run isolated here: {e}") from None
            except Exception:  # an autograder bug: the instructor gets the traceback, the student a sentence
                traceback.print_exc()
                raise upstream.grading_error(
                    "The autograder failed while grading this submission; your instructor can see why."
                ) from None
            return plugin.results

        upstream.replace_grade_notebook(grade_notebook)

    def generate_report(self) -> str:
        """Instructor log: how the isolated run went."""
        data = self.results.get_plugin_data(PLUGIN_DATA_KEY, {}) if self.results is not None else {}
        if not data:
            return "Isolated grading did not run."
        lines = [
            f"Isolated grading: student uid {data['uid']}; values exported: {'yes' if data['exported'] else 'no'}; "
            f"kernel died: {'yes' if data['kernel_died'] else 'no'}; processes ended in {data['kill_rounds']} round(s)",
            f"  cells stopped by the timer: {data['timed_out_cells'] or 'none'}"
            + ("; total time used up" if data["out_of_time"] else ""),
            f"  modules imported after student code started: {data['imported_late'] or 'none'}",
            f"  TensorFlow in the grading process: {'yes' if data.get('tensorflow_loaded') else 'no'}",
        ]
        lines += [f"  log: {entry}" for entry in data["log"]]
        for cell in data.get("cells", []):
            what = "stopped by the timer" if cell["stopped"] else f"raised {cell['error']}"
            uses = ", ".join(cell["questions"]) or "none"
            lines.append(f"  cell {cell['cell']} ({cell['name']}) {what}; questions using it: {uses}")
        lines.append(f"  {NO_LOG_NOTE}")
        return "\n".join(lines)
