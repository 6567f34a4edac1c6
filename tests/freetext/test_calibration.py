"""Free-text engine against the hand-labelled calibration set, and the CLI (calibration from a TA's
review decisions included)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from autograder.freetext import QUESTIONS, rubric_concepts
from autograder.freetext.calibration import cohen_kappa, label_for, load
from tests.freetext.test_engine import SEED
from tests.helpers.review_sheet import ANSWERS
from tools.gradebook import decisions
from tools.gradebook.sheet import DECISIONS

pytestmark = pytest.mark.fast

ROOT = Path(__file__).resolve().parents[2]
CALIBRATION = ROOT / "tests" / "calibration" / "freetext.jsonl"


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    return [json.loads(line) for line in CALIBRATION.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def report():
    return load(CALIBRATION)


def test_calibration_set_shape(rows):
    assert len(rows) >= 100
    per_q = Counter(r["question"] for r in rows)
    assert set(per_q) == set(QUESTIONS)
    assert min(per_q.values()) >= 10
    assert {r["expect"] for r in rows} == {"full", "partial", "none"}
    answers = {(r["question"], r["answer"]) for r in rows}
    for q, a in SEED.items():
        assert (q, a) in answers, f"seed answer for {q} missing from the calibration set"
    assert any(r.get("split", "").startswith("heldout") for r in rows)


def test_agreement_at_least_95_percent(report):
    assert report.accuracy() >= 0.95, "\n".join(str(d) for d in report.disagreements)


def test_none_answers_never_get_more_than_a_third(report):
    assert report.over_third == [], report.over_third


def test_kappa_and_labels():
    assert label_for(3, 3) == "full" and label_for(0, 3) == "none" and label_for(1, 3) == "partial"
    assert cohen_kappa([("full", "full"), ("none", "none")]) == 1.0
    assert cohen_kappa([("full", "none"), ("none", "full")]) < 0


def run_cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autograder.freetext", *args], input=stdin, cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def test_cli_score():
    lines = [{"question": "q2", "answer": "h is the hidden state, c is the cell state", "id": 7},
             {"question": "q8", "answer": None}]
    out = run_cli("score", stdin="\n".join(json.dumps(x) for x in lines) + "\n\n")
    assert out.returncode == 0, out.stderr
    got = [json.loads(line) for line in out.stdout.splitlines()]
    review = got[0].pop("review")
    assert got[0] == {**lines[0], "score": 2.0, "max_score": 3.0,
                      "found": ["h_hidden_state", "c_cell_state"], "missing": ["output_last_step"]}
    assert all(set(flag) == {"concept", "why"} for flag in review)
    assert got[1]["score"] == 0.0 and got[1]["missing"] == ["no_cell_state"] and got[1]["review"] == []


@pytest.mark.parametrize("bad,needle", [
    ("{not json", "line 2: not valid JSON"),
    ('{"question": "q3", "answer": "x"}', "line 2: unknown question 'q3'; use one of q1"),
    ('["q1", "x"]', "line 2: expected a JSON object"),
])
def test_cli_bad_input(bad, needle):
    good = json.dumps({"question": "q1", "answer": "batch"})
    out = run_cli("score", stdin=f"{good}\n{bad}\n")
    assert out.returncode != 0
    assert needle in out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_cli_calibrate(tmp_path):
    out = run_cli("calibrate", str(CALIBRATION))
    assert out.returncode == 0, out.stderr
    assert "overall" in out.stdout and "kappa" in out.stdout
    for q in QUESTIONS:
        assert f"\n{q} " in out.stdout
    f = tmp_path / "c.jsonl"
    f.write_text(json.dumps({"question": "q8", "answer": "GRU has a cell state", "expect": "full"}) + "\n")
    out = run_cli("calibrate", str(f))
    assert "disagreements: 1" in out.stdout and "found=[]" in out.stdout and "GRU has a cell state" in out.stdout
    f.write_text(json.dumps({"question": "q8", "answer": "x", "expect": "maybe"}) + "\n")
    out = run_cli("calibrate", str(f))
    assert out.returncode != 0 and "line 1: 'expect' must be one of" in out.stderr
    out = run_cli("calibrate", str(tmp_path / "missing.jsonl"))
    assert out.returncode != 0 and "cannot read" in out.stderr and "Traceback" not in out.stderr


LABELLED = sorted((ROOT / "tests" / "calibration" / "labelled").glob("w*.jsonl"))


def test_the_labelled_corpus_is_complete_and_split_once():
    rows = [json.loads(line) for path in LABELLED for line in path.read_text(encoding="utf-8").splitlines()]
    # round 1: 1,200 answers (w1-w6) split train/dev/test; rounds 2 (w7-w10) and 3 (w11-w14): 383
    # each, in train/dev only, so the frozen test split stays the one first measured; rounds 4
    # (w15-w18) and 5 (w19-w22): 378 each, and 6 (w23-w26): 379, each in a split of its own, the
    # files as committed before anyone read them
    splits = {"train", "dev", "test", "round4", "round5", "round6"}
    assert len(rows) == 3101 and {r["split"] for r in rows} == splits
    folder = ROOT / "tests" / "calibration" / "labelled"
    for split, writers, n in (("round4", ("w15", "w16", "w17", "w18"), 378),
                              ("round5", ("w19", "w20", "w21", "w22"), 378),
                              ("round6", ("w23", "w24", "w25", "w26"), 379)):
        fresh = [r for r in rows if r["writer"] in writers]
        assert len(fresh) == n and {r["split"] for r in fresh} == {split}
        seen = {(r["question"], " ".join(r["answer"].casefold().split())) for r in rows if r["split"] != split}
        assert not any((r["question"], " ".join(r["answer"].casefold().split())) in seen for r in fresh)
        for line in (folder / f"{split}.sha256").read_text().splitlines():
            digest, name = line.split()
            assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name
    for writers in (("w7", "w8", "w9", "w10"), ("w11", "w12", "w13", "w14")):
        later = [r for r in rows if r["writer"] in writers]
        assert len(later) == 383 and {r["split"] for r in later} == {"train", "dev"}, writers
    key = {q: [c for c, _ in rubric_concepts(q)] for q in QUESTIONS}
    for r in rows:
        assert list(r["labels"]) == key[r["question"]], r
        assert r["expect"] == label_for(sum(r["labels"].values()), len(r["labels"])), r
    # an answer two writers wrote lands in one split
    splits: dict[tuple[str, str], set[str]] = {}
    for r in rows:
        splits.setdefault((r["question"], r["answer"]), set()).add(r["split"])
    assert all(len(s) == 1 for s in splits.values())


def test_calibrate_measures_one_split_per_concept():
    test_rows = [json.loads(line) for path in LABELLED for line in path.read_text(encoding="utf-8").splitlines()]
    test_rows = [r for r in test_rows if r["split"] == "test"]
    report = load(*LABELLED, split="test")
    assert len(report.all_pairs) == len(test_rows)
    for q in QUESTIONS:
        n = sum(r["question"] == q for r in test_rows)
        for concept, _ in rubric_concepts(q):
            assert sum(report.concepts[(q, concept)].values()) == n, (q, concept)
    out = run_cli("calibrate", *map(str, LABELLED), "--split", "test", "--summary", "--no-second-reader")
    assert out.returncode == 0, out.stderr
    assert f"overall   {len(test_rows)}" in out.stdout and "false credit" in out.stdout
    assert "labelled full but scored under half" in out.stdout and "answer:" not in out.stdout
    # what a review of the least confident concepts buys: never less than grading alone
    assert "confidence below 0.7: " in out.stdout and "answer groups" in out.stdout
    assert set(report.reviews) == {"confidence below 0.7", "confidence below 0.9"}
    for name, outcome in report.reviews.items():
        assert len(outcome.pairs) == len(test_rows) and report.accuracy(outcome.pairs) >= report.accuracy(), name


# The frozen test split's figures for the current rubric release (the third, 2026-11-30),
# measured once after its rubrics were frozen and recorded in tests/calibration/labelled/README.md.
# Issue 9's targets (97% agreement, kappa 0.95, no "none" over a third, at most 1% of "full"
# under half) are not met yet: these floors keep a release from getting worse unnoticed, and
# the targets stay the work ahead.
# The reader's stance rules (issue 25: questions, reported speech, retractions, hedges, look-alike
# letters) were measured once on it after they were frozen: 219 agreeing still, kappa 0.84, one
# answer labelled full fewer under half (7).
RELEASED_TEST_SPLIT = {"agreeing": 219, "answers": 244, "kappa": 0.84, "none_over_third": 1, "full_under_half": 7}


def test_the_frozen_test_split_holds_the_released_figures():
    report = load(*LABELLED, split="test")
    pairs = report.all_pairs
    measured = {
        "agreeing": sum(a == b for a, b in pairs), "answers": len(pairs), "kappa": cohen_kappa(pairs),
        "none_over_third": len(report.over_third), "full_under_half": len(report.under_half),
    }
    assert measured["answers"] == RELEASED_TEST_SPLIT["answers"], measured
    assert measured["agreeing"] >= RELEASED_TEST_SPLIT["agreeing"], measured
    assert measured["kappa"] >= RELEASED_TEST_SPLIT["kappa"], measured
    assert measured["none_over_third"] <= RELEASED_TEST_SPLIT["none_over_third"], measured
    assert measured["full_under_half"] <= RELEASED_TEST_SPLIT["full_under_half"], measured


def test_train_and_dev_stay_above_the_test_split():
    # tuned on these; a rubric change that helps the test split by hurting them is suspect
    for split, floor in (("train", 0.925), ("dev", 0.912)):
        report = load(*LABELLED, split=split)
        assert report.accuracy() >= floor, (split, report.accuracy())


SECOND_LABELS = ROOT / "tests" / "calibration" / "second_labels"


@pytest.mark.parametrize("name,floor", [("test", 0.99), ("w12", 0.98)])
def test_a_second_ta_agrees_with_the_labels(name, floor):
    # the targets must sit below what two TAs reach with the same key, or no engine can meet them
    first = {(r["question"], r["answer"]): r["labels"]
             for path in LABELLED for r in map(json.loads, path.read_text(encoding="utf-8").splitlines())}
    second = [json.loads(line) for line in (SECOND_LABELS / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()]
    if name == "test":
        assert {(r["question"], r["answer"]) for r in second} == {
            k for path in LABELLED for r in map(json.loads, path.read_text(encoding="utf-8").splitlines())
            if r["split"] == "test" for k in [(r["question"], r["answer"])]}
    pairs = []
    for r in second:
        labels = first[(r["question"], r["answer"])]
        assert list(r["labels"]) == list(labels), r
        pairs.append((label_for(sum(labels.values()), len(labels)), label_for(sum(r["labels"].values()), len(labels))))
    assert sum(a == b for a, b in pairs) / len(pairs) >= floor, pairs


def test_calibrate_reads_decisions_as_labels(out):
    text = ANSWERS["ann.ipynb"]["q2"]
    decisions.decide(out / DECISIONS, "q2", "output_last_step", text, False, "ta")
    decisions.decide(out / DECISIONS, "q2", "h_hidden_state", text, True, "ta")
    res = subprocess.run([sys.executable, "-m", "autograder.freetext", "calibrate", "--decisions",
                          str(out / DECISIONS)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert "q2        output_last_step" in res.stdout and "disagreements: 1" in res.stdout
    assert "expect=withheld got=given" in res.stdout
    assert set(QUESTIONS) >= {"q2", "q8"}
