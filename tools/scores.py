"""Per-question scores from an Otter/Gradescope ``results.json``, and a table to print them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

QuestionScores = dict[str, tuple[float, float]]  # question -> (score, max_score)


def question_scores(results: dict[str, Any]) -> QuestionScores:
    """Map each graded question to (score, max_score).

    Entries worth no points (Otter's "Public Tests" summary, notes) are not questions.
    """
    return {
        test["name"]: (float(test["score"]), float(test["max_score"]))
        for test in results.get("tests", [])
        if "score" in test and float(test.get("max_score") or 0) > 0
    }


def read_results(path: Path) -> dict[str, Any]:
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
