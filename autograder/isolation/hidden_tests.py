"""The assignment's test files, loaded before any student code and run in the grading process.

``load`` reads every test file and executes its source (grader code) at once, so the test cases
exist in memory before the student's kernel starts; ``run`` calls the hidden test cases on the
values the kernel exported. A failed case's message is the ``AssertionError`` text of the
grader's own check (``autograder/checks.py``, the rubric hints); any other exception gets one
fixed message, so no exception text of any other origin reaches the output. Public test cases
(0 points) are the student's own checks and run in the kernel, in Jupyter; they are not rerun
here.

With a ``Budget``, each question's cases run in a child process within ``question_timeout``
seconds and ``question_memory`` bytes (``bounded``), and no question starts after the grading's
deadline: a case the budget stopped scores 0 and says why, in the grader's words, and the
questions after it are graded as usual.
"""

from __future__ import annotations

import ast
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autograder import upstream
from autograder.isolation import bounded, public_checks
from autograder.not_gradable import NotGradable

if TYPE_CHECKING:
    from autograder.upstream import ExceptionTestFile

PASSED = "✅ Test case passed"
FAILED = "❌ Test case failed\n"
NOT_CHECKED = "This answer could not be checked: re-run the notebook from the top with the cells as given."


def not_checked(names: list[str]) -> str:
    """What a student reads when a check broke on their values: which variables, and what to do."""
    if not names:
        return NOT_CHECKED
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    verb = "does" if len(names) == 1 else "do"
    return (
        f"Your {listed} could not be checked: {'it' if len(names) == 1 else 'they'} {verb} not hold what the"
        " notebook's cells make. Re-run the notebook from the top with the cells as given."
    )


MiB = 1024 * 1024
MIN_QUESTION_SECONDS = 1.0  # less than this left before the deadline: the question is not started


def stopped_message(ended: str, budget: Budget) -> str:
    """Why a question's remaining checks score 0, for the student (``bounded``'s ways of ending)."""
    if ended == bounded.TIME:
        why = f"checking this question took longer than the grader allows ({budget.seconds:g} s)"
    elif ended == bounded.MEMORY:
        why = f"checking this question needed more memory than the grader allows ({budget.memory // MiB} MiB)"
    elif ended == DEADLINE:
        return "Not graded: grading ran out of time before this question was reached, so it scores 0."
    else:
        why = "the grader's check of this question stopped unexpectedly"
    return (
        f"Not graded: {why}, so its remaining checks score 0. An unusually long or large answer or value "
        "can cause this: keep answers to a paragraph and use the notebook's own cells to compute values."
    )


DEADLINE = "deadline"


@dataclass(frozen=True)
class Budget:
    """What one question's hidden tests may use in the grading process, and when grading must end."""

    seconds: float
    memory: int  # bytes
    deadline: float  # time.monotonic() after which no question starts


@dataclass
class Graded:
    """The graded test files, and what the instructor log says about how each question ran."""

    files: dict[str, ExceptionTestFile]
    log: list[str] = field(default_factory=list)
    imported: set[str] = field(default_factory=set)  # modules the checks imported (children included)


def _student_names(case: Any) -> list[str]:
    """The variables a test case takes from the student's notebook (its parameters but ``env``)."""
    code = upstream.case_function(case).__code__
    return [n for n in code.co_varnames[: code.co_argcount + code.co_kwonlyargcount] if n != "env"]


class TestsError(RuntimeError):
    """The autograder's test files are unusable (an instructor's problem, not the student's)."""


@dataclass
class HiddenTests:
    """The parsed test files, the student variables their hidden cases take, and their public checks."""

    files: list[ExceptionTestFile]
    parameters: dict[str, set[str]]  # test file name -> the names its hidden cases take
    public: list[public_checks.PublicCheck] = field(default_factory=list)  # run again in the kernel

    @property
    def names(self) -> list[str]:
        """Every variable a hidden case takes, sorted: what the export carries out of the kernel."""
        return sorted(set().union(*self.parameters.values())) if self.parameters else []


def _parameters(source: str, hidden: set[str]) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef) and node.name in hidden:
            names |= {a.arg for a in node.args.args + node.args.kwonlyargs if a.arg != "env"}
    return names


def load(test_dir: Path) -> HiddenTests:
    """Every ``*.py`` test file of ``test_dir``, parsed (in Otter's order: by file name)."""
    files, parameters, public = [], {}, []
    paths = sorted(Path(test_dir).glob("*.py"))
    if not paths:
        raise TestsError(f"no test files in {test_dir}")
    for path in paths:
        source = path.read_text(encoding="utf-8")
        try:
            test_file = upstream.parse_test_file(source, path=f"./tests/{path.name}")
        except Exception as e:  # a broken test file is reported, with its name
            raise TestsError(f"test file {path.name} cannot be loaded: {type(e).__name__}: {e}") from None
        hidden = {upstream.case_function(tc).__name__ for tc in test_file.test_cases if tc.hidden}
        files.append(test_file)
        parameters[test_file.name] = _parameters(source, hidden)
        public += public_checks.collect(test_file.name, source)
    return HiddenTests(files, parameters, public)


def _unreadable_value(case: Any, env: dict[str, Any]) -> str:
    """The message for a case that failed on a value over an export budget (its reason), or ``""``."""
    for name in _student_names(case):
        value = env.get(name)
        if isinstance(value, NotGradable) and value.reason:
            return f"{name} could not be graded: {value.reason}."
    return ""


def _outcomes(cases: list[Any], env: dict[str, Any]) -> Iterator[tuple[bool, str]]:
    """``(passed, message)`` of each case on ``env``, one at a time."""
    for tc in cases:
        try:
            upstream.run_case(tc, dict(env))  # a fresh copy: no case leaves anything for the next
            yield True, PASSED
        except AssertionError as e:
            yield False, FAILED + (_unreadable_value(tc, env) or str(e) or not_checked(_student_names(tc)))
        except MemoryError:  # only bounded runs limit memory: the runner says it ran out
            raise
        except Exception:  # its text is not the grader's: never shown; the variables it used are named
            yield False, FAILED + (_unreadable_value(tc, env) or not_checked(_student_names(tc)))


def run(
    tests: HiddenTests,
    namespace: dict[str, Any],
    budget: Budget | None = None,
    on_question: Callable[[str, list[tuple[bool, str]]], Any] | None = None,
) -> Graded:
    """Every test file with the results of its hidden cases on ``namespace`` (the exported values).

    With ``budget``, each file's cases run in a bounded child process (see the module docstring);
    ``on_question(name, outcomes)`` hears each question's ``(passed, message)`` list once graded.
    """
    graded = Graded({})
    start = time.monotonic()
    for test_file in tests.files:
        cases = [tc for tc in test_file.test_cases if tc.hidden]
        test_file.test_cases = cases
        env = dict.fromkeys(tests.parameters[test_file.name])
        env.update(namespace)
        if budget is None:
            outcomes, ended = list(_outcomes(cases, env)), bounded.DONE
        else:
            left = budget.deadline - time.monotonic()
            if left < MIN_QUESTION_SECONDS:
                outcomes, ended = [], DEADLINE
            else:
                ran = bounded.run_bounded(
                    lambda cases=cases, env=env: ([p, m] for p, m in _outcomes(cases, env)),
                    seconds=min(budget.seconds, left),
                    memory=budget.memory,
                )
                outcomes, ended = [(bool(p), str(m)) for p, m in ran.items], ran.ended
                graded.imported.update(ran.imported)
                if ended != bounded.DONE:
                    graded.log.append(
                        f"{test_file.name}: stopped after {ran.seconds:.1f} s ({ended}), "
                        f"{len(outcomes)} of {len(cases)} checks done"
                    )
        if len(outcomes) < len(cases):
            reason = FAILED + stopped_message(ended, budget or Budget(0, 0, 0))
            outcomes += [(False, reason)] * (len(cases) - len(outcomes))
        test_file.test_case_results = [
            upstream.case_result(tc, message, passed) for tc, (passed, message) in zip(cases, outcomes, strict=True)
        ]
        graded.files[test_file.name] = test_file
        if on_question is not None:
            on_question(test_file.name, outcomes)
    where = "a bounded child process each" if budget is not None else "this process"
    graded.log.append(f"hidden tests of {len(tests.files)} questions ran in {time.monotonic() - start:.2f} s ({where})")
    return graded
