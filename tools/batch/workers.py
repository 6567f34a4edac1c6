"""A batch worker that stays warm: one sandbox per worker, a fresh kernel forked for each submission.

``tools.gradescope.grade`` starts a sandbox, a Python, Otter and a kernel that imports TensorFlow
for every submission. A ``WarmWorker`` starts its sandbox once, with the autograder zip laid out
as ``/autograder`` and ``autograder.isolation.fork_server`` running in it (TensorFlow, Keras, ipykernel
and Otter imported, nothing of any submission); each submission is then copied into
``/autograder/submission`` and graded by a process the worker forks, whose student kernel is
forked, unprivileged, from the same warm process. The results are read exactly as the Gradescope
harness reads them.

Limits: the sandbox's memory and CPU limits hold for the worker as a whole (its warm process,
the grading process and the kernel); the timeout holds per submission. A submission that runs
out of time or memory takes the worker down with it; the next one starts a fresh worker.
"""

from __future__ import annotations

import json
import select
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from tools.gradescope import (
    MOUNT,
    VENV_PYTHON,
    GradescopeRun,
    lay_out,
    place_submission,
    read_results,
    submission_metadata,
)
from tools.sandbox import DEFAULT_PATH, Running, SandboxResult, start

STARTUP_TIMEOUT = 180.0  # seconds for the worker to import TensorFlow and Otter (at half a CPU, cold cache)
LOG_NAME = "grading.log"  # written by autograder.isolation.fork_server in /autograder


class WorkerError(Exception):
    """The warm worker could not be started."""


class WarmWorker:
    def __init__(self, zip_path: Path, *, memory: int, cpus: float, name: str = "worker") -> None:
        self.zip_path, self.memory, self.cpus, self.name = Path(zip_path), memory, cpus, name
        self.work = Path(tempfile.mkdtemp(prefix=f"warm-{name}-"))
        self.root = self.work / "autograder"
        self.root.mkdir()
        self.config: dict[str, Any] = {}
        self.running: Running | None = None
        self.jobs = 0

    def _lay_out(self, submission: Path) -> None:
        """``/autograder`` as Gradescope fills it for ``submission`` (the zip is unpacked once)."""
        if not (self.root / "source").is_dir():
            self.config = lay_out(self.root, self.zip_path, submission)
            return
        for name in ("submission", "results"):
            shutil.rmtree(self.root / name, ignore_errors=True)
        (self.root / "results").mkdir()
        place_submission(self.root / "submission", submission)
        metadata = submission_metadata(self.config.get("assignment_name", "assignment"))
        (self.root / "submission_metadata.json").write_text(json.dumps(metadata, indent=2))
        (self.root / LOG_NAME).unlink(missing_ok=True)

    def _read_line(self, timeout: float) -> dict[str, Any] | None:
        """The worker's next JSON line, or None on timeout or when it has exited."""
        assert self.running is not None
        out = self.running.proc.stdout
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([out], [], [], left)
            if not ready:
                return None
            line = out.readline()
            if not line:
                return None
            try:
                return json.loads(line)
            except ValueError:
                continue  # not a protocol line

    def _start(self) -> None:
        env = {"PATH": f"{VENV_PYTHON.parent}:{DEFAULT_PATH}", "HOME": "/tmp", "LANG": "C.UTF-8",
               "PYTHONUNBUFFERED": "1"}
        self.running = start(
            [str(VENV_PYTHON), "-m", "autograder.isolation.fork_server", MOUNT],
            root=self.root, memory=self.memory, cpus=self.cpus, env=env, cwd=f"{MOUNT}/source",
            stderr=self.work / "worker.log", writable=[VENV_PYTHON.parent.parent],
        )
        ready = self._read_line(STARTUP_TIMEOUT)
        if not ready or "ready" not in ready:
            log = (self.work / "worker.log").read_text(errors="replace")[-2000:]
            self.stop()
            raise WorkerError(f"the warm worker did not start:\n{log}")

    def grade(self, submission: Path, timeout: float) -> GradescopeRun:
        """Grade ``submission`` in this worker, within ``timeout`` seconds."""
        submission = Path(submission).resolve()
        self._lay_out(submission)
        if self.running is None or not self.running.alive():
            self.stop()
            self._start()
        assert self.running is not None
        self.jobs += 1
        self.running.reset_peak()
        oom_before = self.running.oom_kills()
        began = time.monotonic()
        self.running.proc.stdin.write(json.dumps({"job": self.jobs}) + "\n")
        self.running.proc.stdin.flush()
        reply = self._read_line(timeout)
        wall = time.monotonic() - began
        peak = self.running.peak_memory()
        oom = self.running.oom_kills() > oom_before
        timed_out = reply is None and self.running.alive() and wall >= timeout
        if reply is None:  # out of time or memory: this worker is done, the next job starts a new one
            self.stop()
        log_path = self.root / LOG_NAME
        log = log_path.read_text(errors="replace") if log_path.is_file() else ""
        results, problems = read_results(self.root / "results" / "results.json", self.config)
        if timed_out:
            problems.insert(0, f"grading was killed by the {timeout:g} s timeout")
        if oom:
            problems.insert(0, "a process was killed for running out of memory")
        sandbox = SandboxResult(
            returncode=None if reply is None else reply.get("exit"), wall_time=wall, peak_memory=peak, peak_rss=0,
            oom_killed=oom, memory_failcnt=0, timed_out=timed_out, process_peaks={},
        )
        return GradescopeRun(submission, sandbox, results, problems, log, self.config)

    def stop(self) -> None:
        """Close the running sandbox, if any; the next job starts a fresh one."""
        if self.running is not None:
            self.running.close()
            self.running = None

    def close(self) -> None:
        """Stop the sandbox and delete the worker's work folder."""
        self.stop()
        shutil.rmtree(self.work, ignore_errors=True)
