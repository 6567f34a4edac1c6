"""The `make` demo: grade the reference submissions with the built zip and print their scores.

python -m tools.demo
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from tools.build import BuildError, autograder_zip
from tools.otter_run import OtterRunError, otter_run
from tools.registry import registry
from tools.scores import format_table
from tools.submissions import AnswerSetError, build_all


def main() -> int:
    """Grade each reference submission with ``otter run`` and print the score table; the exit status, 1 on
    an error or when the zip grades out of other points than the notebook's questions (``dist/`` is stale).
    """
    try:
        zip_path = autograder_zip()
        submissions = build_all()
    except (BuildError, AnswerSetError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    rows = {}
    for name, path in submissions.items():
        print(f"grading {name} ({path.name}) with otter run ...", flush=True)
        with tempfile.TemporaryDirectory() as out:
            try:
                rows[name] = otter_run(path, zip_path, Path(out)).scores
            except OtterRunError as e:
                print(f"error: {e}", file=sys.stderr)
                return 1
    print()
    print(format_table(rows))
    # the zip is what grades; the registry is the checkout: a difference means dist/ is stale
    worth = {name: sum(m for _, m in scores.values()) for name, scores in rows.items()}
    stale = {name: total for name, total in worth.items() if total != registry().total}
    if stale:
        print(f"\nthe zip grades out of {sorted(set(stale.values()))}, the notebook's questions are worth"
              f" {registry().total:g}: rebuild with `make dist`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
