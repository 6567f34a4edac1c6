"""Grade one submission exactly as Gradescope does once the autograder image is built.

Gradescope unpacks the autograder zip into ``/autograder/source``, puts the submission in
``/autograder/submission`` (an uploaded zip unpacked), writes ``submission_metadata.json``,
runs ``/autograder/run_autograder`` (which runs the zip's ``run_otter.py`` in the image's
Python) within its memory, CPU and time limits (``tools.limits``), and reads back
``/autograder/results/results.json``. This harness does the same in a bubblewrap sandbox
(``tools.sandbox``): the built zip unpacked into a temporary root shown as ``/autograder``,
the zip's own ``run_otter.py`` run with this project's venv Python (standing in for the image,
which ``setup.sh`` builds from the internet), no network, the host read-only, cgroup v1 limits.
It fixes nothing up: whatever Gradescope would get wrong, this gets wrong too.

    python -m tools.gradescope SUBMISSION [--memory SIZE] [--cpus N] [--timeout S] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tools import results_format
from tools.limits import GRADESCOPE_LIMITS
from tools.sandbox import DEFAULT_PATH, MiB, SandboxError, SandboxResult, parse_size, run
from tools.scores import QuestionScores, question_scores

ROOT = Path(__file__).resolve().parent.parent
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
MOUNT = "/autograder"


class HarnessError(Exception):
    """The harness could not run (no zip, no bwrap, unusable submission path)."""


@dataclass
class GradescopeRun:
    """The outcome of grading one submission."""

    submission: Path
    sandbox: SandboxResult
    results: dict[str, Any] | None  # results.json, None when it was not written or not JSON
    problems: list[str]  # what is wrong with results.json (empty when valid)
    log: str  # stdout + stderr of run_otter.py, as Gradescope shows instructors
    otter_config: dict[str, Any] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        """Whether a results.json was written and has no problems."""
        return self.results is not None and not self.problems

    @property
    def tests(self) -> list[dict[str, Any]]:
        """The ``tests`` entries of results.json (none without results)."""
        return list((self.results or {}).get("tests", []))

    @property
    def question_scores(self) -> QuestionScores:
        """``question -> (score, max_score)``, read by ``tools.scores.question_scores``."""
        return question_scores(self.results)

    @property
    def score(self) -> float | None:
        """The score Gradescope shows: the top-level score (Otter always writes one), else the questions' sum."""
        if self.results is None:
            return None
        if "score" in self.results:
            return float(self.results["score"])
        return float(sum(s for s, _ in self.question_scores.values()))

    @property
    def max_score(self) -> float:
        """The points possible: the sum of the questions' ``max_score``."""
        return float(sum(m for _, m in self.question_scores.values()))

    def output_text(self) -> str:
        """All text a student or instructor sees in results.json (top-level and test outputs)."""
        if self.results is None:
            return ""
        parts = [str(self.results.get("output", ""))]
        parts += [f"{t.get('name', '')}\n{t.get('output', '')}" for t in self.tests]
        return "\n".join(parts)


def default_zip() -> Path:
    """The built autograder zip; ``HarnessError`` saying how to build it if there is none."""
    from tools.build import BuildError, autograder_zip

    try:
        return autograder_zip()
    except BuildError as e:
        raise HarnessError(str(e)) from None


def submission_metadata(assignment: str) -> dict[str, Any]:
    """A ``submission_metadata.json`` of the shape Gradescope writes (fake student, no history)."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    return {
        "id": 1,
        "created_at": now,
        "assignment": {"id": 1, "title": assignment, "release_date": now, "due_date": now, "late_due_date": None,
                       "group_submission": False, "total_points": "0.0"},
        "submission_method": "upload",
        "users": [{"email": "student@example.edu", "id": 1, "name": "Test Student", "sid": "0", "assignment": {}}],
        "previous_submissions": [],
    }


def place_submission(sub: Path, submission: Path) -> None:
    """Put ``submission`` in the (new, empty) folder ``sub`` as Gradescope does: an upload's zip unpacked."""
    sub.mkdir()
    if submission.suffix == ".zip":
        try:
            with zipfile.ZipFile(submission) as zf:
                zf.extractall(sub)
        except zipfile.BadZipFile:
            shutil.copy2(submission, sub / submission.name)
    else:
        shutil.copy2(submission, sub / submission.name)


def lay_out(root: Path, zip_path: Path, submission: Path) -> dict[str, Any]:
    """Fill ``root`` the way Gradescope fills ``/autograder``; return the zip's otter_config.json."""
    source = root / "source"
    source.mkdir(parents=True)
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(source)
    shutil.copy2(source / "run_autograder", root / "run_autograder")
    (root / "results").mkdir()
    place_submission(root / "submission", submission)
    config_path = source / "otter_config.json"
    config = json.loads(config_path.read_text()) if config_path.is_file() else {}
    (root / "submission_metadata.json").write_text(
        json.dumps(submission_metadata(config.get("assignment_name", "assignment")), indent=2)
    )
    return config


def grade(
    submission: Path,
    *,
    zip_path: Path | None = None,
    memory: int = GRADESCOPE_LIMITS.memory,
    cpus: float = GRADESCOPE_LIMITS.cpus,
    timeout: float = GRADESCOPE_LIMITS.timeout,
    keep: Path | None = None,
    sample_processes: bool = False,
    writable_packages: bool = True,
) -> GradescopeRun:
    """Grade ``submission`` (.ipynb, .py or the .zip a student uploads) in the Gradescope sandbox.

    ``keep``: a directory (must not exist or be empty) that receives the ``/autograder`` tree
    and ``run_autograder.log`` afterwards; otherwise everything is removed.
    ``writable_packages``: the Python environment is writable inside the sandbox (a throw-away
    overlay), as installed packages are on Gradescope, where grading runs as root.
    """
    submission = Path(submission).resolve()
    if not submission.is_file():
        raise HarnessError(f"no such submission file: {submission}")
    zip_path = Path(zip_path) if zip_path is not None else default_zip()
    if not zip_path.is_file():
        raise HarnessError(f"no such autograder zip: {zip_path}")
    if not VENV_PYTHON.exists():
        raise HarnessError(f"{VENV_PYTHON} is missing: run `make venv` first.")

    work = Path(tempfile.mkdtemp(prefix="gradescope-"))
    try:
        root = work / "autograder"
        root.mkdir()
        config = lay_out(root, zip_path, submission)
        log_path = work / "run_autograder.log"
        env = {
            "PATH": f"{VENV_PYTHON.parent}:{DEFAULT_PATH}",
            "HOME": "/tmp",
            "LANG": "C.UTF-8",
            "PYTHONUNBUFFERED": "1",
        }
        result = run(
            [str(VENV_PYTHON), f"{MOUNT}/source/run_otter.py"],
            root=root,
            mount_point=MOUNT,
            memory=memory,
            cpus=cpus,
            timeout=timeout,
            env=env,
            output=log_path,
            sample_processes=sample_processes,
            # the venv stands in for the image's Python (a clone under /tmp would be hidden otherwise)
            read_only=[] if writable_packages else [VENV_PYTHON.parent.parent],
            writable=[VENV_PYTHON.parent.parent] if writable_packages else [],
        )
        log = log_path.read_text(errors="replace")
        results, problems = read_results(root / "results" / "results.json", config)
        if result.timed_out:
            problems.insert(0, f"grading was killed by the {timeout:g} s timeout")
        if result.oom_killed:
            problems.insert(0, "a process was killed for running out of memory")
        if keep is not None:
            keep = Path(keep)
            keep.mkdir(parents=True, exist_ok=True)
            shutil.copytree(root, keep / "autograder", dirs_exist_ok=True, symlinks=True)
            shutil.copy2(log_path, keep / "run_autograder.log")
        return GradescopeRun(submission, result, results, problems, log, config)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def read_results(path: Path, config: dict[str, Any]) -> tuple[dict[str, Any] | None, list[str]]:
    """results.json and the problems Gradescope would have with it (``results_format.validate``); None and
    the reason when it is missing or not valid JSON.
    """
    if not path.is_file():
        return None, ["no results.json was written: Gradescope would show its generic autograder failure"]
    try:
        results = results_format.load(path)
    except ValueError as e:
        return None, [f"results.json is not valid JSON: {e}"]
    return results, results_format.validate(results, config)


# Python versions TensorFlow 2.21 publishes wheels for
TENSORFLOW_PYTHONS = ("3.10", "3.11", "3.12", "3.13")


def _pins(lines: list[str]) -> dict[tuple[str, str], str]:
    """``(normalized name, marker) -> version`` for every ``name[extras]==version; marker`` line."""
    pins = {}
    for line in lines:
        line = line.split(" #")[0].strip()
        if not line or line.startswith(("#", "-")):
            continue
        spec, _, marker = line.partition(";")
        m = re.fullmatch(r"([A-Za-z0-9_.\-]+)(\[[^\]]*\])?\s*==\s*([^\s]+)", spec.strip())
        if m:
            name = re.sub(r"[-_.]+", "-", m.group(1)).lower()
            pins[(name, " ".join(marker.split()))] = m.group(3)
    return pins


def check_environment(zip_path: Path, requirements: Path | None = None) -> list[str]:
    """Check statically what the zip's setup.sh / environment.yml / requirements.txt install.

    Every pin of the repo's ``requirements.txt`` must be installed at that version (and
    nothing pinned differently), and environment.yml's ``python=`` must be a version
    TensorFlow 2.21 has wheels for. Returns the problems (empty when all is well).
    """
    import yaml

    requirements = requirements or ROOT / "requirements.txt"
    wanted = _pins(requirements.read_text().splitlines())
    problems: list[str] = []
    with zipfile.ZipFile(zip_path) as zf:
        names = set(zf.namelist())
        for needed in ("setup.sh", "environment.yml", "run_autograder", "run_otter.py", "otter_config.json"):
            if needed not in names:
                problems.append(f"the zip has no {needed}")
        env = yaml.safe_load(zf.read("environment.yml")) if "environment.yml" in names else {}
        setup = zf.read("setup.sh").decode() if "setup.sh" in names else ""
        zip_requirements = zf.read("requirements.txt").decode() if "requirements.txt" in names else None

    deps = env.get("dependencies", []) if isinstance(env, dict) else []
    pythons = [d.split("=", 1)[1].lstrip("=") for d in deps if isinstance(d, str) and re.match(r"python\s*=", d)]
    if len(pythons) != 1:
        problems.append(f"environment.yml should pin python once, found {pythons}")
    elif not any(pythons[0] == v or pythons[0].startswith(v + ".") for v in TENSORFLOW_PYTHONS):
        problems.append(f"environment.yml python={pythons[0]}: TensorFlow 2.21 has wheels for {TENSORFLOW_PYTHONS}")
    pip = [p for d in deps if isinstance(d, dict) for p in d.get("pip", [])]

    sources = {"environment.yml": _pins(pip)}
    if zip_requirements is not None:
        sources["requirements.txt"] = _pins(zip_requirements.splitlines())
    # pip/conda installs spelled out in setup.sh
    setup_pins = _pins([w for line in setup.splitlines() if "install" in line for w in line.split() if "==" in w])
    sources["setup.sh"] = setup_pins
    for where, pins in sources.items():
        for (name, marker), version in pins.items():
            matching = {m: v for (n, m), v in wanted.items() if n == name}
            if matching and version not in matching.values():
                problems.append(f"{where} installs {name}=={version}; requirements.txt pins {matching}")
            elif matching and marker in matching and matching[marker] != version:
                problems.append(f"{where} installs {name}=={version} ({marker}); requirements.txt pins {matching}")
    env_pins = sources["environment.yml"]
    for (name, marker), version in wanted.items():
        if (name, marker) not in env_pins:
            problems.append(f"environment.yml does not install {name}=={version}" + (f"; {marker}" if marker else ""))
        elif env_pins[(name, marker)] != version:
            problems.append(f"environment.yml installs {name}=={env_pins[(name, marker)]}, requirements.txt {version}")
    for line in setup.splitlines():
        if re.search(r"\bpip3?\s+install\b", line) and "-r" not in line.split():
            problems.append(f"setup.sh installs packages outside environment.yml: {line.strip()}")
    return problems


def format_report(run_: GradescopeRun) -> str:
    """The run for the terminal: the tests' scores and visibility, the total, the output and error
    messages, then wall time, memory, exit status and results.json's problems.
    """
    s = run_.sandbox
    lines = []
    if run_.results is not None:
        width = max([len(t.get("name", "")) for t in run_.tests] + [8])
        lines.append(f"{'test':<{width}}  {'score':>7}  {'max':>5}  visibility")
        for t in run_.tests:
            score = t.get("score", "")
            maxs = t.get("max_score", "")
            lines.append(f"{t.get('name', '?'):<{width}}  {score!s:>7}  {maxs!s:>5}  {t.get('visibility', '')}")
        lines.append(f"{'total':<{width}}  {run_.score!s:>7}  {run_.max_score:>5g}")
        if run_.results.get("output"):
            lines.append(f"\noutput: {run_.results['output']}")
        messages = [t for t in run_.tests if "score" not in t or t.get("name") in {"Autograder Error"}]
        for t in messages:
            lines.append(f"\n{t.get('name')}: {t.get('output', '')}")
    lines.append("")
    lines.append(
        f"wall time {s.wall_time:.1f} s, peak memory {s.peak_memory / MiB:.0f} MiB "
        f"(rss+mapped {s.peak_rss / MiB:.0f} MiB), exit status {s.returncode}, "
        f"OOM kill: {'yes' if s.oom_killed else 'no'}, timed out: {'yes' if s.timed_out else 'no'}"
    )
    if run_.problems:
        lines.append("results.json problems:")
        lines += [f"  - {p}" for p in run_.problems]
    else:
        lines.append("results.json is valid")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Grade one submission as Gradescope would and print the report; the exit status: 0 when results.json
    is valid, 1 when it is not, 2 when the sandbox or harness could not run.
    """
    parser = argparse.ArgumentParser(prog="python -m tools.gradescope", description=__doc__.split("\n\n")[0])
    parser.add_argument("submission", type=Path, help=".ipynb, .py or the .zip made by grader.export()")
    limits = GRADESCOPE_LIMITS
    parser.add_argument("--memory", default=limits.memory_size,
                        help=f"memory limit of the whole tree (default {limits.memory_size}, Gradescope's)")
    parser.add_argument("--cpus", type=float, default=limits.cpus, help=f"CPU quota (default {limits.cpus:g})")
    parser.add_argument("--timeout", type=float, default=limits.timeout,
                        help=f"wall-clock seconds (default {limits.timeout:g})")
    parser.add_argument("--keep", type=Path, help="copy the /autograder tree and the log here")
    parser.add_argument("--zip", type=Path, help="autograder zip (default: the one in dist/autograder)")
    parser.add_argument("--log", action="store_true", help="print run_otter.py's output too")
    args = parser.parse_args(argv)
    try:
        result = grade(
            args.submission,
            zip_path=args.zip,
            memory=parse_size(args.memory),
            cpus=args.cpus,
            timeout=args.timeout,
            keep=args.keep,
        )
    except (HarnessError, SandboxError) as e:
        print(f"gradescope: {e}", file=sys.stderr)
        return 2
    if args.log:
        print(result.log)
    print(format_report(result))
    return 0 if result.valid else 1


if __name__ == "__main__":
    sys.exit(main())
