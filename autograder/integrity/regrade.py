"""Run the assignment's test files in the grading process against exported values.

The test sources are read before any student code runs and kept in memory; the code they import
(``autograder.checks``, ``autograder.freetext`` and its rubrics) is imported and loaded at the
same time (``preload``), so files the student's code changes on disk afterwards do not count.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

_NAME = re.compile(r"^name\s*=\s*['\"](\w+)['\"]", re.MULTILINE)


def preload() -> list[str]:
    """Import the grader code the tests use and load every rubric; return any problems."""
    problems = []
    try:
        import autograder.checks  # noqa: F401
    except Exception as e:  # noqa: BLE001
        problems.append(f"autograder.checks: {type(e).__name__}: {e}")
    try:
        from autograder.freetext import QUESTIONS
        from autograder.freetext.rubric import load_rubric

        for question in QUESTIONS:
            load_rubric(question)
    except Exception as e:  # noqa: BLE001
        problems.append(f"autograder.freetext: {type(e).__name__}: {e}")
    return problems


def read_tests(test_dir: Path) -> dict[str, str]:
    """``path -> source`` of every test file, paths as Otter names them (``./tests/q1.py``)."""
    return {f"./tests/{p.name}": p.read_text(encoding="utf-8") for p in sorted(Path(test_dir).glob("*.py"))}


def test_name(source: str) -> str | None:
    m = _NAME.search(source)
    return m.group(1) if m else None


def parameters(source: str) -> set[str]:
    """Names the test functions of one test file take from the student's namespace."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef):
            names |= {a.arg for a in node.args.args + node.args.kwonlyargs if a.arg != "env"}
    return names


def run_tests(tests: dict[str, str], namespace: dict[str, Any]) -> dict[str, Any]:
    """``name -> ExceptionTestFile`` with results, every test run against ``namespace``."""
    from otter.test_files import ExceptionTestFile

    results = {}
    for path, source in tests.items():
        test_file = ExceptionTestFile.from_string(source, path=path)
        # a fresh copy per file: a test cannot leave anything behind for the next one
        test_file.run(dict(namespace))
        results[test_file.name] = test_file
    return results
