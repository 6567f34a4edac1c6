"""The student notebook run as a student would: fresh kernel, Restart & Run All, export."""

from __future__ import annotations

import zipfile
from pathlib import Path

import nbformat
import pytest

from tools.registry import registry
from tools.submissions import SUBMISSION_ZIP, run_as_student


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


# --- off the happy path: a wrong answer, a cell that raises, a renamed notebook ---------------------


def test_checks_say_what_they_checked_and_lead_with_the_sentence(submissions, tmp_path):
    """The partial set answers q4 wrongly (form fine) and gives q3 a shape of the wrong rank."""
    run = run_as_student(submissions["partial"], tmp_path)
    passing = _outputs_text(run.notebook, 'grader.check("q4")')
    assert passing.startswith("q4: your written answer has the expected form."), passing
    assert "graded after you submit" in passing
    assert "passed" not in passing and not any(e in passing for e in "🍀🎉🌈🙌🚀🌟✨💯"), passing
    failing = _outputs_text(run.notebook, 'grader.check("q3")')
    assert failing.splitlines()[:2] == [
        "q3 is not ready yet:",
        "- Your shapes: q3_h_shape should have one entry per dimension of the array: compare with what the cell"
        " printed.",
    ], failing
    for plumbing in ("Error at line", "assert", "AssertionError", "q3 - 1", "Test case"):
        assert plumbing not in failing, (plumbing, failing)
    everything = _outputs_text(run.notebook, "grader.check_all()")
    ready = next(line for line in everything.splitlines() if line.startswith("Expected form: "))
    assert ready == "Expected form: q1, q2, q4, q7, q8, q9, q10, q11, q12", everything


def _with_syntax_error(submission: Path, out: Path) -> Path:
    """Experiment 3 as a student leaves it: a comma missing on its 4th line."""
    nb = nbformat.read(submission, as_version=4)
    (cell,) = [c for c in nb.cells if c.cell_type == "code" and c.source.startswith("lstm_seq_inputs")]
    assert cell.source.splitlines()[3].endswith("predict(data, verbose=0)")
    cell.source = cell.source.replace("predict(data, verbose=0)", "predict(data verbose=0)")
    nbformat.write(nb, out)
    return out


def _stdout(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")


def test_a_cell_that_raises_is_named_by_the_export_and_submitting_it_as_it_is_works(submissions, grade, tmp_path):
    """Run All stops at Experiment 3; the export says which cell, which error and both ways on; the second works."""
    from nbclient import NotebookClient

    work = tmp_path / "student"
    work.mkdir()
    saved = _with_syntax_error(submissions["full_credit"], work / "rnn_states.ipynb")
    nb = nbformat.read(saved, as_version=4)
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    (broken,) = [i for i in code if nb.cells[i].source.startswith("lstm_seq_inputs")]
    export = code[-1]
    client = NotebookClient(nb, kernel_name="python3", timeout=300, resources={"metadata": {"path": str(work)}})
    with client.setup_kernel():
        for i in [j for j in code if j <= broken]:  # Run All, which stops at the error
            client.execute_cell(nb.cells[i], i) if i != broken else _raises(client, nb, i)
        client.execute_cell(nb.cells[export], export)  # the student runs the export cell by hand
        refusal = _stdout(nb.cells[export])
        assert not (work / SUBMISSION_ZIP).exists()
        # then does what it says: the cell just below Experiment 3, Run > Run Selected Cell and All Below
        for i in range(broken + 1, len(nb.cells)):
            if nb.cells[i].cell_type == "code":
                client.execute_cell(nb.cells[i], i)
        exported = _stdout(nb.cells[export])
    error = "SyntaxError: invalid syntax. Perhaps you forgot a comma? (line 4)"
    assert refusal.startswith(f"Experiment 3 raised {error},"), refusal
    assert "Run All stopped there" in refusal and "Fix Experiment 3" in refusal, refusal
    assert "click the cell just below Experiment 3, then choose Run > Run Selected Cell and All Below" in refusal
    assert "lstm_seq_output" not in refusal  # named by its experiment, not by its code
    assert (work / SUBMISSION_ZIP).is_file(), exported
    assert f"Experiment 3 raised {error}\n" in exported
    assert "what needs it is graded as unanswered" in exported and "upload this file to Gradescope" in exported

    # Gradescope says the same at upload, in the grader's words, and quotes the error once, attributed
    result = grade(work / SUBMISSION_ZIP)
    tests = {t["name"]: t for t in result.results["tests"]}
    public = tests["Public Tests"]["output"]
    assert "- q6 does not pass: Experiment 3" in public, public
    assert "- Experiment 3 raised an error" in public and "Question 6 uses what it computes." in public, public
    assert "SyntaxError" not in public
    errors = tests["Errors in your cells"]
    assert errors["visibility"] == "visible"
    assert errors["output"].splitlines()[2:] == [f"- Experiment 3: `{error}`"], errors["output"]
    # Question 6 grades Experiment 3; Question 7 grades the written answer only, which stands
    assert tests["q6"]["score"] < tests["q6"]["max_score"]
    note = tests["q6"]["output"].splitlines()[2]
    assert note.startswith("- Experiment 3 raised an error when the grader ran"), tests["q6"]["output"]
    assert tests["q7"]["score"] == tests["q7"]["max_score"], tests["q7"]["output"]


def _raises(client, nb, index) -> None:
    from nbclient.exceptions import CellExecutionError

    with pytest.raises(CellExecutionError):
        client.execute_cell(nb.cells[index], index)


def test_a_renamed_notebook_checks_exports_and_grades(submissions, grade, tmp_path):
    run = run_as_student(submissions["full_credit"], tmp_path, name="rnn_states_Jane_Doe.ipynb")
    assert run.errors == []
    assert all(run.public_checks.values()), run.public_checks
    assert run.export_zip is not None
    with zipfile.ZipFile(run.export_zip) as zf:
        assert "rnn_states_Jane_Doe.ipynb" in zf.namelist()
    result = grade(run.export_zip)
    assert result.total[0] == result.total[1], result.scores
    assert "Errors in your cells" not in {t["name"] for t in result.results["tests"]}


def test_renaming_while_the_kernel_runs_never_reports_a_missing_test(full_run, tmp_path):
    """File > Rename after a run: grader.check finds the file under its new name, in the same kernel."""
    from nbclient import NotebookClient

    work = tmp_path / "student"
    work.mkdir()
    nb = nbformat.read(full_run.notebook, as_version=4)
    nbformat.write(nb, work / "rnn_states.ipynb")
    setup = next(c for c in nb.cells if c.cell_type == "code" and "grader = " in c.source)
    check = nbformat.v4.new_code_cell('print(repr(grader.check("q12")))')
    rename = nbformat.v4.new_code_cell("import os\nos.rename('rnn_states.ipynb', 'rnn_states_Jane_Doe.ipynb')")
    probe = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(setup.source), rename,
                                            nbformat.v4.new_code_cell('q12_answer = "An answer."'), check])
    NotebookClient(probe, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(work)}}).execute()
    shown = _stdout(probe.cells[-1])
    assert shown.startswith("q12: your written answer has the expected form."), shown
    assert "does not exist" not in shown
