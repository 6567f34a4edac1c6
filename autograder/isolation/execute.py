"""Execute a submission in a kernel that runs as the student user, under the grader's own clock.

The kernel is started through a kernelspec whose argv is ``launch.py`` (privileges dropped before
``ipykernel`` starts), in the student's scratch directory; under a batch worker's fork server
(``fork_server.py``), whose socket the environment names, the argv is ``launch_forked.py`` instead,
and the fork server forks the kernel, taking the same steps, from a process with TensorFlow already
imported.
Cells run one at a time with
``nbclient``: each gets ``min(cell_timeout, time left of total_timeout)`` seconds (at least
``MIN_CELL_TIMEOUT``) measured here; a cell past its time is interrupted and execution goes on
with the next one. Which cells were stopped is known from this clock, never from what the kernel
says. Which cells raised, and what, is what the kernel reported for them (``raised``): the student's
own text, kept apart so that results show it only where it is attributed to the student's code.
Afterwards the kernel is shut down and every process of the student user is ended.

What the kernel sends is kept only up to ``MAX_OUTPUT_CHARS`` over the whole notebook (outputs,
display updates, widget messages; an error past it keeps its name and the start of its value):
grading reads no output, and a cell that prints for a minute must not fill the grading
process's memory.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError

from autograder.isolation.student import StudentUser

try:  # jupyter_client imports psutil when it stops a kernel: load it now, before student code runs
    import psutil  # noqa: F401
except ImportError:  # pragma: no cover - psutil is optional for jupyter_client
    pass

KERNEL_NAME = "rnn-student"
LAUNCHER = Path(__file__).resolve().with_name("launch.py")
FORKED_LAUNCHER = Path(__file__).resolve().with_name("launch_forked.py")
SOCKET_ENV = "RNN_GRADING_FORKSERVER"  # set by fork_server.py for the grading processes it forks
MIN_CELL_TIMEOUT = 5.0
STARTUP_TIMEOUT = 120
TIMEOUT_REPLY = {"ename": "GradingTimeout", "evalue": "stopped by the grader's timer", "traceback": []}
# characters of output kept from the whole notebook: the full-credit notebook prints ~6,000
MAX_OUTPUT_CHARS = 1_000_000
ERROR_VALUE_CHARS = 1000  # of an error's value, once the budget is spent
PAYLOAD_TYPES = {"stream", "display_data", "execute_result", "update_display_data", "error"}


def _chars(value: Any, depth: int = 0) -> int:
    """How many characters of strings a message's content holds (deep structures count as large)."""
    if isinstance(value, str):
        return len(value)
    if depth > 20:
        return MAX_OUTPUT_CHARS
    if isinstance(value, dict):
        return sum(len(str(k)) + _chars(v, depth + 1) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return sum(_chars(v, depth + 1) for v in value)
    return 8


class _BoundedClient(NotebookClient):
    """``NotebookClient`` that keeps at most ``MAX_OUTPUT_CHARS`` of what the kernel sends."""

    kept_chars = 0

    def process_message(self, msg: dict[str, Any], cell: Any, cell_index: int) -> Any:
        """Pass the kernel's message on until the notebook's outputs reach ``MAX_OUTPUT_CHARS``; past it, drop
        outputs but keep an error, cut to its name and the start of its message, so the failure still shows.
        """
        msg_type = msg.get("msg_type", "")
        if msg_type in PAYLOAD_TYPES or msg_type.startswith("comm"):
            size = _chars(msg.get("content"))
            if self.kept_chars + size > MAX_OUTPUT_CHARS:
                if msg_type != "error":
                    return None
                content = msg["content"]
                msg = {**msg, "content": {
                    "ename": str(content.get("ename", ""))[:100],
                    "evalue": str(content.get("evalue", ""))[:ERROR_VALUE_CHARS],
                    "traceback": [],
                }}
                size = ERROR_VALUE_CHARS + 100
            self.kept_chars += size
        return super().process_message(msg, cell, cell_index)


@dataclass(frozen=True)
class Raised:
    """A cell that ended with an exception, as the kernel reported it (student text: never trusted as the grader's)."""

    index: int  # in ``notebook.cells``
    ename: str
    evalue: str


def raised_in(cell: Any, index: int) -> Raised | None:
    """The last error the kernel reported for ``cell`` (an executed cell), or None."""
    errors = [out for out in cell.get("outputs", []) if out.get("output_type") == "error"]
    if not errors:
        return None
    return Raised(index, str(errors[-1].get("ename", ""))[:200], str(errors[-1].get("evalue", ""))[:2000])


@dataclass
class Execution:
    """What happened when the submission ran."""

    notebook: Any
    timed_out: list[int] = field(default_factory=list)  # indices (in ``notebook.cells``) of stopped cells
    raised: list[Raised] = field(default_factory=list)  # cells that ended with an exception (not the stopped ones)
    kernel_died: bool = False
    kernel_failed: str = ""  # the kernel did not start: why (for the instructor log)
    out_of_time: bool = False  # total_timeout was used up before the last cell
    processes_ended: int = 0  # rounds of SIGKILL it took to end the student's processes


def _kernelspec(spec_dir: Path, user: StudentUser, scratch: Path) -> None:
    kernel = spec_dir / KERNEL_NAME
    kernel.mkdir(parents=True)
    server = os.environ.get(SOCKET_ENV, "")
    start = [str(FORKED_LAUNCHER), server] if server and os.path.exists(server) else [str(LAUNCHER)]
    argv = [sys.executable, "-I", *start, str(user.uid), str(user.gid), str(scratch), "{connection_file}"]
    spec = {"argv": argv, "display_name": "Student (unprivileged)", "language": "python"}
    (kernel / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")


def execute(
    nb: Any,
    user: StudentUser,
    scratch: Path,
    *,
    cell_timeout: float,
    total_timeout: float,
    last_cell_reserve: float = MIN_CELL_TIMEOUT,
) -> Execution:
    """Run every code cell of ``nb`` (modified in place) as ``user`` in ``scratch``."""
    result = Execution(nb)
    with tempfile.TemporaryDirectory(prefix="kernelspec-") as spec_dir:
        _kernelspec(Path(spec_dir), user, scratch)
        km = AsyncKernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=KernelSpecManager(kernel_dirs=[spec_dir]))
        client = _BoundedClient(
            nb,
            km=km,
            allow_errors=True,
            interrupt_on_timeout=True,
            error_on_timeout=TIMEOUT_REPLY,
            startup_timeout=STARTUP_TIMEOUT,
            shutdown_kernel="immediate",
            resources={"metadata": {"path": str(scratch)}},
        )
        start = time.monotonic()
        try:
            with client.setup_kernel(cleanup_kc=True):
                code = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"]
                for index in code:
                    left = total_timeout - (time.monotonic() - start)
                    if left <= 0 and index != code[-1]:
                        result.out_of_time = True
                        continue  # keep the budget's end for the last cell (the export)
                    limit = max(MIN_CELL_TIMEOUT if index != code[-1] else last_cell_reserve, min(cell_timeout, left))
                    client.timeout = int(limit + 0.999)
                    began = time.monotonic()
                    try:
                        client.execute_cell(nb.cells[index], index)
                    except DeadKernelError:
                        result.kernel_died = True
                        break
                    if time.monotonic() - began >= client.timeout:
                        result.timed_out.append(index)
                        number = nb.cells[index].metadata.get("grading", {}).get("cell", index + 1)
                        print(f"cell {number} was stopped by the timer after {client.timeout} s", flush=True)
                    elif raised := raised_in(nb.cells[index], index):
                        result.raised.append(raised)
        except DeadKernelError:
            result.kernel_died = True
        except RuntimeError as e:  # the kernel did not start (or its client could not connect)
            result.kernel_failed = f"{type(e).__name__}: {e}"[:500]
        finally:
            result.processes_ended = user.end_processes()
    return result
