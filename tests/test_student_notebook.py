"""The student notebook run as a student would: fresh kernel, Restart & Run All, export."""

from __future__ import annotations

import pytest

from tools.registry import registry
from tools.submissions import run_as_student


@pytest.fixture(scope="module")
def full_run(submissions, tmp_path_factory):
    return run_as_student(submissions["full_credit"], tmp_path_factory.mktemp("student"))


def test_answered_notebook_runs_clean_and_passes_its_public_checks(full_run):
    assert full_run.errors == []
    assert sorted(full_run.public_checks) == sorted(registry().ids)
    assert all(full_run.public_checks.values()), full_run.public_checks


def test_no_tensorflow_log_noise_in_outputs(full_run):
    import nbformat

    nb = nbformat.read(full_run.notebook, as_version=4)
    stderr = [
        o.get("text", "")
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.get("name") == "stderr"
    ]
    assert not any("I0000" in s or "oneDNN" in s or "absl" in s for s in stderr), stderr


def test_export_zip_grades_to_the_notebook_score(full_run, submissions, grade):
    assert full_run.export_zip is not None and full_run.export_zip.is_file()
    from_zip = grade(full_run.export_zip)
    from_notebook = grade(submissions["full_credit"])
    assert from_zip.scores == from_notebook.scores
    assert from_zip.total[0] == from_zip.total[1]


def test_blank_notebook_fails_its_public_checks_without_stopping(submissions, tmp_path):
    run = run_as_student(submissions["blank"], tmp_path)
    assert sorted(run.public_checks) == sorted(registry().ids)
    assert not any(run.public_checks.values())
    assert run.errors  # the blanks raise, the kernel keeps going to the end


def _outputs_text(notebook, needle: str) -> str:
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    return "\n".join(
        str(o.get("text") or o.get("data", {}).get("text/plain") or o.get("data", {}).get("text/html") or "")
        for c in nb.cells
        if c.cell_type == "code" and needle in c.source
        for o in c.get("outputs", [])
    )


def test_public_checks_hold_the_student_to_the_instructions(submissions, tmp_path):
    """The partial set leaves Q5's LSTM returning its states and Experiment 3 without the sequence."""
    run = run_as_student(submissions["partial"], tmp_path)
    failing = sorted(q for q, passed in run.public_checks.items() if not passed)
    assert failing == ["q3", "q5", "q6"], run.public_checks  # q3: a shape of the wrong rank
    shown = _outputs_text(run.notebook, 'grader.check("q5")')
    assert shown.count("The LSTM in Experiment 2 still returns its states") == 1, shown


def test_export_refuses_a_saved_file_that_is_not_what_ran(submissions, tmp_path):
    """Answers typed and run but never saved: the export says to save and writes no zip."""
    run = run_as_student(submissions["full_credit"], tmp_path, saved=submissions["blank"])
    assert run.export_zip is None
    shown = _outputs_text(run.notebook, "\nexport_submission(grader)")
    assert "save the notebook (Ctrl+S)" in shown and "run this cell again" in shown, shown
    assert list(tmp_path.glob("*.zip*")) == []


def test_export_says_which_file_to_upload(full_run):
    shown = _outputs_text(full_run.notebook, "\nexport_submission(grader)")
    assert f"All {len(registry().ids)} questions pass their checks." in shown
    assert "Saved rnn_states_submission.zip (it replaces any earlier one): upload this file to Gradescope." in shown
    assert full_run.export_zip.name == "rnn_states_submission.zip"
