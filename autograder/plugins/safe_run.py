"""Entry point for the zip's ``run_otter.py``: Otter's autograder with a readable refusal.

Otter checks the submission before any plugin is loaded: a notebook that is not valid JSON
(truncated upload) crashes ``otter.run.run_autograder.main`` with a traceback and no
``results.json`` (Gradescope then shows its generic "autograder failed" page), and a notebook
of another assignment gets a results.json whose only test lacks ``score``, ``max_score`` and
``visibility``. This module runs the same checks first and, if the submission cannot be
graded, writes a complete results.json with a message for the student (score 0, no
question graded); otherwise it hands over to Otter unchanged. The zip's ``run_otter.py``
becomes::

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

NOT_GRADED = "Submission not graded"


def _config(autograder_dir: str) -> dict[str, Any]:
    try:
        with open(os.path.join(autograder_dir, "source", "otter_config.json"), encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def submission_problem(autograder_dir: str, config: dict[str, Any]) -> str | None:
    """Why the submission cannot be graded, in words for the student, or ``None``."""
    submission = os.path.join(autograder_dir, "submission")
    notebooks = sorted(glob.glob(os.path.join(submission, "*.ipynb")))
    expected = config.get("assignment_name")
    if len(notebooks) != 1:
        return None  # Otter's own messages ("no gradable files", "more than one .ipynb") are clear
    path = notebooks[0]
    name = os.path.basename(path)
    try:
        with open(path, encoding="utf-8") as f:
            nb = json.load(f)
    except UnicodeDecodeError:
        return (
            f"{name} is not a Jupyter notebook (it is not UTF-8 text)."
            " Upload the .ipynb file or the zip its export cell makes."
        )
    except ValueError as e:
        return (
            f"{name} could not be read as a Jupyter notebook: it is not valid JSON ({e}). The file is probably"
            " truncated or was edited outside Jupyter. Open it in Jupyter, save it, run the export cell and"
            " upload the zip it makes."
        )
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list) or "nbformat" not in nb:
        return f"{name} is JSON but not a Jupyter notebook (no 'cells' list or 'nbformat' field)."
    got = upstream.notebook_assignment(nb)
    if expected and got != expected:
        which = f"assignment '{got}'" if got else "no assignment (its metadata has no Otter assignment name)"
        return (
            f"This Gradescope assignment grades '{expected}', but {name} is a notebook for {which}. "
            f"Submit your {expected} notebook (the zip its export cell makes)."
        )
    return None


def refusal(message: str, config: dict[str, Any]) -> dict[str, Any]:
    """A complete results.json saying why nothing was graded."""
    return {
        "score": 0,
        "output": message,
        "stdout_visibility": "after_published" if config.get("show_stdout") else "hidden",
        "tests": [{"name": NOT_GRADED, "score": 0, "max_score": 0, "visibility": "visible", "output": message}],
    }


def main(autograder_dir: str = "/autograder") -> None:
    config = _config(autograder_dir)
    message = submission_problem(autograder_dir, config)
    if message is not None:
        os.makedirs(os.path.join(autograder_dir, "results"), exist_ok=True)
        with open(os.path.join(autograder_dir, "results", "results.json"), "w", encoding="utf-8") as f:
            json.dump(refusal(message, config), f, indent=4)
        print(message)
        return

    upstream.run_autograder(autograder_dir)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/autograder")
