"""Run a command in a throw-away bubblewrap sandbox under cgroup v1 memory and CPU limits.

The sandbox sees only what grading needs of the host, read-only: the system's directories
(``SYSTEM_DIRS``: programs, libraries, ``/etc``, ``/sys``), the Python installation this process
runs on (``PYTHON_INSTALLATION``, a venv's base) and the directories the caller names
(``read_only``, ``writable``: the venv). Nothing else of the host is there: not ``/home``,
``/root``, ``/srv``, ``/opt`` or ``/work``, so not the checkout the tools run from, whose master
notebook, rubrics and ``dist/`` a student's code could otherwise read (the student user can read
what is world-readable). Each shown directory's parents are made for it, traversable (``0711``)
and empty. It also has a private ``/tmp``, no network, its own PID namespace, and one writable
directory of the caller (``root``) mounted at ``mount_point`` (e.g. a temporary directory shown to
the command as ``/autograder``). Nothing is bound at the mount point's real host path, so the
host's own ``/autograder`` (if any) is never touched.

Before ``bwrap`` starts, the process is moved into fresh child cgroups (memory and cpu
controllers, created under the caller's own cgroups) so the whole process tree is held to
``memory.limit_in_bytes`` and ``cpu.cfs_quota_us / cpu.cfs_period_us``; the cgroups are
removed afterwards. A wall-clock timeout kills every process in the cgroup.

    from tools.sandbox import run, parse_size
    result = run(["python", "/autograder/source/run_otter.py"], root=tmp_root,
                 memory=parse_size("1G"), output=log_path)  # Gradescope's limits unless told otherwise
    result.returncode, result.wall_time, result.peak_memory, result.oom_killed, result.timed_out

Needs ``bwrap`` (Debian: ``apt-get install bubblewrap``), root (or write access to the cgroup
v1 hierarchies) and cgroup v1 ``memory`` and ``cpu`` controllers under ``/sys/fs/cgroup``.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tools.limits import GRADESCOPE_LIMITS, MiB

__all__ = ["SandboxError", "SandboxResult", "parse_size", "require_bwrap", "run", "MiB"]

CGROUP_ROOT = Path("/sys/fs/cgroup")
CPU_PERIOD_US = 100_000
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# the host's top-level directories shown read-only (those that exist; a merged-/usr system's /bin,
# /lib, ... are symlinks and stay symlinks): programs, libraries, configuration and the kernel's /sys
SYSTEM_DIRS = ("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc", "sys")
PRIVATE_DIRS = ("proc", "dev", "tmp")  # the sandbox's own
# the Python a venv is made from (Debian: /usr; pyenv: under /root): shown read-only
PYTHON_INSTALLATION = Path(os.path.realpath(sys.base_prefix))
PARENT_MODE = "0711"  # directories made to reach a shown one: traversable, not listable


class SandboxError(Exception):
    """The sandbox could not be set up (missing bwrap, no cgroup v1 controller, bad argument)."""


@dataclass
class SandboxResult:
    """What happened to the sandboxed command."""

    returncode: int | None
    """exit status of bwrap (the command's status; negative = killed by that signal)"""
    wall_time: float
    """seconds from start until the whole tree had exited"""
    peak_memory: int
    """memory.max_usage_in_bytes of the tree's cgroup: RSS plus page cache charged to it"""
    peak_rss: int
    """highest sampled total_rss + total_mapped_file of the cgroup (what reclaim cannot drop)"""
    oom_killed: bool
    """the kernel OOM killer killed a process of the tree (memory.oom_control oom_kill)"""
    memory_failcnt: int
    """times the limit was hit (page cache reclaim counts too, so > 0 is not an OOM by itself)"""
    timed_out: bool
    """the wall-clock timeout expired and the tree was killed"""
    process_peaks: dict[str, int] = field(default_factory=dict)
    """peak private (anonymous) RSS in bytes per command line in the tree, sampled every 0.2 s
    (only with sample_processes); shared libraries and page cache are not included"""


def parse_size(text: str | int) -> int:
    """Parse ``768M``, ``650MiB``, ``1G``, ``1.5g`` or a number of bytes into bytes (binary units)."""
    if isinstance(text, int):
        return text
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?\s*", str(text), re.IGNORECASE)
    if not m:
        raise SandboxError(f"not a memory size: {text!r} (use e.g. 768M or 1G)")
    power = " kmgt".index(m.group(2).lower() or " ")
    return int(float(m.group(1)) * 1024**power)


def require_bwrap() -> str:
    """Return the path of ``bwrap`` or raise a ``SandboxError`` saying how to install it."""
    path = shutil.which("bwrap")
    if path is None:
        raise SandboxError(
            "bubblewrap (bwrap) is not installed; it is needed to sandbox grading: "
            "run `apt-get install bubblewrap` (Debian/Ubuntu)."
        )
    return path


def own_cgroup(controller: str) -> Path:
    """The directory of this process's cgroup for a v1 ``controller``."""
    base = CGROUP_ROOT / controller
    if not (base / "cgroup.procs").exists():
        raise SandboxError(f"cgroup v1 controller '{controller}' is not mounted at {base}.")
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(","):
            own = base / path.lstrip("/")
            return own if own.is_dir() else base
    return base


class _Cgroups:
    """Child cgroups in the memory and cpu hierarchies, created and removed together."""

    def __init__(self, memory: int, cpus: float):
        name = f"{CGROUP_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.memory = own_cgroup("memory") / name
        self.cpu = own_cgroup("cpu") / name
        try:
            self.memory.mkdir()
            self.cpu.mkdir()
        except OSError as e:
            self.remove()
            raise SandboxError(f"cannot create child cgroups ({e}); run as root on a cgroup v1 host.") from None
        try:
            self._write(self.memory / "memory.limit_in_bytes", memory)
            # no swap either (if swap accounting is on); the host may have it disabled: that is fine
            try:
                self._write(self.memory / "memory.memsw.limit_in_bytes", memory)
            except OSError:
                pass
            try:
                self._write(self.memory / "memory.swappiness", 0)
            except OSError:
                pass
            self._write(self.cpu / "cpu.cfs_period_us", CPU_PERIOD_US)
            self._write(self.cpu / "cpu.cfs_quota_us", max(1000, int(cpus * CPU_PERIOD_US)))
        except OSError as e:
            self.remove()
            raise SandboxError(f"cannot set cgroup limits: {e}") from None
        # written by the child between fork and exec (no Python allocation-heavy work there)
        self._procs = [str(self.memory / "cgroup.procs"), str(self.cpu / "cgroup.procs")]

    @staticmethod
    def _write(path: Path, value: object) -> None:
        path.write_text(f"{value}\n")

    def enter(self) -> None:  # runs in the child before exec
        """Move the calling process into both cgroups: run in the child between fork and exec."""
        pid = f"{os.getpid()}\n".encode()
        for procs in self._procs:
            fd = os.open(procs, os.O_WRONLY)
            try:
                os.write(fd, pid)
            finally:
                os.close(fd)

    def pids(self) -> list[int]:
        """The processes in the memory cgroup; none if it cannot be read (already removed)."""
        try:
            return [int(p) for p in (self.memory / "cgroup.procs").read_text().split()]
        except OSError:
            return []

    def kill_all(self) -> None:
        """SIGKILL every process in the cgroup until it is empty (processes may still be forking)."""
        for _ in range(100):
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.05)

    def read_int(self, name: str) -> int:
        """The first number of the memory cgroup's file ``name``; 0 if it cannot be read."""
        try:
            return int((self.memory / name).read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return 0

    def stat(self) -> dict[str, int]:
        """The memory cgroup's ``memory.stat`` as name -> bytes or count; empty if it cannot be read."""
        try:
            lines = (self.memory / "memory.stat").read_text().splitlines()
        except OSError:
            return {}
        return {k: int(v) for k, v in (line.split() for line in lines)}

    def oom_kills(self) -> int:
        """How many processes the kernel killed in the memory cgroup for lack of memory; 0 if unknown."""
        try:
            fields = dict(line.split() for line in (self.memory / "memory.oom_control").read_text().splitlines())
        except OSError:
            return 0
        return int(fields.get("oom_kill", 0))

    def remove(self) -> None:
        """Remove both cgroups, retrying for up to about five seconds each while exiting processes still hold them."""
        for group in (self.memory, self.cpu):
            for _ in range(50):
                try:
                    group.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:  # still busy: processes exiting
                    time.sleep(0.1)


OVERLAY_PREFIX = "sandbox-overlay-"
CGROUP_PREFIX = "sandbox-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _owner(name: str, prefix: str) -> int | None:
    """The pid a sandbox resource is named after (``<prefix><pid>-...``), or None."""
    head = name[len(prefix):].split("-", 1)[0] if name.startswith(prefix) else ""
    return int(head) if head.isdigit() else None


def reap_stale() -> list[str]:
    """Remove what sandboxes of processes that no longer exist left behind (a SIGKILLed batch).

    Their overlays stay mounted and their cgroups stay behind when the process that made them is
    killed before it can clean up; nothing else does it. Returns what was removed.
    """
    removed = []
    for work in Path(tempfile.gettempdir()).glob(f"{OVERLAY_PREFIX}*"):
        pid = _owner(work.name, OVERLAY_PREFIX)
        if pid is None or _alive(pid):
            continue
        for merged in sorted(work.glob("*.merged"), reverse=True):
            subprocess.run(["umount", "-l", str(merged)], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
        removed.append(str(work))
    for controller in ("memory", "cpu"):
        try:
            base = own_cgroup(controller)
        except SandboxError:
            continue
        for group in base.glob(f"{CGROUP_PREFIX}*"):
            pid = _owner(group.name, CGROUP_PREFIX)
            if pid is None or _alive(pid) or not group.is_dir():
                continue
            try:
                for member in (group / "cgroup.procs").read_text().split():
                    os.kill(int(member), signal.SIGKILL)
                group.rmdir()
                removed.append(str(group))
            except (OSError, ValueError):
                pass  # still busy: the next run tries again
    return removed


class _Overlays:
    """Writable copy-on-write views (overlayfs) of host directories; the host's files never change."""

    def __init__(self, paths: Sequence[Path]):
        self.mounts: list[tuple[Path, Path]] = []  # (host path, merged view)
        # the pid in the name lets a later run tell a leftover of a killed process (reap_stale)
        self.work = Path(tempfile.mkdtemp(prefix=f"{OVERLAY_PREFIX}{os.getpid()}-")) if paths else None
        try:
            for i, path in enumerate(paths):
                upper, workdir, merged = (self.work / f"{i}.{name}" for name in ("upper", "work", "merged"))
                for d in (upper, workdir, merged):
                    d.mkdir()
                options = f"lowerdir={path},upperdir={upper},workdir={workdir}"
                done = subprocess.run(["mount", "-t", "overlay", "overlay", "-o", options, str(merged)],
                                      capture_output=True, text=True)
                if done.returncode != 0:
                    raise SandboxError(f"cannot mount a writable overlay of {path}: {done.stderr.strip()}")
                self.mounts.append((path, merged))
        except BaseException:
            self.remove()
            raise

    def remove(self) -> None:
        """Unmount the overlays (lazily) and delete their upper and work directories."""
        for _, merged in reversed(self.mounts):
            subprocess.run(["umount", "-l", str(merged)], capture_output=True)
        self.mounts = []
        if self.work is not None:
            shutil.rmtree(self.work, ignore_errors=True)


def _parents(paths: Sequence[Path]) -> list[str]:
    """``bwrap`` arguments that make each path's missing parents (traversable, ``PARENT_MODE``)."""
    args: list[str] = []
    made: set[Path] = set()
    for path in paths:
        for parent in reversed(path.parents):
            top = parent.parts[1:2]
            # "/", what the system's directories show, and the sandbox's own mounts are there already
            own = not top or top[0] in SYSTEM_DIRS or (len(parent.parts) == 2 and top[0] in PRIVATE_DIRS)
            if own or parent in made:
                continue
            made.add(parent)
            args += ["--perms", PARENT_MODE, "--dir", str(parent)]
    return args


def _bwrap_command(
    bwrap: str,
    command: Sequence[str],
    root: Path,
    mount_point: str,
    env: Mapping[str, str],
    cwd: str,
    read_only: Sequence[Path] = (),
    writable: Sequence[tuple[Path, Path]] = (),
) -> list[str]:
    args = [bwrap, "--tmpfs", "/"]
    for entry in SYSTEM_DIRS:
        path = f"/{entry}"
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    system = tuple(f"/{entry}/" for entry in SYSTEM_DIRS)
    shown = [p for p in (PYTHON_INSTALLATION, *read_only) if not f"{p}/".startswith(system)]
    args += [
        "--proc", "/proc",
        "--dev", "/dev",
        "--tmpfs", "/dev/shm",
        "--tmpfs", "/tmp",
        *_parents([*shown, *(path for path, _ in writable)]),
        *[arg for path in shown for arg in ("--ro-bind", str(path), str(path))],
        *[arg for path, view in writable for arg in ("--bind", str(view), str(path))],
        "--bind", str(root), mount_point,
        "--remount-ro", "/",
        "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
        "--die-with-parent", "--new-session",
        "--clearenv",
    ]
    for key, value in env.items():
        args += ["--setenv", key, value]
    args += ["--chdir", cwd, "--", *command]
    return args


def run(
    command: Sequence[str],
    *,
    root: Path,
    mount_point: str = "/autograder",
    memory: int = GRADESCOPE_LIMITS.memory,
    cpus: float = GRADESCOPE_LIMITS.cpus,
    timeout: float = GRADESCOPE_LIMITS.timeout,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    output: Path | None = None,
    sample_processes: bool = False,
    read_only: Sequence[Path] = (),
    writable: Sequence[Path] = (),
) -> SandboxResult:
    """Run ``command`` in the sandbox and return what happened (by default at Gradescope's limits).

    Args:
        command: argv, as seen inside the sandbox (the system's directories, the Python installation
            and ``read_only`` are visible read-only at their host paths; nothing else of the host).
        root: host directory mounted read-write at ``mount_point``; the only writable place
            besides the sandbox's private ``/tmp`` (a tmpfs, charged to the memory limit).
        memory: memory limit in bytes for the whole process tree (``parse_size("1G")``).
        cpus: CPU quota in CPUs (0.5 = 50 ms every 100 ms).
        timeout: wall-clock seconds after which the whole tree is killed.
        env: the complete environment inside (default: PATH, HOME=/tmp, LANG=C.UTF-8).
        cwd: working directory inside (default ``mount_point``).
        output: file receiving the command's stdout and stderr (default: inherited).
        sample_processes: also record the peak anonymous RSS of each process (by command line).
        read_only: host directories to show read-only at the same path (e.g. the virtual
            environment the command runs in), also where the sandbox's own mounts would hide them
            (a virtual environment under ``/tmp``).
        writable: host directories to show writable at the same path, as a copy-on-write overlay
            thrown away afterwards (Gradescope's installed packages are writable by root).
    """
    bwrap = require_bwrap()
    reap_stale()
    root = Path(root).resolve()
    if not root.is_dir():
        raise SandboxError(f"{root} is not a directory")
    top = Path(mount_point).parts[1:2]
    if not mount_point.startswith("/") or not top or top[0] in SYSTEM_DIRS + PRIVATE_DIRS:
        raise SandboxError(f"bad mount point {mount_point!r}")
    if env is None:
        env = {"PATH": DEFAULT_PATH, "HOME": "/tmp", "LANG": "C.UTF-8"}
    read_only = [Path(p).resolve() for p in read_only]
    overlays = _Overlays([Path(p).resolve() for p in writable])
    argv = _bwrap_command(bwrap, command, root, mount_point, env, cwd or mount_point, read_only, overlays.mounts)

    try:
        groups = _Cgroups(memory, cpus)
    except BaseException:
        overlays.remove()
        raise
    peak = {"rss": 0}
    process_peaks: dict[str, int] = {}
    stop = threading.Event()

    def sample() -> None:
        """Every 0.2 s until stopped, record the tree's peak RSS plus mapped files and, if asked, each
        process's peak anonymous RSS by command line.
        """
        while not stop.wait(0.2):
            s = groups.stat()
            peak["rss"] = max(peak["rss"], s.get("total_rss", 0) + s.get("total_mapped_file", 0))
            if sample_processes:
                for pid in groups.pids():
                    try:
                        status = Path(f"/proc/{pid}/status").read_text()
                        rss = int(re.search(r"RssAnon:\s+(\d+)", status)[1]) * 1024
                        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:120]
                    except (OSError, TypeError):
                        continue
                    process_peaks[cmd] = max(process_peaks.get(cmd, 0), rss)

    out = open(output, "wb") if output is not None else None  # closed below
    timed_out = False
    start = time.monotonic()
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT if out is not None else None,
            preexec_fn=groups.enter,  # only os.open/os.write before exec
            start_new_session=True,
        )
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            groups.kill_all()
            proc.wait()
        groups.kill_all()  # stragglers (bwrap's --die-with-parent and PID namespace cover most)
        wall = time.monotonic() - start
        stop.set()
        sampler.join()
        return SandboxResult(
            returncode=proc.returncode,
            wall_time=wall,
            peak_memory=groups.read_int("memory.max_usage_in_bytes"),
            peak_rss=peak["rss"],
            oom_killed=groups.oom_kills() > 0,
            memory_failcnt=groups.read_int("memory.failcnt"),
            timed_out=timed_out,
            process_peaks=process_peaks,
        )
    finally:
        stop.set()
        if out is not None:
            out.close()
        groups.kill_all()
        groups.remove()
        overlays.remove()


class Running:
    """A sandboxed process that stays up (the batch grader's warm worker): pipes, limits, peaks."""

    def __init__(self, proc: subprocess.Popen, groups: _Cgroups, overlays: _Overlays) -> None:
        self.proc, self._groups, self._overlays = proc, groups, overlays

    def reset_peak(self) -> None:
        """Start a new peak-memory measurement (one per job)."""
        self._groups._write(self._groups.memory / "memory.max_usage_in_bytes", 0)

    def peak_memory(self) -> int:
        """The cgroup's peak memory use in bytes since the last ``reset_peak`` (page cache included)."""
        return self._groups.read_int("memory.max_usage_in_bytes")

    def oom_kills(self) -> int:
        """How many processes the kernel has killed in the sandbox for lack of memory."""
        return self._groups.oom_kills()

    def alive(self) -> bool:
        """Whether the sandboxed process is still running."""
        return self.proc.poll() is None

    def close(self) -> None:
        """Kill whatever is left in the sandbox and remove its cgroups and overlays."""
        try:
            self._groups.kill_all()
            if self.proc.stdin:
                self.proc.stdin.close()
            self.proc.wait()
        finally:
            self._groups.kill_all()
            self._groups.remove()
            self._overlays.remove()


def start(
    command: Sequence[str],
    *,
    root: Path,
    mount_point: str = "/autograder",
    memory: int = GRADESCOPE_LIMITS.memory,
    cpus: float = GRADESCOPE_LIMITS.cpus,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    stderr: Path | None = None,
    read_only: Sequence[Path] = (),
    writable: Sequence[Path] = (),
) -> Running:
    """Start ``command`` in the sandbox (as ``run`` does) with its stdin and stdout as pipes; no timeout.

    The caller talks to it line by line and ends it with ``Running.close()``.
    """
    bwrap = require_bwrap()
    reap_stale()
    root = Path(root).resolve()
    if env is None:
        env = {"PATH": DEFAULT_PATH, "HOME": "/tmp", "LANG": "C.UTF-8"}
    overlays = _Overlays([Path(p).resolve() for p in writable])
    argv = _bwrap_command(
        bwrap, command, root, mount_point, env, cwd or mount_point, [Path(p).resolve() for p in read_only],
        overlays.mounts,
    )
    try:
        groups = _Cgroups(memory, cpus)
    except BaseException:
        overlays.remove()
        raise
    err = open(stderr, "ab") if stderr is not None else subprocess.DEVNULL  # closed below
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            bufsize=1,
            preexec_fn=groups.enter,  # only os.open/os.write before exec
            start_new_session=True,
        )
    except BaseException:
        groups.remove()
        overlays.remove()
        raise
    finally:
        if stderr is not None:
            err.close()
    return Running(proc, groups, overlays)
