"""Measure the free-text engine: time per answer and import time.

    .venv/bin/python benchmarks/bench_freetext.py

Targets (from the issue): scoring one answer under 5 ms at the median and under 20 ms at
p99, for answers up to 3,000 characters; importing the engine < 0.3 s in a fresh
interpreter.  Answers: our calibration set and the 1,200 labelled answers of writers
who never saw the rubrics.  Prints measured figures; not a timed test.

Answer length vs time (issue 25): the reader's time per 1,000 characters for honest text and
for adversarial text (the 1 MB "[]" answer's pattern, a list of commas, one endless clause),
from 1,250 characters to four times the cap (read whole, uncached), then through
``grade_answer`` past the cap (only the first ``MAX_ANSWER_CHARS`` are read). Linear reading
shows as a flat ms / 1,000 chars column.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CALIBRATION = [ROOT / "tests" / "calibration" / "freetext.jsonl",
               *sorted((ROOT / "tests" / "calibration" / "labelled").glob("w*.jsonl"))]

COLD_SNIPPET = (
    "import time; import autograder.freetext as f; t = time.perf_counter(); "
    "f.grade_answer('q7', 'the hidden state at every time step: batch, time steps, units'); "
    "print(time.perf_counter() - t)"
)
IMPORT_SNIPPET = (
    "import time; t = time.perf_counter(); import autograder.freetext; "
    "print(time.perf_counter() - t)"
)


def fresh_process_times(snippet: str, runs: int = 7) -> list[float]:
    out = []
    for _ in range(runs):
        res = subprocess.run([sys.executable, "-c", snippet], cwd=ROOT, capture_output=True,
                             text=True, check=True)
        out.append(float(res.stdout.strip()))
    return out


def read_ms(question: str, text: str, runs: int = 3) -> float:
    """Milliseconds to read ``text`` whole, uncached (best of ``runs``)."""
    from autograder.freetext.grading import _grade
    from autograder.freetext.normalize import clean

    best = float("inf")
    for _ in range(runs):
        _grade.cache_clear()
        t = time.perf_counter()
        _grade(question, clean(text))
        best = min(best, time.perf_counter() - t)
    return best * 1000


def length_vs_time(rows: list[dict]) -> None:
    from autograder.freetext import grade_answer
    from autograder.freetext.bounds import MAX_ANSWER_CHARS
    from autograder.freetext.grading import _grade

    honest = " ".join(r["answer"] for r in rows if r["question"] == "q12" and isinstance(r["answer"], str))
    kinds = {"honest q12 answers": honest, '"Yes: o" + "[]" * n': "Yes: o" + "[]" * 20_000,
             '"h , " * n': "h , " * 10_000, '"output is h and " * n': "output is h and " * 3_000}
    lengths = [1_250, 2_500, 5_000, 10_000, 20_000]
    print(f"answer length vs time (read whole, uncached; ms, and ms per 1,000 chars in brackets); "
          f"the cap is {MAX_ANSWER_CHARS:,} chars")
    print(f"  {'text':<26}" + "".join(f"{n:>18,}" for n in lengths))
    for name, text in kinds.items():
        cells = []
        for n in lengths:
            ms = read_ms("q12", (text * (n // len(text) + 1))[:n])
            cells.append(f"{ms:8.1f} ({ms / n * 1000:5.2f})")
        print(f"  {name:<26}" + "".join(f"{c:>18}" for c in cells))
    for n in (100_000, 1_000_006):
        answer = ("Yes: o" + "[]" * n)[:n]
        _grade.cache_clear()
        t = time.perf_counter()
        g = grade_answer("q12", answer)
        print(f"  grade_answer, {n:,} chars of \"[]\": {(time.perf_counter() - t) * 1000:.1f} ms, flags {g.flags}")


def main() -> None:
    from autograder.freetext import QUESTIONS, grade_answer
    from autograder.freetext.fuzzy import _correct
    from autograder.freetext.grading import _grade
    from autograder.freetext.rubric import load_rubric

    rows = [json.loads(x) for path in CALIBRATION for x in path.read_text(encoding="utf-8").splitlines()
            if x.strip()]
    t = time.perf_counter()
    for q in QUESTIONS:
        load_rubric(q)
    rubric_ms = (time.perf_counter() - t) * 1000

    # Uncached: clear the per-answer cache before every call so each
    # measurement is a full normalise + match pass.
    per = []
    for _ in range(3):
        for r in rows:
            _grade.cache_clear()
            _correct.cache_clear()
            t = time.perf_counter()
            grade_answer(r["question"], r["answer"])
            per.append((time.perf_counter() - t) * 1000)
    per.sort()
    # The longest answers a student might paste: every q4 answer joined, cut at 3,000 characters.
    long_answer = " ".join(r["answer"] for r in rows if r["question"] == "q4")[:3000]
    long_times = []
    for q in QUESTIONS:
        _grade.cache_clear()
        _correct.cache_clear()
        t = time.perf_counter()
        grade_answer(q, long_answer)
        long_times.append((time.perf_counter() - t) * 1000)
    long_ms = max(long_times)

    t = time.perf_counter()
    for _ in range(1000):
        grade_answer("q1", rows[0]["answer"])
    cached_us = (time.perf_counter() - t) * 1000

    length_vs_time(rows)

    imports = fresh_process_times(IMPORT_SNIPPET)
    cold = fresh_process_times(COLD_SNIPPET)
    print(f"answers scored        {len(per)} ({len(rows)} answers x 3, cache cleared each time)")
    print(f"ms per answer         median {statistics.median(per):.3f}  p95 {per[int(len(per) * 0.95)]:.3f}  "
          f"p99 {per[int(len(per) * 0.99)]:.3f}  max {per[-1]:.3f}   (targets: median < 5 ms, p99 < 20 ms)")
    print(f"long answer           {len(long_answer)} chars, slowest of the {len(QUESTIONS)} rubrics: {long_ms:.2f} ms")
    print(f"cached repeat         {cached_us:.2f} us per call (require_concept path)")
    print(f"loading 8 rubrics     {rubric_ms:.1f} ms (once per process, lazily)")
    print(f"first answer, fresh   median {statistics.median(cold) * 1000:.2f} ms (includes loading its rubric)")
    print(f"import (fresh proc)   median {statistics.median(imports) * 1000:.1f} ms  "
          f"max {max(imports) * 1000:.1f} ms   (target < 300 ms)")


if __name__ == "__main__":
    main()
