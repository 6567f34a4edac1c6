"""What the student's notebook did when the grader ran it: cells that raised or were stopped, public checks.

Everything here is built in the grading process after the student's processes have ended:

- cells are named for students by the notebook's structure (``cell_names``: the Experiment
  headings, the Question prompts, the ``grader.check`` cells), in words the grader chooses from
  numbers it reads there, never by the cell's code or the notebook's text;
- a stopped cell is known from the grader's clock (``Execution.timed_out``);
- a cell that raised carries the exception's type and message as the kernel reported them: the
  student's text. ``error_text`` makes it one line (control and format characters out, no
  backticks, the kernel's file names and the scratch directory out, at most ``MESSAGE_CHARS``
  characters) and results show it only in one field attributed to the student's code
  (``results.ERRORS_ENTRY``), never in scores, feedback sentences or the grader's summary. The
  kernel runs as a user that cannot read the grader's files, so it cannot quote them;
- which questions a cell affects: those whose hidden tests take a variable the cell assigns.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder.isolation import public_checks
from autograder.isolation.execute import Execution, Raised

MESSAGE_CHARS = 160  # of the student's message shown, after the exception's type
MAX_CELLS_SHOWN = 5

EXPERIMENT = re.compile(r"^\s*#+\s*Experiment\s+(\d{1,2})\b", re.M)
HEADING = re.compile(r"^\s*#", re.M)
QUESTION = re.compile(r"\*\*Question\s+(\d{1,2})\.\*\*")
CHECK = re.compile(r"""grader\.check\(\s*["']q(\d{1,2})["']""")
CHECK_ALL = "grader.check_all("
SETUP = "a set-up cell above Question 1"
ASSIGNED = re.compile(r"^[ \t]*([A-Za-z_]\w*(?:[ \t]*,[ \t]*[A-Za-z_]\w*)*)[ \t]*=(?!=)", re.M)
# how a cell's own SyntaxError names the cell: "invalid syntax (3419405044.py, line 4)"
KERNEL_FILE = re.compile(r"\((\d+)\.py, line (\d+)\)")
EXCEPTION_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,59}")


def cell_names(cells: list[tuple[str, str]]) -> list[str | None]:
    """A student's name for each code cell of ``cells`` ((cell type, source) pairs); None for the others.

    The first code cell after an ``## Experiment N`` heading is "Experiment N"; a ``grader.check("qN")``
    cell is "the check of Question N"; any other code cell after a ``**Question N.**`` prompt is
    "Question N". The notebook's export helper (``_cell_names`` in the master notebook's Submission
    helper cell) names cells by the same rule.
    """
    names: list[str | None] = []
    experiment = question = None
    for kind, source in cells:
        if kind == "markdown":
            heading = EXPERIMENT.search(source)
            if heading:
                experiment = int(heading.group(1))
            elif HEADING.search(source):
                experiment = None
            asked = QUESTION.search(source)
            if asked:
                question = int(asked.group(1))
            names.append(None)
            continue
        if kind != "code":
            names.append(None)
            continue
        check = CHECK.search(source)
        if check:
            names.append(f"the check of Question {int(check.group(1))}")
        elif CHECK_ALL in source:
            names.append("the check_all cell")
        elif experiment is not None:
            names.append(f"Experiment {experiment}")
            experiment = None
        elif question is not None:
            names.append(f"Question {question}")
        else:
            names.append(SETUP)
    return names


def one_line(text: str, limit: int) -> str:
    """``text`` on one line of at most ``limit`` characters, with nothing that could leave a code span."""
    kept = "".join(" " if unicodedata.category(ch)[0] in "CZ" and ch != " " else ch for ch in text)
    kept = " ".join(kept.replace("`", "'").split())
    return kept if len(kept) <= limit else kept[: limit - 1].rstrip() + "…"


def error_text(raised: Raised, scratch: Path | None = None, lines_added: int = 0) -> str:
    """The exception as the student reads it: ``SyntaxError: invalid syntax (line 4)``.

    ``lines_added``: lines the grader put above the student's code in that cell (the seed).
    """
    ename = raised.ename if EXCEPTION_NAME.fullmatch(raised.ename) else "an exception"
    message = KERNEL_FILE.sub(lambda m: f"(line {max(1, int(m.group(2)) - lines_added)})", raised.evalue)
    if scratch is not None:
        message = message.replace(f"{scratch}/", "").replace(str(scratch), ".")
    message = one_line(message, MESSAGE_CHARS)
    return f"{ename}: {message}" if message else ename


def assigned(source: str) -> set[str]:
    """Names a cell assigns at the start of a line (read as text: a cell that raised may not parse)."""
    return {name.strip() for match in ASSIGNED.finditer(source) for name in match.group(1).split(",")}


def question_key(question: str) -> tuple[int, str]:
    """Sort key of a question's name in the notebook's order (``q2`` before ``q10``)."""
    digits = "".join(ch for ch in question if ch.isdigit())
    return (int(digits) if digits else 10**6, question)


def affected(source: str, parameters: dict[str, set[str]]) -> tuple[str, ...]:
    """The questions whose hidden tests take a variable this cell assigns, in the notebook's order."""
    names = assigned(source)
    return tuple(sorted((q for q, taken in parameters.items() if taken & names), key=question_key))


@dataclass(frozen=True)
class CellProblem:
    """A cell of the student's that did not finish."""

    number: int  # its place among the submission's cells (1-based), for the instructor
    name: str  # the grader's name for it
    questions: tuple[str, ...]  # the questions that use what it computes
    stopped: bool = False  # by the grader's clock
    error: str = ""  # the student's exception, as ``error_text`` made it ("" when stopped)


@dataclass(frozen=True)
class NotebookReport:
    """What results say about the run beyond the scores (``results.IsolatedResults`` words it)."""

    problems: tuple[CellProblem, ...] = ()
    out_of_time: bool = False
    cell_timeout: float = 60.0
    public: dict[str, list[tuple[str, bool]]] | None = None  # question -> [(check, passed)]; None: not run
    questions: tuple[str, ...] = field(default=())

    def problems_for(self, question: str) -> list[CellProblem]:
        """The cells that did not finish and computed something ``question``'s hidden tests take."""
        return [p for p in self.problems if question in p.questions]


def build(
    ran: Execution,
    parameters: dict[str, set[str]],
    checks: list[public_checks.PublicCheck],
    namespace: dict[str, Any] | None,
    *,
    cell_timeout: float,
    scratch: Path | None = None,
) -> NotebookReport:
    """The report of one isolated run (``ran``), in the order of the notebook's cells."""
    cells = ran.notebook.cells
    names = cell_names([(cell.cell_type, cell.source) for cell in cells])
    errors = {r.index: r for r in ran.raised}
    problems = []
    for index in sorted({*ran.timed_out, *errors}):
        grading = cells[index].metadata.get("grading", {})
        number = grading.get("cell")
        if not number or names[index] is None:  # the grader's own cells are not the student's
            continue
        stopped = index in ran.timed_out
        error = "" if stopped else error_text(errors[index], scratch, grading.get("lines_added", 0))
        problems.append(CellProblem(number, names[index], affected(cells[index].source, parameters), stopped, error))
    public = public_checks.verdicts(checks, (namespace or {}).get(public_checks.VARIABLE))
    questions = tuple(sorted(parameters, key=question_key))
    return NotebookReport(tuple(problems), ran.out_of_time, cell_timeout, public, questions)
