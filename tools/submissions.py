"""Reference submissions: fill the student notebook from an answer set, and run it as a student would.

An answer set (``solutions/<name>.yaml``) is data: the right-hand sides for the student
notebook's ``name = ...`` blanks, whole lines a student edits (Q5), and the expected scores.
Building from the student notebook keeps every reference submission in step with the master.

    python -m tools.submissions [OUT_DIR]      # writes OUT_DIR/<name>.ipynb for every answer set
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import yaml

from tools.build import DIST, MASTER, ROOT

SOLUTIONS = ROOT / "solutions"
STUDENT_NOTEBOOK = DIST / "student" / MASTER.name
SUBMISSIONS = DIST / "submissions"
BLANK = "blank"  # the student notebook as distributed, no answer set needed
SUBMISSION_ZIP = f"{MASTER.stem}_submission.zip"  # what the notebook's export cell writes
_CHECKS_MARKER = "PUBLIC_CHECKS="


class AnswerSetError(Exception):
    """An answer set that does not fit the student notebook."""


def answer_sets() -> list[str]:
    """Names of the answer sets in ``solutions/``."""
    return sorted(p.stem for p in SOLUTIONS.glob("*.yaml"))


def load_answer_set(name: str) -> dict[str, Any]:
    """The answer set ``name`` from ``SOLUTIONS``, with ``code``, ``answers`` and ``replace`` defaulted to
    empty; ``AnswerSetError`` listing the known sets if there is no such file.
    """
    path = SOLUTIONS / f"{name}.yaml"
    if not path.is_file():
        raise AnswerSetError(f"no answer set {path}; known: {', '.join(answer_sets())}")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    for key in ("code", "answers", "replace"):
        data.setdefault(key, {} if key != "replace" else [])
    return data


def _literal(value: Any) -> str:
    # YAML has no tuples: shape answers written as lists become the tuples the notebook asks for
    if isinstance(value, list):
        value = tuple(value)
    return repr(value)


_TEXT_BLANK_BODY = ("...", '"""')  # a written answer's blank: `name = """`, then these two lines


def _text_literal(text: str) -> str:
    # written as a student would, between triple quotes, unless the text cannot sit there as is
    if '"""' in text or "\\" in text or text.endswith('"'):
        return repr(text)
    return f'"""\n{text}\n"""'


def _fill_text_blanks(lines: list[str], answers: dict[str, Any], used: set[str]) -> list[str]:
    """Replace each written answer's triple-quoted blank with the answer set's text."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        match = re.fullmatch(r"(\w+) = \"\"\"", lines[i].strip())
        block = tuple(line.strip() for line in lines[i + 1 : i + 3])
        if match and match.group(1) in answers and block == _TEXT_BLANK_BODY:
            name = match.group(1)
            out.extend(f"{name} = {_text_literal(str(answers[name]))}".split("\n"))
            used.add(name)
            i += 3
            continue
        out.append(lines[i])
        i += 1
    return out


def fill(nb: nbformat.NotebookNode, answer_set: dict[str, Any]) -> nbformat.NotebookNode:
    """Return a copy of the student notebook with the answer set's blanks and edits applied."""
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))  # deep copy
    blanks = {lhs: rhs for lhs, rhs in answer_set["code"].items()}
    blanks.update({name: _literal(value) for name, value in answer_set["answers"].items()})
    edits = {item["old"]: item["new"] for item in answer_set["replace"]}
    used: set[str] = set()

    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        lines = _fill_text_blanks(cell.source.split("\n"), answer_set["answers"], used)
        for i, line in enumerate(lines):
            if line.strip() in edits:
                indent = line[: len(line) - len(line.lstrip())]
                lines[i] = indent + edits[line.strip()]
                used.add(line.strip())
                continue
            match = re.fullmatch(r"(\s*)(.+?)\s*=\s*\.\.\.\s*", line)
            if match and match.group(2) in blanks:
                lines[i] = f"{match.group(1)}{match.group(2)} = {blanks[match.group(2)]}"
                used.add(match.group(2))
        cell.source = "\n".join(lines)

    unused = (set(blanks) | set(edits)) - used
    if unused:
        raise AnswerSetError(f"the student notebook has no blank or line for: {', '.join(sorted(unused))}")
    return nb


def build_submission(name: str, out_dir: Path = SUBMISSIONS, student: Path = STUDENT_NOTEBOOK) -> Path:
    """Write ``out_dir/<name>.ipynb``: the student notebook filled with answer set ``name``."""
    if not student.is_file():
        raise AnswerSetError(f"{student} is missing: run `make dist` first.")
    nb = nbformat.read(student, as_version=4)
    if name != BLANK:
        nb = fill(nb, load_answer_set(name))
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


def build_all(out_dir: Path = SUBMISSIONS) -> dict[str, Path]:
    """Build every answer set plus the blank notebook."""
    return {name: build_submission(name, out_dir) for name in [*answer_sets(), BLANK]}


@dataclass
class StudentRun:
    """What a student ends up with after Restart & Run All."""

    notebook: Path  # the executed notebook
    export_zip: Path | None  # what grader.export() wrote, if anything
    public_checks: dict[str, bool] = field(default_factory=dict)  # question -> passed its public tests
    errors: list[str] = field(default_factory=list)  # "cell N: ErrorName: message"


def _questions(nb: nbformat.NotebookNode) -> list[str]:
    return [
        m.group(1)
        for cell in nb.cells
        if cell.cell_type == "code"
        for m in [re.fullmatch(r'grader\.check\("(\w+)"\)', cell.source.strip())]
        if m
    ]


def run_as_student(
    notebook: Path, workdir: Path, timeout: int = 300, saved: Path | None = None, name: str = MASTER.name
) -> StudentRun:
    """Execute ``notebook`` top to bottom in a fresh kernel in ``workdir``, export cell included.

    The notebook is saved first, as a student's would be, as ``name`` (the assignment's file
    name unless a test renames it), because ``grader.check`` and the export read that file;
    ``saved`` is what is on disk instead, for a student who ran ``notebook`` without saving it.
    """
    from nbclient import NotebookClient

    workdir.mkdir(parents=True, exist_ok=True)
    on_disk = workdir / name
    shutil.copy(saved or notebook, on_disk)
    nb = nbformat.read(notebook, as_version=4)
    questions = _questions(nb)
    checks = f"{{q: bool(grader.check(q).passed_all_public) for q in {questions!r}}}"
    probe = f"import json as _json\nprint({_CHECKS_MARKER!r} + _json.dumps({checks}))"
    nb.cells.append(nbformat.v4.new_code_cell(probe))
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", allow_errors=True, resources={"metadata": {"path": str(workdir)}}
    )
    client.execute()

    probe_cell = nb.cells.pop()
    public_checks: dict[str, bool] = {}
    for output in probe_cell.get("outputs", []):
        for line in output.get("text", "").splitlines():
            if line.startswith(_CHECKS_MARKER):
                public_checks = json.loads(line[len(_CHECKS_MARKER) :])
    errors = [
        f"cell {i}: {output['ename']}: {output['evalue']}"
        for i, cell in enumerate(nb.cells)
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    executed = workdir / f"{on_disk.stem}.executed.ipynb"
    nbformat.write(nb, executed)
    export = workdir / SUBMISSION_ZIP
    return StudentRun(executed, export if export.is_file() else None, public_checks, errors)


def main(argv: list[str] | None = None) -> int:
    """Write every reference submission (to the folder given, else ``SUBMISSIONS``) and print their paths;
    the exit status, 1 when an answer set is missing.
    """
    argv = sys.argv[1:] if argv is None else argv
    out_dir = Path(argv[0]) if argv else SUBMISSIONS
    try:
        paths = build_all(out_dir)
    except AnswerSetError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    for name, path in paths.items():
        print(f"{name}: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
