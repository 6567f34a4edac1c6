"""CLI: ``python -m autograder.freetext score|calibrate``.

score      read {"question": ..., "answer": ...} JSON lines on stdin, write one
           JSON line per input with score, max_score, found and missing.
calibrate  FILE... of JSON lines that also carry "expect": full|partial|none (and,
           optionally, "labels": {concept: 0|1} and "split"); print agreement per
           question, per split and per concept (false / missed credit), and every
           disagreement. --split NAME measures one split only; --summary omits the
           disagreements. --decisions FILE reads a TA's review decisions
           (OUT/review/decisions.jsonl) as concept labels instead.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .calibration import InputError, calibrate_decisions, format_report, load, parse_line
from .grading import grade_answer


def _score(stdin, stdout) -> int:
    for lineno, line in enumerate(stdin, 1):
        if not line.strip():
            continue
        row = parse_line(line, lineno)
        g = grade_answer(row["question"], row.get("answer"))
        row.update(score=g.score, max_score=g.max_score, found=g.found, missing=g.missing)
        stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.freetext", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("score", help="score JSON lines from stdin")
    cal = sub.add_parser("calibrate", help="compare the engine with labelled answers")
    cal.add_argument("file", nargs="*")
    cal.add_argument("--decisions", help="a review app's decisions.jsonl, read as concept labels")
    cal.add_argument("--split", help="only the rows of this split (e.g. test)")
    cal.add_argument("--summary", action="store_true", help="the figures without the list of disagreements")
    args = parser.parse_args(argv)
    try:
        if args.command == "score":
            return _score(sys.stdin, sys.stdout)
        if args.decisions:
            lines = Path(args.decisions).read_text(encoding="utf-8").splitlines()
            print(format_report(calibrate_decisions(lines), verbose=not args.summary))
            return 0
        if not args.file:
            parser.error("calibrate needs labelled FILEs or --decisions FILE")
        print(format_report(load(*args.file, split=args.split), verbose=not args.summary))
        return 0
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: cannot read {exc.filename}: {exc.strerror}; pass an existing JSON-lines file",
              file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
