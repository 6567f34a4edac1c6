"""Per-question statistics of the graded submissions, and a histogram of the total scores."""

from __future__ import annotations

import io
import json
import math
import statistics
from pathlib import Path
from typing import Any

from tools.files import write_atomic
from tools.gradebook.records import Record, Status
from tools.scores import question_key

COLUMNS = ["question", "possible", "count", "mean", "median", "min", "max", "full", "zero"]


def _summary(name: str, values: list[float], possible: float) -> dict[str, Any]:
    if not values:
        return {"question": name, "possible": possible, "count": 0, "mean": None, "median": None,
                "min": None, "max": None, "full": 0, "zero": 0}
    return {
        "question": name,
        "possible": possible,
        "count": len(values),
        "mean": round(statistics.fmean(values), 3),
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "full": sum(1 for v in values if v >= possible),
        "zero": sum(1 for v in values if v == 0),
    }


def question_stats(records: list[Record]) -> list[dict[str, Any]]:
    """One entry per question (in question order) and a last one for the total, over graded submissions."""
    graded = [r for r in records if r.status == Status.GRADED]
    possible: dict[str, float] = {}
    for r in graded:
        for q, (_, m) in r.scores.items():
            possible[q] = max(possible.get(q, 0), m)
    rows = [
        _summary(q, [float(r.scores[q][0]) for r in graded if q in r.scores], possible[q])
        for q in sorted(possible, key=question_key)
    ]
    rows.append(_summary("total", [float(r.total) for r in graded], sum(possible.values())))
    return rows


def write_stats(records: list[Record], csv_path: Path, json_path: Path,
                written: dict[str, dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """The CSV (score statistics) and the JSON, whose written questions also carry ``written``:
    each concept's and misconception's share of the class (``tools.gradebook.apply.class_stats``)."""
    rows = question_stats(records)
    for row in rows:
        row.update((written or {}).get(row["question"], {}))
    lines = [",".join(COLUMNS)]
    for row in rows:
        lines.append(",".join("" if row[c] is None else f"{row[c]:g}" if isinstance(row[c], float) else str(row[c])
                              for c in COLUMNS))
    write_atomic(Path(csv_path), "\n".join(lines) + "\n")
    write_atomic(Path(json_path), json.dumps(rows, indent=1))
    return rows


def format_stats(rows: list[dict[str, Any]]) -> str:
    """The question statistics as a fixed-width table for the terminal, the total row set off by a rule."""
    header = f"{'question':<9}{'possible':>9}{'n':>5}{'mean':>8}{'median':>8}{'min':>6}{'max':>6}{'full':>6}{'zero':>6}"
    lines = [header, "-" * len(header)]

    def g(v: Any) -> str:
        return "-" if v is None else f"{v:g}"

    for row in rows:
        if row["question"] == "total":
            lines.append("-" * len(header))
        lines.append(
            f"{row['question']:<9}{g(row['possible']):>9}{row['count']:>5}{g(row['mean']):>8}{g(row['median']):>8}"
            f"{g(row['min']):>6}{g(row['max']):>6}{row['full']:>6}{row['zero']:>6}"
        )
    return "\n".join(lines)


def write_histogram(records: list[Record], path: Path) -> Path:
    """A PNG histogram of the total scores of the graded submissions (matplotlib, Agg backend)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    graded = [r for r in records if r.status == Status.GRADED]
    totals = [float(r.total) for r in graded]
    possible = max((sum(m for _, m in r.scores.values()) for r in graded), default=0)
    fig = Figure(figsize=(7, 4), dpi=100)
    ax = fig.add_subplot()
    if totals:
        top = max(possible, max(totals), 1)
        bins = max(1, math.ceil(possible or top))  # one bin per point of the assignment's total
        ax.hist(totals, bins=bins, range=(0, top), color="#4c72b0", edgecolor="white")
        ax.set_xlim(0, top)
    else:
        ax.text(0.5, 0.5, "no graded submissions", ha="center", va="center", transform=ax.transAxes)
    not_graded = len(records) - len(graded)
    ax.set_title(f"Total scores: {len(graded)} graded" + (f", {not_graded} not graded" if not_graded else ""))
    ax.set_xlabel(f"total points (of {possible:g})")
    ax.set_ylabel("submissions")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    write_atomic(Path(path), buf.getvalue())
    return Path(path)
