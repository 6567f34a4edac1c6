"""The unprivileged user student code runs as: who it is, where it may write, ending its processes.

Grading runs as root (on Gradescope, in ``otter grade``'s container, in this project's sandbox);
student code never does. Each grading takes a uid of its own from ``FIRST_UID``.. (a lock file
held for the whole grading keeps two gradings on one machine apart, and a uid some process still
uses is skipped), with the gid of the same number, no supplementary groups and ``no_new_privs``.
That user can read the Python environment and write only its scratch directory; the grader's
directories are ``0700`` root, so the hidden tests, rubrics, grader code and results are out of
its reach, for reading and for writing.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import stat
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

FIRST_UID = 190_000  # above every range distributions hand out to people and services
UID_COUNT = 1000
LOCK_DIRS = (Path("/run/rnn-grading"), Path(tempfile.gettempdir()) / "rnn-grading-root")


class IsolationError(RuntimeError):
    """Student code cannot be run isolated here; the message says why and what to do."""


def _lock_dir() -> Path:
    for path in LOCK_DIRS:
        try:
            path.mkdir(mode=0o700, exist_ok=True)
        except OSError:
            continue
        st = path.lstat()
        if stat.S_ISDIR(st.st_mode) and st.st_uid == 0 and not st.st_mode & 0o077 and os.access(path, os.W_OK):
            return path
    raise IsolationError(f"no root-only directory for grading locks ({', '.join(map(str, LOCK_DIRS))}).")


def processes_of(uid: int) -> list[int]:
    """Pids of every process whose real, effective or saved uid is ``uid`` (as /proc shows them)."""
    pids = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/status", encoding="ascii", errors="replace") as f:
                for line in f:
                    if line.startswith("Uid:"):
                        if str(uid) in line.split()[1:4]:
                            pids.append(int(entry.name))
                        break
        except OSError:
            continue
    return pids


def reachable_problems(paths: list[str]) -> list[str]:
    """Directories above ``paths`` that a user who is neither owner nor group cannot traverse.

    Root-owned ones get ``o+x`` (traverse, never list): Gradescope's image installs Python under
    ``/root``, which is ``0700``. Anything else is reported for the instructor to fix.
    """
    problems = []
    seen: set[Path] = set()
    for path in paths:
        for directory in Path(os.path.realpath(path)).parents:
            if directory in seen:
                continue
            seen.add(directory)
            st = directory.stat()
            if st.st_mode & stat.S_IXOTH:
                continue
            if st.st_uid == 0:
                os.chmod(directory, stat.S_IMODE(st.st_mode) | stat.S_IXOTH)
            else:
                problems.append(
                    f"{directory} is not traversable by other users (run `chmod o+x {directory}`), so the "
                    f"unprivileged student user cannot reach the Python environment at {sys.prefix}"
                )
    return problems


@dataclass
class StudentUser:
    """A uid/gid reserved for one grading, released by ``release``."""

    uid: int
    gid: int
    _lock_fd: int

    @classmethod
    def acquire(cls) -> StudentUser:
        """Reserve a free uid (locked, no process left of it) as root; refuse, saying why, where that cannot be."""
        if os.geteuid() != 0:
            raise IsolationError(
                "grading runs student code as a separate unprivileged user, which needs root: run it as "
                "root (Gradescope, `otter grade` in Docker, `sudo`), or with `make grade` / `make gradescope`."
            )
        problems = reachable_problems([sys.executable, sys.prefix, sys.base_prefix])
        if problems:
            raise IsolationError("; ".join(problems))
        locks = _lock_dir()
        start = os.getpid() % UID_COUNT
        for offset in range(UID_COUNT):
            uid = FIRST_UID + (start + offset) % UID_COUNT
            fd = os.open(locks / f"{uid}.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            if processes_of(uid):  # left over from a grading that was killed: skip it
                os.close(fd)
                continue
            return cls(uid, uid, fd)
        raise IsolationError(f"all {UID_COUNT} student uids from {FIRST_UID} are in use.")

    def make_scratch(self) -> Path:
        """A fresh directory owned by the student user, the only place it may write."""
        path = Path(tempfile.mkdtemp(prefix="student-"))
        os.chown(path, self.uid, self.gid)
        return path

    def end_processes(self, timeout: float = 10.0) -> int:
        """SIGKILL every process of this user until none is left; return the rounds it took.

        A helper that becomes the user sends ``kill(-1, SIGKILL)``: the kernel delivers it to every
        process of that uid at once (in this PID namespace), so a forking process cannot slip out.
        """
        deadline = time.monotonic() + timeout
        rounds = 0
        while processes_of(self.uid):
            rounds += 1
            if time.monotonic() > deadline:
                raise IsolationError(f"processes of the student user {self.uid} survive SIGKILL")
            pid = os.fork()
            if pid == 0:  # only system calls between fork and _exit
                try:
                    os.setgroups([])
                    os.setresgid(self.gid, self.gid, self.gid)
                    os.setresuid(self.uid, self.uid, self.uid)
                    os.kill(-1, signal.SIGKILL)
                finally:
                    os._exit(0)
            os.waitpid(pid, 0)
            time.sleep(0.02)
        return rounds

    def remove_scratch(self, path: Path) -> None:
        """Remove the scratch directory, never following a link the student made in it."""
        # rmtree does not follow links (fd-based on Linux): safe on a directory the student wrote
        shutil.rmtree(path, ignore_errors=True)

    def release(self) -> None:
        """Free the uid for the next grading (its lock)."""
        if self._lock_fd >= 0:
            os.close(self._lock_fd)
            self._lock_fd = -1
