"""Otter's own ``otter grade`` (Docker) next to ``make grade`` (the batch grader) on the same folders.

    python benchmarks/bench_otter_grade.py [--cold] [--cold-base] [--zip ZIP]

With ``--cold`` the ``otter-grade`` image of this assignment and Docker's build cache are removed
first, so the first ``otter grade`` builds its image from the base image as a TA's first run does
(``--cold-base`` also makes the base image again). Then, with ``--containers 2`` and the
offline base image, as ``tools.docker.otter_grade`` runs it:

1. ``otter grade`` of 4 submissions (full_credit, partial, blank, seed_answers): the image build
   (first, or cached without ``--cold``) and the grading, timed apart (otter grade prints how many
   it grades once its image is built);
2. the same again: a cached build;
3. 8 submissions (the four twice);
4. ``python -m tools.batch`` (what ``make grade`` runs: warm workers, one per core) on both folders.

Prints the figures side by side, the image's size, and what the first build downloaded
(apt's "Need to get" and pip's "Downloading" lines of the build log: only with ``--cold``, when
nothing is cached). Exit status 1 if a submission was not graded or the two graders disagree.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tools.docker.base_image import build as build_base  # noqa: E402
from tools.docker.base_image import image_size  # noqa: E402
from tools.docker.engine import ensure_engine  # noqa: E402
from tools.docker.otter_grade import (  # noqa: E402
    COMPLETED,
    assignment_name,
    otter_grade_command,
    read_grade_sheet,
    run_otter_grade,
)

ANSWER_SETS = ["full_credit", "partial", "blank", "seed_answers"]
UNITS = {"kB": 1e3, "KB": 1e3, "MB": 1e6, "GB": 1e9, "B": 1}


def folder_of(n: int, root: Path) -> Path:
    from tools.submissions import build_submission

    built = {name: build_submission(name, root / "built") for name in ANSWER_SETS}
    folder = root / f"n{n}"
    folder.mkdir()
    for i in range(n):
        name = ANSWER_SETS[i % len(ANSWER_SETS)]
        shutil.copy2(built[name], folder / f"student{i + 1:02d}_{name}.ipynb")
    return folder


def downloads(log: str) -> tuple[float, float]:
    """(apt bytes, pip bytes) the build log says were downloaded."""
    apt = sum(float(n.replace(",", "")) * UNITS[u] for n, u in re.findall(r"Need to get ([\d.,]+) (kB|MB|GB|B)", log))
    pip = sum(float(n) * UNITS[u] for n, u in re.findall(r"Downloading \S+ \(([\d.]+) (kB|MB|GB)\)", log))
    return apt, pip


def otter_grade(zip_path: Path, folder: Path, out: Path, image: str) -> tuple[float, float, dict, str]:
    out.mkdir(parents=True)
    command = otter_grade_command(zip_path, [folder], out, image, containers=2)
    code, build_s, grade_s = run_otter_grade(command, out / "otter-grade.log", echo=False)
    log = (out / "otter-grade.log").read_text()
    if code != 0:
        raise SystemExit(f"otter grade failed:\n{log[-3000:]}")
    rows = {r["file"]: r for r in read_grade_sheet(out / "final_grades.csv")}
    return build_s, grade_s, rows, log


def batch(folder: Path, out: Path) -> tuple[float, dict]:
    start = time.monotonic()
    subprocess.run([sys.executable, "-m", "tools.batch", str(folder), "--out", str(out), "--force", "--no-progress"],
                   cwd=ROOT, check=True, capture_output=True)
    seconds = time.monotonic() - start
    return seconds, {r["file"]: r for r in read_grade_sheet(out / "final_grades.csv")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cold", action="store_true",
                        help="remove this assignment's otter-grade image and Docker's build cache first")
    parser.add_argument("--cold-base", action="store_true", help="make the base image again too")
    parser.add_argument("--zip", type=Path)
    args = parser.parse_args(argv)
    from tools.build import autograder_zip

    zip_path = (args.zip or autograder_zip()).resolve()
    ensure_engine()
    image, base_seconds = build_base(rebuild=args.cold_base)
    grade_image = f"otter-grade:{assignment_name(zip_path)}"
    if args.cold:
        subprocess.run(["docker", "image", "rm", "-f", grade_image], capture_output=True)
        subprocess.run(["docker", "builder", "prune", "-af"], capture_output=True, check=True)
    figures: list[tuple[str, str]] = []
    if base_seconds is not None:
        made = f"{base_seconds:.0f} s, {image_size(image) / 1e6:.0f} MB"
        figures.append(("base image (mmdebstrap + docker import)", made))
    ok = True
    with tempfile.TemporaryDirectory(prefix="bench-otter-grade-") as tmp:
        root = Path(tmp)
        four, eight = folder_of(4, root), folder_of(8, root)
        first_build, grade4, rows4, log = otter_grade(zip_path, four, root / "og4a", image)
        figures.append((f"{'first' if args.cold else 'cached'} image build", f"{first_build:.0f} s"))
        if args.cold:
            apt, pip = downloads(log)
            figures.append(("  downloaded by that build (apt, pip)", f"{apt / 1e6:.0f} MB, {pip / 1e6:.0f} MB"))
        figures.append(("otter grade image size", f"{image_size(grade_image) / 1e9:.2f} GB"))
        cached, grade4b, _, _ = otter_grade(zip_path, four, root / "og4b", image)
        figures.append(("cached image build", f"{cached:.1f} s"))
        _, grade8, rows8, _ = otter_grade(zip_path, eight, root / "og8", image)
        batch4, brows4 = batch(four, root / "b4")
        batch8, brows8 = batch(eight, root / "b8")
        figures.append(("4 submissions: otter grade --containers 2 / make grade",
                        f"{grade4:.0f} s and {grade4b:.0f} s / {batch4:.0f} s"))
        figures.append(("8 submissions: otter grade --containers 2 / make grade", f"{grade8:.0f} s / {batch8:.0f} s"))
        for rows, brows in ((rows4, brows4), (rows8, brows8)):
            for file, row in rows.items():
                same = {k: float(v) for k, v in row.items() if k.startswith("q")} == {
                    k: float(v) for k, v in brows[file].items() if k.startswith("q")}
                if row["grading_status"] != COMPLETED or not same:
                    ok = False
                    print(f"{file}: otter grade {row['grading_status']}, scores the same as make grade: {same}")
    width = max(len(k) for k, _ in figures)
    for key, value in figures:
        print(f"{key:<{width}}  {value}")
    print("every submission graded, the same scores by both" if ok else "DISAGREEMENT (above)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
