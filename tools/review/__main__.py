"""``python -m tools.review OUT --reviewer NAME``: review a batch grading's written answers.

Starts the review app on 127.0.0.1 (prints its URL, opens no browser) over ``OUT``, the folder
``make grade`` wrote. Decisions go to ``OUT/review/decisions.jsonl``; ``final_grades.csv`` and
``question_stats.csv/.json`` are rewritten with them after each one. Ctrl-C stops it; every
decision made is already on disk.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from tools.gradebook.sheet import SheetError
from tools.review.app import Review, serve


def _stop(signum, frame) -> None:  # a signal handler's signature
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Serve the review app on 127.0.0.1 until Ctrl-C or SIGTERM, then wait for the reports to carry every
    decision; the exit status, 2 with a one-line message for a missing reviewer name, an unreadable grade
    sheet or a busy port.
    """
    parser = argparse.ArgumentParser(prog="python -m tools.review", description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="the folder a batch grading wrote (make grade OUT=...)")
    parser.add_argument("--reviewer", required=True, help="your name, recorded with each decision")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free one)")
    args = parser.parse_args(argv)
    if not args.reviewer.strip():
        print("review: --reviewer must name you (it is recorded with each decision)", file=sys.stderr)
        return 2
    try:
        review = Review.open(args.out, args.reviewer.strip())
    except SheetError as e:
        print(f"review: {e}", file=sys.stderr)
        return 2
    try:
        server = serve(review, args.port)
    except OSError as e:
        print(f"review: cannot listen on 127.0.0.1:{args.port}: {e}", file=sys.stderr)
        return 2
    host, port = server.server_address[:2]
    print(f"review: http://{host}:{port}/  ({len(review.sheet.answers)} answers, "
          f"{len(review.decisions)} decisions so far; Ctrl-C to stop)", flush=True)
    # SIGTERM stops it like Ctrl-C: the reports are flushed before it exits
    signal.signal(signal.SIGTERM, _stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        if not review.flush():
            print("review: the grade sheet may not carry the last decisions; they are saved in "
                  f"{args.out / 'review' / 'decisions.jsonl'} and the next run rewrites it", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
