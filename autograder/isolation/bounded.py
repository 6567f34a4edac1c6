"""Run grading work on student data in a child process, within a time and a memory budget.

The hidden tests of one question read what the student exported (answers, arrays, models), and
however carefully each value is bounded (``export``, ``recurrent_model``), a reader or check can
still meet an input that costs it far more than its author expected. So each question's tests run
in a process forked from the grading process (everything they need is already loaded and is
shared, copy-on-write): it has ``seconds`` of wall time and may allocate ``memory`` bytes
(``RLIMIT_AS`` above what it has at the fork; past it, allocation fails with ``MemoryError``), it
is the first process the kernel's OOM killer picks (``oom_score_adj`` 1000) and it dies with the
grading process (``PR_SET_PDEATHSIG``). It sends each result as one JSON line as soon as it has
it, so the checks finished before the budget ran out count; the grading process kills it when the
time is up and carries on with the next question.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import select
import signal
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

PR_SET_PDEATHSIG = 1
KILLED_FIRST = b"1000"  # /proc/self/oom_score_adj: the OOM killer's first choice
READ_CHUNK = 65536

DONE, TIME, MEMORY, CRASHED = "done", "time", "memory", "crashed"


@dataclass
class Bounded:
    """What a bounded run sent back and how it ended (``DONE``, ``TIME``, ``MEMORY`` or ``CRASHED``)."""

    items: list[Any] = field(default_factory=list)
    ended: str = DONE
    seconds: float = 0.0  # wall time it took
    imported: list[str] = field(default_factory=list)  # modules the child imported (for the instructor log)


def _virtual_size() -> int:
    """This process's address space in bytes (``VmSize``), the base the memory budget is added to."""
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _send(fd: int, message: dict[str, Any]) -> None:
    data = (json.dumps(message) + "\n").encode()
    while data:
        data = data[os.write(fd, data) :]


def _child(produce: Callable[[], Iterable[Any]], fd: int, memory: int) -> int:
    """In the forked child: limits first, then each item as it comes; the exit status says how it ended."""
    try:
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() == 1:  # the grading process is already gone
            return 1
        try:
            with open("/proc/self/oom_score_adj", "wb") as f:
                f.write(KILLED_FIRST)
        except OSError:
            pass
        limit = _virtual_size() + memory
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        resource.setrlimit(resource.RLIMIT_AS, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard))
        before = set(sys.modules)
        for item in produce():
            _send(fd, {"item": item})
        _send(fd, {"done": True, "imported": sorted(set(sys.modules) - before)})
        return 0
    except MemoryError:
        try:
            _send(fd, {"memory": True})
        except BaseException:  # nothing left to report it with
            pass
        return 3
    except BaseException:  # an error in the grader's own code: the parent reports it
        return 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except BaseException:
                pass


def run_bounded(produce: Callable[[], Iterable[Any]], *, seconds: float, memory: int) -> Bounded:
    """Run ``produce`` in a child within ``seconds`` and ``memory`` bytes; its items must be JSON data."""
    for stream in (sys.stdout, sys.stderr):  # or the child would print what is buffered a second time
        stream.flush()
    read_fd, write_fd = os.pipe()
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        code = 1
        try:
            code = _child(produce, write_fd, memory)
        finally:
            os._exit(code)
    os.close(write_fd)
    result = Bounded()
    buffer = b""
    finished = False
    try:
        while True:
            left = seconds - (time.monotonic() - start)
            if left <= 0:
                result.ended = TIME
                break
            ready, _, _ = select.select([read_fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(read_fd, READ_CHUNK)
            if not chunk:
                break
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                message = json.loads(line)
                if "item" in message:
                    result.items.append(message["item"])
                elif message.get("memory"):
                    result.ended = MEMORY
                elif message.get("done"):
                    finished = True
                    result.imported = list(message.get("imported", []))
    finally:
        os.close(read_fd)
        if result.ended == TIME:
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        result.seconds = time.monotonic() - start
    if result.ended == DONE and not finished:
        # killed by a signal (the OOM killer) or failed: out of memory when the limit was what stopped it
        killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        result.ended = MEMORY if killed or os.waitstatus_to_exitcode(status) == 3 else CRASHED
    return result
