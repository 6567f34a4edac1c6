"""A TA's decisions on written-answer concepts, kept in an append-only JSON-lines file.

One decision gives or withholds one concept of one question for every answer with the same
normalised text (``file`` empty), or for one submission's answer only (a split group). The
latest decision for a key wins; a file-specific decision wins over its group's. Each decision is
one ``write`` of one line to a file opened for appending, then ``fsync``: a killed app leaves at
most a torn last line, which loading skips (and reports), never a lost earlier decision.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from autograder.freetext.normalize import clean


def normalise(text: str | None) -> str:
    """The text two answers share when they are "the same answer": folded case, accents, quotes and spaces."""
    return " ".join(clean(text or "").split())


@dataclass(frozen=True)
class Decision:
    question: str
    concept: str
    answer: str  # normalised answer text
    given: bool
    reviewer: str
    time: float
    comment: str = ""
    file: str = ""  # one submission only (a split group); "" for every identical answer

    @property
    def key(self) -> tuple[str, str, str, str]:
        """What a later decision replaces this one on: question, concept, normalised answer and file."""
        return (self.question, self.concept, self.answer, self.file)


class DecisionError(ValueError):
    """A decision that cannot be recorded (says what is wrong)."""


def append(path: Path, decision: Decision) -> None:
    """Record a decision durably: one line, one write, fsync."""
    if not decision.reviewer.strip():
        raise DecisionError("a decision needs a reviewer name (--reviewer)")
    line = (json.dumps(asdict(decision), ensure_ascii=False) + "\n").encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        # a torn line left by a crash would glue onto ours: start on a fresh line
        if os.fstat(fd).st_size and not _ends_with_newline(path):
            os.write(fd, b"\n")
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as f:
        f.seek(-1, os.SEEK_END)
        return f.read(1) == b"\n"


def load(path: Path) -> tuple[list[Decision], list[str]]:
    """Every decision in file order, and a message per line that could not be read."""
    if not path.is_file():
        return [], []
    decisions, problems = [], []
    for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            decisions.append(Decision(**{k: raw[k] for k in Decision.__dataclass_fields__ if k in raw}))
        except (json.JSONDecodeError, TypeError, KeyError) as e:
            problems.append(f"{path.name} line {n}: skipped, not a decision ({e})")
    return decisions, problems


def latest(decisions: list[Decision]) -> dict[tuple[str, str, str, str], Decision]:
    """The decision in force for each key (the last one made)."""
    out: dict[tuple[str, str, str, str], Decision] = {}
    for d in decisions:
        out[d.key] = d
    return out


def decide(path: Path, question: str, concept: str, answer: str, given: bool, reviewer: str,
           comment: str = "", file: str = "") -> Decision:
    """Make a decision now and append it to the file at ``path``; ``DecisionError`` without a reviewer name."""
    d = Decision(question, concept, normalise(answer), bool(given), reviewer, round(time.time(), 3),
                 comment.strip(), file)
    append(path, d)
    return d
