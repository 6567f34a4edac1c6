"""The grading results Otter writes to results.json, with the grader's texts kept the grader's.

Otter turns ``GradingResults`` into Gradescope's results.json (``to_gradescope_dict``). This
subclass keeps Otter's scores and visibility rules and makes sure of three things: every test entry
is complete (``score``, ``max_score``, ``visibility``, ``output``); the "Public Tests" entry, which
students see as soon as they upload, says in the grader's words how the notebook ran (each
question's public checks, run again on the submission, and every cell that raised or was stopped,
named by its question or experiment, with the questions that use it); and each question's output
is plain Markdown (``output_format: md``): the question's score, then, if a cell it depends on did
not finish, a line saying so, then one line per failed check, in the words of the check (a
missing concept's hint, a code check's message); never a test's source, a concept id or an
exception.

The one place where text of the student's code appears is ``ERRORS_ENTRY``: a 0-point entry,
visible at upload, listing for each cell that raised the exception's type and message, one line
each, sanitised and capped (``notebook_report.error_text``), as a code span under a sentence that
says it is the student's code's message. The grader's summary refers to it and never quotes it.

``write_results`` writes results.json and results.pkl the way Otter's own run does, each file
atomically: for anything that must leave a result outside Otter's normal path (the watchdog,
``watchdog.py``; an entry point that refuses a submission).
"""

from __future__ import annotations

import copyreg
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from otter.test_files import GradingResults

from autograder.isolation.hidden_tests import FAILED
from autograder.isolation.notebook_report import MAX_CELLS_SHOWN, CellProblem, NotebookReport, question_key
from autograder.upstream import PUBLIC_TESTS

PUBLIC_SUMMARY = (
    "Your notebook ran in the grader and every question was graded from the values it computed. "
    "The public checks are the ones you ran in Jupyter with grader.check; the hidden tests' results "
    "appear when grades are published."
)
ALL_PASSED = "Every check passed."
PUBLIC_TITLE = (
    "**Your public checks, run again on this submission** (they look at the form of your answers, "
    "not at whether they are right)"
)
ERRORS_ENTRY = "Errors in your cells"
ERRORS_INTRO = (
    "What Python said when the grader ran these cells of yours (your code's messages, quoted on one "
    "line each; the cells are named as in the summary under Public Tests):"
)
HOW_TO_FIX = (
    "To fix them, correct those cells, run the notebook from the top (Kernel > Restart Kernel and Run All "
    "Cells), export it again and resubmit. If you keep this submission, what those cells did not compute "
    "counts as unanswered."
)
# plugin data whose entries become results.json's top-level ``extra_data`` (stored by Gradescope and
# read by tools, never shown to students): ``add_extra_data``
EXTRA_DATA_KEY = "results.extra_data"


def add_extra_data(results: GradingResults, key: str, value: Any) -> None:
    """Put ``key: value`` (JSON data) into results.json's ``extra_data``, for the instructor's tools."""
    extra = dict(results.get_plugin_data(EXTRA_DATA_KEY, {}) or {})
    extra[key] = value
    results.set_plugin_data(EXTRA_DATA_KEY, extra)


def _listed(items: list[str] | tuple[str, ...]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _questions(questions: tuple[str, ...]) -> str:
    numbers = [q.lstrip("q") for q in questions]
    return f"Question{'s' if len(numbers) > 1 else ''} {_listed(numbers)}"


def _what_happened(problem: CellProblem, cell_timeout: float) -> str:
    if problem.stopped:
        return f"was stopped after {cell_timeout:g} s (each cell may run {cell_timeout:g} s)"
    return f'raised an error (Python\'s message is under "{ERRORS_ENTRY}")'


def _uses(questions: tuple[str, ...]) -> str:
    if not questions:
        return ""
    return f" {_questions(questions)} use{'s' if len(questions) == 1 else ''} what it computes."


def cells_summary(report: NotebookReport) -> list[str]:
    """Markdown lines on the cells that did not finish, in the grader's words only."""
    lines = []
    for problem in report.problems[:MAX_CELLS_SHOWN]:
        lines.append(f"- {problem.name} {_what_happened(problem, report.cell_timeout)}.{_uses(problem.questions)}")
    if len(report.problems) > MAX_CELLS_SHOWN:
        lines.append(f"- and {len(report.problems) - MAX_CELLS_SHOWN} more cells.")
    if report.out_of_time:
        lines.append("- The notebook used up its total time, so the cells after the stopped ones did not run.")
    if not lines:
        return []
    return ["**Cells that did not finish**", "", *lines, "", HOW_TO_FIX]


def cells_line(report: NotebookReport) -> str:
    """One sentence on the cells that did not finish, for results.json's top-level output (and a TA's
    grade sheet, which shows it as the reason), or '' when every cell finished."""
    stopped = f"stopped after {report.cell_timeout:g} s"
    named = [f"{p.name} ({stopped if p.stopped else 'raised an error'})" for p in report.problems[:MAX_CELLS_SHOWN]]
    if len(report.problems) > MAX_CELLS_SHOWN:
        named.append(f"{len(report.problems) - MAX_CELLS_SHOWN} more")
    if report.out_of_time:
        named.append("the cells after them (out of time)")
    return f"Cells that did not finish: {', '.join(named)}. See Public Tests." if named else ""


def public_summary(report: NotebookReport) -> list[str]:
    """Markdown lines on each question's public checks, as they ran again on this submission."""
    title = PUBLIC_TITLE
    if report.public is None:
        return [title, "", "- They could not be run: the notebook did not reach its end in the grader."]
    checked = [q for q in report.questions if report.public.get(q)]
    passing = [q for q in checked if all(ok for _, ok in report.public[q])]
    lines = [f"- Pass: {', '.join(passing)}"] if passing else []
    for question in checked:
        failing = [name for name, ok in report.public[question] if not ok]
        if failing:
            lines.append(f"- {question} does not pass: {', '.join(failing)}")
    return [title, "", *lines]


def public_tests_output(report: NotebookReport | None) -> str:
    """The "Public Tests" entry: what students read at upload, the grader's words only."""
    if report is None:
        return PUBLIC_SUMMARY
    parts = [PUBLIC_SUMMARY, "", *public_summary(report)]
    cells = cells_summary(report)
    if cells:
        parts += ["", *cells]
    return "\n".join(parts)


def errors_entry(report: NotebookReport | None) -> dict[str, Any] | None:
    """The one entry quoting the student's code (see the module docstring), or None if no cell raised."""
    raised = [p for p in (report.problems if report else ()) if not p.stopped]
    if not raised:
        return None
    lines = [f"- {p.name}: `{p.error}`" for p in raised[:MAX_CELLS_SHOWN]]
    if len(raised) > MAX_CELLS_SHOWN:
        lines.append(f"- and {len(raised) - MAX_CELLS_SHOWN} more cells.")
    return {
        "name": ERRORS_ENTRY,
        "score": 0,
        "max_score": 0,
        "status": "failed",
        "visibility": "visible",
        "output": "\n".join([ERRORS_INTRO, "", *lines]),
        "output_format": "md",
    }


def cell_notes(question: str, report: NotebookReport | None) -> list[str]:
    """Why a question that lost points may have: the cells it depends on that did not finish."""
    notes = []
    for problem in report.problems_for(question) if report else []:
        how = f"was stopped after {report.cell_timeout:g} s" if problem.stopped else "raised an error"
        notes.append(
            f"{problem.name} {how} when the grader ran your notebook, so this question's checks did not get "
            "what it computes (see Public Tests)."
        )
    return notes


def feedback(name: str, test_file: Any, notes: list[str] | None = None) -> str:
    """A question's output for the student: its score, why a cell it needs failed, what each failed check says."""
    score, possible = test_file.score, test_file.possible
    lines = [f"**{name}: {score:g} / {possible:g}**", ""]
    failed = [r.message.removeprefix(FAILED).strip() for r in test_file.test_case_results if not r.passed]
    if not failed:
        lines.append(ALL_PASSED)
    # the cause first, then one line per check, in order; the same words twice (two checks of one array) said once
    lines += [f"- {message}" for message in dict.fromkeys([*(notes if failed else []), *failed])]
    return "\n".join(lines)


class IsolatedResults(GradingResults):
    """``GradingResults`` of an isolated grading run (see the module docstring)."""

    report: NotebookReport | None = None

    def set_report(self, report: NotebookReport) -> None:
        """The report of the run that ``to_gradescope_dict`` words for the student."""
        self.report = report

    def __reduce__(self) -> tuple:
        # pickled (Otter's results.pkl, which `otter grade` unpickles on the TA's machine) as Otter's
        # own GradingResults, without this package's report: unpickling needs Otter only
        state = {k: v for k, v in self.__dict__.items() if k != "report"}
        return (copyreg._reconstructor, (GradingResults, object, None), state)

    def to_gradescope_dict(self, ag_config: Any) -> dict[str, Any]:
        """Otter's results.json with the grader's texts: each question's feedback, Public Tests, the errors entry.

        Questions come in the notebook's order after the entries about the run, and the plugins'
        ``extra_data`` is added for the instructor's tools.
        """
        output = super().to_gradescope_dict(ag_config)
        report = self.report
        for test in output.get("tests", []):
            if test.get("name") in self.results:
                notes = cell_notes(test["name"], report)
                test["output"] = feedback(test["name"], self.results[test["name"]], notes)
                test["output_format"] = "md"
            if test.get("name") == PUBLIC_TESTS:
                test["output"] = public_tests_output(report)
                test["output_format"] = "md"
                test["status"] = "passed"
            test.setdefault("score", 0)
            test.setdefault("max_score", 0)
            test.setdefault("visibility", "visible")
            test.setdefault("output", "")
        tests = output.setdefault("tests", [])
        # questions in the notebook's order (Otter sorts q10 before q2), after the entries about the run
        questions = sorted((t for t in tests if t.get("name") in self.results), key=lambda t: question_key(t["name"]))
        others = [t for t in tests if t.get("name") not in self.results]
        errors = errors_entry(report)
        if errors is not None:  # right after the summary that refers to it
            at = next((i + 1 for i, t in enumerate(others) if t.get("name") == PUBLIC_TESTS), 0)
            others.insert(at, errors)
        output["tests"] = others + questions
        extra = self.get_plugin_data(EXTRA_DATA_KEY, {})
        if extra:
            output["extra_data"] = {**output.get("extra_data", {}), **extra}
        return output


RESULTS_JSON = "results.json"
RESULTS_PICKLE = "results.pkl"  # what `otter grade` (its Docker container) and `otter run` read back


def _write_atomic(path: Path, data: bytes) -> None:
    """Write ``path`` whole or not at all: a reader (Gradescope, ``otter grade``) never sees half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def write_results(results: GradingResults, ag_config: Any, results_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Write ``results`` as Otter's own run does, readable both ways; return the results.json dict.

    ``results.pkl``: a dill pickle of a plain ``GradingResults`` (what ``otter grade`` unpickles
    from ``/autograder/results/results.pkl``; plain, so unpickling needs Otter only, not this
    package); ``results.json``: ``results.to_gradescope_dict(ag_config)`` (Gradescope's format,
    with this package's texts when ``results`` is an ``IsolatedResults``). The pickle is written
    first, as Otter writes them, so a complete results.json means both are there.
    """
    import dill  # Otter's own dependency; imported here, outside the grading process's hot path

    directory = Path(results_dir)
    directory.mkdir(parents=True, exist_ok=True)
    _write_atomic(directory / RESULTS_PICKLE, dill.dumps(results))  # a plain GradingResults (__reduce__)
    output = results.to_gradescope_dict(ag_config)
    _write_atomic(directory / RESULTS_JSON, json.dumps(output, indent=4).encode("utf-8"))
    return output


def complete_results(results_dir: str | os.PathLike[str], since: float = 0.0) -> bool:
    """Whether ``results_dir`` holds a results.json written at or after ``since`` (epoch) that parses."""
    path = Path(results_dir) / RESULTS_JSON
    try:
        if path.stat().st_mtime < since:
            return False
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and isinstance(data.get("tests"), list)
