"""Gradescope's resource limits for an autograder run: the one place they are written down.

Gradescope's default autograder container has 768 MiB of memory and half a CPU, and stops a
run after 10 minutes. The sandbox, the Gradescope harness and the batch grader take their
defaults, and their ``--help`` texts, from ``GRADESCOPE_LIMITS``.
"""

from __future__ import annotations

from dataclasses import dataclass

MiB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    memory: int  # bytes, for the whole process tree
    cpus: float  # CPU quota in CPUs
    timeout: float  # wall-clock seconds

    @property
    def memory_size(self) -> str:
        """The memory limit as a ``--memory`` argument (``tools.sandbox.parse_size`` reads it back)."""
        return f"{self.memory // MiB}M"


GRADESCOPE_LIMITS = Limits(memory=768 * MiB, cpus=0.5, timeout=600.0)
