"""Measure grading of the full-credit submission under Gradescope's limits (tools.gradescope).

    python benchmarks/bench_gradescope.py [--zip ZIP] [--submission NB] [--step 32] [--floor 128]

1. Gradescope's limits (``tools.limits``): wall time, peak memory of the tree, OOM, score,
   and the peak RSS of each process (Otter's grading process vs the kernel with TensorFlow).
2. 650 MiB, Gradescope's CPU quota, from a cold page cache (``sync; echo 3 > /proc/sys/vm/drop_caches``).
3. Bisection (``--step`` MiB) for the smallest memory limit at which full marks still come out,
   each probe from a cold page cache.

With ``--compare ZIP`` (e.g. a zip built from an earlier commit), first the two zips grade the
same notebook in alternation (``--repeat`` times each, warm cache, Gradescope's limits) and the
median wall times and their ratio are printed side by side.

Targets: full marks under 650 MiB cold, no OOM kill, under 60 s wall at Gradescope's limit; with
``--compare``, this zip no more than 1.10x the other's median.
Needs root (drop_caches, cgroups) and bwrap. Prints figures; exit 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools import gradescope
from tools.limits import GRADESCOPE_LIMITS, MiB

GRADESCOPE_MIB = GRADESCOPE_LIMITS.memory // MiB


def drop_caches() -> None:
    subprocess.run(["sync"], check=True)
    Path("/proc/sys/vm/drop_caches").write_text("3\n")


def full_credit_notebook(out: Path) -> Path:
    try:
        from tools.submissions import build_submission

        return build_submission("full_credit", out)
    except Exception as e:  # fall back to the solutions notebook
        print(f"(tools.submissions unavailable: {e}; using the solutions notebook)")
        return gradescope.ROOT / "dist" / "autograder" / "rnn_states.ipynb"


REFERENCE: dict[str, tuple[float, float]] = {}  # per-question scores of the run at Gradescope's limit


def probe(nb: Path, zip_path: Path, memory_mib: int, *, cold: bool, processes: bool = False):
    """Grade once; "passes" = valid results with full marks, or (if the submission does not get
    full marks even without memory pressure) exactly the scores of the run at Gradescope's limit."""
    if cold:
        drop_caches()
    result = gradescope.grade(nb, zip_path=zip_path, memory=memory_mib * MiB, sample_processes=processes)
    full = result.valid and result.max_score > 0 and result.score == result.max_score
    if not REFERENCE and result.valid:
        REFERENCE.update(result.question_scores)
    full = full or (result.valid and bool(REFERENCE) and result.question_scores == REFERENCE)
    s = result.sandbox
    if result.score == result.max_score > 0:
        verdict = "FULL MARKS"
    else:
        verdict = f"same scores as at {GRADESCOPE_MIB} MiB" if full else "FAIL " + "; ".join(result.problems[:2])
    print(
        f"  {memory_mib:4d} MiB {'cold' if cold else 'warm'}: score {result.score}/{result.max_score:g}, "
        f"wall {s.wall_time:5.1f} s, peak {s.peak_memory / MiB:4.0f} MiB (rss+mapped {s.peak_rss / MiB:4.0f}), "
        f"OOM {'yes' if s.oom_killed else 'no'}, failcnt {s.memory_failcnt}, "
        f"{verdict}",
        flush=True,
    )
    return result, full


def compare(nb: Path, zip_path: Path, other: Path, repeat: int) -> bool:
    """Alternate the two zips on one notebook; print medians and the ratio; True if within 1.10x."""
    import statistics

    times: dict[str, list[float]] = {"this": [], "other": []}
    for i in range(repeat):
        for label, path in (("this", zip_path), ("other", other)):
            run = gradescope.grade(nb, zip_path=path)  # Gradescope's limits
            times[label].append(run.sandbox.wall_time)
            print(f"  run {i + 1} {label:5}: {run.score}/{run.max_score:g}, wall {run.sandbox.wall_time:5.1f} s, "
                  f"peak {run.sandbox.peak_memory / MiB:4.0f} MiB", flush=True)
    this, that = statistics.median(times["this"]), statistics.median(times["other"])
    print(f"  median wall: this zip {this:.1f} s, other zip {that:.1f} s, ratio {this / that:.2f}x")
    return this / that <= 1.10


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--zip", type=Path, help="autograder zip (default: dist/autograder)")
    parser.add_argument("--submission", type=Path, help="full-credit notebook (default: built from solutions)")
    parser.add_argument("--step", type=int, default=32, help="bisection resolution in MiB")
    parser.add_argument("--floor", type=int, default=128, help="lowest limit the bisection tries")
    parser.add_argument("--no-bisect", action="store_true")
    parser.add_argument("--compare", type=Path, help="another autograder zip to time side by side")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each zip with --compare")
    args = parser.parse_args(argv)

    zip_path = args.zip or gradescope.default_zip()
    with tempfile.TemporaryDirectory() as tmp:
        nb = args.submission or full_credit_notebook(Path(tmp))
        print(f"zip: {zip_path}\nsubmission: {nb}\n")
        ok = True
        if args.compare:
            limits = f"{GRADESCOPE_MIB} MiB, {GRADESCOPE_LIMITS.cpus:g} CPU"
            print(f"side by side with {args.compare} ({limits}, warm cache):")
            if not compare(nb, zip_path, args.compare, args.repeat):
                ok = False
                print("  MISSED: more than 1.10x the other zip's time")
            print()

        print(f"Gradescope default ({GRADESCOPE_MIB} MiB, {GRADESCOPE_LIMITS.cpus:g} CPU), warm cache:")
        result, full = probe(nb, zip_path, GRADESCOPE_MIB, cold=False, processes=True)
        peaks = sorted(result.sandbox.process_peaks.items(), key=lambda kv: -kv[1])[:6]
        for cmd, rss in peaks:
            print(f"      {rss / MiB:5.0f} MiB  {cmd[:100]}")
        if result.score != result.max_score:
            ok = False
            print("  MISSED: the full-credit submission does not get full marks (not a memory problem:")
            print(f"  no memory pressure at {GRADESCOPE_MIB} MiB); the probes below compare with this run's scores")
        if not (result.valid and result.sandbox.wall_time < 60 and not result.sandbox.oom_killed):
            ok = False
            print(f"  MISSED: valid results in under 60 s at {GRADESCOPE_MIB} MiB without OOM")

        print(f"\n650 MiB, {GRADESCOPE_LIMITS.cpus:g} CPU, cold page cache:")
        _, full650 = probe(nb, zip_path, 650, cold=True)
        if not full650:
            ok = False
            print("  MISSED: full marks under 650 MiB from a cold cache")

        if not args.no_bisect:
            print(f"\nsmallest passing limit (bisection, {args.step} MiB steps, cold cache each probe):")
            lo, hi = args.floor, 650 if full650 else GRADESCOPE_MIB
            if not full650:
                _, ok_at_limit = probe(nb, zip_path, GRADESCOPE_MIB, cold=True)
                if not ok_at_limit:
                    print(f"  fails at {GRADESCOPE_MIB} MiB too: nothing to bisect")
                    return 1
            # invariant: hi passes; lo fails (or is the floor, untested)
            _, floor_ok = probe(nb, zip_path, lo, cold=True)
            if floor_ok:
                hi = lo
            while hi - lo > args.step:
                mid = lo + ((hi - lo) // 2 // args.step) * args.step or lo + args.step
                _, passed = probe(nb, zip_path, mid, cold=True)
                lo, hi = (lo, mid) if passed else (mid, hi)
            print(
                f"  smallest limit with full marks: {hi} MiB (fails at {lo} MiB)"
                if not floor_ok
                else f"  passes even at the floor of {hi} MiB"
            )
        print("\nall targets met" if ok else "\nsome targets missed")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
