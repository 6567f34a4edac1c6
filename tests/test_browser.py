"""A student does the lab in JupyterLab, in a real browser, by typing.

The student notebook as handed out is opened in JupyterLab; the full-credit answers are typed
into its cells through the page (keystrokes into the editors, never by editing the file); the
notebook is run and exported as the README tells students to; the zip the export wrote is graded
by the autograder. Screenshots and the page are kept in ``build/test-artifacts/`` on failure.
"""

from __future__ import annotations

import difflib
import json
import shutil
import textwrap

import nbformat
import pytest

from tests.jupyterlab import LabPage, artifacts_on_failure, browser_missing, chromium, jupyterlab
from tools.build import ROOT
from tools.registry import registry
from tools.submissions import STUDENT_NOTEBOOK, fill, load_answer_set

ARTIFACTS = ROOT / "build" / "test-artifacts"
NOTEBOOK = STUDENT_NOTEBOOK.name
SUBMISSION_ZIP = "rnn_states_submission.zip"
RUN_ALL = ("Kernel", "Restart Kernel and Run All Cells…")


def typed_edits(before: str, after: str) -> list[tuple[int, int, list[str]]]:
    """The line replacements a student types to turn ``before`` into ``after``, last first.

    Long answer lines are typed the way students write in a triple-quoted string: broken
    across lines with Enter.
    """
    old, new = before.split("\n"), after.split("\n")
    edits = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        assert tag == "replace", f"only replacing lines is typed here, not {tag}: {old[i1:i2]} -> {new[j1:j2]}"
        lines = [part for line in new[j1:j2] for part in (textwrap.wrap(line, 72) if len(line) > 90 else [line])]
        edits.append((i1, i2 - i1, lines))
    return edits[::-1]  # bottom-up: the lines above an edit are still the original ones


def _code_cells(nb: nbformat.NotebookNode, text: str) -> list[int]:
    return [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code" and text in cell.source]


def test_student_types_the_lab_in_jupyterlab_and_submits_it(ag_zip, grade, expected, tmp_path, request):
    missing = browser_missing()
    if missing:
        pytest.fail(missing)
    handed_out = nbformat.read(STUDENT_NOTEBOOK, as_version=4)
    answered = fill(handed_out, load_answer_set("full_credit"))
    work = tmp_path / "student"
    work.mkdir()
    shutil.copy(STUDENT_NOTEBOOK, work / NOTEBOOK)
    checks = _code_cells(handed_out, 'grader.check("')
    (export,) = _code_cells(handed_out, "\nexport_submission(grader)")

    home = tmp_path / "home"
    home.mkdir()
    with (
        jupyterlab(work, home) as url,
        chromium(tmp_path / "profile") as driver,
        artifacts_on_failure(driver, ARTIFACTS / request.node.name, home / "jupyterlab.log"),
    ):
        page = LabPage(driver, url.format(path=NOTEBOOK), cell_count=len(handed_out.cells))

        # type every answer into the page
        for index, (cell, target) in enumerate(zip(handed_out.cells, answered.cells, strict=True)):
            if cell.source != target.source:
                for line, count, lines in typed_edits(cell.source, target.source):
                    page.edit_line(index, line, lines, old_lines=count)

        # Restart & Run All before saving: the export must refuse the stale file, and write nothing
        page.menu(*RUN_ALL)
        page.accept_dialog()
        page.wait_run(export, timeout=300)
        refusal = " ".join(text for _, text in page.outputs(export))
        assert "save the notebook" in refusal.lower(), refusal
        assert not (work / SUBMISSION_ZIP).exists()

        # a correct run: every check passes, and nothing on stderr, no warning, no traceback
        for index in checks:
            shown = " ".join(text for _, text in page.outputs(index))
            assert "passed!" in shown and "failed" not in shown, (index, shown)
        for index in range(len(handed_out.cells)):
            for mime, text in page.outputs(index):
                assert mime != "application/vnd.jupyter.stderr", (index, text)
                assert "WARNING" not in text and "Traceback" not in text, (index, text)

        # save, then run the export cell again: it writes the one zip to upload
        page.save()
        first_answer = load_answer_set("full_credit")["answers"]["q1_answer"].split()[0]
        page.wait_for(lambda: first_answer in (work / NOTEBOOK).read_text(encoding="utf-8"), 30, "the save")
        before = page.prompt(export)
        page.run_cell(export)
        page.wait_run(export, timeout=120, before=before)
        exported = " ".join(text for _, text in page.outputs(export))
        assert f"All {len(registry().ids)} questions pass their checks" in exported, exported
        assert "upload this file to Gradescope" in exported, exported
        assert sorted(p.name for p in work.glob("*.zip")) == [SUBMISSION_ZIP]

        # a wrong shape: the check fails, and says why once
        (q3_shapes,) = _code_cells(handed_out, "q3_h_shape = ...")
        page.edit_line(q3_shapes, 1, ["q3_h_shape = (3,)"])
        q3_check = q3_shapes + 1
        before = page.prompt(q3_check)
        page.run_cell(q3_shapes)
        page.run_cell(q3_check)
        page.wait_run(q3_check, timeout=60, before=before)
        failed = " ".join(text for _, text in page.outputs(q3_check))
        message = "q3_h_shape should have one entry per dimension of the array"
        assert "failed" in failed and failed.count(message) == 1, failed

    saved = json.loads((work / NOTEBOOK).read_text(encoding="utf-8"))
    assert saved["metadata"]["otter"]["assignment_name"] == "rnn_states"
    result = grade(work / SUBMISSION_ZIP)
    full_marks = sum(expected("full_credit").values())
    assert result.total[0] == result.total[1] == full_marks, result.scores
