"""The grading results Otter writes to results.json, made only of the grader's own texts.

Otter turns ``GradingResults`` into Gradescope's results.json (``to_gradescope_dict``). This
subclass keeps Otter's scores and visibility rules and makes sure of two things: every test entry
is complete (``score``, ``max_score``, ``visibility``, ``output``), and the "Public Tests" entry
says what happened in the grader's words (public tests are the student's checks in Jupyter; they
are not rerun during grading). Each question's output is written here in plain
Markdown (``output_format: md``): the question's score, then one line per failed check, in the
words of the check (a missing concept's hint, a code check's message); never a test's source, a
concept id or an exception. The messages come from ``hidden_tests`` and the top-level output from
the grader (``set_output``), never from the kernel.

``write_results`` writes results.json and results.pkl the way Otter's own run does, each file
atomically: for anything that must leave a result outside Otter's normal path (the watchdog,
``watchdog.py``; an entry point that refuses a submission).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from otter.test_files import GradingResults

from autograder.isolation.hidden_tests import FAILED
from autograder.upstream import PUBLIC_TESTS

PUBLIC_SUMMARY = (
    "Your notebook ran in the grader and every question was graded from the values it computed. "
    "The public checks are the ones you ran in Jupyter with grader.check; the hidden tests' results "
    "appear when grades are published."
)


ALL_PASSED = "Every check passed."
# plugin data whose entries become results.json's top-level ``extra_data`` (stored by Gradescope and
# read by tools, never shown to students): ``add_extra_data``
EXTRA_DATA_KEY = "results.extra_data"


def add_extra_data(results: GradingResults, key: str, value: Any) -> None:
    """Put ``key: value`` (JSON data) into results.json's ``extra_data``, for the instructor's tools."""
    extra = dict(results.get_plugin_data(EXTRA_DATA_KEY, {}) or {})
    extra[key] = value
    results.set_plugin_data(EXTRA_DATA_KEY, extra)


def feedback(name: str, test_file: Any) -> str:
    """A question's output for the student: its score, then what each failed check says."""
    score, possible = test_file.score, test_file.possible
    lines = [f"**{name}: {score:g} / {possible:g}**", ""]
    failed = [r.message.removeprefix(FAILED).strip() for r in test_file.test_case_results if not r.passed]
    if not failed:
        lines.append(ALL_PASSED)
    # one line per check, in order; the same words twice (two checks of one array) said once
    lines += [f"- {message}" for message in dict.fromkeys(failed)]
    return "\n".join(lines)


class IsolatedResults(GradingResults):
    """``GradingResults`` of an isolated grading run (see the module docstring)."""

    def to_gradescope_dict(self, ag_config: Any) -> dict[str, Any]:
        output = super().to_gradescope_dict(ag_config)
        for test in output.get("tests", []):
            if test.get("name") in self.results:
                test["output"] = feedback(test["name"], self.results[test["name"]])
                test["output_format"] = "md"
            if test.get("name") == PUBLIC_TESTS:
                test["output"] = PUBLIC_SUMMARY
                test["status"] = "passed"
            test.setdefault("score", 0)
            test.setdefault("max_score", 0)
            test.setdefault("visibility", "visible")
            test.setdefault("output", "")
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
    plain = GradingResults.__new__(GradingResults)
    plain.__dict__.update(results.__dict__)
    _write_atomic(directory / RESULTS_PICKLE, dill.dumps(plain))
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
