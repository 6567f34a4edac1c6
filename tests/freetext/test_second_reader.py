"""The second reader of written answers: trained deterministically, saved without pickles, never
evaluated on a writer it was trained on, and flagging (never deciding) where the engine may be wrong."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from autograder.freetext import grade_answer
from autograder.freetext.review import DISAGREES, DOUBTED, POLICY, UNSETTLED, ReviewPolicy, flags, meaning
from autograder.freetext.rubric import QUESTIONS, load_rubric
from autograder.freetext.second_reader import (
    FORMAT,
    TRAIN_SPLITS,
    HeldOut,
    ReaderError,
    SecondReader,
    corpus_examples,
    decision_examples,
    merge,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def examples():
    return corpus_examples()


@pytest.fixture(scope="module")
def reader(examples):
    return SecondReader.train(examples)


@pytest.mark.fast
def test_it_never_trains_on_a_frozen_split(examples):
    rows = [json.loads(line) for path in sorted((ROOT / "tests/calibration/labelled").glob("w*.jsonl"))
            for line in path.read_text(encoding="utf-8").splitlines()]
    assert "test" not in TRAIN_SPLITS and "round6" not in TRAIN_SPLITS
    frozen = {(r["question"], r["answer"]) for r in rows if r["split"] in ("test", "round6")}
    assert frozen and not frozen & {(e.question, e.answer) for e in examples}
    assert len(examples) == sum(r["split"] in TRAIN_SPLITS for r in rows)


@pytest.mark.fast
def test_training_is_deterministic_and_the_file_loads_without_code(reader, examples, tmp_path):
    again = SecondReader.train(list(reversed(examples)))
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    reader.save(a)
    again.save(b)
    assert a.read_bytes() == b.read_bytes() and reader.digest == again.digest
    loaded = SecondReader.load(a)
    answer = "output is the hidden state at the last step; h is the hidden state and c the cell state"
    assert loaded.probability("q2", answer) == pytest.approx(reader.probability("q2", answer))
    assert set(loaded.writers) == {e.writer for e in examples}
    with np.load(a, allow_pickle=False) as data:  # nothing in it needs unpickling
        assert json.loads(bytes(data["header"]).decode())["format"] == FORMAT
    assert a.stat().st_size < 1_000_000


@pytest.mark.fast
def test_a_file_that_is_not_a_reader_is_refused_with_what_to_do(tmp_path):
    with pytest.raises(ReaderError, match="does not exist: train"):
        SecondReader.load(tmp_path / "missing.npz")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(ReaderError, match="not a second reader file"):
        SecondReader.load(bad)
    other = tmp_path / "other.npz"
    np.savez(other, header=np.frombuffer(json.dumps({"format": "something/9"}).encode(), dtype=np.uint8))
    with pytest.raises(ReaderError, match="train it again"):
        SecondReader.load(other)


@pytest.mark.fast
def test_it_reads_meaning_not_only_words(reader):
    p = reader.probability
    assert p("q8", "The GRU has no separate cell state: it keeps one hidden state only.")["no_cell_state"] > 0.5
    assert p("q8", "The GRU puts c inside h and returns it there.")["no_cell_state"] < 0.5
    assert p("q1", "1 is the batch size, 8 the time steps and 2 the features per step")["dim2_timesteps"] > 0.5


@pytest.mark.fast
def test_decisions_teach_it(reader, examples):
    answer = "the memory thing is gone because gru is simpler"
    before = reader.probability("q8", answer)["no_cell_state"]
    decisions = [json.dumps({"question": "q8", "concept": "no_cell_state", "answer": answer, "given": True,
                             "reviewer": "ta", "time": t}) for t in range(3)]
    taught = decision_examples(decisions)
    assert taught[0].labels == {"no_cell_state": 1}
    after = SecondReader.train(merge(examples, taught * 20)).probability("q8", answer)["no_cell_state"]
    assert after > before


@pytest.mark.fast
def test_held_out_readers_never_saw_the_writer(examples):
    held = HeldOut(examples=examples[:400])
    writer = examples[0].writer
    reader = held.reader_for(writer)
    assert writer not in reader.writers and reader.writers
    assert held.reader_for("w-new").writers == tuple(sorted({e.writer for e in examples[:400]}))


@pytest.mark.fast
def test_flags_point_at_disagreement_and_never_change_a_grade():
    answer = "h is the hidden state and c is the cell state"
    result = grade_answer("q2", answer)
    assert result.concept("h_hidden_state").found
    flagged = flags(result, {"output_last_step": 0.1, "h_hidden_state": 0.2, "c_cell_state": 0.9})
    assert [(f.concept, f.reason) for f in flagged] == [("h_hidden_state", DISAGREES)]
    assert "does not say" in flagged[0].why and meaning("q2", "h_hidden_state") in flagged[0].why
    assert grade_answer("q2", answer) == result
    said = flags(result, {"output_last_step": 0.8})
    assert said[0].concept == "output_last_step" and "does say" in said[0].why


@pytest.mark.fast
def test_an_unsure_verdict_is_flagged_only_when_the_second_reader_cannot_settle_it():
    policy = ReviewPolicy()
    unsure = type("C", (), {"found": False, "confidence": 0.6, "id": "x"})()
    assert policy.reasons(unsure, 0.52) == [UNSETTLED]
    assert policy.reasons(unsure, 0.1) == []  # the second reader is sure the engine is right
    assert policy.reasons(unsure, 0.7) == [DISAGREES]
    assert POLICY == policy


@pytest.mark.fast
def test_a_point_the_second_reader_doubts_is_checked():
    given = type("C", (), {"found": True, "confidence": 0.9, "id": "x"})()
    assert ReviewPolicy().reasons(given, 0.3) == [DISAGREES]
    assert ReviewPolicy().reasons(given, 0.6) == [DOUBTED]  # it leans to the point, not far enough
    assert ReviewPolicy().reasons(given, 0.8) == []
    result = grade_answer("q2", "h is the hidden state and c is the cell state")
    doubted = flags(result, {"h_hidden_state": 0.6, "c_cell_state": 0.95})
    assert [(f.concept, f.reason) for f in doubted] == [("h_hidden_state", DOUBTED)]
    assert "not sure" in doubted[0].why and meaning("q2", "h_hidden_state") in doubted[0].why


@pytest.mark.fast
def test_every_concept_says_what_it_means():
    for q in QUESTIONS:
        rubric = load_rubric(q)
        assert rubric.question_text
        for c in rubric.concepts:
            assert c.meaning and c.meaning != c.id, (q, c.id)


def test_score_prints_what_to_review(tmp_path):
    # the CLI as a TA runs it: train, then score (not in the fast tier: two processes load scikit-learn)
    model = tmp_path / "reader.npz"
    out = subprocess.run([sys.executable, "-m", "autograder.freetext", "train", "--out", str(model)],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "second reader trained on 22 writers" in out.stdout and model.is_file()
    lines = [{"question": "q8", "answer": "the GRU just doesn't output c, it only has 2 outputs"},
             {"question": "q2", "answer": "..."}]
    out = subprocess.run([sys.executable, "-m", "autograder.freetext", "score", "--model", str(model)],
                         input="\n".join(json.dumps(x) for x in lines), cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert all(isinstance(r["review"], list) for r in rows) and rows[1]["review"] == []
    for flag in rows[0]["review"]:
        assert flag["concept"] == "no_cell_state" and "second reader" in flag["why"]


# The review's figures, each row read by a reader never trained on its set (calibrate excludes the
# rows it measures from training). The test split and round 6 are frozen and were measured once
# (tests/calibration/labelled/README.md). Rounds 4 and 5 were measured once by the first release
# (96.0% at 16% and 96.3% at 21%), then taught the second reader and chose the second release's
# policy, so their figures here are a floor, not a measurement. These floors keep a release from
# getting worse unnoticed; on round 6 the target (97% after review, at most 20% of
# concepts reviewed) is not met (96.3% at 18%).
MEASURED = {
    "test": {"answers": 244, "engine": 219, "reviewed": 243, "concepts": 533, "flagged": 75,
             "false_credit": 5, "false_credit_caught": 4},
    "round4": {"answers": 378, "engine": 322, "reviewed": 367, "concepts": 852, "flagged": 156,
               "false_credit": 19, "false_credit_caught": 14},
    "round5": {"answers": 378, "engine": 309, "reviewed": 365, "concepts": 853, "flagged": 171,
               "false_credit": 15, "false_credit_caught": 13},
    # measured once (2026-12-06), the second release frozen in a0d4e7d before the round was read
    "round6": {"answers": 379, "engine": 309, "reviewed": 365, "concepts": 856, "flagged": 153,
               "false_credit": 28, "false_credit_caught": 21},
}


@pytest.mark.parametrize("split", sorted(MEASURED))
def test_review_aimed_by_the_second_reader_holds_the_measured_figures(split):
    from autograder.freetext.calibration import SECOND_READER, load

    files = sorted((ROOT / "tests" / "calibration" / "labelled").glob("w*.jsonl"))
    report = load(*files, split=split, second_reader=True)
    review = report.reviews[SECOND_READER]
    want = MEASURED[split]
    agreeing = sum(a == b for a, b in report.all_pairs)
    after = sum(a == b for a, b in review.pairs)
    concepts = sum(sum(c.values()) for c in report.concepts.values())
    assert (len(report.all_pairs), concepts) == (want["answers"], want["concepts"])
    assert agreeing >= want["engine"] and report.engine_errors["false_credit"] <= want["false_credit"]
    assert after >= want["reviewed"], (after, want)
    assert review.reviewed <= max(want["flagged"], 0.20 * concepts), review.reviewed
    # the flags must keep catching the engine's false credit, the error review by confidence never sees
    assert review.caught["false_credit"] >= want["false_credit_caught"], review.caught
    assert report.reviews["confidence below 0.9"].caught["false_credit"] == 0
