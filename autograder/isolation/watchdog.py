"""A process that writes results.json when the grading process cannot, before the outer time limit.

Gradescope stops an autograder after 10 minutes and then shows the student a generic failure and
the TA no grade; a grading process the kernel's OOM killer ends writes nothing either. The cell
and notebook clocks (``execute``) bound the student's kernel and the per-question budgets
(``hidden_tests.Budget``) the checks, but this is the guarantee behind them: the isolation plugin
forks a ``Watchdog`` from the grading process before any student code runs, in containerized
grading (Gradescope, ``otter grade``'s Docker container, this project's sandbox and batch
workers). ``otter run`` has no outer limit and runs in the TA's own process, which a watchdog
must not end, so none is started there.

The watchdog holds what it needs to write a result on its own (the hidden test files as loaded,
Otter's autograder config, the results directory) and hears over a pipe how grading goes: the
student's uid, and each question's results as soon as they are known. It acts once:

- **the deadline** (the ``deadline`` setting, counted from the grading process's start): it ends
  every process of the student's user, writes results (the questions graded so far; every other
  one scores 0 and says why), and ends the grading process: ``SIGUSR1``, on which it exits with
  status 0 (``otter grade`` reads results only from a container that exited 0), then ``SIGKILL``
  after ``GRACE`` seconds;
- **the grading process ended without a complete results.json** (killed for memory, crashed):
  it writes the same result at once.

When the grading process writes results.json itself and exits, the watchdog exits too.
"""

from __future__ import annotations

import json
import os
import select
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder import upstream
from autograder.isolation.hidden_tests import FAILED, HiddenTests
from autograder.isolation.results import IsolatedResults, complete_results, write_results

GRACE = 5.0  # seconds the grading process has to exit on SIGUSR1 before SIGKILL
EXIT_SIGNAL = signal.SIGUSR1

OUT_OF_TIME = (
    "Grading stopped at the grader's time limit ({seconds:g} s) before every question was graded. "
    "The questions graded by then keep their scores; every other one scores 0. Make sure every cell "
    "finishes quickly (Kernel > Restart & Run All) and resubmit, or ask your instructor."
)
ENDED = (
    "The grading process stopped before it could write its results (it ran out of memory or failed). "
    "The questions graded by then keep their scores; every other one scores 0. Resubmit, or ask your "
    "instructor, who can see the grading log."
)
NOT_GRADED = "Not graded: grading stopped before this question was graded, so it scores 0."


def seconds_since_process_start() -> float:
    """How long this process has run (``/proc/self/stat``'s start time against ``CLOCK_BOOTTIME``)."""
    with open("/proc/self/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    started = int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22 of stat(5), counted after the name
    return max(0.0, time.clock_gettime(time.CLOCK_BOOTTIME) - started)


@dataclass
class _Progress:
    uid: int | None = None
    graded: dict[str, list[tuple[bool, str]]] = field(default_factory=dict)


def fallback_results(tests: HiddenTests, graded: dict[str, list[tuple[bool, str]]], output: str) -> IsolatedResults:
    """Results of the questions in ``graded`` (``name -> [(passed, message)]``); every other one 0."""
    files = []
    for test_file in tests.files:
        cases = [tc for tc in test_file.test_cases if tc.hidden]
        test_file.test_cases = cases
        outcomes = list(graded.get(test_file.name, []))
        outcomes += [(False, FAILED + NOT_GRADED)] * (len(cases) - len(outcomes))
        test_file.test_case_results = [
            upstream.case_result(tc, message, passed) for tc, (passed, message) in zip(cases, outcomes, strict=True)
        ]
        files.append(test_file)
    results = IsolatedResults(files, notebook=None)
    results.set_output(output)
    return results


class Watchdog:
    """The grading process's handle on its watchdog (see the module docstring)."""

    def __init__(self, pid: int, fd: int, deadline: float):
        self.pid = pid
        self._fd = fd
        self.deadline = deadline  # time.monotonic() at which it acts

    @classmethod
    def start(
        cls, *, tests: HiddenTests, ag_config: Any, results_dir: str | os.PathLike[str], seconds: float
    ) -> Watchdog:
        """Fork the watchdog; it acts ``seconds`` after this process started (``deadline`` setting)."""
        deadline = time.monotonic() + seconds - seconds_since_process_start()
        since = time.time()
        grading = os.getpid()
        signal.signal(EXIT_SIGNAL, _exit_on_deadline)
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                os.close(write_fd)
                signal.signal(EXIT_SIGNAL, signal.SIG_DFL)
                _Watch(read_fd, grading, deadline, since, tests, ag_config, Path(results_dir), seconds).run()
                code = 0
            except BaseException:
                import traceback

                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        os.close(read_fd)
        print(f"Watchdog: results.json is written by {seconds:g} s after grading started, whatever happens", flush=True)
        return cls(pid, write_fd, deadline)

    def _tell(self, message: dict[str, Any]) -> None:
        try:
            data = (json.dumps(message) + "\n").encode()
            while data:
                data = data[os.write(self._fd, data) :]
        except OSError:  # the watchdog is gone: grading goes on without it
            pass

    def student(self, uid: int) -> None:
        """The student's uid: the watchdog ends its processes before it writes a result."""
        self._tell({"uid": uid})

    def graded(self, question: str, outcomes: list[tuple[bool, str]]) -> None:
        """A question's results, kept for a result written before grading ends."""
        self._tell({"question": question, "outcomes": [[passed, message] for passed, message in outcomes]})


def _exit_on_deadline(signum: int, frame: Any) -> None:
    """In the grading process: the watchdog wrote results at the deadline; stop with status 0."""
    print("Grading stopped by the watchdog at the deadline; it wrote results.json", flush=True)
    sys.stderr.flush()
    os._exit(0)


class _Watch:
    """The watchdog process's loop."""

    def __init__(
        self,
        fd: int,
        grading: int,
        deadline: float,
        since: float,
        tests: HiddenTests,
        ag_config: Any,
        results_dir: Path,
        seconds: float,
    ):
        self.fd, self.grading, self.deadline, self.since = fd, grading, deadline, since
        self.tests, self.ag_config, self.results_dir, self.seconds = tests, ag_config, results_dir, seconds
        self.progress = _Progress()
        self.buffer = b""

    def run(self) -> None:
        """Read the grading process's progress until it exits or the deadline comes (then ``_at_deadline``);
        if it exits without complete results, end the students' processes and write results that say so.
        """
        while True:
            left = self.deadline - time.monotonic()
            if left <= 0:
                self._at_deadline()
                return
            ready, _, _ = select.select([self.fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(self.fd, 65536)
            if not chunk:  # the grading process has exited
                if not complete_results(self.results_dir, self.since):
                    self._end_students()
                    self._write(ENDED)
                return
            self._read(chunk)

    def _read(self, chunk: bytes) -> None:
        self.buffer += chunk
        *lines, self.buffer = self.buffer.split(b"\n")
        for line in lines:
            message = json.loads(line)
            if "uid" in message:
                self.progress.uid = int(message["uid"])
            elif "question" in message:
                self.progress.graded[str(message["question"])] = [
                    (bool(passed), str(text)) for passed, text in message["outcomes"]
                ]

    def _drain(self, timeout: float) -> bool:
        """Read what the grading process still sends until it exits (True) or ``timeout`` passes."""
        end = time.monotonic() + timeout
        while (left := end - time.monotonic()) > 0:
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                chunk = os.read(self.fd, 65536)
                if not chunk:
                    return True
                self._read(chunk)
        return False

    def _at_deadline(self) -> None:
        self._drain(0)  # every question graded until now
        print(f"Watchdog: the deadline ({self.seconds:g} s) has come", flush=True)
        self._end_students()
        written = complete_results(self.results_dir, self.since)
        if not written:
            self._write(OUT_OF_TIME.format(seconds=self.seconds))
        try:
            os.kill(self.grading, EXIT_SIGNAL)
        except ProcessLookupError:
            return
        if not self._drain(GRACE):
            try:
                os.kill(self.grading, signal.SIGKILL)
            except ProcessLookupError:
                pass
        # the grading process may have been writing its own results.json when it was stopped
        if not complete_results(self.results_dir, self.since):
            self._write(OUT_OF_TIME.format(seconds=self.seconds))

    def _end_students(self) -> None:
        if self.progress.uid is None:
            return
        from autograder.isolation.student import StudentUser

        try:
            StudentUser(self.progress.uid, self.progress.uid, -1).end_processes()
        except Exception as e:  # writing the result matters more
            print(f"Watchdog: could not end the student's processes: {e}", flush=True)

    def _write(self, output: str) -> None:
        results = fallback_results(self.tests, self.progress.graded, output)
        write_results(results, self.ag_config, self.results_dir)
        graded = ", ".join(self.progress.graded) or "none"
        print(f"Watchdog: wrote results.json (questions graded: {graded}); {output}", flush=True)
