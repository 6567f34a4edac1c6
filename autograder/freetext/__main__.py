"""CLI: ``python -m autograder.freetext score|calibrate|train``.

score      read {"question": ..., "answer": ...} JSON lines on stdin, write one
           JSON line per input with score, max_score, found, missing and review
           (the concepts a TA should decide, and why: the second reader's flags).
calibrate  FILE... of JSON lines that also carry "expect": full|partial|none (and,
           optionally, "labels": {concept: 0|1}, "split" and "writer"); print agreement
           per question, per split and per concept (false / missed credit), what a
           review buys (by engine confidence, and by the second reader's flags, each
           row read by a second reader never trained on its writer), and every
           disagreement. --split NAME measures one split only; --summary omits the
           disagreements. --decisions FILE reads a TA's review decisions
           (OUT/review/decisions.jsonl) as concept labels instead.
train      fit the second reader on the labelled corpus's training rows (train, dev,
           rounds 4 and 5; and a TA's decisions: --decisions FILE) and save it (--out, default
           build/second_reader.npz).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .calibration import InputError, calibrate_decisions, format_report, load, parse_line
from .grading import grade_answer
from .review import flags


def _score(stdin, stdout, model: Path) -> int:
    from .second_reader import load_or_train

    reader = load_or_train(model)
    for lineno, line in enumerate(stdin, 1):
        if not line.strip():
            continue
        row = parse_line(line, lineno)
        g = grade_answer(row["question"], row.get("answer"))
        answer = row.get("answer") if isinstance(row.get("answer"), str) else ""
        review = flags(g, reader.probability(row["question"], answer)) if answer.strip() else []
        row.update(score=g.score, max_score=g.max_score, found=g.found, missing=g.missing,
                   review=[{"concept": f.concept, "why": f.why} for f in review])
        stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
    return 0


def _train(decisions: str | None, out: Path) -> int:
    from .second_reader import SecondReader, corpus_examples, decision_examples, merge

    lines = Path(decisions).read_text(encoding="utf-8").splitlines() if decisions else []
    extra = decision_examples(lines)
    reader = SecondReader.train(merge(corpus_examples(), extra))
    reader.save(out)
    print(f"second reader trained on {len(reader.writers)} writers' answers"
          + (f" and {len(extra)} answers a TA decided" if extra else "")
          + f": {out} ({out.stat().st_size // 1024} KB, {reader.digest})")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand; the exit status, 2 with a one-line message on bad input or an unreadable file."""
    parser = argparse.ArgumentParser(prog="python -m autograder.freetext", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    score = sub.add_parser("score", help="score JSON lines from stdin")
    score.add_argument("--model", type=Path, default=None, help="a second reader file (default: trained on the corpus)")
    cal = sub.add_parser("calibrate", help="compare the engine with labelled answers")
    cal.add_argument("file", nargs="*")
    cal.add_argument("--decisions", help="a review app's decisions.jsonl, read as concept labels")
    cal.add_argument("--split", help="only the rows of this split (e.g. test)")
    cal.add_argument("--summary", action="store_true", help="the figures without the list of disagreements")
    cal.add_argument("--no-second-reader", action="store_true", help="skip the review by the second reader's flags")
    train = sub.add_parser("train", help="train the second reader that flags answers for review")
    train.add_argument("--decisions", help="a review app's decisions.jsonl to learn from as well")
    train.add_argument("--out", type=Path, default=None, help="where to save it (default build/second_reader.npz)")
    args = parser.parse_args(argv)
    try:
        from .second_reader import DEFAULT_MODEL, ReaderError

        if args.command == "score":
            return _score(sys.stdin, sys.stdout, args.model or DEFAULT_MODEL)
        if args.command == "train":
            return _train(args.decisions, args.out or DEFAULT_MODEL)
        if args.decisions:
            lines = Path(args.decisions).read_text(encoding="utf-8").splitlines()
            print(format_report(calibrate_decisions(lines), verbose=not args.summary))
            return 0
        if not args.file:
            parser.error("calibrate needs labelled FILEs or --decisions FILE")
        report = load(*args.file, split=args.split, second_reader=not args.no_second_reader)
        print(format_report(report, verbose=not args.summary))
        return 0
    except (InputError, ReaderError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: cannot read {exc.filename}: {exc.strerror}; pass an existing JSON-lines file",
              file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
