"""The fork server of a batch worker: TensorFlow imported once, a grading process and a fresh kernel
forked from it for every submission.

    python -m autograder.isolation.fork_server AUTOGRADER_DIR     (as root, in the worker's own sandbox)

The batch grader (``tools/batch``) starts one per worker and sends it one job at a time on
stdin (a JSON line ``{"job": N}``: grade what is in ``AUTOGRADER_DIR`` now, laid out as on
Gradescope); it answers ``{"job": N, "exit": CODE}`` on stdout when results.json is written.

What it preloads is only what a fresh process would load anyway, before any submission: Python,
TensorFlow, Keras, ipykernel and Otter. Nothing of any submission or of the grader's secrets is
ever loaded here (the hidden tests and rubrics are read by the grading process, a child):

- each job is graded by a **grading process forked from this one** that runs the zip's entry
  point (``autograder.plugins.safe_run``), exactly as ``run_otter.py`` does, its output going
  to ``AUTOGRADER_DIR/grading.log``;
- its isolation plugin starts the student's kernel through ``launch_forked.py`` (the kernelspec's
  argv), which asks this process, over a root-only Unix socket, for a **kernel forked from
  here**: it takes the same steps as ``launch.py`` (the student's uid and gid, resource limits,
  ``no_new_privs``, a clean environment, no inherited file descriptors) and then runs ipykernel
  in process, with TensorFlow already imported. A kernel is never reused: the grading process
  ends every process of the student's uid when the notebook has run.

After each job, ``/tmp`` and ``/dev/shm`` (the places a student's code could write) are emptied,
so nothing of one submission is there for the next. That is why it refuses to run anywhere but
in a sandbox of its own (``tools.sandbox``: private ``/tmp`` and ``/dev/shm``, its own PID
namespace): outside one, those are the machine's.
"""

from __future__ import annotations

import json
import os
import re
import selectors
import shutil
import signal
import socket
import sys
import tempfile
import traceback
from pathlib import Path

from autograder.isolation.execute import SOCKET_ENV  # tells the grading process where to ask for kernels

LOG_NAME = "grading.log"
WORLD_WRITABLE = ("/tmp", "/dev/shm")


def preload() -> None:
    """Import what every kernel and every grading process would import first."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras  # noqa: F401
    import numpy  # noqa: F401
    import tensorflow  # noqa: F401
    from ipykernel import kernelapp  # noqa: F401

    from autograder import upstream

    upstream.load_otter()


def _close_inherited_fds() -> None:
    for fd in map(int, os.listdir("/proc/self/fd")):
        if fd > 2:
            try:
                os.close(fd)
            except OSError:
                pass


def _reset_signals() -> None:
    for sig in (signal.SIGCHLD, signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_DFL)


def run_kernel(uid: int, gid: int, scratch: str, connection_file: str) -> None:
    """In a forked child: become the student (as ``launch.py`` does) and run ipykernel here."""
    from autograder.isolation import launch

    _reset_signals()
    _close_inherited_fds()
    own_connection, env = launch.prepare(uid, gid, scratch, connection_file)
    launch.drop_privileges(uid, gid, scratch)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    launch.silence()
    os.environ.clear()
    os.environ.update(env)
    tempfile.tempdir = None  # the student's TMPDIR, not the one this process may have cached
    sys.argv = [sys.executable, "-f", own_connection]
    from ipykernel.kernelapp import IPKernelApp

    IPKernelApp.launch_instance(argv=["-f", own_connection])


def _grade(autograder_dir: str, socket_path: str, home: str) -> None:
    """In a forked child: the grading process, as ``run_otter.py`` runs it."""
    _reset_signals()
    devnull = os.open(os.devnull, os.O_RDONLY)  # the job pipe is the worker's, not this process's
    os.dup2(devnull, 0)
    os.close(devnull)
    log = os.open(os.path.join(autograder_dir, LOG_NAME), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    _close_inherited_fds()
    os.environ[SOCKET_ENV] = socket_path
    # a private home: Jupyter writes its runtime files under it (never into a shared /tmp); the
    # student's scratch directory is made in /tmp, which that user can reach
    os.environ["HOME"] = home
    os.environ["JUPYTER_RUNTIME_DIR"] = os.path.join(home, "runtime")
    os.environ["TMPDIR"] = "/tmp"
    tempfile.tempdir = None
    os.chdir(os.path.join(autograder_dir, "source"))
    from autograder.plugins.safe_run import main

    main(autograder_dir)


class ForkServer:
    """Grading jobs from stdin and kernel requests from a root-only socket, each served by a fork."""

    def __init__(self, autograder_dir: str) -> None:
        self.autograder_dir = autograder_dir
        self.private = tempfile.mkdtemp(prefix="rnn-forkserver-")  # root only (0700)
        self.socket_path = os.path.join(self.private, "kernels.sock")
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(self.socket_path)
        os.chmod(self.socket_path, 0o600)
        self.listener.listen(8)
        self.grading: dict[int, tuple[int, str]] = {}  # grading process pid -> (job number, its home)
        self.selector = selectors.DefaultSelector()

    def _fork_kernel(self, conn: socket.socket) -> None:
        try:
            request = json.loads(conn.makefile("r", encoding="utf-8").readline())
            uid, gid = int(request["uid"]), int(request["gid"])
            scratch, connection_file = str(request["scratch"]), str(request["connection_file"])
            if uid == 0 or gid == 0:
                raise ValueError("refusing a root kernel")
        except (ValueError, KeyError, TypeError) as e:
            conn.sendall(json.dumps({"error": str(e)}).encode() + b"\n")
            return
        pid = os.fork()
        if pid == 0:
            try:
                run_kernel(uid, gid, scratch, connection_file)
            finally:
                os._exit(1)
        conn.sendall(json.dumps({"pid": pid}).encode() + b"\n")

    def _start_job(self, job: int) -> None:
        home = tempfile.mkdtemp(prefix="grading-", dir=self.private)
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                _grade(self.autograder_dir, self.socket_path, home)
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else 1
            except BaseException:
                traceback.print_exc()
                code = 1
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        self.grading[pid] = (job, home)

    def _reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid in self.grading:
                job, home = self.grading.pop(pid)
                shutil.rmtree(home, ignore_errors=True)
                _clean_world_writable(keep=self.private)
                print(json.dumps({"job": job, "exit": os.waitstatus_to_exitcode(status)}), flush=True)

    def serve(self) -> None:
        """Say ready on stdout, then serve until stdin closes; each finished job is a JSON line on stdout."""
        self.selector.register(sys.stdin, selectors.EVENT_READ, "job")
        self.selector.register(self.listener, selectors.EVENT_READ, "kernel")
        print(json.dumps({"ready": os.getpid()}), flush=True)
        while True:
            for key, _ in self.selector.select(timeout=0.1):
                if key.data == "job":
                    line = sys.stdin.readline()
                    if not line:
                        return  # the batch grader closed stdin: done
                    self._start_job(int(json.loads(line)["job"]))
                else:
                    conn, _ = self.listener.accept()
                    with conn:
                        self._fork_kernel(conn)
            self._reap()


def _clean_world_writable(keep: str) -> None:
    """Empty ``/tmp`` and ``/dev/shm`` (but this server's own directory) between submissions.

    What the sandbox mounted there is left standing: a checkout under ``/tmp`` shows its virtual
    environment at its own path inside ``/tmp`` (a throw-away overlay, writable by root), and
    emptying through it would delete the packages every later grading imports.
    """
    if not in_own_sandbox():  # never the machine's own
        return
    below = tuple(f"{top}/" for top in WORLD_WRITABLE)
    standing = {keep, *(point for point in _mount_points() if point.startswith(below))}
    for top in WORLD_WRITABLE:
        _empty(Path(top), standing)


def _mount_points() -> set[str]:
    """Every mount point of this process's mount namespace (``/proc/self/mountinfo``, field 5)."""
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return set()
    # the kernel escapes space, tab, newline and backslash in paths as octal (\040)
    return {re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), line.split()[4])
            for line in lines if len(line.split()) > 4}


def _empty(directory: Path, standing: set[str]) -> None:
    """Remove everything in ``directory`` but the paths in ``standing`` and the directories leading to them."""
    try:
        entries = list(directory.iterdir())
    except OSError:
        return
    for entry in entries:
        path = str(entry)
        if path in standing:
            continue
        if any(point.startswith(f"{path}/") for point in standing):
            if entry.is_dir() and not entry.is_symlink():
                _empty(entry, standing)
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            try:
                entry.unlink()
            except OSError:
                pass


def in_own_sandbox() -> bool:
    """Whether this runs under bubblewrap with a PID namespace and private /tmp and /dev/shm."""
    try:
        init = Path("/proc/1/comm").read_text().strip()
    except OSError:
        return False
    return init == "bwrap" and all(os.path.ismount(path) for path in WORLD_WRITABLE)


def main(argv: list[str]) -> int:
    """Refuse to run but as root in a sandbox of its own; else preload and serve ``argv[1]`` (``/autograder``)."""
    if os.geteuid() != 0:
        print("the fork server runs as root (it starts each student's kernel as its own user)",
              file=sys.stderr)
        return 2
    if not in_own_sandbox():
        print("the fork server runs only in a sandbox of its own (it empties /tmp and /dev/shm"
              " between submissions): start it through tools.batch", file=sys.stderr)
        return 2
    preload()
    ForkServer(argv[1] if len(argv) > 1 else "/autograder").serve()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
