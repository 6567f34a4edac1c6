"""The written answers of a submitted notebook, read statically.

The ``qN_answer = "..."`` strings are read from the notebook's code cells' syntax trees
(``ast.literal_eval`` for a cell that does not parse): no student code runs in the TA's process.
An answer written some other way (a variable, an f-string) keeps its source for a person to read.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Any

ANSWER_NAME = re.compile(r"^(q\d+)_answer$")


@dataclass
class Answer:
    question: str
    text: str | None  # None: no string literal was assigned
    source: str  # how it was written, when it is not a plain string literal ("" otherwise)


def _cell_source(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _without_magics(source: str) -> str:
    # IPython syntax (%magic, !shell, ?help) is not Python: blank those lines, keep the numbering
    return "\n".join("" if line.lstrip().startswith(("%", "!", "?")) else line for line in source.split("\n"))


def _assignments_ast(source: str) -> list[tuple[str, ast.expr, str]] | None:
    try:
        tree = ast.parse(_without_magics(source))
    except (SyntaxError, ValueError):
        return None
    found = []
    for node in ast.walk(tree):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets = [node.target]
        for target in targets:
            if isinstance(target, ast.Name) and ANSWER_NAME.match(target.id):
                segment = ast.get_source_segment(source, node.value) or ""
                found.append((target.id, node.value, segment, node.lineno))
    found.sort(key=lambda item: item[3])
    return [(name, value, segment) for name, value, segment, _ in found]


def _assignments_lines(source: str) -> list[tuple[str, Any, str]]:
    """For a cell that does not parse: ``qN_answer = <literal>`` lines, one by one."""
    out = []
    for line in source.split("\n"):
        m = re.match(r"^\s*(q\d+_answer)\s*=\s*(.+?)\s*$", line)
        if m:
            try:
                value: Any = ast.literal_eval(m.group(2))
            except (ValueError, SyntaxError, MemoryError, RecursionError):
                value = None
            out.append((m.group(1), value, m.group(2)))
    return out


def extract_answers(nb: dict[str, Any]) -> dict[str, Answer]:
    """``question -> Answer`` from the last assignment to ``qN_answer`` in the notebook's code cells."""
    answers: dict[str, Answer] = {}
    for cell in nb.get("cells", []):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = _cell_source(cell)
        if "_answer" not in source:
            continue
        parsed = _assignments_ast(source)
        if parsed is not None:
            for name, value, segment in parsed:
                q = ANSWER_NAME.match(name).group(1)
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    answers[q] = Answer(q, value.value, "")
                elif isinstance(value, ast.Constant) and value.value is Ellipsis:
                    answers[q] = Answer(q, None, "...")
                else:
                    answers[q] = Answer(q, None, segment)
        else:
            for name, value, segment in _assignments_lines(source):
                q = ANSWER_NAME.match(name).group(1)
                text = value if isinstance(value, str) else None
                answers[q] = Answer(q, text, "" if text is not None else segment)
    return answers
