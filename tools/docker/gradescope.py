"""Grade a submission in a Docker container laid out as Gradescope lays out its own.

Gradescope unpacks the whole autograder zip into ``/autograder/source`` (the zip-root
``autograder/`` package included), puts the submission in ``/autograder/submission`` (an upload's
zip unpacked), writes a real ``submission_metadata.json``, runs ``/autograder/run_autograder``
as root with 768 MiB, half a CPU and no network, and reads back ``results/results.json``.

The software is the image ``otter grade`` built for this zip (``otter-grade:<assignment>``, made
by ``tools.docker.otter_grade``: the zip's setup.sh run on the offline base image), checked to
hold this zip's setup.sh and environment.yml. Each container starts from it with the unpacked
zip, the submission and the metadata copied in, so only the layout differs from otter grade's.
This is closer to Gradescope than the bubblewrap harness (``tools.gradescope``), which runs
the project's venv on the host; the README says which figure comes from which.

    python -m tools.docker.gradescope SUBMISSION... [--memory 768m] [--cpus 0.5] [--zip PATH]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools import results_format
from tools.gradescope import place_submission, submission_metadata
from tools.limits import GRADESCOPE_LIMITS, MiB
from tools.scores import QuestionScores, question_scores

CGROUP_MEMORY = Path("/sys/fs/cgroup/memory/docker")  # cgroup v1, Docker's cgroupfs driver
# what setup.sh built the image from: the image must have been built from this zip's
ENVIRONMENT_FILES = ("setup.sh", "environment.yml")


class ContainerError(Exception):
    """The container could not be set up (no image for this zip, Docker failed)."""


@dataclass
class ContainerRun:
    submission: Path
    results: dict[str, Any] | None
    problems: list[str]  # what is wrong with results.json (empty when valid)
    log: str  # run_autograder's output
    exit_code: int | None
    wall_time: float
    peak_memory: int  # memory.max_usage_in_bytes of the container's cgroup (0 if unreadable)
    oom_killed: bool
    timed_out: bool

    @property
    def question_scores(self) -> QuestionScores:
        """``question -> (score, max_score)``, read by ``tools.scores.question_scores``."""
        return question_scores(self.results)

    @property
    def score(self) -> float | None:
        """The top-level score of results.json (0 if it has none), or None if there were no results."""
        return None if self.results is None else float(self.results.get("score", 0))


def _docker(*args: str, timeout: float = 300, check: bool = True) -> subprocess.CompletedProcess:
    if shutil.which("docker") is None:
        raise ContainerError("docker is not installed: run `make docker` (as root)")
    done = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise ContainerError(f"docker {' '.join(args[:2])} failed: {(done.stderr or done.stdout).strip()[-1500:]}")
    return done


def image_for(zip_path: Path) -> str:
    """The ``otter-grade`` image built for ``zip_path``, or a ``ContainerError`` saying how to build it."""
    from tools.docker.otter_grade import assignment_name

    image = f"otter-grade:{assignment_name(zip_path)}"
    if _docker("image", "inspect", image, check=False).returncode != 0:
        raise ContainerError(f"no image {image}: grade with otter grade first (make otter-grade SUBMISSIONS=dir)")
    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(zip_path) as zf:
        container = _docker("create", image, "true").stdout.strip()
        try:
            for name in ENVIRONMENT_FILES:
                _docker("cp", f"{container}:/autograder/source/{name}", f"{tmp}/{name}")
                if Path(tmp, name).read_bytes() != zf.read(name):
                    raise ContainerError(f"{image} was built from another zip ({name} differs): run otter grade "
                                         "with this zip first (make otter-grade SUBMISSIONS=dir)")
        finally:
            _docker("rm", "-f", container, check=False)
    return image


def _peak_memory(container_id: str, stop: threading.Event, peak: dict[str, int]) -> None:
    path = CGROUP_MEMORY / container_id / "memory.max_usage_in_bytes"
    while not stop.wait(0.2):
        try:
            peak["bytes"] = max(peak["bytes"], int(path.read_text()))
        except (OSError, ValueError):
            pass


def grade(
    submission: Path, zip_path: Path, image: str, *, memory: int = GRADESCOPE_LIMITS.memory,
    cpus: float = GRADESCOPE_LIMITS.cpus, timeout: float = GRADESCOPE_LIMITS.timeout,
) -> ContainerRun:
    """Grade ``submission`` in a fresh container of ``image`` with Gradescope's layout and limits."""
    with tempfile.TemporaryDirectory(prefix="gradescope-container-") as tmp:
        work = Path(tmp)
        source = work / "source"
        with zipfile.ZipFile(zip_path) as zf:
            zf.extractall(source)
            config = json.loads(zf.read("otter_config.json"))
        (source / "run_autograder").chmod(0o755)  # zip entries carry no mode; Gradescope's copy is executable
        place_submission(work / "submission", Path(submission))
        (work / "submission_metadata.json").write_text(
            json.dumps(submission_metadata(config.get("assignment_name", "assignment")), indent=2))
        container = _docker(
            "create", "--memory", str(memory), "--memory-swap", str(memory), "--cpus", f"{cpus:g}",
            "--network", "none", "--workdir", "/autograder", image, "/autograder/run_autograder",
        ).stdout.strip()
        try:
            _docker("cp", f"{source}/.", f"{container}:/autograder/source/")
            _docker("cp", f"{source}/run_autograder", f"{container}:/autograder/run_autograder")
            _docker("cp", f"{work / 'submission'}/.", f"{container}:/autograder/submission/")
            _docker("cp", str(work / "submission_metadata.json"), f"{container}:/autograder/submission_metadata.json")
            stop, peak = threading.Event(), {"bytes": 0}
            sampler = threading.Thread(target=_peak_memory, args=(container, stop, peak), daemon=True)
            start = time.monotonic()
            _docker("start", container)
            sampler.start()
            timed_out = False
            try:
                _docker("wait", container, timeout=timeout)
            except subprocess.TimeoutExpired:
                timed_out = True
                _docker("kill", container, check=False)
            wall = time.monotonic() - start
            stop.set()
            sampler.join()
            state = json.loads(_docker("inspect", "--format", "{{json .State}}", container).stdout)
            logs = _docker("logs", container)
            log = logs.stdout + logs.stderr
            results_path = work / "results.json"
            copied = _docker("cp", f"{container}:/autograder/results/results.json", str(results_path), check=False)
        finally:
            _docker("rm", "-f", container, check=False)
        results, problems = None, []
        if copied.returncode != 0 or not results_path.is_file():
            problems.append("no results.json was written: Gradescope would show its generic autograder failure")
        else:
            try:
                results = results_format.load(results_path)
                problems = results_format.validate(results, config)
            except ValueError as e:
                problems.append(f"results.json is not valid JSON: {e}")
        if timed_out:
            problems.insert(0, f"grading was killed by the {timeout:g} s timeout")
        if state.get("OOMKilled"):
            problems.insert(0, "the container was killed for running out of memory")
        return ContainerRun(Path(submission), results, problems, log, state.get("ExitCode"), wall, peak["bytes"],
                            bool(state.get("OOMKilled")), timed_out)


def format_run(run: ContainerRun) -> str:
    """One run for the terminal: total, wall time, peak memory, exit code, OOM kill, then results.json's problems."""
    scores = run.question_scores
    total = sum(s for s, _ in scores.values())
    possible = sum(m for _, m in scores.values())
    lines = [f"{run.submission.name}: {total:g}/{possible:g} in {run.wall_time:.1f} s, peak memory "
             f"{run.peak_memory / MiB:.0f} MiB, exit {run.exit_code}, OOM kill: {'yes' if run.oom_killed else 'no'}"]
    lines += [f"  results.json: {p}" for p in run.problems]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Grade each submission in the Gradescope-like container and print the runs; the exit status: 0 when
    no run has problems with its results.json, 1 when one has, 2 when the zip, image or container failed.
    """
    parser = argparse.ArgumentParser(prog="python -m tools.docker.gradescope", description=__doc__.split("\n\n")[0])
    parser.add_argument("submissions", type=Path, nargs="+")
    parser.add_argument("--memory", default=GRADESCOPE_LIMITS.memory_size)
    parser.add_argument("--cpus", type=float, default=GRADESCOPE_LIMITS.cpus)
    parser.add_argument("--timeout", type=float, default=GRADESCOPE_LIMITS.timeout)
    parser.add_argument("--zip", type=Path, help="autograder zip (default: the one in dist/autograder)")
    parser.add_argument("--log", action="store_true", help="print run_autograder's output too")
    args = parser.parse_args(argv)
    from tools.build import BuildError, autograder_zip
    from tools.sandbox import parse_size

    try:
        zip_path = args.zip or autograder_zip()
        image = image_for(zip_path)
        runs = [grade(s, zip_path, image, memory=parse_size(args.memory), cpus=args.cpus, timeout=args.timeout)
                for s in args.submissions]
    except (BuildError, ContainerError, subprocess.TimeoutExpired) as e:
        print(f"gradescope container: {e}", file=sys.stderr)
        return 2
    for run in runs:
        if args.log:
            print(run.log)
        print(format_run(run))
    return 0 if all(not r.problems for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
