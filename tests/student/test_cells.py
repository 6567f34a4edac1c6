"""The student notebook's cells as JupyterLab will treat them: what a student can edit.

Otter Assign locks (``editable: false``) every cell of a question block that is not inside a
solution block; a master-notebook edit that forgets the delimiters locks an answer cell, and
only this test would notice before a student does. The cells a student fills in are the master's
cells with a solution in them (the registry names each by the first variable it assigns).
"""

from __future__ import annotations

import re

import nbformat
import pytest

from tools.registry import registry
from tools.submissions import STUDENT_NOTEBOOK

# every cell a student must change, named by a variable it assigns
EDITABLE = set(registry().student_cells)


@pytest.fixture(scope="module")
def student(ag_zip) -> nbformat.NotebookNode:
    return nbformat.read(STUDENT_NOTEBOOK, as_version=4)


def _assigned(source: str) -> set[str]:
    return set(re.findall(r"^(\w+)\s*=", source, flags=re.MULTILINE))


def _editable(cell: nbformat.NotebookNode) -> bool:
    return cell.metadata.get("editable", True) is not False


def test_exactly_the_cells_a_student_fills_in_are_editable(student):
    code = [cell for cell in student.cells if cell.cell_type == "code"]
    answer_cells = [cell for cell in code if _assigned(cell.source) & EDITABLE]
    assert set().union(*(_assigned(c.source) for c in answer_cells)) >= EDITABLE
    assert len(answer_cells) == len(EDITABLE), "each answer has a cell of its own"
    locked_answers = [cell.source.splitlines()[0] for cell in answer_cells if not _editable(cell)]
    assert locked_answers == [], f"read-only in JupyterLab: {locked_answers}"
    editable_others = [cell.source.splitlines()[0] for cell in code if cell not in answer_cells and _editable(cell)]
    assert editable_others == [], f"scaffold a student should not change is editable: {editable_others}"


def test_prompts_are_locked(student):
    questions = [cell for cell in student.cells if cell.cell_type == "markdown" and "**Question" in cell.source]
    assert len(questions) == len(registry().questions)
    assert all(not _editable(cell) for cell in questions)


def test_written_answers_are_typed_between_triple_quotes(student):
    blanks = [cell.source for cell in student.cells if re.match(r'q\d+_answer = """\n\.\.\.\n"""$', cell.source)]
    assert len(blanks) == len(registry().written())


def test_experiment_2_is_handed_out_returning_its_states(student):
    """Q5 asks the student to switch the states off: the cell starts with them on."""
    (cell,) = [c for c in student.cells if "lstm_nostate_layer =" in c.source]
    assert "return_state=True" in cell.source
    assert "lstm_nostate_output, lstm_nostate_h, lstm_nostate_c = " in cell.source
