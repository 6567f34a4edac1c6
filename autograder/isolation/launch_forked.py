"""The kernelspec's argv for a forked kernel: ask the fork server for one, and stand in for it.

    python -I launch_forked.py SOCKET UID GID SCRATCH CONNECTION_FILE

Run by jupyter_client in the grading process (as root), in place of ``launch.py``: the fork server
(``fork_server.py``) forks the student's kernel from its process, TensorFlow already imported, and
answers with its pid. This process then lives as long as that kernel, so jupyter_client sees a kernel process:
an interrupt (SIGINT) or termination it receives is passed on to the kernel. Standard library only.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import sys


def main(argv: list[str]) -> int:
    """Ask the fork server at ``argv[1]`` for a kernel, pass signals on to it, and return when it exits."""
    socket_path, uid, gid, scratch, connection_file = argv[1], int(argv[2]), int(argv[3]), argv[4], argv[5]
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.connect(socket_path)
        request = {"uid": uid, "gid": gid, "scratch": scratch, "connection_file": connection_file}
        conn.sendall(json.dumps(request).encode() + b"\n")
        reply = json.loads(conn.makefile("r", encoding="utf-8").readline() or "{}")
    if "pid" not in reply:
        print(f"launch_forked: no kernel: {reply.get('error', 'the fork server did not answer')}", file=sys.stderr)
        return 1
    pid = int(reply["pid"])
    pidfd = os.pidfd_open(pid)

    def forward(signum: int, frame: object) -> None:
        """Pass a signal this launcher receives on to the kernel (already gone: nothing to do)."""
        try:
            signal.pidfd_send_signal(pidfd, signum)
        except ProcessLookupError:
            pass

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, forward)
    while True:
        try:
            ready, _, _ = select.select([pidfd], [], [])
        except InterruptedError:
            continue
        if ready:
            return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
