"""The reader's golden file: every answer of the labelled corpus (all splits) and of the
calibration set, with the claims the reader read and the verdicts they earned, as
``tests/golden/claims.jsonl`` records them. A change to the reader that moves any of them fails
here; a deliberate change regenerates the file and explains each changed answer in its commit.

    python tests/freetext/test_golden.py            # list the answers whose reading changed
    python tests/freetext/test_golden.py --write    # regenerate the golden file

The frozen test split is in the file (its reading must not move either), but a diff shows its
answers by place only, never their text: nobody reads a frozen row to tune the reader.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from autograder.freetext.claims import Claim  # noqa: E402
from autograder.freetext.grading import claims_read, grade_answer  # noqa: E402

pytestmark = pytest.mark.fast

CALIBRATION = ROOT / "tests" / "calibration"
# rounds 4, 5 and 6 (their files listed in round*.sha256) are measured once for the second reader
# and nobody looks at how the reader reads them: they are not in the golden file
FRESH = {line.split()[1] for path in (CALIBRATION / "labelled").glob("round*.sha256")
         for line in path.read_text().splitlines()}
CORPORA = [*sorted((p for p in (CALIBRATION / "labelled").glob("w*.jsonl") if p.name not in FRESH),
                   key=lambda p: int(p.stem[1:])),
           CALIBRATION / "freetext.jsonl"]
GOLDEN = ROOT / "tests" / "golden" / "claims.jsonl"
FROZEN = "test"


def _claim(c: Claim) -> str:
    """"h hidden u0 2-4", "gru !cell u1 5-7 b0.1": subject, (negated) role, unit, token span, branch."""
    branch = f" b{c.branch[0]}.{c.branch[1]}" if c.branch else ""
    return f"{c.subject} {'!' if c.negated else ''}{c.role} u{c.unit} {c.span[0]}-{c.span[1]}{branch}"


def reading(question: str, answer: object) -> dict:
    """What the reader makes of one answer: its claims in reading order, each concept's verdict
    (found, confidence, misconception, evidence) and the score."""
    g = grade_answer(question, answer)
    return {
        "score": g.score,
        "concepts": {c.id: [c.found, c.confidence, c.misconception, c.evidence] for c in g.concepts},
        "flags": list(g.flags),
        "claims": [_claim(c) for c in claims_read(question, answer)],
    }


def readings() -> list[dict]:
    """One row per corpus answer, in corpus order, keyed by file and line."""
    out = []
    for path in CORPORA:
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            row = json.loads(line)
            answer = row.get("answer")
            out.append({
                "source": f"{path.relative_to(CALIBRATION)}:{lineno}",
                "split": row.get("split", ""),
                "question": row["question"],
                "answer_sha": hashlib.sha256(json.dumps(answer).encode()).hexdigest()[:12],
                **reading(row["question"], answer),
            })
    return out


def _answer(source: str) -> str:
    name, lineno = source.rsplit(":", 1)
    return json.loads((CALIBRATION / name).read_text(encoding="utf-8").splitlines()[int(lineno) - 1])["answer"]


def differences(old: list[dict], new: list[dict]) -> list[str]:
    """Each changed answer: where, its text (not for the frozen split), what moved.

    Answers added since the golden file was written (a new question's calibration answers) are not
    in it and not compared until it is regenerated; an answer of the golden file that is gone or
    moved is a difference.
    """
    now_at = {r["source"]: r for r in new}
    out = []
    for was in old:
        now = now_at.get(was["source"])
        if now is None or now["answer_sha"] != was["answer_sha"] and now["question"] != was["question"]:
            out.append(f"{was['source']}: the golden file's answer is gone or moved: regenerate the golden file")
            continue
        if was == now:
            continue
        lines = [f"{now['source']} ({now['split'] or 'calibration'}, {now['question']})"]
        if was["answer_sha"] != now["answer_sha"]:
            lines.append("  the answer itself changed")
        if now["split"] != FROZEN:
            lines.append(f"  answer: {_answer(now['source'])!r}")
        if was["score"] != now["score"]:
            lines.append(f"  score {was['score']:g} -> {now['score']:g}")
        for cid, verdict in now["concepts"].items():
            if was["concepts"].get(cid) != verdict:
                lines.append(f"  {cid}: {was['concepts'].get(cid)} -> {verdict}")
        gone = [c for c in was["claims"] if c not in now["claims"]]
        added = [c for c in now["claims"] if c not in was["claims"]]
        if gone or added:
            lines.append(f"  claims - {gone} + {added}")
        elif was["claims"] != now["claims"]:
            lines.append("  claims reordered")
        if was["flags"] != now["flags"]:
            lines.append(f"  flags {was['flags']} -> {now['flags']}")
        if now["split"] == FROZEN:
            lines = lines[:1] + [x for x in lines[1:] if not x.startswith("  claims")] + ["  (claims not shown)"]
        out.append("\n".join(lines))
    return out


def load_golden() -> list[dict]:
    return [json.loads(line) for line in GOLDEN.read_text(encoding="utf-8").splitlines()]


def write_golden(rows: list[dict]) -> None:
    GOLDEN.parent.mkdir(parents=True, exist_ok=True)
    GOLDEN.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def test_the_reader_reads_every_corpus_answer_as_the_golden_file_records():
    changed = differences(load_golden(), readings())
    assert not changed, f"{len(changed)} answers read differently:\n" + "\n".join(changed[:40])


def test_the_golden_file_covers_every_split_and_the_calibration_set():
    rows = load_golden()
    assert len(rows) >= 2246  # every answer of w1-w14 and of the calibration set when it was written
    assert len(rows) <= sum(1 for p in CORPORA for line in p.read_text(encoding="utf-8").splitlines() if line.strip())
    assert {"train", "dev", FROZEN} <= {r["split"] for r in rows if r["source"].startswith("labelled/")}
    assert any(r["source"].startswith("freetext.jsonl:") for r in rows)
    assert sum(bool(r["claims"]) for r in rows) > 0.9 * len(rows)


def test_a_changed_reading_is_reported_without_the_frozen_splits_text():
    rows = load_golden()
    frozen = next(r for r in rows if r["split"] == FROZEN)
    train = next(r for r in rows if r["split"] == "train")
    moved = [dict(r, claims=r["claims"][1:], score=r["score"] + 1) if r in (frozen, train) else r for r in rows]
    report = differences(rows, moved)
    assert len(report) == 2
    frozen_report = next(x for x in report if x.startswith(frozen["source"]))
    assert "answer:" not in frozen_report and "claims -" not in frozen_report and "score" in frozen_report
    train_report = next(x for x in report if x.startswith(train["source"]))
    assert repr(_answer(train["source"])) in train_report and "claims -" in train_report


if __name__ == "__main__":
    if "--write" in sys.argv[1:]:
        write_golden(readings())
        print(f"wrote {GOLDEN.relative_to(ROOT)}")
    else:
        golden, now = load_golden(), readings()
        report = differences(golden, now)
        print("\n".join(report) or "no answer reads differently")
        print(f"{len(report)} answers changed; {len(now) - len(golden)} answers not in the golden file yet")
