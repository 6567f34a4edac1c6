"""Grade a folder of submissions like ``otter grade``, without Docker.

    python -m tools.batch SUBMISSIONS_DIR [--out DIR] [--workers N] [--timeout S] [--memory SIZE]
                                          [--cpus N] [--zip PATH] [--force] [--cold]

Each worker is a warm sandbox (``tools.batch.workers``) with Gradescope's memory limit
(``tools.limits``) and a whole CPU; each submission gets Gradescope's time limit and a kernel of
its own, forked from a process that has imported TensorFlow already. ``--cold`` grades each
submission in a fresh sandbox instead, exactly as Gradescope does.

Exit status: 0 when every input has a row in OUT/final_grades.csv (whatever its status),
2 when grading could not start (no folder, no built zip, no bubblewrap), 130 when interrupted
(Ctrl-C: the reports are not written, the finished gradings are kept for the next run).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from collections import Counter
from pathlib import Path

from tqdm import tqdm

from autograder.freetext.second_reader import ReaderError, load_or_train
from tools.batch.discover import assignment_name, discover
from tools.batch.grade import Options, Record, grade_all
from tools.build import BuildError, autograder_zip
from tools.gradebook.records import Status
from tools.gradebook.reports import write_grading
from tools.gradebook.sheet import DECISIONS
from tools.gradebook.stats import format_stats
from tools.limits import GRADESCOPE_LIMITS
from tools.sandbox import MiB, SandboxError, parse_size, require_bwrap

DEFAULT_OUT = Path("out/grades")
DEFAULT_CPUS = 1.0  # per sandbox; Gradescope's smaller quota would halve the throughput of a batch


def build_parser() -> argparse.ArgumentParser:
    """The command line: the submissions folder, the output folder, and the sandbox limits (Gradescope's by default)."""
    parser = argparse.ArgumentParser(prog="python -m tools.batch", description=__doc__.split("\n\n")[0])
    parser.add_argument("submissions", type=Path, help="folder of .ipynb / export .zip files or a Gradescope export")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})")
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="parallel sandboxes (default: cores; one more fills the moments a kernel starts or stops)",
    )
    limits = GRADESCOPE_LIMITS
    parser.add_argument("--timeout", type=float, default=limits.timeout,
                        help=f"seconds per submission (default {limits.timeout:g}, Gradescope's)")
    parser.add_argument("--memory", default=limits.memory_size,
                        help=f"memory limit per submission (default {limits.memory_size}, Gradescope's)")
    parser.add_argument("--cpus", type=float, default=DEFAULT_CPUS,
                        help=f"CPU quota per submission (default {DEFAULT_CPUS:g}; Gradescope gives {limits.cpus:g})")
    parser.add_argument("--zip", type=Path, help="autograder zip (default: the one in dist/autograder)")
    parser.add_argument("--force", action="store_true", help="regrade submissions graded by an earlier run")
    parser.add_argument("--cold", action="store_true",
                        help="a fresh sandbox per submission, exactly as on Gradescope, instead of warm workers"
                             " (TensorFlow imported once per worker, a fresh kernel forked per submission)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def _sigterm(signum, frame):  # signal handler signature
    raise KeyboardInterrupt


def summarize(records: list[Record], stats_text: str, out: Path, wall: float) -> str:
    """What the run did, for the terminal: counts by status, reuse, each worker's peak memory and pace,
    the inputs not graded (the first 50), the question statistics and where the files are.
    """
    counts = Counter(r.status for r in records)
    graded_now = [r for r in records if not r.cached and r.key]
    lines = [
        f"{len(records)} inputs: " + ", ".join(f"{counts[s]} {s}" for s in Status if counts[s]),
        f"graded in this run: {len(graded_now)}, reused (earlier run in {out / '.state'} or identical content): "
        f"{sum(r.cached for r in records)}, "
        f"wall time {wall:.1f} s",
    ]
    workers: dict[str, list[Record]] = {}
    for r in graded_now:
        workers.setdefault(r.worker, []).append(r)
    for worker, rs in sorted(workers.items()):
        lines.append(
            f"  {worker}: {len(rs)} submissions, peak memory {max(r.peak_memory for r in rs) / MiB:.0f} MiB, "
            f"mean {sum(r.wall_time for r in rs) / len(rs):.1f} s each"
        )
    failed = [r for r in records if r.status != Status.GRADED]
    if failed:
        lines.append("not graded:")
        lines += [f"  {r.file}: {r.status}: {r.reason}" for r in failed[:50]]
        if len(failed) > 50:
            lines.append(f"  ... and {len(failed) - 50} more (see final_grades.csv)")
    lines += ["", stats_text, ""]
    lines.append(f"wrote {out / 'final_grades.csv'}, question_stats.csv/.json, score_histogram.png, review.html")
    lines.append(f"review and correct the written answers: make review OUT={out} REVIEWER=<your name>")
    return "\n".join(lines)


def second_reader(out: Path):
    """The second reader for this grading's review flags, or None (said why) when there is none."""

    decisions = out / DECISIONS
    lines = decisions.read_text(encoding="utf-8").splitlines() if decisions.is_file() else []
    try:
        return load_or_train(decisions=lines)
    except ReaderError as e:
        print(f"batch: no review flags from a second reader: {e}", file=sys.stderr)
        return None


def main(argv: list[str] | None = None) -> int:
    """Grade every submission in the folder and write the grade sheet, CSV, statistics and review page;
    the exit status: 2 with a one-line message when the folder, zip or sandbox is not usable, 130 when
    interrupted (what was graded is kept for the next run).
    """
    args = build_parser().parse_args(argv)
    folder: Path = args.submissions
    if not folder.is_dir():
        print(f"batch: {folder} is not a folder", file=sys.stderr)
        return 2
    try:
        memory = parse_size(args.memory)
        require_bwrap()
    except SandboxError as e:
        print(f"batch: {e}", file=sys.stderr)
        return 2
    if args.zip is not None:
        zip_path = args.zip
    else:
        try:
            zip_path = autograder_zip()
        except BuildError as e:
            print(f"batch: {e}", file=sys.stderr)
            return 2
    if not zip_path.is_file():
        print(f"batch: no such autograder zip: {zip_path}", file=sys.stderr)
        return 2
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    options = Options(zip_path=zip_path.resolve(), memory=memory, cpus=args.cpus, timeout=args.timeout,
                      workers=max(1, args.workers), force=args.force, warm=not args.cold)

    subs = discover(folder, assignment_name(zip_path), exclude=[out])

    bar = tqdm(total=len(subs), unit="sub", desc="grading", disable=args.no_progress, dynamic_ncols=True)
    counts: Counter[str] = Counter()

    def on_record(record: Record) -> None:
        """Count a finished submission by its status on the progress bar."""
        counts[record.status] += 1
        bar.set_postfix({s: counts[s] for s in Status if counts[s]}, refresh=False)
        bar.update(1)

    signal.signal(signal.SIGTERM, _sigterm)
    start = time.monotonic()
    try:
        records = grade_all(subs, options, out, on_record)
    except KeyboardInterrupt:
        bar.close()
        done = sum(counts.values())
        print(f"\ninterrupted: {done} of {len(subs)} submissions done and kept in {out / '.state'}; "
              "the reports were not written. Run the same command again to resume.", file=sys.stderr)
        return 130
    bar.close()


    # the reports carry a TA's review decisions (OUT/review/decisions.jsonl), if any, and the flags
    # of a second reader trained on the labelled corpus and those decisions
    written = write_grading(out, subs, records, second_reader(out))
    for problem in written.problems:
        print(f"batch: {problem}", file=sys.stderr)
    print(summarize(records, format_stats(written.stats), out, time.monotonic() - start))
    return 0


if __name__ == "__main__":
    sys.exit(main())
