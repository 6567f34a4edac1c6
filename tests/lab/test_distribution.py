"""What otter assign produced: the student distribution leaks nothing, the zip holds everything."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import nbformat
import pytest
import yaml

from tools.build import CONFIG, MASTER, BuildError, load_grading_config, stage
from tools.registry import registry
from tools.submissions import AnswerSetError, fill

ROOT = Path(__file__).resolve().parents[2]


def master_test_cells() -> list[tuple[str, bool]]:
    """(source, hidden) of every test cell in the master notebook."""
    nb = nbformat.read(MASTER, as_version=4)
    cells = []
    for cell in nb.cells:
        match = re.match(r'""" # BEGIN TEST CONFIG\n(.*?)""" # END TEST CONFIG\n(.*)', cell.source, re.S)
        if cell.cell_type == "code" and match:
            cells.append((match.group(2), bool(yaml.safe_load(match.group(1)).get("hidden"))))
    return cells


def solution_fragments() -> list[str]:
    """Every solution the master holds: `# SOLUTION` lines and BEGIN/END SOLUTION blocks."""
    nb = nbformat.read(MASTER, as_version=4)
    fragments = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        fragments += [m.group(1).strip() for m in re.finditer(r"=(.*?)\s*# SOLUTION$", cell.source, re.M)]
        fragments += [
            m.group(1).strip() for m in re.finditer(r"# BEGIN SOLUTION.*?\n(.*?)# END SOLUTION", cell.source, re.S)
        ]
    # Q5's prompt hands students Experiment 1's layer line to edit: that is not a leak
    prompts = "".join(
        re.findall(r'""" # BEGIN PROMPT\n(.*?)""" # END PROMPT', "".join(c.source for c in nb.cells), re.S)
    )
    return [f for f in fragments if f and f not in prompts]


def student_texts(dist: Path) -> dict[str, str]:
    return {
        str(p.relative_to(dist / "student")): p.read_text(encoding="utf-8", errors="replace")
        for p in (dist / "student").rglob("*")
        if p.is_file()
    }


@pytest.mark.fast
def test_master_has_hidden_tests_and_solutions():
    hidden = [src for src, is_hidden in master_test_cells() if is_hidden]
    assert len(hidden) >= 40
    assert len(solution_fragments()) >= 25


def test_student_distribution_holds_only_the_notebook(dist):
    assert sorted(student_texts(dist)) == ["rnn_states.ipynb"]


def test_student_notebook_has_no_solutions_markers_or_hidden_tests(dist):
    for name, text in student_texts(dist).items():
        for marker in [
            "# SOLUTION",
            "BEGIN SOLUTION",
            "END SOLUTION",
            "BEGIN TESTS",
            "BEGIN QUESTION",
            "ASSIGNMENT CONFIG",
            "TEST CONFIG",
            "hidden: true",
            "BEGIN PROMPT",
        ]:
            assert marker not in text, (name, marker)
        for fragment in solution_fragments():
            assert json.dumps(fragment)[1:-1] not in text and fragment not in text, (name, fragment)
        for source, hidden in master_test_cells():
            function = re.search(r"def (\w+)", source).group(1)
            assert (function in text) is (not hidden), (name, function)
        # the grader's machinery and the free-text answer key stay in the zip
        for secret in ["autograder.", "require_concept", "check_computed", "output_last_step", "dim1_batch"]:
            assert secret not in text, (name, secret)


def test_public_tests_are_format_checks_worth_no_points(dist):
    nb = nbformat.read(dist / "student" / "rnn_states.ipynb", as_version=4)
    tests = nb.metadata["otter"]["tests"]
    assert sorted(tests) == sorted(registry().ids)
    for name, source in tests.items():
        points = re.findall(r"@test_case\(points=(\w+), hidden=(\w+)", source)
        assert points and all(p == "0" and h == "False" for p, h in points), name


def test_zip_holds_every_hidden_test(ag_zip):
    with zipfile.ZipFile(ag_zip) as zf:
        test_files = {n: zf.read(n).decode() for n in zf.namelist() if n.startswith("tests/")}
        names = zf.namelist()
    assert sorted(test_files) == sorted(f"tests/{q}.py" for q in registry().ids)
    everything = "\n".join(test_files.values())
    for source, _hidden in master_test_cells():
        function = re.search(r"def (\w+)", source).group(1)
        assert f"def {function}(" in everything, function
    hidden_count = sum(1 for _, hidden in master_test_cells() if hidden)
    assert everything.count("hidden=True") == hidden_count
    # the code the hidden tests import ships with them
    assert "files/autograder/checks.py" in names
    assert any(n.startswith("files/autograder/freetext/") for n in names)
    assert any(n.startswith("files/autograder/rubrics/") for n in names)


def test_zip_config_is_the_root_config_plus_what_otter_adds(ag_zip):
    root = json.loads(CONFIG.read_text())
    with zipfile.ZipFile(ag_zip) as zf:
        shipped = json.loads(zf.read("otter_config.json"))
    assert {k: shipped.get(k) for k in root} == root
    assert set(shipped) - set(root) <= {"assignment_name", "seed", "seed_variable", "lang"}
    assert shipped["assignment_name"] == "rnn_states"
    assert isinstance(shipped["seed"], int) and shipped["seed_variable"] == "rng_seed"


def test_zip_pins_python_and_requirements(ag_zip):
    with zipfile.ZipFile(ag_zip) as zf:
        environment = yaml.safe_load(zf.read("environment.yml"))
    assert "python=3.11" in environment["dependencies"]
    pip = next(d["pip"] for d in environment["dependencies"] if isinstance(d, dict))
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            assert line in pip, line
            assert "==" in line, f"unpinned requirement: {line}"


@pytest.mark.fast
def test_bad_grading_config_gets_a_clear_message(tmp_path):
    bad = tmp_path / "otter_config.json"
    bad.write_text('{"show_hidden": true,}')
    with pytest.raises(BuildError, match="not valid JSON"):
        load_grading_config(bad)
    bad.write_text('{"show_hiden": true}')
    with pytest.raises(BuildError, match="show_hiden"):
        load_grading_config(bad)


@pytest.mark.fast
def test_staging_writes_the_root_config_into_the_notebook(tmp_path):
    staged = stage(config=load_grading_config(), stage_dir=tmp_path / "stage")
    cell = next(c for c in nbformat.read(staged, as_version=4).cells if "ASSIGNMENT CONFIG" in c.source)
    assert yaml.safe_load(cell.source)["generate"] == load_grading_config()
    assert (tmp_path / "stage" / "autograder" / "checks.py").is_file()


def test_answer_set_that_does_not_fit_is_rejected(dist):
    nb = nbformat.read(dist / "student" / "rnn_states.ipynb", as_version=4)
    with pytest.raises(AnswerSetError, match="no_such_variable"):
        fill(nb, {"code": {}, "answers": {"no_such_variable": 1}, "replace": []})


def test_student_notebook_ends_with_check_all_and_export_without_pdf(dist):
    nb = nbformat.read(dist / "student" / "rnn_states.ipynb", as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    # the notebook's own set-up cell, not Otter's init cell: it finds the notebook under any file name
    assert code[0].startswith("# Set-up for grader.check") and "\ngrader = _Grader()\n" in code[0]
    assert not any("otter.Notebook(\"" in source for source in code)
    assert code[-2].strip() == "grader.check_all()"
    assert code[-1].rstrip().endswith("export_submission(grader)")
    helper = next(c for c in code if c.startswith("# Submission helper"))
    assert 'grader.export(nb_path=notebook, pdf=False, run_tests=not fresh_run, export_path=partial' in helper
    assert nb.metadata["otter"]["assignment_name"] == "rnn_states"


def test_the_public_checks_rerun_in_the_students_kernel_carry_no_hidden_test(ag_zip, tmp_path):
    """Grading reruns the public checks in the student's kernel: only the code students already have goes there."""
    from autograder.isolation import hidden_tests, public_checks

    with zipfile.ZipFile(ag_zip) as zf:
        for name in zf.namelist():
            if name.startswith("tests/"):
                zf.extract(name, tmp_path)
    tests = hidden_tests.load(tmp_path / "tests")
    cell = public_checks.cell_source(tests.public)
    public = {re.search(r"def (\w+)", src).group(1) for src, hidden in master_test_cells() if not hidden}
    hidden = {re.search(r"def (\w+)", src).group(1) for src, is_hidden in master_test_cells() if is_hidden}
    assert {check.function for check in tests.public} == public
    assert not any(f"def {function}(" in cell for function in hidden)
    for secret in ["autograder.", "require_concept", "check_computed", "output_last_step", "dim1_batch"]:
        assert secret not in cell, secret
