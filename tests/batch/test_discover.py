"""What the batch grader finds in a folder (``tools.batch.discover``): a Gradescope export's
submissions and submitters, and the files it refuses, in the zip's own words."""

from __future__ import annotations

import shutil

import nbformat
import pytest

from autograder.plugins.safe_run import submission_problem
from autograder.submission_check import Reason
from tests.helpers.graded_folder import FIXTURES
from tools.batch.discover import discover, read_metadata
from tools.gradebook.records import Status


@pytest.mark.fast
def test_discover_handles_a_folder_holding_an_export(tmp_path):
    export = tmp_path / "assignment_777_export"
    (export / "submission_1001").mkdir(parents=True)
    shutil.copy(FIXTURES / "submission_metadata.yml", export / "submission_metadata.yml")
    (export / "submission_1001" / "rnn_states.ipynb").write_text("{")
    (tmp_path / "stray").mkdir()
    subs = discover(tmp_path, "rnn_states")
    assert [(s.file, s.problem[0]) for s in subs] == [
        ("assignment_777_export/submission_1001", Status.MALFORMED),
        ("stray", Status.NOT_SUBMISSION),
    ]
    assert subs[0].submitters[0].email == "ann.lee@example.edu"
    assert read_metadata(FIXTURES / "submission_metadata.yml")["submission_1002"][1].name == "Chloé Ruiz"



def _notebook_bytes(assignment: str | None) -> bytes:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("q1_answer = 'x'")])
    if assignment is not None:
        nb.metadata["otter"] = {"assignment_name": assignment}
    return nbformat.writes(nb).encode()


@pytest.mark.fast
def test_discover_and_the_zip_refuse_a_file_in_the_same_words(tmp_path):
    """The batch grader's static check and the zip's entry point give one verdict, word for word."""
    good = _notebook_bytes("rnn_states")
    files = {
        "binary.ipynb": b"PK\x03\x04\xff\xfe not text",
        "truncated.ipynb": good[: len(good) // 2],
        "list.ipynb": b"[1, 2]",
        "nameless.ipynb": _notebook_bytes(None),
        "other.ipynb": _notebook_bytes("lstm_basics"),
        "good.ipynb": good,
    }
    folder = tmp_path / "subs"
    folder.mkdir()
    for name, data in files.items():
        (folder / name).write_bytes(data)
    statuses = {}
    for sub in discover(folder, "rnn_states"):
        ag = tmp_path / "ag" / sub.file
        (ag / "submission").mkdir(parents=True)
        shutil.copy(sub.path, ag / "submission" / sub.file)
        problem = submission_problem(str(ag), {"assignment_name": "rnn_states"})
        assert (sub.problem and sub.problem[1]) == (problem and problem.message()), sub.file
        statuses[sub.file] = (sub.problem[0] if sub.problem else None, problem and problem.reason)
    assert statuses == {
        "binary.ipynb": (Status.MALFORMED, Reason.NOT_UTF8),
        "truncated.ipynb": (Status.MALFORMED, Reason.NOT_JSON),
        "list.ipynb": (Status.MALFORMED, Reason.NOT_NOTEBOOK),
        "nameless.ipynb": (Status.WRONG_ASSIGNMENT, Reason.NO_ASSIGNMENT),
        "other.ipynb": (Status.WRONG_ASSIGNMENT, Reason.WRONG_ASSIGNMENT),
        "good.ipynb": (None, None),
    }
