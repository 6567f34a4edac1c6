"""Hostile submissions (tests/hostile/cases.yaml) graded end to end as on Gradescope: none gains.

Each case starts from an honest submission (an answer set, its written answers replaced as the
case says) and adds cells; its honest score is that base, or the case's honest twin, graded the
same way, and it must not exceed it less the points a TA would withhold (``withheld``). Grading
goes through the Gradescope harness (``tools.gradescope``: run_otter.py as root in a sandbox) with
the Python environment writable, as installed packages are on Gradescope. For every case: no
points gained, the grader's results.json in well under Gradescope's time limit, no secret anywhere
in results.json, student-written text (PWNED marks it) only in the one field that quotes it as the
student's (``results.ERRORS_ENTRY``: one capped line per cell that raised, after the grader's name
for the cell, as a code span) or in the instructor's ``extra_data``, which students never see, and
a results directory holding only what the grader writes. Cases marked ``quiet`` avoid every name
the static scan knows, so what stops them is the isolation, not the scan; the scan changes no
score at all (``autograder.integrity.policy``).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest
import yaml

from autograder.integrity import scan
from autograder.integrity.policy import HONEST_MAGICS
from autograder.isolation.notebook_report import MESSAGE_CHARS
from autograder.isolation.results import ERRORS_ENTRY, ERRORS_INTRO
from tools.gradescope import grade
from tools.limits import GRADESCOPE_LIMITS
from tools.submissions import BLANK, STUDENT_NOTEBOOK, build_submission, fill, load_answer_set

CASES = yaml.safe_load((Path(__file__).parents[1] / "hostile" / "cases.yaml").read_text())
# lines of hidden tests, rubrics and grader code that must never reach a student
SECRETS = ["require_concept(", "check_computed(", "dim1_batch", "positions:", "number of samples", "def test_"]
GRADER_WRITES = {"results.json", "results.pkl"}  # what Otter and the grader leave in results/
FULL_CREDIT = "full_credit"
WELL_UNDER = GRADESCOPE_LIMITS.timeout / 2  # results.json within half of Gradescope's 10 minutes
# a line of the one entry that quotes the student: the grader's name for the cell, then the quote
CELL = r"(Experiment \d+|Question \d+|the check of Question \d+|the check_all cell|a set-up cell above Question 1)"
EXCEPTION = r"(an exception|[A-Za-z_][A-Za-z0-9_]{0,59})"
QUOTED = re.compile(rf"- {CELL}: `{EXCEPTION}(: [^`\n]{{1,{MESSAGE_CHARS}}})?`|- and \d+ more cells\.")


def split_quoted(results: dict) -> tuple[dict, list[str]]:
    """results.json without the entry quoting the student's errors, and that entry's quoted lines."""
    tests = results.get("tests", [])
    quoting = [t for t in tests if t.get("name") == ERRORS_ENTRY]
    assert len(quoting) <= 1, quoting
    rest = {**results, "tests": [t for t in tests if t.get("name") != ERRORS_ENTRY]}
    if not quoting:
        return rest, []
    entry = quoting[0]
    assert entry["score"] == entry["max_score"] == 0 and entry["visibility"] == "visible", entry
    intro, blank, *lines = entry["output"].split("\n")
    assert (intro, blank) == (ERRORS_INTRO, ""), entry["output"]
    return rest, lines


@pytest.fixture(scope="module")
def graded(ag_zip, tmp_path_factory):
    # a private copy: dist/ may be rebuilt while this module runs
    ag_zip = Path(shutil.copy2(ag_zip, tmp_path_factory.mktemp("zip") / ag_zip.name))
    cache: dict[Path, tuple] = {}

    def _grade(path: Path):
        if path not in cache:
            keep = tmp_path_factory.mktemp("kept")
            # a whole CPU: what is tested is the boundary, not the quota (grading/test_gradescope.py tests that)
            run = grade(path, zip_path=ag_zip, keep=keep, cpus=1.0)
            assert run.results is not None, run.problems
            cache[path] = (run, keep / "autograder")
        return cache[path]

    return _grade


@pytest.fixture(scope="module")
def honest(graded, tmp_path_factory):
    path = build_submission("full_credit", tmp_path_factory.mktemp("honest"))
    run, _ = graded(path)
    assert "INTEGRITY CHECK" not in run.output_text(), run.output_text()
    return path, run.score


def _base(name: str, answers: dict, out: Path) -> Path:
    """The answer set ``name`` (``blank``: none) with ``answers`` in place of its written answers."""
    answer_set = {"code": {}, "answers": {}, "replace": []} if name == BLANK else load_answer_set(name)
    answer_set = {**answer_set, "answers": {**answer_set["answers"], **answers}}
    nb = fill(nbformat.read(STUDENT_NOTEBOOK, as_version=4), answer_set)
    out.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out)
    return out


def _inject(base: Path, case: dict, out: Path) -> Path:
    """``case``'s notebook: ``base`` (the full_credit notebook) or the case's own ``base`` answer set
    with its ``answers``, then its ``cells``."""
    if case.get("base", FULL_CREDIT) != FULL_CREDIT or case.get("answers"):
        base = _base(case.get("base", FULL_CREDIT), case.get("answers", {}), out.with_name(f"{out.stem}-base.ipynb"))
    nb = nbformat.read(base, as_version=4)
    cells = [nbformat.v4.new_code_cell(src) for src in case.get("cells", [])]
    index = len(nb.cells) - 1  # before the export cell
    if case.get("after"):
        index = next(i for i, c in enumerate(nb.cells) if case["after"] in c.source) + 1
    nb.cells[index:index] = cells
    out.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out)
    return out


def _planted(tree: Path) -> list[str]:
    return [str(p) for p in tree.rglob("*") if "PWNED" in p.name]


def test_honest_submissions_are_not_flagged(graded, tmp_path, expected):
    run, _ = graded(build_submission("partial", tmp_path))
    assert run.results["extra_data"]["integrity"] == {"review": False, "notes": []}
    assert {q: s for q, (s, _) in run.question_scores.items() if q != "Public Tests"} == expected("partial")
    run, _ = graded(build_submission("seed_answers", tmp_path))
    assert run.results["extra_data"]["integrity"] == {"review": False, "notes": []}


@pytest.mark.fast
def test_every_attack_class_has_a_plain_and_a_quiet_variant():
    for attack_class in (1, 2, 3, 4, "budget"):
        variants = [c for c in CASES.values() if c["class"] == attack_class]
        assert any(c.get("quiet") for c in variants) and any(not c.get("quiet") for c in variants), attack_class


@pytest.mark.fast
def test_cases_are_well_formed():
    known = {"class", "quiet", "after", "cells", "base", "answers", "withheld", "honest", "needs"}
    for name, case in CASES.items():
        assert set(case) <= known, (name, set(case) - known)
        assert case.get("cells") or case.get("answers"), name
        assert set(case.get("honest", {})) <= {"answers", "cells"}, name
        assert case.get("needs", "reader") == "reader", name


@pytest.mark.fast
@pytest.mark.parametrize("name", sorted(n for n, c in CASES.items() if c.get("quiet")))
def test_quiet_cases_avoid_every_name_the_scan_knows(name):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(src) for src in CASES[name]["cells"]])
    assert scan.scan_notebook(nb, set(), allowed_magics=set(HONEST_MAGICS)) == []


def _honest_run(case: dict, graded, honest, tmp_path: Path):
    """The case's honest twin (its base with the twin's answers and cells), graded."""
    base, _ = honest
    twin = {"base": case.get("base", FULL_CREDIT), **case.get("honest", {})}
    run, _ = graded(_inject(base, twin, tmp_path / "honest.ipynb"))
    assert run.valid, run.problems
    return run


def _honest_score(case: dict, graded, honest, tmp_path: Path) -> float:
    """What the honest submission the case starts from scores: its base, or its honest twin."""
    _, full_credit_score = honest
    if case.get("base", FULL_CREDIT) == FULL_CREDIT and not case.get("honest"):
        return full_credit_score
    return _honest_run(case, graded, honest, tmp_path).score


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_submission_gains_nothing_and_leaks_nothing(name, honest, graded, tmp_path):
    base, _ = honest
    case = CASES[name]
    honest_score = _honest_score(case, graded, honest, tmp_path)
    run, tree = graded(_inject(base, case, tmp_path / f"{name}.ipynb"))
    assert run.valid, run.problems
    limit = honest_score - case.get("withheld", 0)
    print(f"{name}: {run.score:g} (honest {honest_score:g}, at most {limit:g}) in {run.sandbox.wall_time:.1f} s")
    assert run.score <= limit, (name, run.score, honest_score, case.get("withheld", 0))
    if case["class"] == "host":  # it found nothing of the grader's to copy: exactly its honest twin's score
        assert run.question_scores == _honest_run(case, graded, honest, tmp_path).question_scores, name
    # the grader's results.json, in well under the limit, whatever the submission did to time or memory
    assert run.sandbox.wall_time < WELL_UNDER and not run.sandbox.timed_out, run.sandbox.wall_time
    assert not run.sandbox.oom_killed
    visible = run.output_text()
    for secret in SECRETS:
        assert secret not in visible, (secret, visible[:2000])
    # the student's text only where it is quoted as theirs: one line per cell, the cell named by the grader
    raw = (tree / "results" / "results.json").read_text()
    for secret in SECRETS:
        assert secret not in raw, secret
    graders, quoted = split_quoted(json.loads(raw))
    shown = {k: v for k, v in graders.items() if k != "extra_data"}  # extra_data: the instructor's tools only
    assert "PWNED" not in json.dumps(shown, ensure_ascii=False), json.dumps(shown)[:2000]
    for line in quoted:
        assert QUOTED.fullmatch(line), line
    if case["class"] == 4:  # what it raised is quoted, attributed, and the grader does not call it a timeout
        assert any("PWNED" in line for line in quoted), quoted
        assert "was stopped" not in next(t for t in graders["tests"] if t["name"] == "Public Tests")["output"]
    # results/ holds what the grader wrote
    assert {p.name for p in (tree / "results").iterdir()} <= GRADER_WRITES
    assert not _planted(tree)
    assert json.loads((tree / "results" / "results.json").read_text())["tests"][0]["name"] == "Public Tests"
    # the scan's notes are the instructor's (extra_data, the log), never the student's, and take no point
    assert "INTEGRITY CHECK" not in visible
    if case["class"] == "scan":
        assert run.results["extra_data"]["integrity"]["notes"], run.results.get("extra_data")
        assert "Integrity check" in run.log
    if case["class"] == 3:  # processes started by the kernel were still alive and were ended
        rounds = re.search(r"processes ended in (\d+) round", run.log)
        assert rounds and int(rounds.group(1)) >= 1, run.log[-3000:]
    # nothing of the grader's was imported after the student's code started
    assert "modules imported after student code started: none" in run.log, run.log[-3000:]
    assert "TensorFlow in the grading process: no" in run.log, run.log[-3000:]


def test_an_uploaded_otter_log_is_never_unpickled(honest, graded, tmp_path):
    """Otter unpickles ``.OTTER_LOG`` (dill) in the grading process: an upload carrying one must not run."""
    import zipfile

    base, honest_score = honest
    payload = b"cos\nsystem\n(S'touch /autograder/results/PWNED-log'\ntR."
    upload = tmp_path / "rnn_states_submission.zip"
    with zipfile.ZipFile(upload, "w") as zf:
        zf.write(base, "rnn_states.ipynb")
        zf.writestr(".OTTER_LOG", payload)
    run, tree = graded(upload)
    assert run.valid, run.problems
    assert run.score <= honest_score
    assert not _planted(tree)
