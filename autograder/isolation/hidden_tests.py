"""The assignment's test files, loaded before any student code and run in the grading process.

``load`` reads every test file and executes its source (grader code) at once, so the test cases
exist in memory before the student's kernel starts; ``run`` calls the hidden test cases on the
values the kernel exported. A failed case's message is the ``AssertionError`` text of the
grader's own check (``autograder/checks.py``, the rubric hints); any other exception gets one
fixed message, so no exception text of any other origin reaches the output. Public test cases
(0 points) are the student's own checks and run in the kernel, in Jupyter; they are not rerun
here.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autograder import upstream
from autograder.isolation import public_checks

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


def _student_names(case: Any) -> list[str]:
    """The variables a test case takes from the student's notebook (its parameters but ``env``)."""
    code = upstream.case_function(case).__code__
    return [n for n in code.co_varnames[: code.co_argcount + code.co_kwonlyargcount] if n != "env"]


class TestsError(RuntimeError):
    """The autograder's test files are unusable (an instructor's problem, not the student's)."""


@dataclass
class HiddenTests:
    files: list[ExceptionTestFile]
    parameters: dict[str, set[str]]  # test file name -> the names its hidden cases take
    public: list[public_checks.PublicCheck] = field(default_factory=list)  # run again in the kernel

    @property
    def names(self) -> list[str]:
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


def run(tests: HiddenTests, namespace: dict[str, Any]) -> dict[str, ExceptionTestFile]:
    """``name -> test file`` with results of its hidden cases on ``namespace`` (the exported values)."""
    results = {}
    for test_file in tests.files:
        test_file.test_cases = [tc for tc in test_file.test_cases if tc.hidden]
        test_file.test_case_results = []
        env = dict.fromkeys(tests.parameters[test_file.name])
        env.update(namespace)
        for tc in test_file.test_cases:
            try:
                upstream.run_case(tc, dict(env))  # a fresh copy: no case leaves anything for the next
                passed, message = True, PASSED
            except AssertionError as e:
                passed, message = False, FAILED + (str(e) or not_checked(_student_names(tc)))
            except Exception:  # its text is not the grader's: never shown; the variables it used are named
                passed, message = False, FAILED + not_checked(_student_names(tc))
            test_file.test_case_results.append(upstream.case_result(tc, message, passed))
        results[test_file.name] = test_file
    return results
