"""The TA's ``otter grade`` in one command: Otter's own Docker grading, then a check of its grade sheet.

``otter grade`` writes a 0 for a submission whose container failed and still exits 0 ("Notebooks
graded: N"); the only trace is the ``grading_status`` column. This command sets up what otter
grade needs here (a Docker engine with buildx, the offline base image of
``tools.docker.base_image``), creates the output folder, runs Otter's documented command with
the assignment name, the image, ``--no-network`` and Gradescope's time limit, then reads
``final_grades.csv`` and exits non-zero naming each submission that was not graded and why (the
first line of otter grade's error, and the last line its container printed).

    python -m tools.docker.otter_grade SUBMISSIONS [--out DIR] [--containers N] [--timeout S]
                                       [--ext ipynb|zip] [--zip PATH]

Exit status: 0 when every submission was graded; 1 when some were not (their rows in the CSV
hold 0 points, not grades); 2 when grading could not run (no Docker, no zip, otter grade failed).
Otter's whole output, containers' logs included (``-vv``), is kept in OUT/otter-grade.log.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from autograder import upstream
from tools.docker.base_image import BaseImageError
from tools.docker.base_image import build as build_base
from tools.docker.engine import EngineError, ensure_engine
from tools.limits import GRADESCOPE_LIMITS

VENV_BIN = Path(sys.executable).parent
DEFAULT_OUT = Path("out/otter-grade")
DEFAULT_CONTAINERS = 2
LOG_NAME = "otter-grade.log"
COMPLETED = "Completed"  # otter grade's grading_status of a graded submission
GRADED_MARK = "Notebooks to grade:"  # otter grade's INFO line once the image is built


class OtterGradeError(Exception):
    """otter grade could not run, or wrote no grade sheet; the message says what to do."""


@dataclass
class Failure:
    file: str
    reason: str  # the first line of otter grade's grading_status
    container_said: str = ""  # the last line the submission's container printed, if logged


@dataclass
class OtterGradeRun:
    command: list[str]
    csv: Path
    log: Path
    rows: list[dict[str, str]]  # the CSV's submission rows (not points-per-question)
    failures: list[Failure] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # submissions with no row at all
    build_seconds: float = 0.0  # until otter grade said how many it grades (its image was built)
    grading_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Whether every submission was graded and has its row in the CSV."""
        return not self.failures and not self.missing


def assignment_name(zip_path: Path) -> str:
    """The assignment name in the zip's ``otter_config.json`` (``otter grade -n`` needs it);
    ``OtterGradeError`` if it names none.
    """
    with zipfile.ZipFile(zip_path) as zf:
        config = json.loads(zf.read("otter_config.json"))
    name = config.get("assignment_name")
    if not name:
        raise OtterGradeError(f"{zip_path}'s otter_config.json names no assignment (otter grade needs -n)")
    return name


def otter_grade_command(
    zip_path: Path, submissions: list[Path], out: Path, image: str, *, containers: int = DEFAULT_CONTAINERS,
    timeout: float | None = GRADESCOPE_LIMITS.timeout, ext: str = "ipynb", verbosity: str = "-vv",
) -> list[str]:
    """Otter's documented ``otter grade`` command line for this zip (the README gives it bare)."""
    command = [str(VENV_BIN / "otter"), "grade", *([verbosity] if verbosity else []),
               "-n", assignment_name(zip_path), "-a", str(zip_path), "-o", str(out),
               "--containers", str(containers), "--image", image, "--no-network"]
    if timeout:
        command += ["--timeout", str(int(timeout))]
    if ext != "ipynb":
        command += ["--ext", ext]
    return command + [str(p) for p in submissions]


def _console(line: str, state: dict[str, bool]) -> bool:
    """Whether a line of ``otter grade -vv`` goes to the console (debug records and container logs do not)."""
    if line.startswith("[DEBUG "):
        state["debug"] = True
        return False
    if line.startswith("["):
        state["debug"] = False
        return True
    if state.get("debug") and (line.startswith(" ") or not line.strip()):
        return False
    state["debug"] = False
    return True


def run_otter_grade(
    command: list[str], log_path: Path, echo: bool = True, cwd: Path | None = None
) -> tuple[int, float, float]:
    """Run ``command``; all output to ``log_path``, the readable part to stdout. Returns (exit, build s, grade s)."""
    start = time.monotonic()
    built = None
    state: dict[str, bool] = {}
    with open(log_path, "w", encoding="utf-8") as log:
        log.write("$ " + " ".join(command) + "\n")
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
                                errors="replace", cwd=cwd)
        assert proc.stdout is not None
        for line in proc.stdout:
            log.write(line)
            if built is None and GRADED_MARK in line:
                built = time.monotonic()
            if echo and _console(line, state):
                sys.stdout.write(line)
                sys.stdout.flush()
        code = proc.wait()
    end = time.monotonic()
    built = built or end
    return code, built - start, end - built


def container_outputs(log_text: str) -> dict[str, str]:
    """``submission file name -> its container's output`` from an ``otter grade -vv`` log."""
    containers = {m.group(2): Path(m.group(1)).name
                  for m in re.finditer(r"Grading (.+?) in container ([0-9a-f]{12})\.\.\.", log_text)}
    outputs = {}
    for m in re.finditer(r"Container ([0-9a-f]{12}) logs:\n((?:(?:    .*)?\n)*)", log_text):
        if m.group(1) in containers:
            outputs[containers[m.group(1)]] = "\n".join(line[4:] for line in m.group(2).splitlines())
    return outputs


def last_line(text: str) -> str:
    """The last non-blank line of ``text``, stripped; "" if there is none."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def read_grade_sheet(csv_path: Path) -> list[dict[str, str]]:
    """The submission rows of otter grade's ``final_grades.csv``."""
    with open(csv_path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return [r for r in rows if r.get(upstream.SCORES_DICT_FILE_KEY) != upstream.POINTS_POSSIBLE_LABEL]


def check_grade_sheet(csv_path: Path, expected: list[str], log_text: str = "") -> tuple[list[Failure], list[str]]:
    """Rows whose container did not grade (with why) and submissions in ``expected`` with no row."""
    rows = read_grade_sheet(csv_path)
    outputs = container_outputs(log_text)
    failures = []
    for row in rows:
        status = row.get(upstream.SCORES_DICT_GRADING_STATUS_KEY, "")
        if status != COMPLETED:
            file = row.get(upstream.SCORES_DICT_FILE_KEY, "?")
            said = last_line(outputs.get(file, ""))
            failures.append(Failure(file, status.strip().splitlines()[0] if status.strip() else "(no status)", said))
    files = {r.get(upstream.SCORES_DICT_FILE_KEY) for r in rows}
    return failures, sorted(name for name in expected if name not in files)


def submissions_in(paths: list[Path], ext: str) -> list[Path]:
    """What otter grade grades of ``paths``: files as given, ``*.EXT`` of folders (its glob)."""
    found = []
    for path in paths:
        found += sorted(path.glob(f"*.{ext}")) if path.is_dir() else [path]
    return found


def grade(
    paths: list[Path], out: Path = DEFAULT_OUT, *, zip_path: Path | None = None,
    containers: int = DEFAULT_CONTAINERS, timeout: float | None = GRADESCOPE_LIMITS.timeout, ext: str = "ipynb",
    echo: bool = True,
) -> OtterGradeRun:
    """Set up Docker and the base image, run otter grade on ``paths`` into ``out`` and check its grade sheet."""
    if zip_path is None:
        from tools.build import BuildError, autograder_zip

        try:
            zip_path = autograder_zip()
        except BuildError as e:
            raise OtterGradeError(str(e)) from None
    zip_path = Path(zip_path).resolve()
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise OtterGradeError(f"no such file or folder: {', '.join(missing)}")
    expected = submissions_in(paths, ext)
    if not expected:
        raise OtterGradeError(f"no *.{ext} submissions in {', '.join(map(str, paths))}"
                              + ("" if ext == "zip" else " (exported zips: --ext zip)"))
    for step in ensure_engine():
        print(step, flush=True)
    image, seconds = build_base()
    if seconds is not None:
        print(f"made the base image {image} in {seconds:.0f} s", flush=True)
    out = out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    csv_path = out / "final_grades.csv"
    csv_path.unlink(missing_ok=True)  # a stale sheet must not pass for this run's
    command = otter_grade_command(zip_path, [p.resolve() for p in paths], out, image, containers=containers,
                                  timeout=timeout, ext=ext)
    print("$ " + " ".join(command), flush=True)
    log_path = out / LOG_NAME
    code, build_s, grade_s = run_otter_grade(command, log_path, echo=echo)
    if code != 0 or not csv_path.is_file():
        raise OtterGradeError(f"otter grade failed (exit {code}) and wrote no {csv_path.name}; its output: {log_path}")
    failures, missing_rows = check_grade_sheet(csv_path, [p.name for p in expected], log_path.read_text())
    return OtterGradeRun(command, csv_path, log_path, read_grade_sheet(csv_path), failures, missing_rows,
                         build_s, grade_s)


def report(run: OtterGradeRun) -> str:
    """What the run did, for the TA: how many were graded and where the CSV is, then every submission not
    graded with the reason (its rows hold 0 points that are not grades) and where the containers' output is.
    """
    graded = len(run.rows) - len(run.failures)
    lines = [f"graded {graded} of {len(run.rows) + len(run.missing)} submissions in {run.grading_seconds:.0f} s "
             f"(image ready after {run.build_seconds:.0f} s): {run.csv}"]
    if run.failures or run.missing:
        lines.append(f"NOT GRADED: {len(run.failures) + len(run.missing)} submission(s). Their rows in "
                     f"{run.csv.name} hold 0 points that are not grades; do not upload them.")
        for f in run.failures:
            lines.append(f"  {f.file}: {f.reason}")
            if f.container_said and f.container_said not in f.reason:
                lines.append(f"    its container's last line: {f.container_said}")
        for name in run.missing:
            lines.append(f"  {name}: no row in {run.csv.name}")
        lines.append(f"Containers' output: {run.log}. A submission Otter could not read says so above; for a "
                     "container that failed, the last line is usually the error.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Grade the submissions with ``otter grade`` and print the report (to stderr when some were not
    graded); the exit status: 0 all graded, 1 some not, 2 when grading could not start.
    """
    parser = argparse.ArgumentParser(prog="python -m tools.docker.otter_grade", description=__doc__.split("\n\n")[0])
    parser.add_argument("submissions", type=Path, nargs="+", help="folders of submissions (or files)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})")
    parser.add_argument("--containers", type=int, default=DEFAULT_CONTAINERS,
                        help=f"containers in parallel (default {DEFAULT_CONTAINERS}: each needs about 0.5 GB)")
    parser.add_argument("--timeout", type=float, default=GRADESCOPE_LIMITS.timeout,
                        help=f"seconds per container (default {GRADESCOPE_LIMITS.timeout:g}, Gradescope's)")
    parser.add_argument("--ext", choices=["ipynb", "zip"], default="ipynb",
                        help="submission files to grade (zip: the student's export zips)")
    parser.add_argument("--zip", type=Path, help="autograder zip (default: the one in dist/autograder)")
    args = parser.parse_args(argv)
    try:
        run = grade(args.submissions, args.out, zip_path=args.zip, containers=args.containers,
                    timeout=args.timeout, ext=args.ext)
    except (OtterGradeError, EngineError, BaseImageError, subprocess.TimeoutExpired) as e:
        print(f"otter-grade: {e}", file=sys.stderr)
        return 2
    text = report(run)
    print(text, file=sys.stdout if run.ok else sys.stderr)
    return 0 if run.ok else 1


if __name__ == "__main__":
    sys.exit(main())
