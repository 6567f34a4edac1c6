"""Honest notebooks in the styles students write (tests/hostile/honest.yaml) lose no point to the scan.

Each is the full_credit submission plus cells a student adds: timing magics, workspace magics,
shell commands, extra printing, helper functions, plots, files, introspection while learning,
debugging, notes. The scan may note what they do for the instructor; no note takes a point, none
puts an honest notebook on the review list, and nothing of it reaches the student. They are graded
as a TA grades a class (the batch grader: the zip's entry point in warm sandboxed workers, the grade
sheet) and the issue's own case (``%%time``) also as Gradescope does.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

from autograder.integrity import policy, scan
from tests.integrity.test_gallery import _inject
from tools.gradescope import grade as grade_gradescope

HONEST = yaml.safe_load((Path(__file__).parents[1] / "hostile" / "honest.yaml").read_text())


def _decision(name: str) -> policy.Decision:
    p = policy.Policy()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(src) for src in HONEST[name]["cells"]])
    return policy.decide(p, scan.scan_notebook(nb, set(), allowed_magics=set(p.allowed_magics)), [])


@pytest.mark.fast
@pytest.mark.parametrize("name", sorted(HONEST))
def test_no_honest_notebook_is_on_the_review_list(name):
    decision = _decision(name)
    assert not decision.review, [f.reason for f in decision.flags]


@pytest.mark.fast
def test_the_honest_set_covers_the_idioms_of_the_issue():
    sources = "\n".join(src for case in HONEST.values() for src in case["cells"])
    for idiom in ("%%time", "%timeit", "%whos", "%matplotlib", "%load_ext", "!pip list", "import gc", "import inspect",
                  "from IPython.display import", "getattr(", ".__class__.__name__", "vars()", "globals()",
                  "sys.exit(", 'open("my_answers.txt", "w")'):
        assert idiom in sources, idiom
    noted = sorted(name for name in HONEST if _decision(name).flagged)
    print(f"honest notebooks with notes for the instructor: {len(noted)} of {len(HONEST)} ({', '.join(noted)})")


def test_honest_notebooks_score_exactly_full_credit(submissions, grade, ag_zip, tmp_path):
    base = submissions["full_credit"]
    full = grade(base).scores
    folder = tmp_path / "class"
    folder.mkdir()
    for name, case in HONEST.items():
        _inject(base, case, folder / f"{name}.ipynb")
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "tools.batch", str(folder), "--out", str(out), "--zip", str(ag_zip),
         "--workers", "2", "--no-progress"],
        capture_output=True, text=True, timeout=3000,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    with open(out / "final_grades.csv", newline="", encoding="utf-8") as f:
        rows = {row["file"]: row for row in csv.DictReader(f) if row["file"].endswith(".ipynb")}
    assert len(rows) == len(HONEST)
    lost = {}
    for file, row in rows.items():
        assert row["status"] == "graded", (file, row["reason"])
        scores = {q: float(row[q]) for q in full}
        if scores != {q: float(s) for q, (s, _) in full.items()}:
            lost[file] = {q: (scores[q], full[q][0]) for q in full if scores[q] != full[q][0]}
        assert not row["integrity"].startswith("review"), (file, row["integrity"])
        assert "INTEGRITY" not in row["reason"], row["reason"]  # the student's output says nothing of the scan
    assert lost == {}, lost
    noted = {file: row["integrity"] for file, row in rows.items() if row["integrity"]}
    print(f"honest notebooks that lost a point: {len(lost)} of {len(rows)}; with notes: {noted}")


def test_the_issues_time_magic_notebook_scores_full_credit_on_gradescope(submissions, grade, ag_zip, tmp_path):
    """The issue's case: full credit plus one cell that starts with %%time scored 0/44."""
    case = {"cells": ["%%time\nlstm_model.predict(data, verbose=0)"], "after": "lstm_output, lstm_h, lstm_c ="}
    run = grade_gradescope(_inject(submissions["full_credit"], case, tmp_path / "time.ipynb"), zip_path=ag_zip,
                           cpus=1.0)
    assert run.valid, run.problems
    assert run.question_scores == {q: tuple(v) for q, v in grade(submissions["full_credit"]).scores.items()}
    assert run.results["extra_data"]["integrity"] == {"review": False, "notes": []}
    assert "INTEGRITY CHECK" not in run.output_text()
