"""The question registry: every question's facts, read from the files an instructor edits.

The master notebook's ``# BEGIN QUESTION`` blocks give the questions, their tests and each
test's points; the rubrics (``autograder/rubrics/<question>.yaml``) give the written
questions' concepts and points. Nothing here is a third list to keep in step: tests, reports
and the build read these facts from here, and ``problems()`` names every place where the two
sources disagree.

    python -m tools.registry        # the table of questions, and any disagreement
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import nbformat
import yaml

from autograder.freetext.rubric import RUBRIC_DIR, RubricError, read_rubric

ROOT = Path(__file__).resolve().parent.parent
MASTER = ROOT / "assignment" / "rnn_states.ipynb"

WRITTEN, SHAPE, CODE = "written", "shape", "code"
_TEST_CONFIG = re.compile(r'^"""\s*# BEGIN TEST CONFIG\n(.*?)\n"""\s*# END TEST CONFIG\n', re.S)
_TEST_NAME = re.compile(r"^def (test_\w+)\(", re.M)
_CONCEPT = re.compile(r'require_concept\(\s*"(\w+)"\s*,\s*\w+\s*,\s*"(\w+)"\s*\)')
_SHAPE_ANSWER = re.compile(r"^\w+_shape\s*=", re.M)
_ASSIGNED = re.compile(r"^\s*(\w+)(?:\s*,\s*\w+)*\s*=[^=]")


class RegistryError(ValueError):
    """The master notebook or a rubric cannot be read as a set of questions."""


@dataclass(frozen=True)
class Test:
    name: str
    points: float
    hidden: bool
    concept: tuple[str, str] | None = None  # (question, concept id) of a written-answer test


@dataclass(frozen=True)
class Question:
    id: str
    kind: str  # WRITTEN, SHAPE or CODE
    tests: tuple[Test, ...]
    concepts: tuple[tuple[str, float], ...] = ()  # the rubric's (concept id, points), written questions only

    @property
    def points(self) -> float:
        """The question's points: the sum of its tests' points."""
        return float(sum(t.points for t in self.tests))

    @property
    def hidden_points(self) -> float:
        """The points of the question's hidden tests."""
        return float(sum(t.points for t in self.tests if t.hidden))


@dataclass(frozen=True)
class Registry:
    questions: tuple[Question, ...]
    rubric_files: tuple[str, ...]  # question ids that have a rubric file
    # the first variable each cell a student fills in assigns: the cells with a solution in them
    student_cells: tuple[str, ...] = ()

    @property
    def ids(self) -> list[str]:
        """The question ids, in the registry's order."""
        return [q.id for q in self.questions]

    @property
    def total(self) -> float:
        """The assignment's points: the sum of its questions' points."""
        return float(sum(q.points for q in self.questions))

    def __getitem__(self, question: str) -> Question:
        for q in self.questions:
            if q.id == question:
                return q
        raise KeyError(f"no question {question!r}; the notebook has {', '.join(self.ids)}")

    def written(self) -> list[Question]:
        """The questions answered in writing (kind ``WRITTEN``)."""
        return [q for q in self.questions if q.kind == WRITTEN]

    def problems(self) -> list[str]:
        """Every disagreement between the notebook's tests and the rubrics, one sentence each."""
        found = []
        for rubric in sorted(set(self.rubric_files) - set(self.ids)):
            found.append(f"{rubric}: autograder/rubrics/{rubric}.yaml has no question {rubric} in the master notebook")
        for q in self.questions:
            rubric = dict(q.concepts)
            tested: dict[str, float] = {}
            for t in q.tests:
                if t.concept is None:
                    continue
                question, concept = t.concept
                if question != q.id:
                    found.append(f"{q.id}: test {t.name} grades a concept of {question}, not of {q.id}")
                elif q.id not in self.rubric_files:
                    found.append(f"{q.id}: test {t.name} checks concept {concept!r} but {q.id} has no rubric")
                elif concept not in rubric:
                    found.append(f"{q.id}: test {t.name} checks concept {concept!r}, which the rubric does not define")
                elif t.points != rubric[concept]:
                    found.append(
                        f"{q.id} concept {concept!r}: the notebook's test {t.name} gives {t.points:g} points,"
                        f" the rubric {rubric[concept]:g}"
                    )
                tested[concept] = t.points
            for concept in rubric:
                if concept not in tested:
                    found.append(f"{q.id} concept {concept!r}: the rubric defines it but no notebook test grades it")
        return found


def _question_blocks(nb: nbformat.NotebookNode) -> list[tuple[dict, list[nbformat.NotebookNode]]]:
    blocks: list[tuple[dict, list]] = []
    current: tuple[dict, list] | None = None
    for cell in nb.cells:
        text = cell.source.strip()
        if cell.cell_type == "raw" and text.startswith("# BEGIN QUESTION"):
            config = yaml.safe_load(text.removeprefix("# BEGIN QUESTION")) or {}
            if not isinstance(config, dict) or not config.get("name"):
                raise RegistryError(f"a '# BEGIN QUESTION' cell has no 'name:' ({text[:60]!r})")
            current = (config, [])
            blocks.append(current)
        elif cell.cell_type == "raw" and text.startswith("# END QUESTION"):
            current = None
        elif current is not None:
            current[1].append(cell)
    return blocks


def _tests(question: str, cells: list[nbformat.NotebookNode]) -> tuple[Test, ...]:
    tests = []
    for cell in cells:
        match = _TEST_CONFIG.match(cell.source) if cell.cell_type == "code" else None
        if not match:
            continue
        config = yaml.safe_load(match.group(1)) or {}
        name = _TEST_NAME.search(cell.source)
        if not name:
            raise RegistryError(f"{question}: a test cell has a TEST CONFIG but no 'def test_...' function")
        if "points" not in config:
            raise RegistryError(f"{question}: test {name.group(1)} has no 'points:' in its TEST CONFIG")
        concept = _CONCEPT.search(cell.source)
        tests.append(Test(
            name=name.group(1),
            points=float(config["points"]),
            hidden=bool(config.get("hidden", False)),
            concept=(concept.group(1), concept.group(2)) if concept else None,
        ))
    if not tests:
        raise RegistryError(f"{question}: the question has no test cells")
    return tuple(tests)


def _rubric_concepts(question: str, rubric_dir: Path) -> tuple[tuple[str, float], ...]:
    path = rubric_dir / f"{question}.yaml"
    try:
        rubric = read_rubric(path)
    except (OSError, yaml.YAMLError, RubricError) as e:
        raise RegistryError(f"{question}: cannot read {path}: {e}") from None
    return tuple((c.id, c.points) for c in rubric.concepts)


def _solution_lines(source: str) -> list[str]:
    lines, inside = [], False
    for line in source.splitlines():
        if line.strip().startswith("# BEGIN SOLUTION"):
            inside = True
        elif line.strip().startswith("# END SOLUTION"):
            inside = False
        elif inside or line.rstrip().endswith("# SOLUTION"):
            lines.append(line)
    return lines


def _student_cells(nb: nbformat.NotebookNode) -> tuple[str, ...]:
    names = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        assigned = [m.group(1) for line in _solution_lines(cell.source) for m in [_ASSIGNED.match(line)] if m]
        if assigned:
            names.append(assigned[0])
    return tuple(names)


def load(master: Path = MASTER, rubric_dir: Path = RUBRIC_DIR) -> Registry:
    """Read the questions of ``master`` and the rubrics in ``rubric_dir``."""
    try:
        nb = nbformat.read(master, as_version=4)
    except (OSError, ValueError) as e:
        raise RegistryError(f"cannot read the master notebook {master}: {e}") from None
    rubric_files = tuple(sorted((p.stem for p in rubric_dir.glob("*.yaml")), key=lambda q: (len(q), q)))
    questions = []
    for config, cells in _question_blocks(nb):
        qid = str(config["name"])
        tests = _tests(qid, cells)
        solution = "\n".join(c.source for c in cells if c.cell_type == "code" and not _TEST_CONFIG.match(c.source))
        if qid in rubric_files or any(t.concept for t in tests):
            kind = WRITTEN
        elif _SHAPE_ANSWER.search(solution):
            kind = SHAPE
        else:
            kind = CODE
        concepts = _rubric_concepts(qid, rubric_dir) if qid in rubric_files else ()
        questions.append(Question(qid, kind, tests, concepts))
    duplicates = sorted({q.id for q in questions if [p.id for p in questions].count(q.id) > 1})
    if duplicates:
        raise RegistryError(f"question names used twice in {master.name}: {', '.join(duplicates)}")
    return Registry(tuple(questions), rubric_files, _student_cells(nb))


@cache
def registry() -> Registry:
    """The registry of this checkout (read once per process)."""
    return load()


def main() -> int:
    """Print each question's kind, tests and points (all and hidden) with the total, then the problems;
    the exit status, 1 when there are problems or the registry cannot be read.
    """
    try:
        reg = load()
    except RegistryError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"{'question':<10}{'kind':<9}{'tests':>6}{'points':>8}{'hidden':>8}")
    for q in reg.questions:
        print(f"{q.id:<10}{q.kind:<9}{len(q.tests):>6}{q.points:>8g}{q.hidden_points:>8g}")
    print(f"{'total':<10}{'':<9}{sum(len(q.tests) for q in reg.questions):>6}{reg.total:>8g}")
    for problem in reg.problems():
        print(f"problem: {problem}", file=sys.stderr)
    return 1 if reg.problems() else 0


if __name__ == "__main__":
    sys.exit(main())
