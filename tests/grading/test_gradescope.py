"""Grade submissions the way Gradescope does (tools.gradescope: bwrap sandbox, cgroup v1 limits).

Real bubblewrap, real cgroups, real Otter and TensorFlow: needs root, cgroup v1 memory and cpu
controllers and `apt-get install bubblewrap`. Every grading run is held to Gradescope's
defaults (768 MiB, 0.5 CPU, 600 s).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import nbformat
import pytest

from autograder.isolation.notebook_report import cell_names
from autograder.plugins.safe_run import refusal, refused
from autograder.submission_check import Problem, Reason
from tools import gradescope, results_format
from tools.build import DIST, ROOT, autograder_zip, build
from tools.registry import registry
from tools.sandbox import MiB, SandboxError, parse_size, run

QUESTIONS = registry().ids


@pytest.fixture(scope="session")
def gs_zip() -> Path:
    """The built autograder zip; dist/ is built (without its solution run) only if absent.

    ``GRADESCOPE_ZIP=path`` grades with another zip instead (e.g. one from a build experiment).
    """
    if os.environ.get("GRADESCOPE_ZIP"):
        return Path(os.environ["GRADESCOPE_ZIP"]).resolve()
    if not DIST.exists():
        build(run_tests=False)
    return autograder_zip()


@pytest.fixture(scope="session")
def gs_submissions(gs_zip: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from tools.submissions import build_submission

    out = tmp_path_factory.mktemp("gs-submissions")
    return {name: build_submission(name, out) for name in ("full_credit", "blank")}


@pytest.fixture(scope="session")
def graded(gs_zip: Path):
    """Grade a submission in the Gradescope sandbox once per path (Gradescope's default limits)."""
    cache: dict[Path, gradescope.GradescopeRun] = {}

    def _grade(path: Path) -> gradescope.GradescopeRun:
        if path not in cache:
            cache[path] = gradescope.grade(path, zip_path=gs_zip)
        return cache[path]

    return _grade


def _explain(run_: gradescope.GradescopeRun) -> str:
    return f"{gradescope.format_report(run_)}\n--- run_otter.py output (tail) ---\n{run_.log[-3000:]}"


def _assert_valid(run_: gradescope.GradescopeRun) -> None:
    assert run_.results is not None and not run_.problems, _explain(run_)
    assert not run_.sandbox.oom_killed and not run_.sandbox.timed_out, _explain(run_)


# --- the sandbox itself -------------------------------------------------------------------


@pytest.fixture(autouse=True, scope="module")
def real_autograder_untouched():
    """The harness never writes to the host's /autograder."""
    real = Path("/autograder")
    before = (real.exists(), real.stat().st_mtime if real.exists() else None)
    yield
    after = (real.exists(), real.stat().st_mtime if real.exists() else None)
    assert before == after, "the host's /autograder was created or modified"


def test_sandbox_mounts_root_read_only_host_no_network(tmp_path: Path):
    log = tmp_path / "log"
    script = (
        "touch /autograder/ok && echo WROTE_ROOT; "
        "touch /work/nope 2>/dev/null || echo HOST_READ_ONLY; "
        "touch /tmp/x && echo PRIVATE_TMP; "
        # NO_NETWORK only from a Python that ran and could not connect, not from one that failed to start
        f"{sys.executable} -c \"import socket\ntry: socket.create_connection(('pypi.org', 443), timeout=3)\n"
        "except OSError: print('NO_NETWORK')\""
    )
    root = tmp_path / "root"
    root.mkdir()
    result = run(["/bin/sh", "-c", script], root=root, timeout=60, output=log, read_only=[Path(sys.prefix)])
    text = log.read_text()
    assert result.returncode == 0, text
    for marker in ("WROTE_ROOT", "HOST_READ_ONLY", "PRIVATE_TMP", "NO_NETWORK"):
        assert marker in text, text
    assert (root / "ok").exists()


@pytest.mark.parametrize("packages", ["read_only", "writable"])
def test_sandbox_shows_nothing_of_the_checkout_but_its_venv(tmp_path: Path, packages: str):
    """The checkout's solutions, rubrics and dist/ are world-readable on most machines: none is there."""
    venv = Path(sys.prefix)
    assert ROOT in venv.parents, "the test runs from the checkout's own venv"
    code = (
        "import json, os, sys\n"
        f"root, venv = {str(ROOT)!r}, {str(venv)!r}\n"
        "seen = {}\n"
        "for path in [root, *(os.path.join(root, p) for p in ('assignment/rnn_states.ipynb', 'autograder/rubrics',"
        " 'solutions/full_credit.yaml', 'dist', 'tools', 'tests')), '/home', '/srv', '/opt', '/var', '/mnt']:\n"
        "    try:\n"
        "        seen[path] = sorted(os.listdir(path)) if os.path.isdir(path) else open(path).read(20)\n"
        "    except OSError as e:\n"
        "        seen[path] = type(e).__name__\n"
        "seen['numpy'] = __import__('numpy').__file__.startswith(venv)\n"
        # the directories above the checkout hold only the way to it
        "seen['above'] = [sorted(os.listdir(p)) for p in [os.path.dirname(root)] if p != '/']\n"
        "print(json.dumps(seen))\n"
    )
    log = tmp_path / "log"
    root = tmp_path / "root"
    root.mkdir()
    result = run([str(venv / "bin" / "python"), "-c", code], root=root, timeout=60, output=log,
                 **{packages: [venv]})
    assert result.returncode == 0, log.read_text()
    seen = json.loads(log.read_text().splitlines()[-1])
    assert seen.pop("numpy") is True, "the venv's packages are there"
    assert seen.pop(str(ROOT)) == [venv.name], "of the checkout, only the venv"
    assert seen.pop("above") in ([], [[ROOT.name]]), "nothing next to the checkout"
    assert set(seen.values()) == {"FileNotFoundError"}, seen


def test_sandbox_packages_are_writable_as_on_gradescope_and_the_host_is_untouched(tmp_path: Path):
    venv = Path(sys.prefix)
    marker = venv / "written-by-the-sandbox"
    log = tmp_path / "log"
    root = tmp_path / "root"
    root.mkdir()
    script = f"echo x > {marker} && cat {marker} && echo WROTE_PACKAGES"
    result = run(["/bin/sh", "-c", script], root=root, timeout=60, output=log, writable=[venv])
    assert result.returncode == 0 and "WROTE_PACKAGES" in log.read_text(), log.read_text()
    assert not marker.exists()


def test_sandbox_memory_limit_oom_is_reported(tmp_path: Path):
    hog = f"{sys.executable} -c \"b = bytearray(400 * 1024 * 1024); b[::4096] = b'x' * len(b[::4096])\""
    result = run(
        ["/bin/sh", "-c", hog], root=tmp_path, memory=parse_size("200M"), timeout=60, read_only=[Path(sys.prefix)]
    )
    assert result.oom_killed
    assert result.returncode != 0
    assert result.peak_memory <= 200 * MiB


def test_sandbox_timeout_kills_whole_tree(tmp_path: Path):
    # a background child that would outlive its parent, and a busy loop
    # a unique duration, so that no other process on the machine matches it
    sleeper = f"sleep {300 + uuid.uuid4().int % 1000}.{os.getpid()}"
    result = run(["/bin/sh", "-c", f"{sleeper} & while :; do :; done"], root=tmp_path, timeout=3)
    assert result.timed_out
    assert result.wall_time < 30
    leftovers = subprocess.run(["pgrep", "-f", sleeper], capture_output=True, text=True).stdout.split()
    assert not leftovers


def test_sandbox_cpu_quota_holds_to_half_a_cpu(tmp_path: Path):
    code = (
        "import time\nt = time.monotonic(); c = time.process_time()\n"
        "while time.monotonic() - t < 3: pass\nprint(time.process_time() - c)"
    )
    log = tmp_path / "log"
    root = tmp_path / "r"
    root.mkdir()
    run([sys.executable, "-c", code], root=root, cpus=0.5, timeout=60, output=log, read_only=[Path(sys.prefix)])
    assert 0.8 < float(log.read_text().split()[-1]) < 2.0  # ~1.5 CPU-seconds in 3 s


def test_missing_bwrap_is_explained(tmp_path: Path):
    nb = tmp_path / "x.ipynb"
    nb.write_text("{}")
    env = {**os.environ, "PATH": "/nonexistent"}
    proc = subprocess.run(
        [sys.executable, "-m", "tools.gradescope", str(nb)], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert "apt-get install bubblewrap" in proc.stderr


@pytest.mark.fast
def test_parse_size():
    assert parse_size("768M") == 768 * MiB
    assert parse_size("1G") == 1024 * MiB
    assert parse_size("650MiB") == 650 * MiB
    with pytest.raises(SandboxError):
        parse_size("lots")


# --- results.json format ------------------------------------------------------------------


@pytest.mark.fast
def test_results_format_rejects_incomplete_tests_and_nan(tmp_path: Path):
    config = {"show_hidden": False, "show_stdout": False}
    ok = {"tests": [{"name": "q1", "score": 1, "max_score": 1, "visibility": "hidden", "output": ""}]}
    assert results_format.validate(ok, config) == []
    assert results_format.validate({"tests": [{"name": "q1", "output": ""}]}, config)
    bad_vis = {"tests": [{**ok["tests"][0], "visibility": "visible"}]}
    assert results_format.validate(bad_vis, config)
    assert results_format.validate({**ok, "stdout_visibility": "visible"}, config)
    path = tmp_path / "r.json"
    path.write_text('{"score": NaN, "tests": []}')
    with pytest.raises(ValueError):
        results_format.load(path)


@pytest.mark.fast
@pytest.mark.parametrize("reason", list(Reason))
def test_a_refusal_is_valid_results_json_with_its_reason_typed(reason):
    config = {"show_hidden": False, "show_stdout": False, "assignment_name": "rnn_states"}
    problem = Problem(reason, "lab.ipynb", detail="Expecting value: line 1" if reason == "not_json" else "cnn_filters",
                      expected="rnn_states")
    results = refusal(problem, config)
    assert results_format.validate(results, config) == []
    assert refused(json.loads(json.dumps(results))) == problem  # machine-readable, as written to results.json
    message = results["output"]
    assert message == results["tests"][0]["output"] == problem.message()
    assert "lab.ipynb" in message and "export cell" in message  # names the file and what to upload instead
    assert refused({"tests": []}) is None and refused({"extra_data": {"submission_problem": {"reason": "?"}}}) is None


def test_zip_environment_matches_pinned_requirements(gs_zip: Path):
    assert gradescope.check_environment(gs_zip) == []


def test_environment_check_catches_a_wrong_pin_and_python(tmp_path: Path, gs_zip: Path):
    import zipfile

    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(gs_zip) as zi, zipfile.ZipFile(bad, "w") as zo:
        for item in zi.infolist():
            data = zi.read(item.filename)
            if item.filename == "environment.yml":
                data = data.replace(b"keras==3.15.1", b"keras==3.9.0").replace(b"python=3.11", b"python=3.9")
            zo.writestr(item, data)
    problems = gradescope.check_environment(bad)
    assert any("keras" in p for p in problems)
    assert any("python=3.9" in p for p in problems)


# --- outcomes on Gradescope ---------------------------------------------------------------


def test_full_credit_gets_full_marks(graded, gs_submissions):
    result = graded(gs_submissions["full_credit"])
    _assert_valid(result)
    assert set(QUESTIONS) <= set(result.question_scores), _explain(result)
    assert result.max_score > 0
    assert result.score == result.max_score, _explain(result)
    assert result.sandbox.wall_time < 600


def test_solutions_notebook_gets_full_marks(graded, gs_zip):
    result = graded(DIST / "autograder" / "rnn_states.ipynb")
    _assert_valid(result)
    assert result.score == result.max_score > 0, _explain(result)


def test_blank_notebook_scores_zero_listing_every_question(graded, gs_submissions):
    result = graded(gs_submissions["blank"])
    _assert_valid(result)
    scores = result.question_scores
    assert set(QUESTIONS) <= set(scores), _explain(result)
    assert all(scores[q][0] == 0 and scores[q][1] > 0 for q in QUESTIONS), _explain(result)
    assert result.score == 0


def test_export_zip_scores_like_its_notebook(graded, gs_submissions, tmp_path_factory):
    from tools.submissions import run_as_student

    work = tmp_path_factory.mktemp("student-run")
    student = run_as_student(gs_submissions["full_credit"], work)
    assert student.export_zip is not None, f"grader.export() wrote no zip: {student.errors}"
    from_zip = graded(student.export_zip)
    from_notebook = graded(gs_submissions["full_credit"])
    _assert_valid(from_zip)
    assert from_zip.question_scores == from_notebook.question_scores, _explain(from_zip)
    assert from_zip.score == from_notebook.score


def _variant(src: Path, dest: Path, edit) -> Path:
    nb = nbformat.read(src, as_version=4)
    edit(nb)
    nbformat.write(nb, dest)
    return dest


def test_other_assignment_is_refused_naming_the_expected_one(graded, gs_submissions, tmp_path):
    def rename(nb):
        nb.metadata["otter"]["assignment_name"] = "cnn_filters"

    other = _variant(gs_submissions["full_credit"], tmp_path / "rnn_states.ipynb", rename)
    result = graded(other)
    assert result.results is not None, _explain(result)
    text = result.output_text()
    assert "rnn_states" in text and "cnn_filters" in text and "export cell" in text, _explain(result)
    assert refused(result.results) == Problem(Reason.WRONG_ASSIGNMENT, "rnn_states.ipynb", "cnn_filters", "rnn_states")
    assert not any(q in result.question_scores for q in QUESTIONS), "questions were graded"
    assert result.score == 0
    assert "Traceback" not in text
    assert not result.problems, _explain(result)


def test_truncated_notebook_gets_a_message_not_a_traceback(graded, gs_submissions, tmp_path):
    data = gs_submissions["full_credit"].read_bytes()
    truncated = tmp_path / "rnn_states.ipynb"
    truncated.write_bytes(data[: len(data) // 2])
    result = graded(truncated)
    assert result.results is not None, _explain(result)
    text = result.output_text()
    assert "rnn_states.ipynb" in text and "JSON" in text and "export cell" in text, _explain(result)
    problem = refused(result.results)
    assert problem is not None and problem.reason == Reason.NOT_JSON, _explain(result)
    assert "Traceback" not in text
    assert result.score == 0
    assert not result.problems, _explain(result)


def test_endless_cell_is_stopped_and_named(graded, gs_submissions, tmp_path):
    nb = nbformat.read(gs_submissions["full_credit"], as_version=4)
    code_cells = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    at = code_cells[len(code_cells) // 2] + 1  # after a code cell in the middle
    nb.cells.insert(at, nbformat.v4.new_code_cell("while True:\n    pass"))
    looping = tmp_path / "rnn_states.ipynb"
    nbformat.write(nb, looping)

    result = graded(looping)
    _assert_valid(result)
    assert result.sandbox.wall_time < 300, _explain(result)
    # named by its question or experiment, from the grader's own clock, where students read it at upload;
    # the student's code is not echoed
    name = cell_names([(c.cell_type, c.source) for c in nb.cells])[at]
    public = next(t for t in result.results["tests"] if t["name"] == "Public Tests")
    assert f"- {name} was stopped after 60 s (each cell may run 60 s)." in public["output"], _explain(result)
    assert public["visibility"] == "visible"
    assert "while True" not in result.output_text()
    assert set(QUESTIONS) <= set(result.question_scores)


def test_cli_prints_scores_time_and_memory(gs_submissions, gs_zip):
    proc = subprocess.run(
        [sys.executable, "-m", "tools.gradescope", str(gs_submissions["blank"]), "--zip", str(gs_zip), "--log"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    assert "q12" in proc.stdout and "wall time" in proc.stdout and "peak memory" in proc.stdout


def test_what_a_killed_grader_left_behind_is_removed_by_the_next_run(tmp_path: Path):
    """A SIGKILLed batch leaves its overlay mounted and its cgroups behind; the next sandbox removes them."""
    from tools.sandbox import reap_stale

    lower = tmp_path / "lower"
    lower.mkdir()
    leave = (
        "import os, sys; sys.path.insert(0, sys.argv[1]);"
        "from pathlib import Path; from tools.sandbox import _Cgroups, _Overlays;"
        "o = _Overlays([Path(sys.argv[2])]); g = _Cgroups(64 * 2**20, 0.5);"
        "print(o.work, g.memory, g.cpu, flush=True); os._exit(0)"  # as if SIGKILLed: no cleanup
    )
    proc = subprocess.run([sys.executable, "-c", leave, str(ROOT), str(lower)], capture_output=True, text=True,
                          check=True)
    work, memory, cpu = (Path(p) for p in proc.stdout.split())
    assert work.is_dir() and memory.is_dir() and cpu.is_dir()
    assert str(work) in Path("/proc/mounts").read_text()
    removed = reap_stale()
    assert {str(work), str(memory), str(cpu)} <= set(removed), removed
    assert not work.exists() and not memory.exists() and not cpu.exists()
    assert str(work) not in Path("/proc/mounts").read_text()
