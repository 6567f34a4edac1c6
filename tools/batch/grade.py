"""Grade many submissions in parallel, resumably.

By default each worker thread keeps a warm worker (``tools.batch.workers``: one bubblewrap sandbox
under cgroup memory and CPU limits, TensorFlow imported once, a fresh unprivileged kernel forked
for every submission, a wall-clock timeout per submission). With ``warm=False`` each submission
gets a sandbox of its own from ``tools.gradescope.grade``, exactly as on Gradescope.

A finished grading is stored in ``OUT/.state/<key>.json``, the
key being the SHA-256 of the autograder zip's and the submission's content: a re-run skips
what is stored (unless ``force``), and a changed zip or a changed submission is regraded.
A record that timed out (or ran out of memory) is regraded when the limit is raised.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograder.plugins.safe_run import refused
from tools.batch.discover import gradable_file
from tools.batch.workers import WarmWorker, WorkerError
from tools.files import write_atomic
from tools.gradebook.inputs import Submission, sha256_file
from tools.gradebook.records import RECORD_VERSION, Record, Status, status_of
from tools.gradescope import HarnessError, grade
from tools.sandbox import SandboxError, own_cgroup
from tools.scores import QuestionScores, question_scores

STATE_DIR = ".state"
LOG_TAIL = 6000  # characters of the grading log kept for submissions that were not graded


@dataclass
class Options:
    zip_path: Path
    memory: int
    cpus: float
    timeout: float
    workers: int
    force: bool = False
    warm: bool = True  # a warm worker per thread (tools.batch.workers); False: a fresh sandbox per submission


def state_key(zip_hash: str, sub: Submission) -> str:
    """The key of a submission's record: the autograder zip's hash and the submission's content hash,
    so that a new zip or an edited submission is graded again.
    """
    return hashlib.sha256(f"{zip_hash}:{sub.content_hash()}".encode()).hexdigest()[:32]


class State:
    """Per-submission records in ``OUT/.state``."""

    def __init__(self, out: Path):
        self.dir = Path(out) / STATE_DIR

    def load(self, key: str) -> Record | None:
        """The record saved under ``key``, or None if there is none or it is unreadable or of another
        version (the submission is then graded again).
        """
        try:
            data = json.loads((self.dir / f"{key}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("version") != RECORD_VERSION:
            return None
        try:
            return Record.from_json(data)
        except (TypeError, ValueError, IndexError):
            return None

    def save(self, record: Record) -> None:
        """Save ``record`` under its key, atomically."""
        write_atomic(self.dir / f"{record.key}.json", json.dumps(record.to_json(), indent=1))


def reusable(record: Record, options: Options) -> bool:
    """A stored record stands unless a raised limit could change its outcome."""
    if record.status == Status.TIMEOUT and options.timeout > record.timeout:
        return False
    if record.status == Status.CRASHED and "out of memory" in record.reason and options.memory > record.memory:
        return False
    return True


def _last_error_line(log: str) -> str:
    lines = [line.strip() for line in log.strip().splitlines() if line.strip()]
    for line in reversed(lines):
        if re.match(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b", line):
            return line[:300]
    return lines[-1][:300] if lines else "no output"


def classify(run: Any, options: Options) -> tuple[Status, str, QuestionScores]:
    """``(status, reason, scores)`` of a ``GradescopeRun``."""
    sandbox = run.sandbox
    if sandbox.timed_out:
        return Status.TIMEOUT, f"grading took longer than {options.timeout:g} s and was stopped", {}
    if sandbox.oom_killed:
        return Status.CRASHED, f"ran out of memory (limit {options.memory // (1024 * 1024)} MiB) and was killed", {}
    results = run.results
    if results is None:
        detail = "; ".join(run.problems) or "no results.json"
        reason = f"the autograder wrote no usable results ({_last_error_line(run.log)}) [{detail[:200]}]"
        return Status.CRASHED, reason, {}
    problem = refused(results)
    if problem is not None:  # autograder.plugins.safe_run refused it; its extra_data says why
        return status_of(problem.reason), problem.message(), {}
    tests = {t.get("name"): t for t in results.get("tests", []) if isinstance(t, dict)}
    if "Autograder Failed" in tests or "Autograder Exception" in tests:
        exception = str(tests.get("Autograder Exception", {}).get("output", ""))
        return Status.CRASHED, f"Otter could not grade it: {_last_error_line(exception or run.log)}", {}
    scores = question_scores(results)
    if not scores:
        return Status.CRASHED, f"results.json holds no graded question ({_last_error_line(run.log)})", {}
    return Status.GRADED, " ".join(str(results.get("output") or "").split())[:500], scores


def integrity_note(results: Any) -> str:
    """The scan's notes in results.json's ``extra_data`` as one cell: "review: N note(s)", "N note(s)" or ""."""
    extra = results.get("extra_data") if isinstance(results, dict) else None
    integrity = extra.get("integrity") if isinstance(extra, dict) else None
    if not isinstance(integrity, dict) or not isinstance(integrity.get("notes"), list) or not integrity["notes"]:
        return ""
    count = f"{len(integrity['notes'])} note(s)"
    return f"review: {count}" if integrity.get("review") is True else count


def grade_one(sub: Submission, options: Options, key: str, cancel: threading.Event) -> Record | None:
    """Grade one submission in its sandbox; None when the run was cancelled."""

    if cancel.is_set():
        return None

    worker = threading.current_thread().name
    with tempfile.TemporaryDirectory(prefix="batch-") as tmp:
        try:
            path = gradable_file(sub, Path(tmp))
            if options.warm:
                run = _warm_worker(options).grade(path, options.timeout)
            else:
                run = grade(path, zip_path=options.zip_path, memory=options.memory, cpus=options.cpus,
                            timeout=options.timeout)
        except (HarnessError, SandboxError, WorkerError, OSError) as e:
            if cancel.is_set():
                return None
            return Record(sub.file, Status.CRASHED, f"the grading harness failed: {e}", {}, key="", worker=worker,
                          timeout=options.timeout, memory=options.memory)
    if cancel.is_set():
        return None
    status, reason, scores = classify(run, options)
    return Record(
        sub.file, status, reason, scores, key=key,
        peak_memory=run.sandbox.peak_memory, wall_time=run.sandbox.wall_time, worker=worker,
        timeout=options.timeout, memory=options.memory,
        log_tail="" if status == Status.GRADED else run.log[-LOG_TAIL:],
        output=str((run.results or {}).get("output") or ""),
        integrity=integrity_note(run.results),
    )


_local = threading.local()
_workers: list[Any] = []  # every warm worker started, closed by grade_all
_workers_lock = threading.Lock()


def _warm_worker(options: Options) -> Any:
    """This thread's warm worker (started on its first submission)."""

    worker = getattr(_local, "worker", None)
    if worker is None or worker.zip_path != options.zip_path:
        worker = WarmWorker(options.zip_path, memory=options.memory, cpus=options.cpus,
                            name=threading.current_thread().name)
        _local.worker = worker
        with _workers_lock:
            _workers.append(worker)
    return worker


def close_workers() -> None:
    """Close every warm worker the threads started (their sandboxes and work folders)."""
    with _workers_lock:
        while _workers:
            _workers.pop().close()


def kill_sandboxes() -> None:
    """SIGKILL every process in this process's sandbox cgroups (``tools.sandbox`` names them by PID)."""
    try:
        base = own_cgroup("memory")
    except SandboxError:
        return
    for group in base.glob(f"sandbox-{os.getpid()}-*"):
        try:
            pids = (group / "cgroup.procs").read_text().split()
        except OSError:
            continue
        for pid in pids:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass


def grade_all(
    subs: list[Submission],
    options: Options,
    out: Path,
    on_record: Callable[[Record], None] = lambda r: None,
) -> list[Record]:
    """Grade every submission (static problems and stored records need no sandbox).

    ``on_record`` is called for every record as it becomes known (progress bar). On
    KeyboardInterrupt the queued submissions are dropped, the running sandboxes killed,
    nothing of the interrupted gradings stored, and the KeyboardInterrupt re-raised.
    """
    state = State(out)
    zip_hash = sha256_file(options.zip_path)
    records: dict[int, Record] = {}
    todo: list[tuple[int, Submission, str]] = []
    first: dict[str, int] = {}
    duplicates: dict[str, list[tuple[int, Submission]]] = {}
    for i, sub in enumerate(subs):
        if sub.problem is not None:
            records[i] = Record(sub.file, sub.problem[0], sub.problem[1], {})
            on_record(records[i])
            continue
        key = state_key(zip_hash, sub)
        stored = None if options.force else state.load(key)
        if stored is not None and reusable(stored, options):
            stored.file, stored.cached = sub.file, True
            records[i] = stored
            on_record(stored)
        elif key in first:  # the same content twice (e.g. two untouched notebooks): graded once
            duplicates.setdefault(key, []).append((i, sub))
        else:
            first[key] = i
            todo.append((i, sub, key))

    cancel = threading.Event()
    pool = ThreadPoolExecutor(max_workers=max(1, options.workers), thread_name_prefix="worker")
    futures: dict[Future, tuple[int, Submission, str]] = {}
    try:
        for item in todo:
            futures[pool.submit(grade_one, item[1], options, item[2], cancel)] = item
        pending = set(futures)
        while pending:
            done, pending = wait(pending, timeout=1.0, return_when=FIRST_COMPLETED)
            for future in done:
                i, sub, key = futures[future]
                try:
                    record = future.result()
                except Exception as e:  # a bug in this module: still one row per input
                    record = Record(sub.file, Status.CRASHED, f"batch grader error: {type(e).__name__}: {e}", {})
                if record is None:
                    continue
                if record.key:
                    state.save(record)
                records[i] = record
                on_record(record)
                for j, twin in duplicates.get(key, []):
                    records[j] = Record.from_json({**record.to_json(), "file": twin.file})
                    records[j].cached = True
                    on_record(records[j])
    except BaseException:
        cancel.set()
        pool.shutdown(wait=False, cancel_futures=True)
        deadline = time.monotonic() + 30
        while any(not f.done() for f in futures) and time.monotonic() < deadline:
            kill_sandboxes()
            time.sleep(0.2)
        raise
    finally:
        pool.shutdown(wait=True)
        close_workers()
    return [records[i] for i in range(len(subs))]
