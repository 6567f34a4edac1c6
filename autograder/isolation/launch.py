"""Start the student's IPython kernel as the unprivileged student user (the kernelspec's argv).

    python -I launch.py UID GID SCRATCH CONNECTION_FILE

Run by jupyter_client as root: it copies the connection file (root's, ``0600``) into the scratch
directory for the student user, sets resource limits, drops every privilege for good (no
supplementary groups, real/effective/saved uid and gid, ``no_new_privs`` so no setuid program can
give them back) and execs ``ipykernel`` with a clean environment. Standard library only: it runs
from the grader's directory before any student code, and imports nothing of the grader's.
"""

from __future__ import annotations

import ctypes
import os
import resource
import sys

PR_SET_NO_NEW_PRIVS = 38
MAX_PROCESSES = 4096  # tasks (threads count) of the student user: TensorFlow starts one pool per CPU
MAX_OPEN_FILES = 4096
# the OOM killer's first choice: when memory runs out, a student process goes, not the grading
# process (set while root, so where root may, the student cannot lower it again)
OOM_SCORE_ADJ = b"1000"


def _no_new_privs() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")


def prepare(uid: int, gid: int, scratch: str, connection_file: str) -> tuple[str, dict[str, str]]:
    """As root: the student's copy of the connection file and the kernel's environment."""
    if uid == 0 or gid == 0:
        raise SystemExit("launch.py: refusing to start the student's kernel as root")
    with open(connection_file, encoding="utf-8") as f:
        connection = f.read()
    kernel_dir = os.path.join(scratch, ".kernel")
    os.mkdir(kernel_dir, 0o700)  # fails if the path exists: nothing of the student's runs yet
    os.chown(kernel_dir, uid, gid)
    own_connection = os.path.join(kernel_dir, "connection.json")
    fd = os.open(own_connection, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(connection)
    os.chown(own_connection, uid, gid)
    tmp = os.path.join(scratch, "tmp")
    os.mkdir(tmp, 0o700)
    os.chown(tmp, uid, gid)
    env = {
        "PATH": os.path.dirname(sys.executable) + ":/usr/local/bin:/usr/bin:/bin",
        "HOME": scratch,
        "USER": "student",
        "LOGNAME": "student",
        "LANG": "C.UTF-8",
        "TMPDIR": tmp,
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": tmp,
        "PYTHONNOUSERSITE": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "JUPYTER_RUNTIME_DIR": kernel_dir,
    }
    for key in ("TF_ENABLE_ONEDNN_OPTS", "OMP_NUM_THREADS"):
        if key in os.environ:
            env[key] = os.environ[key]
    return own_connection, env


def drop_privileges(uid: int, gid: int, scratch: str) -> None:
    """Resource limits, then every privilege dropped for good, in ``scratch``."""
    try:
        with open("/proc/self/oom_score_adj", "wb") as f:
            f.write(OOM_SCORE_ADJ)
    except OSError:
        pass
    resource.setrlimit(resource.RLIMIT_NPROC, (MAX_PROCESSES, MAX_PROCESSES))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    limit = min(MAX_OPEN_FILES, hard) if hard != resource.RLIM_INFINITY else MAX_OPEN_FILES
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))
    _no_new_privs()
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    if os.getuid() != uid or os.geteuid() != uid or os.getgroups():
        raise SystemExit("launch.py: could not drop privileges")
    os.umask(0o077)
    os.chdir(scratch)


def silence() -> None:
    """The kernel's own stdout/stderr (not the cells' output, which goes over ZeroMQ) would land in
    the grading log: student-controlled text there, and noise."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.close(devnull)


def main(argv: list[str]) -> None:
    """``launch.py UID GID SCRATCH CONNECTION_FILE``: prepare, drop privileges and exec ipykernel."""
    uid, gid, scratch, connection_file = int(argv[1]), int(argv[2]), argv[3], argv[4]
    own_connection, env = prepare(uid, gid, scratch, connection_file)
    drop_privileges(uid, gid, scratch)
    silence()
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", own_connection]
    os.execve(sys.executable, argv, env)


if __name__ == "__main__":
    main(sys.argv)
