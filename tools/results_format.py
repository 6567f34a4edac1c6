"""Check a ``results.json`` against Gradescope's autograder results format.

Gradescope's specification (https://gradescope-autograders.readthedocs.io/en/latest/specs/):
a JSON object with ``score`` (total, optional if every test has a score), ``execution_time``,
``output``, ``visibility``, ``stdout_visibility``, ``extra_data`` and ``tests``, a list of
objects with ``score``, ``max_score``, ``status``, ``name``, ``number``, ``output``, ``tags``,
``visibility``, ``extra_data``. Visibility is one of ``visible``, ``hidden``, ``after_due_date``,
``after_published``. This project is stricter: every test carries ``name``, ``score``,
``max_score``, ``visibility`` and ``output``, so nothing relies on Gradescope's defaults, and
the visibilities must be the ones ``otter_config.json`` asks for.

    problems = validate(results, otter_config)   # [] when valid
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

__all__ = ["VISIBILITIES", "expected_visibilities", "load", "validate"]

VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")
STATUSES = ("passed", "failed")
REQUIRED_TEST_KEYS = ("name", "score", "max_score", "visibility", "output")
KNOWN_TOP_KEYS = {
    "score", "execution_time", "output", "output_format", "test_output_format", "test_name_format",
    "visibility", "stdout_visibility", "extra_data", "tests", "leaderboard",
}
KNOWN_TEST_KEYS = {
    "score", "max_score", "status", "name", "name_format", "number", "output", "output_format",
    "tags", "visibility", "extra_data",
}
# tests Otter adds around the per-question ones, always visible
SUMMARY_TESTS = {"Public Tests"}


def load(path: Path) -> Any:
    """Read results.json, rejecting NaN/Infinity (which Python's json accepts but JSON does not)."""

    def reject(token: str) -> float:
        """Refuse ``NaN``, ``Infinity`` and ``-Infinity``, which JSON does not have."""
        raise ValueError(f"{token} is not valid JSON")

    return json.loads(Path(path).read_text(encoding="utf-8"), parse_constant=reject)


def expected_visibilities(otter_config: dict[str, Any]) -> tuple[set[str], str]:
    """The visibilities per-question tests may have, and the expected ``stdout_visibility``."""
    hidden = "after_published" if otter_config.get("show_hidden") else "hidden"
    allowed = {hidden}
    if otter_config.get("show_all_public"):
        allowed.add("visible")
    stdout = "after_published" if otter_config.get("show_stdout") else "hidden"
    return allowed, stdout


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def validate(results: Any, otter_config: dict[str, Any] | None = None) -> list[str]:
    """Return a list of problems with ``results`` (empty when it is valid).

    ``otter_config`` is the zip's ``otter_config.json``; when given, visibilities are checked
    against it. A missing ``stdout_visibility`` means Gradescope's default (hidden), which is
    what ``show_stdout: false`` asks for.
    """
    problems: list[str] = []
    if not isinstance(results, dict):
        return ["results.json must hold a JSON object"]
    unknown = set(results) - KNOWN_TOP_KEYS
    if unknown:
        problems.append(f"unknown top-level keys: {sorted(unknown)}")
    tests = results.get("tests")
    if "score" in results and not _number(results["score"]):
        problems.append(f"top-level score is not a finite number: {results['score']!r}")
    if tests is None:
        if "score" not in results:
            problems.append("neither a top-level score nor tests")
        tests = []
    if not isinstance(tests, list):
        problems.append("tests must be a list")
        tests = []
    for key in ("output", "visibility", "stdout_visibility"):
        if key in results and not isinstance(results[key], str):
            problems.append(f"{key} must be a string")
    for key in ("visibility", "stdout_visibility"):
        if key in results and results[key] not in VISIBILITIES:
            problems.append(f"{key} {results[key]!r} is not one of {VISIBILITIES}")
    if "execution_time" in results and not _number(results["execution_time"]):
        problems.append("execution_time must be a number")

    allowed, stdout = expected_visibilities(otter_config or {})
    all_scored = True
    for i, test in enumerate(tests):
        where = f"tests[{i}]"
        if not isinstance(test, dict):
            problems.append(f"{where} is not an object")
            continue
        where = f"tests[{i}] ({test.get('name', '?')})"
        missing = [k for k in REQUIRED_TEST_KEYS if k not in test]
        if missing:
            problems.append(f"{where} lacks {', '.join(missing)}")
        unknown = set(test) - KNOWN_TEST_KEYS
        if unknown:
            problems.append(f"{where} has unknown keys {sorted(unknown)}")
        for key in ("score", "max_score"):
            if key in test and not _number(test[key]):
                problems.append(f"{where} {key} is not a finite number: {test[key]!r}")
        if "score" not in test:
            all_scored = False
        for key in ("name", "output"):
            if key in test and not isinstance(test[key], str):
                problems.append(f"{where} {key} must be a string")
        if "status" in test and test["status"] not in STATUSES:
            problems.append(f"{where} status {test['status']!r} is not one of {STATUSES}")
        vis = test.get("visibility")
        if vis is not None and vis not in VISIBILITIES:
            problems.append(f"{where} visibility {vis!r} is not one of {VISIBILITIES}")
        elif otter_config is not None and vis is not None and test.get("name") not in SUMMARY_TESTS:
            # a 0-point test is a message (e.g. why nothing was graded): students must see it
            message = test.get("max_score") == 0 and vis == "visible"
            if vis not in allowed and not message:
                problems.append(f"{where} visibility {vis!r}, otter_config.json asks for {sorted(allowed)}")
    if "score" not in results and not (tests and all_scored):
        problems.append("no top-level score and not every test has a score")
    if otter_config is not None and results.get("stdout_visibility", "hidden") != stdout:
        problems.append(
            f"stdout_visibility {results.get('stdout_visibility', 'hidden (default)')!r}, "
            f"otter_config.json asks for {stdout!r}"
        )
    return problems


def student_view(results: dict[str, Any], published: bool) -> dict[str, Any]:
    """What a student sees of ``results`` on Gradescope, before or after grades are published.

    Gradescope shows a test by its ``visibility``: ``visible`` always, ``after_published`` (and,
    counted alike here, ``after_due_date``) once grades are published, ``hidden`` never (instructors
    only). The top-level ``output`` is kept: it is shown with the results.
    """
    shown = {"visible", "after_published", "after_due_date"} if published else {"visible"}
    default = results.get("visibility", "visible")
    tests = [t for t in results.get("tests", []) if t.get("visibility", default) in shown]
    return {"output": results.get("output", ""), "tests": tests}
