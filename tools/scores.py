"""Per-question scores from an Otter/Gradescope ``results.json``, and a table to print them."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

QuestionScores = dict[str, tuple[float, float]]  # question -> (score, max_score)


def question_scores(results: Any) -> QuestionScores:
    """Map each graded question of a results.json to (score, max_score): the one reader of them.

    Tests worth no points (Otter's "Public Tests" summary, a refusal's message) are not
    questions. The numbers stay as JSON has them (``3`` an int, ``3.0`` a float) so a grade
    sheet writes them as ``otter grade`` does. A test that is not an object or whose score is
    not a finite number is skipped, not fatal: results.json may come from a run that failed
    halfway (``tools.results_format`` says what is wrong with it).
    """
    tests = results.get("tests") if isinstance(results, dict) else None
    scores: QuestionScores = {}
    for test in tests if isinstance(tests, list) else []:
        if not isinstance(test, dict) or not isinstance(test.get("name"), str):
            continue
        score, possible = test.get("score"), test.get("max_score")
        if _finite(score) and _finite(possible) and possible > 0:
            scores[test["name"]] = (score, possible)
    return scores


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def read_results(path: Path) -> dict[str, Any]:
    """A results.json file, parsed as is (no validation)."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def question_key(name: str) -> tuple[int, str]:
    """Sort key putting q2 before q10 (by the number in the name); names without one go last."""
    digits = "".join(ch for ch in name if ch.isdigit())
    return (int(digits) if digits else 10**6, name)


def format_table(rows: dict[str, QuestionScores]) -> str:
    """One column per submission, one row per question, and a total row."""
    questions = sorted({q for scores in rows.values() for q in scores}, key=question_key)
    names = list(rows)
    width = max([8, *(len(n) for n in names)])
    header = f"{'question':<10}" + "".join(f"{n:>{width + 2}}" for n in names)
    lines = [header, "-" * len(header)]
    for q in questions:
        cells = []
        for n in names:
            score = rows[n].get(q)
            cells.append(f"{score[0]:g}/{score[1]:g}" if score else "-")
        lines.append(f"{q:<10}" + "".join(f"{c:>{width + 2}}" for c in cells))
    totals = []
    for n in names:
        got = sum(s for s, _ in rows[n].values())
        possible = sum(m for _, m in rows[n].values())
        totals.append(f"{got:g}/{possible:g}")
    lines.append("-" * len(header))
    lines.append(f"{'total':<10}" + "".join(f"{t:>{width + 2}}" for t in totals))
    return "\n".join(lines)
