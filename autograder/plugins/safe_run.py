"""Entry point for the zip's ``run_otter.py``: Otter's autograder with a readable refusal.

Otter checks the submission before any plugin is loaded: a notebook that is not valid JSON
(truncated upload) crashes ``otter.run.run_autograder.main`` with a traceback and no
``results.json`` (Gradescope then shows its generic "autograder failed" page), and a notebook
of another assignment gets a results.json whose only test lacks ``score``, ``max_score`` and
``visibility``. This module runs the same checks first (``autograder.submission_check``) and,
if the submission cannot be graded, writes a complete results.json with a message for the
student (score 0, no question graded) and the typed reason in its ``extra_data``; otherwise
it hands over to Otter. The refusal is also written as the ``results.pkl`` that ``otter grade``
reads back from its container (a ``GradingResults`` without results whose error is the
message), so its grade sheet names the reason instead of a failed container. Before Otter
starts, a blank ``submission_metadata.json`` (``otter grade``'s image touches an empty one) is
made to read as no metadata. The zip's ``run_otter.py`` becomes::

    from autograder.plugins.safe_run import main
    main("/autograder")

(it needs ``autograder/`` at the zip root, like the plugins).
"""

from __future__ import annotations

import glob
import json
import os
import sys
from typing import Any

from autograder import upstream
from autograder.submission_check import Problem, check_notebook

NOT_GRADED = "Submission not graded"
PROBLEM_KEY = "submission_problem"  # in the refusal's top-level extra_data, for tools that read results.json


def _config(autograder_dir: str) -> dict[str, Any]:
    try:
        with open(os.path.join(autograder_dir, "source", "otter_config.json"), encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def submission_problem(autograder_dir: str, config: dict[str, Any]) -> Problem | None:
    """Why the submitted notebook cannot be graded (``autograder.submission_check``), or ``None``."""
    notebooks = sorted(glob.glob(os.path.join(autograder_dir, "submission", "*.ipynb")))
    if len(notebooks) != 1:
        return None  # Otter's own messages ("no gradable files", "more than one .ipynb") are clear
    with open(notebooks[0], "rb") as f:
        data = f.read()
    return check_notebook(os.path.basename(notebooks[0]), data, config.get("assignment_name"))


def refusal(problem: Problem, config: dict[str, Any]) -> dict[str, Any]:
    """A complete results.json saying why nothing was graded, the reason typed in ``extra_data``."""
    message = problem.message()
    return {
        "score": 0,
        "output": message,
        "stdout_visibility": "after_published" if config.get("show_stdout") else "hidden",
        "extra_data": {PROBLEM_KEY: problem.to_json()},
        "tests": [{"name": NOT_GRADED, "score": 0, "max_score": 0, "visibility": "visible", "output": message}],
    }


def refused(results: Any) -> Problem | None:
    """The problem a ``refusal`` results.json carries, or None when the submission was not refused."""
    extra = results.get("extra_data") if isinstance(results, dict) else None
    return Problem.from_json(extra.get(PROBLEM_KEY)) if isinstance(extra, dict) else None


def not_graded_reason(problem: Problem) -> str:
    """The one line ``otter grade``'s grade sheet shows for a refused submission."""
    return f"{NOT_GRADED}: {problem.message()}"


def write_refusal(autograder_dir: str, problem: Problem, config: dict[str, Any]) -> None:
    """Write the refusal as results.json (Gradescope, otter run) and results.pkl (otter grade)."""
    results = os.path.join(autograder_dir, "results")
    os.makedirs(results, exist_ok=True)
    with open(os.path.join(results, "results.json"), "w", encoding="utf-8") as f:
        json.dump(refusal(problem, config), f, indent=4)
    upstream.write_not_graded(os.path.join(results, upstream.RESULTS_PICKLE), not_graded_reason(problem))


def main(autograder_dir: str = "/autograder") -> None:
    """Refuse a submission that cannot be graded as this assignment's notebook (writing results that say
    why), else run Otter's autograder as the zip's ``run_otter.py`` would (blank metadata read as none).
    """
    config = _config(autograder_dir)
    problem = submission_problem(autograder_dir, config)
    if problem is not None:
        write_refusal(autograder_dir, problem, config)
        print(problem.message())
        return

    upstream.blank_metadata_as_none(autograder_dir)
    upstream.run_autograder(autograder_dir)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/autograder")
