"""Throughput of the batch grader against plain ``otter run`` one after another, side by side.

    python benchmarks/bench_batch.py [--zip ZIP] [--n 8] [--workers N] [--cpus 1.0] [--cold]

Builds ``--n`` submissions (full_credit, partial, blank, seed_answers in turn), warms the page
cache with one untimed ``otter run``, then grades them

1. sequentially with ``otter run`` (``tools.otter_run``, no sandbox, no limits), and
2. with ``python -m tools.batch`` (warm workers by default: one sandbox per worker at Gradescope's
   memory limit, ``--cpus`` each, ``--workers`` in parallel, a fresh kernel forked for each
   submission; ``--cold`` for a sandbox per submission; a fresh output folder so nothing is resumed),

and prints both wall times, the throughput ratio (target: at least 4x on 2 cores), the peak
memory of each worker's sandboxes and whether both graded every question the same. Prints
measured figures only; exit status 1 if a grading failed or the scores disagree.

Measured on the 2-core development VM (2026-11-30), warm workers (the default), 2 workers at 1 CPU:
88.8 s for otter run one after another (11.1 s each) against 21.1 s: 4.20x; peak memory per worker
505-513 MiB, 2.9-3.2 s per submission in its worker.

Before warm workers (2026-11-29, a sandbox per submission), otter run 12.6-13.4 s per submission:
idle machine, 2 workers at 1 CPU: 1.57x; 2 workers at 2 CPUs: 1.73x (the same batch time
within noise, a slower otter-run baseline); 3 workers at 1 CPU: 1.74x (2 workers leave ~13%
of the cores idle while kernels start and stop); with other jobs using 0.5-0.8 cores: 1.31-1.40x.
Peak memory per sandbox ~382 MiB (memory.max_usage_in_bytes, page cache included).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import nbformat  # noqa: E402

from tools.gradebook.records import Status  # noqa: E402
from tools.otter_run import otter_run  # noqa: E402
from tools.sandbox import MiB  # noqa: E402

ANSWER_SETS = ["full_credit", "partial", "blank", "seed_answers"]


def build(n: int, folder: Path) -> list[Path]:
    from tools.submissions import build_submission

    built = {name: build_submission(name, folder.parent / "built") for name in ANSWER_SETS}
    paths = []
    for i in range(n):
        name = ANSWER_SETS[i % len(ANSWER_SETS)]
        path = folder / f"student{i + 1:02d}_{name}.ipynb"
        # every file distinct (the batch grades identical content once): a name in a markdown cell
        nb = nbformat.read(built[name], as_version=4)
        nb.cells.insert(0, nbformat.v4.new_markdown_cell(f"Student {i + 1:02d}"))
        nbformat.write(nb, path)
        paths.append(path)
    return paths


def _busy_seconds() -> float:
    """CPU seconds the whole machine has been busy (all cores, from /proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _own_seconds() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    self_ = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime + self_.ru_utime + self_.ru_stime


class SandboxCPU(threading.Thread):
    """Samples the CPU time of the processes in one process's sandbox cgroups (``sandbox-<pid>-*``).

    Sandboxed processes live in their own PID namespace and sessions, so their CPU time does
    not reach this process's ``RUSAGE_CHILDREN``; each is sampled every 0.25 s from /proc.
    """

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.marker = f"sandbox-{pid}-"
        self.seen: dict[int, float] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        tick = os.sysconf("SC_CLK_TCK")
        while not self.stop.wait(0.25):
            for entry in Path("/proc").iterdir():
                if not entry.name.isdigit():
                    continue
                try:
                    if self.marker not in (entry / "cgroup").read_text():
                        continue
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                self.seen[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick

    @property
    def seconds(self) -> float:
        return sum(self.seen.values())


class Phase:
    """Wall time, this benchmark's CPU time and everybody else's CPU time over a phase."""

    def __enter__(self):
        self.start, self.busy, self.own = time.monotonic(), _busy_seconds(), _own_seconds()
        return self

    extra = 0.0  # CPU seconds of our processes that rusage does not see (sandboxed ones)

    def __exit__(self, *exc):
        self.wall = time.monotonic() - self.start
        own = _own_seconds() - self.own + self.extra
        self.others = max(0.0, _busy_seconds() - self.busy - own) / self.wall  # cores used by other processes
        self.cores = own / self.wall  # cores used by the grading

    def __str__(self) -> str:
        return f"grading used {self.cores:.2f} cores, other processes {self.others:.2f} cores"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--zip", type=Path, default=os.environ.get("GRADESCOPE_ZIP"))
    parser.add_argument("--n", type=int, default=8)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--cpus", type=float, default=1.0)
    parser.add_argument("--cold", action="store_true", help="a sandbox per submission instead of warm workers")
    args = parser.parse_args(argv)
    if args.zip is None:
        from tools.build import autograder_zip

        args.zip = autograder_zip()
    zip_path = Path(args.zip).resolve()
    print(f"{args.n} submissions, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}, zip {zip_path.name}")

    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        folder = Path(tmp) / "submissions"
        folder.mkdir()
        paths = build(args.n, folder)

        otter_run(paths[0], zip_path, Path(tmp) / "warmup")  # page cache, .pyc files: not timed
        sequential: dict[str, dict[str, tuple[float, float]]] = {}
        with Phase() as seq:
            for i, path in enumerate(paths):
                result = otter_run(path, zip_path, Path(tmp) / f"otter-run-{i}")
                sequential[path.name] = result.scores
        seq_wall = seq.wall
        print(f"otter run, one after another: {seq_wall:.1f} s ({seq_wall / args.n:.1f} s per submission); {seq}")

        out = Path(tmp) / "out"
        with Phase() as batch:
            proc = subprocess.Popen(
                [sys.executable, "-m", "tools.batch", str(folder), "--out", str(out), "--zip", str(zip_path),
                 "--workers", str(args.workers), "--cpus", str(args.cpus), "--no-progress",
                 *(["--cold"] if args.cold else [])],
                cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )
            sampler = SandboxCPU(proc.pid)
            sampler.start()
            stdout, stderr = proc.communicate()
            sampler.stop.set()
            sampler.join()
            batch.extra = sampler.seconds
        batch_wall = batch.wall
        if proc.returncode != 0:
            print(stdout + stderr)
            return 1
        records = [json.loads(p.read_text()) for p in (out / ".state").glob("*.json")]
        print(f"tools.batch, {args.workers} workers at {args.cpus:g} CPU each: {batch_wall:.1f} s "
              f"(including its own start-up and reports); {batch}")
        ratio = seq_wall / batch_wall
        print(f"throughput: {args.n / seq_wall * 60:.1f} vs {args.n / batch_wall * 60:.1f} submissions/min, "
              f"ratio {ratio:.2f}x (target >= 4x)")
        if batch.others > 0.2:
            print(f"  note: other processes kept {batch.others:.2f} of {os.cpu_count()} cores busy during the batch "
                  f"({seq.others:.2f} during otter run): the ratio cannot exceed about "
                  f"{(os.cpu_count() - batch.others) / max(seq.cores, 0.01):.2f}x on this machine now")
        workers: dict[str, list[dict]] = {}
        for r in records:
            workers.setdefault(r["worker"], []).append(r)
        for worker, rs in sorted(workers.items()):
            print(f"  {worker}: {len(rs)} submissions, peak memory {max(r['peak_memory'] for r in rs) / MiB:.0f} MiB,"
                  f" {sum(r['wall_time'] for r in rs) / len(rs):.1f} s each in its sandbox")

        by_file = {r["file"]: r for r in records}
        ok = len(by_file) == args.n
        for name, scores in sequential.items():
            record = by_file.get(name)
            batch_scores = {q: (float(s), float(m)) for q, (s, m) in (record or {}).get("scores", {}).items()}
            if record is None or record["status"] != Status.GRADED or batch_scores != scores:
                ok = False
                print(f"  MISMATCH {name}: otter run {scores} / batch {record and record['status']} {batch_scores}")
        print("scores: identical for every submission" if ok else "scores: DIFFER (see above)")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
