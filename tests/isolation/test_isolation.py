"""The isolation pieces on their own: the student user, its kernel, ending its processes, the export reader."""

from __future__ import annotations

import json
import os
import stat
import sys
import time
from pathlib import Path

import nbformat
import numpy as np
import pytest

from autograder.isolation import export
from autograder.isolation.execute import execute
from autograder.isolation.student import FIRST_UID, IsolationError, StudentUser, processes_of

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="isolation needs root")


@pytest.fixture
def user():
    user = StudentUser.acquire()
    yield user
    user.end_processes()
    user.release()


def _run(user, sources, tmp_path, **timeouts):
    scratch = user.make_scratch()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    try:
        ran = execute(nb, user, scratch, cell_timeout=timeouts.get("cell", 20), total_timeout=timeouts.get("total", 60))
        return ran, scratch
    except BaseException:
        user.remove_scratch(scratch)
        raise


def _stdout(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")


def test_two_gradings_get_different_uids(user):
    other = StudentUser.acquire()
    try:
        assert other.uid != user.uid and min(other.uid, user.uid) >= FIRST_UID
    finally:
        other.release()


def test_the_kernel_runs_unprivileged_and_cannot_reach_root_only_files(user, tmp_path):
    secret_dir = tmp_path / "grader"
    secret_dir.mkdir(mode=0o700)
    (secret_dir / "q1.py").write_text("SECRET")
    site = Path(np.__file__).parent
    probe = f"""
import os
status = open('/proc/self/status').read()
print('uid', os.getuid(), os.geteuid(), 'groups', os.getgroups())
print('nonewprivs', [l.split()[1] for l in status.splitlines() if l.startswith('NoNewPrivs')][0])
for path in [{str(secret_dir / 'q1.py')!r}, '/etc/shadow']:
    try:
        open(path).read(); print('READ', path)
    except OSError as e:
        print('denied', type(e).__name__)
try:
    open({str(site / '__init__.py')!r}, 'a').write('#'); print('WROTE site-packages')
except OSError as e:
    print('denied', type(e).__name__)
try:
    os.setuid(0); print('ROOT AGAIN')
except OSError as e:
    print('denied', type(e).__name__)
"""
    ran, scratch = _run(user, [probe], tmp_path)
    try:
        out = _stdout(ran.notebook.cells[0])
        assert f"uid {user.uid} {user.uid} groups []" in out, out
        assert "nonewprivs 1" in out
        assert "READ" not in out and "WROTE" not in out and "ROOT AGAIN" not in out, out
        assert out.count("denied PermissionError") == 4, out
    finally:
        user.remove_scratch(scratch)


def test_processes_started_by_the_kernel_are_ended(user, tmp_path):
    spawn = "import subprocess\nfor _ in range(3):\n    subprocess.Popen(['sleep', '300'], start_new_session=True)"
    ran, scratch = _run(user, [spawn], tmp_path)
    user.remove_scratch(scratch)
    assert ran.processes_ended >= 1
    assert processes_of(user.uid) == []


def test_a_cell_past_its_time_is_interrupted_and_the_next_cells_run(user, tmp_path):
    start = time.monotonic()
    ran, scratch = _run(user, ["x = 1", "while True:\n    pass", "print('after', x)"], tmp_path, cell=5)
    user.remove_scratch(scratch)
    assert ran.timed_out == [1]
    assert "after 1" in _stdout(ran.notebook.cells[2])
    assert time.monotonic() - start < 60


def test_the_export_is_read_back_as_data(user, tmp_path):
    cell = export.export_cell(["a", "b", "missing", "f"])
    ran, scratch = _run(user, ["import numpy as np\na = (1, 8, 3)\nb = np.ones((2, 3))\nf = lambda: 1", cell], tmp_path)
    try:
        namespace, problems = export.load_export(scratch, user.uid)
        assert namespace["a"] == (1, 8, 3) and namespace["b"].shape == (2, 3)
        assert isinstance(namespace["f"], export.NotGradable) and "missing" not in namespace
    finally:
        user.remove_scratch(scratch)


def _fake_export(scratch: Path, owner: int) -> Path:
    out = scratch / export.EXPORT_DIR
    out.mkdir()
    (out / export.VALUES).write_text(json.dumps({"x": {"t": "int", "v": 3}}))
    np.savez(out / export.ARRAYS)
    for path in (scratch, out, out / export.VALUES, out / export.ARRAYS):
        os.chown(path, owner, owner)
    return out


def test_export_reader_refuses_links_foreign_files_and_zip_bombs(tmp_path):
    owner = FIRST_UID + 999
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    out = _fake_export(scratch, owner)
    assert export.load_export(scratch, owner)[0] == {"x": 3}
    # a values file owned by someone else (root: a hard link to a grader file would look like this)
    os.chown(out / export.VALUES, 0, 0)
    assert export.load_export(scratch, owner)[0] is None
    os.chown(out / export.VALUES, owner, owner)
    # the export directory replaced by a link to the tests
    tests = tmp_path / "tests"
    tests.mkdir()
    (out).rename(tmp_path / "moved")
    (scratch / export.EXPORT_DIR).symlink_to(tests)
    namespace, problems = export.load_export(scratch, owner)
    assert namespace is None and "no values were exported" in problems[0]
    # an array that inflates far beyond the budget is not decompressed
    (scratch / export.EXPORT_DIR).unlink()
    out = _fake_export(scratch, owner)
    np.savez_compressed(out / export.ARRAYS, big=np.zeros(5_000_000, dtype=np.float64))
    os.chown(out / export.ARRAYS, owner, owner)
    (out / export.VALUES).write_text(json.dumps({"x": {"t": "array", "k": "big"}}))
    assert stat.S_ISREG((out / export.ARRAYS).stat().st_mode)
    namespace, _ = export.load_export(scratch, owner)
    assert isinstance(namespace["x"], export.NotGradable)


def test_without_root_grading_refuses_with_a_message(monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(IsolationError, match="needs root"):
        StudentUser.acquire()


def test_a_kernel_that_does_not_start_is_reported_not_graded(user, tmp_path, monkeypatch):
    from autograder.isolation import execute as execution

    monkeypatch.setattr(execution, "LAUNCHER", tmp_path / "missing-launcher.py")
    monkeypatch.setattr(execution, "STARTUP_TIMEOUT", 10)
    ran, scratch = _run(user, ["x = 1"], tmp_path)
    user.remove_scratch(scratch)
    assert ran.kernel_failed and not ran.kernel_died


def _export(scratch: Path, owner: int, values: dict, **arrays) -> None:
    """Write ``values.json`` and ``arrays.npz`` (compressed: small on disk) as the student's user."""
    out = scratch / export.EXPORT_DIR
    out.mkdir(exist_ok=True)
    (out / export.VALUES).write_text(json.dumps(values))
    np.savez_compressed(out / export.ARRAYS, **arrays)
    for path in (scratch, out, out / export.VALUES, out / export.ARRAYS):
        os.chown(path, owner, owner)


def _peak(call):
    import tracemalloc

    tracemalloc.start()
    try:
        result = call()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return result, peak


def test_export_budgets_are_checked_before_anything_is_read_or_computed(tmp_path):
    owner = FIRST_UID + 998
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    weights = {f"m.w{i}": np.zeros((1000, 1000), dtype=np.int8) for i in range(16)}  # 16 MB as int8, 128 as float64
    values = {
        "data": {"t": "array", "k": "data"},
        "m": {"t": "model", "config": "{}", "n": 16, "k": "m"},
        "m3": {"t": "model", "config": "{}", "n": 3, "k": "m"},
        "long": {"t": "str", "v": "Yes: o" + "[]" * 500_000},
        "many": {"t": "list", "v": [{"t": "int", "v": 1}] * 1000},
        "ok": {"t": "tuple", "v": [{"t": "int", "v": 1}, {"t": "int", "v": 8}]},
    }
    _export(scratch, owner, values, data=np.zeros((1, 1_000_000, 1), dtype=np.float32), **weights)
    (namespace, problems), peak = _peak(lambda: export.load_export(scratch, owner))
    assert peak < 16 * 1024 * 1024, peak  # headers read, arrays over budget never decompressed
    assert namespace["ok"] == (1, 8)
    assert "1,000,000 numbers" in namespace["data"].reason
    assert "more weight arrays" in namespace["m"].reason and "not exported as arrays" in namespace["m3"].reason
    assert "1,000,006 characters" in namespace["long"].reason
    assert isinstance(namespace["many"], export.NotGradable)
    assert any("weight arrays" in p for p in problems)


def test_a_values_file_that_would_take_too_much_memory_is_not_parsed(tmp_path):
    owner = FIRST_UID + 997
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    _export(scratch, owner, {})
    bomb = b"[" + b"[]," * 650_000 + b"[]]"  # under 2 MB as stored, ~60 MB of lists once parsed
    (scratch / export.EXPORT_DIR / export.VALUES).write_bytes(bomb)
    (namespace, problems), peak = _peak(lambda: export.load_export(scratch, owner))
    assert namespace is None and "too much memory" in problems[0]
    assert peak < 4 * 1024 * 1024


def test_only_a_keras_model_is_exported_as_a_model_not_a_class_with_its_name(user, tmp_path):
    cell = export.export_cell(["real", "fake"])
    source = """
import json
import numpy as np
from keras import Input, Model
from keras.layers import LSTM
inputs = Input(shape=(8, 2))
real = Model(inputs=inputs, outputs=LSTM(3, return_state=True)(inputs))

class Functional:  # the name and module of Keras' class, and a real model's config and weights
    def get_weights(self):
        return real.get_weights()
    def to_json(self):
        return real.to_json()
Functional.__module__ = "keras.src.models.functional"
fake = Functional()
"""
    ran, scratch = _run(user, [source, cell], tmp_path, cell=60, total=120)
    try:
        namespace, problems = export.load_export(scratch, user.uid)
        assert type(namespace["real"]).__name__ == "RecurrentModel", problems
        assert isinstance(namespace["fake"], export.NotGradable)
    finally:
        user.remove_scratch(scratch)


def test_output_is_kept_within_a_budget_and_the_kernel_is_the_oom_killers_first_choice(user, tmp_path):
    from autograder.isolation import execute as execution

    flood = "for _ in range(300):\n    print('x' * 1_000_000)"  # 300 MB through the kernel's stdout
    probe = "print(open('/proc/self/oom_score_adj').read().strip())"
    ran, scratch = _run(user, [probe, flood, "raise ValueError('y' * 5_000_000)"], tmp_path, cell=60, total=120)
    user.remove_scratch(scratch)
    assert _stdout(ran.notebook.cells[0]).strip() == "1000"
    kept = sum(len(json.dumps(o)) for cell in ran.notebook.cells for o in cell.outputs)
    assert kept < execution.MAX_OUTPUT_CHARS + 10_000, kept
    assert not ran.timed_out and not ran.kernel_died
    error = ran.notebook.cells[2].outputs[-1]
    assert error["ename"] == "ValueError" and len(error["evalue"]) <= execution.ERROR_VALUE_CHARS


ROOT = Path(__file__).resolve().parents[2]

_EMPTY_BETWEEN_SUBMISSIONS = """
import os, sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from autograder.isolation.fork_server import _clean_world_writable
shown, own = Path(sys.argv[2]), Path("/tmp/fork-server")
own.mkdir()
Path("/tmp/left-by-a-student").write_text("x")
Path("/dev/shm/segment").write_text("x")
(shown.parent / "beside-the-venv").write_text("x")
_clean_world_writable(keep=str(own))
print(json.dumps({"package": (shown / "lib" / "otter.py").is_file(), "own": own.is_dir(),
                  "student": Path("/tmp/left-by-a-student").exists(), "shm": os.listdir("/dev/shm"),
                  "beside": (shown.parent / "beside-the-venv").exists()}))
""".replace("import os, sys", "import json, os, sys")


def test_emptying_tmp_between_submissions_leaves_what_the_sandbox_mounted_there(tmp_path):
    """A checkout under /tmp shows its virtual environment at its own path inside the worker's /tmp;
    emptying /tmp between submissions deleted it, and every later submission of that worker crashed
    on a module Otter imports late (``otter.run.run_autograder.runners.python_runner``)."""
    from tools import sandbox

    assert str(tmp_path).startswith("/tmp/")  # where a TA's clone in /tmp puts the venv
    venv = tmp_path / "checkout" / ".venv"
    (venv / "lib").mkdir(parents=True)
    (venv / "lib" / "otter.py").write_text("# a package file\n")
    (tmp_path / "root").mkdir()
    out = tmp_path / "out.txt"
    result = sandbox.run([sys.executable, "-c", _EMPTY_BETWEEN_SUBMISSIONS, str(ROOT), str(venv)],
                         root=tmp_path / "root", read_only=[ROOT, Path(sys.prefix)], writable=[venv],
                         output=out, timeout=60)
    assert result.returncode == 0, out.read_text()
    seen = json.loads(out.read_text().strip().splitlines()[-1])
    assert seen == {"package": True, "own": True, "student": False, "shm": [], "beside": False}, seen
