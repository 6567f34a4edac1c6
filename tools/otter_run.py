"""Grade one submission with ``otter run`` and the built autograder zip, as a TA without Docker does."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.limits import GRADESCOPE_LIMITS
from tools.scores import QuestionScores, question_scores, read_results


@dataclass
class OtterRunResult:
    results: dict[str, Any]  # the results.json Otter wrote
    scores: QuestionScores
    log: str  # otter run's combined output

    @property
    def total(self) -> tuple[float, float]:
        """The points earned and the points possible, summed over the questions."""
        return sum(s for s, _ in self.scores.values()), sum(m for _, m in self.scores.values())


class OtterRunError(Exception):
    """``otter run`` wrote no results; the message carries its output."""


def otter_run(
    submission: Path, autograder_zip: Path, out_dir: Path | None = None, timeout: float = GRADESCOPE_LIMITS.timeout
) -> OtterRunResult:
    """Run ``otter run -a ZIP -o OUT SUBMISSION`` as Otter documents it and read back its results.json.

    The command is the environment's ``otter`` script, started from a directory of its own: the
    plugins must come from the installed package and the zip, not from the current directory.

    ``timeout``: seconds before the run is stopped (by default as long as Gradescope waits).
    """
    with tempfile.TemporaryDirectory(prefix="otter-run-") as tmp:
        out = Path(out_dir or tmp).resolve()
        out.mkdir(parents=True, exist_ok=True)
        otter = Path(sys.executable).with_name("otter")
        command = [str(otter), "run", "-a", str(Path(autograder_zip).resolve()), "-o", str(out),
                   str(Path(submission).resolve())]
        proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=tmp)
        log = proc.stdout + proc.stderr
        results_path = out / "results.json"
        if not results_path.is_file():
            raise OtterRunError(
                f"otter run wrote no results.json for {submission} (exit {proc.returncode}):\n{log[-3000:]}"
            )
        results = read_results(results_path)
        return OtterRunResult(results, question_scores(results), log)
