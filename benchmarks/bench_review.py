"""Measure the review app on a 300-submission grading: opening it, and saving a decision.

    .venv/bin/python benchmarks/bench_review.py [--n 300]

Targets (issue 11): the app opens a 300-submission grading in under 2 s and saves a decision
in under 100 ms. Opening includes the second reader's flags (issue 27): loaded when it was trained
on today's corpus and decisions, trained again (seconds) when a TA has decided since.
The grading is made here: 300 students whose written answers are drawn from
the labelled corpus (answers by writers who never saw the rubrics), graded by the rubric engine,
saved as a batch grading's ``OUT/review/sheet.json``. Prints measured figures; not a timed test.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from threading import Thread

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def make_grading(out: Path, n: int) -> None:
    from autograder.freetext import QUESTIONS, grade_answer
    from autograder.freetext.grading import read_answer
    from autograder.freetext.second_reader import load_or_train
    from tools.gradebook.inputs import Submission
    from tools.gradebook.records import Record, Status
    from tools.gradebook.reports import write_reports
    from tools.gradebook.sheet import AnswerRow, ConceptCell, Sheet, reflag, save

    corpus: dict[str, list[str]] = {q: [] for q in QUESTIONS}
    for path in sorted((ROOT / "tests" / "calibration" / "labelled").glob("w*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            corpus[row["question"]].append(row["answer"])
    rng = random.Random(7)
    records, answers = [], []
    for i in range(n):
        file = f"student{i:03d}.ipynb"
        scores = {}
        for q in QUESTIONS:
            text = rng.choice(corpus[q])
            g = grade_answer(q, text)
            cells = tuple(ConceptCell(c.id, c.points, bool(c.found), c.confidence, c.misconception, c.evidence)
                          for c in g.concepts)
            answers.append(AnswerRow(file, "", q, text, "", cells, tuple(read_answer(q, text))))
            scores[q] = (g.score, g.max_score)
        records.append(Record(file, Status.GRADED, "", scores))
    subs = [Submission(r.file, Path(r.file), "notebook") for r in records]
    # flagged as make grade flags them: by the second reader of the corpus (build/second_reader.npz)
    save(out, reflag(Sheet(records, subs, answers), load_or_train()))
    write_reports(out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=300)
    args = parser.parse_args()
    from tools.review.app import Review, concept_page, index_page, serve

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        make_grading(out, args.n)
        fresh = _open_as_a_ta(out)
        t = time.perf_counter()
        review = Review.open(out, "bench")
        index_page(review)
        first = concept_page(review, "q2", "output_last_step")
        opened = time.perf_counter() - t
        assert first is not None

        server = serve(review)
        Thread(target=server.serve_forever, daemon=True).start()
        host, port = server.server_address[:2]
        url = f"http://{host}:{port}"
        page_times = []
        for q, c in [("q2", "output_last_step"), ("q7", "every_step"), ("q5", "no_states")]:
            t = time.perf_counter()
            with urllib.request.urlopen(f"{url}/q/{q}/{c}") as resp:
                resp.read()
            page_times.append(time.perf_counter() - t)

        saves, appends = [], []
        groups = review.groups()[("q2", "output_last_step")]
        for g in groups[:20]:
            form = urllib.parse.urlencode({"question": "q2", "concept": "output_last_step", "group": g.id,
                                           "verdict": "give" if not g.found else "withhold"}).encode()
            req = urllib.request.Request(f"{url}/decide", data=form, headers={"Origin": url})
            t = time.perf_counter()
            opener = urllib.request.build_opener(_NoRedirect)
            try:
                opener.open(req).read()
            except urllib.error.HTTPError as e:
                if e.code != 303:
                    raise
            saves.append(time.perf_counter() - t)
        from tools.gradebook import decisions

        for i in range(50):
            t = time.perf_counter()
            decisions.decide(out / "review" / "bench.jsonl", "q2", "h_hidden_state", f"answer {i}", True, "bench")
            appends.append(time.perf_counter() - t)
        server.shutdown()
        t = time.perf_counter()
        Review.open(out, "bench")  # the decisions are new to the second reader: it is trained again
        reopened = time.perf_counter() - t
        t = time.perf_counter()
        Review.open(out, "bench")
        cached = time.perf_counter() - t
        flagged = sum(1 for a in review.sheet.answers for c in a.concepts if c.review)
        concepts = sum(len(a.concepts) for a in review.sheet.answers if a.answered)

    print(f"submissions            {args.n} ({args.n * 8} written answers)")
    print(f"open the grading       {opened * 1000:.0f} ms (load the sheet, decisions and second reader, flag, group, "
          "first page; target < 2000 ms)")
    print(f"python -m tools.review {fresh * 1000:.0f} ms from the command to its URL, in a fresh process")
    print(f"open after decisions   {reopened * 1000:.0f} ms (the second reader retrained on the corpus and "
          f"{len(groups[:20])} decisions), then {cached * 1000:.0f} ms (reloaded)")
    print(f"flagged for review     {flagged} of {concepts} concepts ({flagged / concepts:.0%}; these answers are the "
          "corpus the reader learnt from: calibrate gives the share on unseen writers)")
    print(f"a concept's page       median {statistics.median(page_times) * 1000:.0f} ms over HTTP")
    print(f"save a decision        median {statistics.median(appends) * 1000:.2f} ms, max "
          f"{max(appends) * 1000:.2f} ms (append + fsync to decisions.jsonl; target < 100 ms)")
    print(f"decide over HTTP       median {statistics.median(saves) * 1000:.0f} ms, max {max(saves) * 1000:.0f} ms "
          "(the decision saved, then the grade sheet and statistics rewritten with every decision)")


def _open_as_a_ta(out: Path) -> float:
    """Seconds from ``python -m tools.review OUT`` to its URL, in a fresh process (imports included)."""
    import subprocess

    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "tools.review", str(out), "--reviewer", "bench"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    proc.stdout.readline()
    elapsed = time.perf_counter() - t
    proc.terminate()
    proc.wait(timeout=30)
    return elapsed


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


if __name__ == "__main__":
    main()
