"""The README's "Add a question" guide, followed in a copy of the repo: a 13th written question.

Only the files the guide lists are edited; the copy's registry, fast tier, build (with its
solutions check) and `otter run` on the full-credit and blank submissions must then agree on
the new totals.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tools.build import ROOT
from tools.otter_run import otter_run
from tools.registry import registry

QUESTION = "q13"
CONCEPT = "only_lstm_has_c"

PROMPT = "**Question 13.** Of the two layer types in this lab, which keeps a cell state `c`?"
SOLUTION = '''# BEGIN SOLUTION NO PROMPT
q13_answer = """
Only the LSTM keeps a cell state c; the GRU has just its hidden state h.
"""
# END SOLUTION
\'\'\' # BEGIN PROMPT
q13_answer = """
...
"""
\'\'\' # END PROMPT'''
FORMAT_TEST = '''""" # BEGIN TEST CONFIG
points: 0
hidden: false
""" # END TEST CONFIG
def test_q13_answer_format(q13_answer):
    answered = type(q13_answer) is str and q13_answer.strip() not in ("", "...")
    problem = "" if answered else "Write your answer in place of the ... between the triple quotes."
    assert not problem, problem'''
CONCEPT_TEST = f'''""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q13_concept_{CONCEPT}(q13_answer):
    from autograder.freetext import require_concept
    require_concept("q13", q13_answer, "{CONCEPT}")'''

RUBRIC = f"""# Q13: which of the two layer types keeps a cell state c?
question: q13
prompt: Which of the two layer types keeps a cell state c?
entities:
  lstm: [lstm, lstms, long short term memory]
  gru: [gru, grus, gated recurrent unit]
roles:
  cell: [c, cell state, cell states, state c, memory cell, cell]
concepts:
  - id: {CONCEPT}
    points: 1
    meaning: only the LSTM keeps a cell state c; the GRU has none
    hint: >-
      The answer does not say which of the two layer types carries a second, long-term memory.
    claims:
      - lstm is only and cell
      - gru is not cell
    misconceptions:
      - id: gru-keeps-one-too
        claims: [gru is cell]
        hint: >-
          Your answer gives the GRU a second memory too. Compare what each layer returns with
          return_state=True.
"""

CALIBRATION = [
    ("Only the LSTM keeps a cell state c.", "full"),
    ("The LSTM has a cell state c; the GRU has no cell state.", "full"),
    ("Just the LSTM returns the cell state.", "full"),
    ("The GRU does not have a cell state, the LSTM does.", "full"),
    ("only LSTM has the cell state", "full"),
    ("Both keep a cell state.", "none"),
    ("The GRU keeps c.", "none"),
    ("Neither of them.", "none"),
    ("h", "none"),
    ("The GRU has a cell state and the LSTM does not.", "none"),
]


def _guide_files() -> set[str]:
    """The paths the README's "Add a question" section names."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("#### Add a question", 1)[1].split("\n#", 1)[0]
    return {p for p in re.findall(r"`([\w./-]+)`", section) if "/" in p}


def _git(repo: Path, *args: str) -> str:
    command = ["git", "-c", "user.name=guide", "-c", "user.email=guide@example.org", *args]
    return subprocess.run(command, cwd=repo, check=True, capture_output=True, text=True).stdout


def _copy_checkout(dst: Path) -> None:
    """The working tree's files (tracked and new, not ignored), as a git repo of their own."""
    files = _git(ROOT, "ls-files", "--cached", "--others", "--exclude-standard", "-z").split("\0")
    for name in filter(None, files):
        if (ROOT / name).is_file():
            (dst / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, dst / name)
    _git(dst, "init", "-q")
    _git(dst, "add", "-A")
    _git(dst, "commit", "-q", "-m", "the lab as it is")


def _add_question(repo: Path) -> None:
    """Follow the guide: notebook, rubric, answer set, calibration rows."""
    master = repo / "assignment" / "rnn_states.ipynb"
    nb = nbformat.read(master, as_version=4)
    last = max(i for i, c in enumerate(nb.cells) if c.cell_type == "raw" and c.source.startswith("# END QUESTION"))
    v4 = nbformat.v4
    nb.cells[last + 1 : last + 1] = [
        v4.new_raw_cell(f"# BEGIN QUESTION\nname: {QUESTION}"),
        v4.new_markdown_cell(PROMPT),
        v4.new_raw_cell("# BEGIN SOLUTION"),
        v4.new_code_cell(SOLUTION),
        v4.new_raw_cell("# END SOLUTION"),
        v4.new_raw_cell("# BEGIN TESTS"),
        v4.new_code_cell(FORMAT_TEST),
        v4.new_code_cell(CONCEPT_TEST),
        v4.new_raw_cell("# END TESTS"),
        v4.new_raw_cell("# END QUESTION"),
    ]
    nbformat.write(nb, master)

    (repo / "autograder" / "rubrics" / f"{QUESTION}.yaml").write_text(RUBRIC, encoding="utf-8")

    answers = repo / "solutions" / "full_credit.yaml"
    text = answers.read_text(encoding="utf-8")
    answer = "  q13_answer: Only the LSTM has a cell state c; a GRU keeps only h.\n"
    text = text.replace("\nanswers:\n", "\nanswers:\n" + answer, 1)
    text = re.sub(r"(\nexpect:[^\n]*\n)", r"\1  q13: 1\n", text, count=1)
    answers.write_text(text, encoding="utf-8")

    with (repo / "tests" / "calibration" / "freetext.jsonl").open("a", encoding="utf-8") as f:
        for answer, label in CALIBRATION:
            row = {"question": QUESTION, "answer": answer, "expect": label, "split": "dev"}
            f.write(json.dumps(row) + "\n")


def _run(repo: Path, *args: str, timeout: int = 900) -> str:
    proc = subprocess.run([sys.executable, *args], cwd=repo, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(args)} failed in the copy:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = tmp_path_factory.mktemp("guide") / "repo"
    repo.mkdir()
    _copy_checkout(repo)
    _add_question(repo)
    return repo


def test_the_guide_names_at_most_four_files_and_they_are_all_that_changed(repo):
    listed = _guide_files()
    changed = {line[3:] for line in _git(repo, "status", "--porcelain", "--untracked-files=all").splitlines()}
    assert changed <= listed, f"touched beyond the guide: {changed - listed}"
    assert len(changed) <= 4, changed


def test_the_registry_and_the_fast_tier_accept_the_new_question(repo):
    table = _run(repo, "-m", "tools.registry")
    assert re.search(rf"^{QUESTION}\s+written\s+2\s+1\s+1$", table, re.M), table
    assert re.search(rf"^total\s+\d+\s+{registry().total + 1:g}$", table, re.M), table
    _run(repo, "-m", "pytest", "-m", "fast", "-q", "-p", "no:cacheprovider", "tests")


def test_the_build_and_otter_run_grade_the_new_question(repo, tmp_path):
    build = _run(repo, "-m", "tools.build")  # includes the solutions check with the finished zip
    total = registry().total + 1
    assert f"solutions notebook: {total:g}/{total:g}" in build, build
    (ag_zip,) = (repo / "dist" / "autograder").glob("*.zip")
    _run(repo, "-m", "tools.submissions", str(tmp_path / "subs"))

    full = otter_run(tmp_path / "subs" / "full_credit.ipynb", ag_zip)
    assert full.scores[QUESTION] == (1, 1), full.scores
    assert full.total == (total, total), full.scores

    blank = otter_run(tmp_path / "subs" / "blank.ipynb", ag_zip)
    assert blank.scores[QUESTION] == (0, 1)
    assert blank.total == (0, total), blank.scores
