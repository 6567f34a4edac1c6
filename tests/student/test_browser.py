"""A student does the lab in JupyterLab, in a real browser, by typing.

The student notebook as handed out is opened in JupyterLab; the full-credit answers are typed
into its cells through the page (keystrokes into the editors, never by editing the file); the
notebook is run and exported as the README tells students to; the zip the export wrote is graded
by the autograder. A second student goes off the happy path: wrong answers whose checks only
vouch for their form, a renamed notebook, a syntax error left in Experiment 3 and submitted by
doing what the export says; their zip is graded as on Gradescope and read as the student sees it
before and after grades are published. Screenshots and the page are kept in
``build/test-artifacts/`` on failure; ``RNN_SCREENSHOTS=DIR`` keeps a screenshot of every message
the student reads (the README's figures).
"""

from __future__ import annotations

import difflib
import html
import json
import os
import shutil
import textwrap
import zipfile
from pathlib import Path

import nbformat
import pytest

from tests.helpers.jupyterlab import LabPage, artifacts_on_failure, browser_missing, chromium, jupyterlab
from tests.integrity.test_gallery import SECRETS
from tools import gradescope
from tools.build import ROOT
from tools.registry import registry
from tools.results_format import student_view
from tools.submissions import STUDENT_NOTEBOOK, build_submission, fill, load_answer_set

ARTIFACTS = ROOT / "build" / "test-artifacts"
NOTEBOOK = STUDENT_NOTEBOOK.name
SUBMISSION_ZIP = "rnn_states_submission.zip"
RUN_ALL = ("Kernel", "Restart Kernel and Run All Cells…")
RUN_BELOW = ("Run", "Run Selected Cell and All Below")
SCREENS = Path(os.environ["RNN_SCREENSHOTS"]) if os.environ.get("RNN_SCREENSHOTS") else None
CELEBRATIONS = ("passed!", *"🍀🎉🌈🙌🚀🌟✨💯")


def screenshot(page: LabPage, name: str, index: int | None = None) -> None:
    """Keep what the student sees now as SCREENS/name.png (only when RNN_SCREENSHOTS names a folder)."""
    if SCREENS is not None:
        page.screenshot(SCREENS / f"{name}.png", index)


def shown(page: LabPage, index: int) -> str:
    return " ".join(text for _, text in page.outputs(index))


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
    checks = [i for i in _code_cells(handed_out, 'grader.check("') if handed_out.cells[i].source.startswith("grader")]
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

        # a correct run: every check vouches for the form only, and nothing on stderr, no warning, no traceback
        for index in checks:
            said = shown(page, index)
            assert "graded after you submit" in said and "not ready" not in said, (index, said)
            assert not any(c in said for c in CELEBRATIONS), (index, said)
        screenshot(page, "check_passes", checks[3])
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
        failed = shown(page, q3_check)
        message = "q3_h_shape should have one entry per dimension of the array"
        assert failed.startswith("q3 is not ready yet:") and failed.count(message) == 1, failed
        for plumbing in ("Error at line", "assert", "AssertionError", "q3 - 1"):
            assert plumbing not in failed, (plumbing, failed)
        screenshot(page, "check_fails", q3_check)

    saved = json.loads((work / NOTEBOOK).read_text(encoding="utf-8"))
    assert saved["metadata"]["otter"]["assignment_name"] == "rnn_states"
    result = grade(work / SUBMISSION_ZIP)
    full_marks = sum(expected("full_credit").values())
    assert result.total[0] == result.total[1] == full_marks, result.scores


def _gradescope_page(view: dict, heading: str) -> str:
    """A page showing ``view`` as Gradescope shows results: one box per test, Markdown rendered."""
    import mistune

    render = mistune.create_markdown(escape=True)
    boxes = []
    for test in view["tests"]:
        md = test.get("output_format") == "md"
        body = render(test["output"]) if md else f"<pre>{html.escape(test['output'])}</pre>"
        score = f" ({test['score']:g} / {test['max_score']:g})" if test.get("max_score") else ""
        title = f"<h3>{html.escape(test['name'])}{score}</h3>"
        boxes.append(f"<section class='{test.get('status', '')}'>{title}{body}</section>")
    style = (
        "body{font:15px sans-serif;max-width:60em;margin:1em auto}section{border:1px solid #bbb;margin:1em 0;"
        "padding:0 1em}section.failed h3{color:#a00}code{background:#eee;padding:0 .2em}"
    )
    return f"<html><head><meta charset='utf-8'><style>{style}</style></head><body><h2>{heading}</h2>{''.join(boxes)}"


def test_a_student_off_the_happy_path_always_has_one_next_step(ag_zip, tmp_path, request):
    """Wrong answers, a renamed notebook and a syntax error in Experiment 3, submitted as the export says."""
    missing = browser_missing()
    if missing:
        pytest.fail(missing)
    work = tmp_path / "student"
    work.mkdir()
    # the answers are in the file already (the first test types them all); this student types the mistakes
    build_submission("full_credit", tmp_path).rename(work / NOTEBOOK)
    nb = nbformat.read(work / NOTEBOOK, as_version=4)
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    (q4_answer,) = _code_cells(nb, "q4_answer =")
    (q11_shapes,) = _code_cells(nb, "q11_output_shape =")
    (q12_check,) = _code_cells(nb, 'grader.check("q12")')
    (experiment_3,) = [i for i in code if nb.cells[i].source.startswith("lstm_seq_inputs")]
    export = code[-1]
    renamed = "rnn_states_Jane_Doe.ipynb"
    zip_path = work / SUBMISSION_ZIP

    home = tmp_path / "home"
    home.mkdir()
    with (
        jupyterlab(work, home) as url,
        chromium(tmp_path / "profile") as driver,
        artifacts_on_failure(driver, ARTIFACTS / request.node.name, home / "jupyterlab.log"),
    ):
        page = LabPage(driver, url.format(path=NOTEBOOK), cell_count=len(nb.cells))
        page.menu(*RUN_ALL)
        page.accept_dialog()
        page.wait_run(export, timeout=300)

        # wrong answers of the right form: the check says it looked at the form, and celebrates nothing
        for cell, line, typed, question in [
            (q4_answer, 1, "No, there is no duplication.", "q4"),
            (q11_shapes, 0, "q11_output_shape = (1, 3, 8)", "q11"),
        ]:
            page.edit_line(cell, line, [typed])
            check = cell + 1
            before = page.prompt(check)
            page.run_cell(cell)
            page.run_cell(check)
            page.wait_run(check, timeout=60, before=before)
            said = shown(page, check)
            assert said.startswith(f"{question}: ") and "expected form" in said, said
            assert "graded after you submit" in said and not any(c in said for c in CELEBRATIONS), said
        screenshot(page, "check_wrong_answer", q11_shapes + 1)

        # File > Rename: the checks find the notebook under its new name, with no traceback
        page.rename(renamed)
        page.wait_for(lambda: (work / renamed).is_file(), 20, "the renamed file")
        before = page.prompt(q12_check)
        page.run_cell(q12_check)
        page.wait_run(q12_check, timeout=60, before=before)
        said = shown(page, q12_check)
        assert said.startswith("q12: your written answer has the expected form"), said
        assert "does not exist" not in said and "Traceback" not in said
        screenshot(page, "check_after_rename", q12_check)

        # a syntax error left in Experiment 3, saved: Restart & Run All stops there, the set-up does not fail
        typo = "lstm_seq_output, lstm_seq_h, lstm_seq_c = lstm_seq_model.predict(data verbose=0)"
        page.edit_line(experiment_3, 3, [typo])
        page.save()
        page.wait_for(lambda: typo in (work / renamed).read_text(encoding="utf-8"), 30, "the save")
        zipped = zip_path.stat().st_mtime_ns
        page.menu(*RUN_ALL)
        page.accept_dialog()
        # its execution count may be the one it had in the run before: wait for the error itself
        page.wait_for(lambda: page.kernel_idle() and "SyntaxError" in shown(page, experiment_3), 300, "the error")
        assert all(mime != "application/vnd.jupyter.stderr" for i in code[:3] for mime, _ in page.outputs(i))

        # the export, run by hand, names the cell and the error and offers both ways on
        before = page.prompt(export)
        page.run_cell(export)
        page.wait_run(export, timeout=60, before=before)
        refusal = shown(page, export)
        error = "SyntaxError: invalid syntax. Perhaps you forgot a comma? (line 4)"
        assert refusal.startswith(f"Experiment 3 raised {error}, so Run All stopped there"), refusal
        assert "Fix Experiment 3 and run it all again" in refusal, refusal
        assert "click the cell just below Experiment 3, then choose Run > Run Selected Cell and All Below" in refusal
        assert zip_path.stat().st_mtime_ns == zipped
        screenshot(page, "export_names_the_cell", export)

        # submit as it is, in the two steps it names: click the cell below Experiment 3, then the menu item
        before = page.prompt(export)
        page.select(experiment_3 + 1)
        page.menu(*RUN_BELOW)
        page.wait_run(export, timeout=300, before=before)
        exported = shown(page, export)
        assert f"Experiment 3 raised {error}" in exported and "graded as unanswered" in exported, exported
        assert "upload this file to Gradescope" in exported, exported
        assert zip_path.stat().st_mtime_ns != zipped
        screenshot(page, "export_submits_as_it_is", export)

        # what Gradescope shows this student, before and after grades are published
        run = gradescope.grade(zip_path, zip_path=ag_zip)
        assert run.results is not None and not run.problems, run.problems
        before_publication = student_view(run.results, published=False)
        after_publication = student_view(run.results, published=True)
        for published, view in [(False, before_publication), (True, after_publication)]:
            page_file = tmp_path / f"gradescope-{published}.html"
            heading = "After grades are published" if published else "At upload, before grades are published"
            page_file.write_text(_gradescope_page(view, heading), encoding="utf-8")
            driver.get(page_file.as_uri())
            code_spans = [e.text for e in driver.find_elements(page.by.CSS_SELECTOR, "code")]
            assert f"{error}" in code_spans, code_spans  # the student's text is shown as code, as theirs
            if SCREENS is not None:
                driver.set_window_size(1000, 3000 if published else 1000)
                when = "after" if published else "before"
                driver.save_screenshot(str(SCREENS / f"gradescope_{when}_publication.png"))

    with zipfile.ZipFile(zip_path) as zf:
        assert renamed in zf.namelist()
    tests = {t["name"]: t for t in before_publication["tests"]}
    assert list(tests) == ["Public Tests", "Errors in your cells"]
    public = tests["Public Tests"]["output"]
    assert "- q6 does not pass: Experiment 3" in public, public
    assert "- Experiment 3 raised an error" in public and "Question 6 uses what it computes." in public, public
    assert "SyntaxError" not in public
    assert f"- Experiment 3: `{error}`" in tests["Errors in your cells"]["output"].splitlines()
    published = {t["name"]: t for t in after_publication["tests"]}
    # Question 6 grades Experiment 3; Question 7 grades the written answer only, which stands
    assert published["q6"]["score"] < published["q6"]["max_score"]
    assert published["q6"]["output"].splitlines()[2].startswith("- Experiment 3 raised an error"), \
        published["q6"]["output"]
    assert published["q7"]["score"] == published["q7"]["max_score"], published["q7"]["output"]
    for view in (before_publication, after_publication):
        text = json.dumps(view)
        for secret in SECRETS:
            assert secret not in text, secret
