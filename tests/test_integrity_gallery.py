"""Hostile submissions (tests/hostile/cases.yaml) graded end to end: none beats its honest score.

Each case is the full_credit submission plus injected cells, so its honest score is the
full_credit score graded the same way. Grading goes through the Gradescope harness
(``tools.gradescope``) when the built zip can load the plugin there (``autograder/`` at the zip
root); otherwise through ``otter run`` from the repo root (``tools.otter_run``).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import nbformat
import pytest
import yaml

from tools.otter_run import otter_run
from tools.submissions import build_submission

CASES = yaml.safe_load((Path(__file__).parent / "hostile" / "cases.yaml").read_text())
SECRETS = ["require_concept(", "check_computed(", "dim1_batch", "positions:", "number of samples"]


def _gradescope_ready(ag_zip: Path) -> bool:
    with zipfile.ZipFile(ag_zip) as zf:
        return "autograder/integrity/plugin.py" in zf.namelist()


@pytest.fixture(scope="module")
def grade_total(ag_zip, tmp_path_factory):
    import shutil

    # a private copy: dist/ may be rebuilt while this module runs
    ag_zip = Path(shutil.copy2(ag_zip, tmp_path_factory.mktemp("zip") / ag_zip.name))
    cache: dict[Path, tuple[float, str, dict]] = {}

    def _grade(path: Path) -> tuple[float, str, dict]:
        if path not in cache:
            if _gradescope_ready(ag_zip):
                from tools.gradescope import grade

                run = grade(path, zip_path=ag_zip)
                assert run.results is not None, run.problems
                cache[path] = (run.score or 0.0, run.output_text(), run.results)
            else:
                r = otter_run(path, ag_zip, tmp_path_factory.mktemp("hostile"))
                text = str(r.results.get("output", "")) + "\n".join(t.get("output", "") for t in r.results["tests"])
                cache[path] = (r.total[0], text, r.results)
        return cache[path]

    return _grade


@pytest.fixture(scope="module")
def honest(grade_total, tmp_path_factory):
    path = build_submission("full_credit", tmp_path_factory.mktemp("honest"))
    score, output, _ = grade_total(path)
    assert "INTEGRITY CHECK" not in output, output
    return path, score


def _inject(base: Path, case: dict, out: Path) -> Path:
    nb = nbformat.read(base, as_version=4)
    cells = [nbformat.v4.new_code_cell(src) for src in case["cells"]]
    index = len(nb.cells) - 1  # before the export cell
    if case.get("after"):
        index = next(i for i, c in enumerate(nb.cells) if case["after"] in c.source) + 1
    nb.cells[index:index] = cells
    out.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out)
    return out


def test_seed_answers_are_not_flagged(grade_total, ag_zip, tmp_path):
    _, output, _ = grade_total(build_submission("seed_answers", tmp_path))
    assert "INTEGRITY CHECK" not in output


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_submission_gets_at_most_its_honest_score(name, honest, grade_total, tmp_path):
    base, honest_score = honest
    score, output, _ = grade_total(_inject(base, CASES[name], tmp_path / f"{name}.ipynb"))
    assert score <= honest_score
    assert "INTEGRITY CHECK" in output, output[:2000]
    for secret in SECRETS:
        assert secret not in output, secret
    assert not Path("/tmp/integrity-pwned").exists()
