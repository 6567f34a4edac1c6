"""Otter's and Keras' internals the autograder touches (``autograder/upstream.py``) are where it expects them.

Two independent questions per touch: is the installed version the one it was checked against,
and does the touched name still exist with the shape relied on? A failure names the touch and
the versions. A last test keeps every touch in ``upstream.py``.
"""

from __future__ import annotations

import ast
import copy
import importlib
import importlib.metadata
import inspect
import json
import os
from collections.abc import Callable
from pathlib import Path

import nbformat
import numpy as np
import pytest

from autograder import upstream

ROOT = Path(__file__).resolve().parents[2]
TOUCHES = {touch.name: touch for touch in upstream.TOUCHES}
CHECKS: dict[str, Callable[[], None]] = {}

TEST_FILE = '''
from otter.test_files import test_case

OK_FORMAT = False
name = "q1"
points = 3


@test_case(points=2, hidden=True)
def hidden_case(q1_answer, env):
    assert q1_answer == 1, "not 1"


@test_case(points=1, hidden=False)
def public_case(q1_answer):
    assert q1_answer is not None
'''


def check(name: str) -> Callable[[Callable[[], None]], Callable[[], None]]:
    def register(function: Callable[[], None]) -> Callable[[], None]:
        CHECKS[name] = function
        return function

    return register


def _resolve(dotted: str) -> object:
    """The object at ``dotted``: the longest importable module prefix, then attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(f"no module in {dotted}")


def _runner_source() -> str:
    from otter.run.run_autograder.runners.python_runner import PythonRunner

    return inspect.getsource(PythonRunner.run)


@check("otter.run.run_autograder.runners.python_runner.grade_notebook")
def _grade_notebook() -> None:
    from otter.execute import grade_notebook as otters
    from otter.plugins import PluginCollection
    from otter.run.run_autograder.runners import python_runner

    assert "grade_notebook" in python_runner.PythonRunner.run.__code__.co_names, (
        "PythonRunner.run no longer calls the module global grade_notebook"
    )
    source = _runner_source()
    assert source.index('"before_grading"') < source.index("grade_notebook("), "not called after before_grading"
    parameters = inspect.signature(otters).parameters
    for name in ("seed", "seed_variable", "script", "plugin_collection"):
        assert parameters[name].kind is inspect.Parameter.KEYWORD_ONLY, f"{name} is not a keyword argument"
        assert f"{name}=" in source, f"PythonRunner.run no longer passes {name}"
    otters_source = inspect.getsource(otters)
    assert "plugin_collection.before_execution(" in otters_source, "Otter no longer runs before_execution"
    assert 'plugin_collection.run("after_grading", results)' in otters_source, "Otter no longer runs after_grading"

    # the replacement gets Otter's arguments and the real plugin collection's events
    calls = []

    def grade(path, **kwargs):
        calls.append((path, kwargs))
        return "results"

    original = python_runner.grade_notebook
    try:
        upstream.replace_grade_notebook(grade)
        plugins = PluginCollection([], "submission.ipynb", {})
        result = python_runner.grade_notebook("s.ipynb", seed=3, seed_variable="v", script=0, plugin_collection=plugins)
    finally:
        python_runner.grade_notebook = original
    (path, kwargs), = calls
    assert result == "results" and path == "s.ipynb"
    assert (kwargs["seed"], kwargs["seed_variable"], kwargs["script"]) == (3, "v", False)
    nb = nbformat.v4.new_notebook()
    assert kwargs["before_execution"](nb) is nb
    kwargs["after_grading"]("results")


@check("otter.check.notebook.OTTER_LOG_FILENAME")
def _otter_log() -> None:
    from otter.check.notebook import OTTER_LOG_FILENAME
    from otter.run.run_autograder.runners.python_runner import PythonRunner

    assert OTTER_LOG_FILENAME == upstream.OTTER_LOG, f"Otter reads {OTTER_LOG_FILENAME!r}, not {upstream.OTTER_LOG!r}"
    assert "OTTER_LOG_FILENAME" in PythonRunner.run.__code__.co_names, "PythonRunner.run no longer reads the log"
    assert "Log.from_file(OTTER_LOG_FILENAME" in _runner_source(), "the log is no longer unpickled"
    source = _runner_source()
    assert source.index('"before_grading"') < source.index("Log.from_file("), "the log is read before before_grading"


@check("otter.run.run_autograder.utils.OtterRuntimeError")
def _otter_runtime_error() -> None:
    from otter.run import run_autograder
    from otter.run.run_autograder.utils import OtterRuntimeError

    assert isinstance(upstream.grading_error("x"), OtterRuntimeError)
    source = inspect.getsource(run_autograder.main)
    assert "except OtterRuntimeError" in source and '"Autograder Error"' in source, "main no longer reports it"


@check("otter.execute.preprocessor.GradingPreprocessor.filter_ignored_cells/add_seeds")
def _ignored_and_seeded_cells() -> None:
    from otter.execute.preprocessor import IGNORE_CELL_TAG, GradingPreprocessor
    from otter.utils import NOTEBOOK_METADATA_KEY

    assert (IGNORE_CELL_TAG, NOTEBOOK_METADATA_KEY) == (upstream.IGNORE_TAG, upstream.NOTEBOOK_METADATA_KEY)
    cell = nbformat.v4.new_code_cell
    nb = nbformat.v4.new_notebook(
        cells=[
            cell("x = 1"),
            cell("y = 2", metadata={"tags": ["otter_ignore"]}),
            cell("z = 3", metadata={"otter": {"ignore": True}}),
            cell("w = 4", metadata={"otter": {"ignore": False}}),
            cell("%%bash\necho hi"),
            nbformat.v4.new_markdown_cell("text"),
        ]
    )
    otters = copy.deepcopy(nb)
    preprocessor = GradingPreprocessor(seed=2024, seed_variable="rng_seed")
    preprocessor.filter_ignored_cells(otters)
    preprocessor.add_seeds(otters)
    ours = [c for c in copy.deepcopy(nb).cells if not upstream.is_ignored(c)]
    for c in ours:
        upstream.add_seed(c, "rng_seed", 2024)
    assert [(c.cell_type, c.source) for c in ours] == [(c.cell_type, c.source) for c in otters.cells]


@check("otter.nbmeta_config.NBMetadataConfig.assignment_name")
def _assignment_name() -> None:
    from otter.nbmeta_config import NBMetadataConfig

    nb = nbformat.v4.new_notebook(metadata={"otter": {"assignment_name": "rnn_states"}})
    assert NBMetadataConfig.from_notebook(nb).assignment_name == "rnn_states"
    assert upstream.notebook_assignment(json.loads(nbformat.writes(nb))) == "rnn_states"


@check("otter.test_files.ExceptionTestFile/test_case/abstract_test.TestCaseResult")
def _test_files() -> None:
    test_file = upstream.parse_test_file(TEST_FILE, "./tests/q1.py")
    assert test_file.name == "q1"
    hidden = [tc for tc in test_file.test_cases if tc.hidden]
    assert [upstream.case_function(tc).__name__ for tc in hidden] == ["hidden_case"]
    upstream.run_case(hidden[0], {"q1_answer": 1})
    with pytest.raises(AssertionError, match="not 1"):
        upstream.run_case(hidden[0], {})  # a missing parameter is None
    # Otter scores the results recorded this way
    test_file.test_cases = hidden
    test_file.test_case_results = [upstream.case_result(hidden[0], "ok", passed=True)]
    assert (test_file.score, test_file.possible) == (2, 2)
    test_file.test_case_results = [upstream.case_result(hidden[0], "no", passed=False)]
    assert test_file.score == 0


@check("otter.test_files.GradingResults.to_gradescope_dict")
def _public_tests_entry() -> None:
    from otter.run.run_autograder.autograder_config import AutograderConfig
    from otter.test_files import GradingResults

    from autograder.isolation.results import PUBLIC_SUMMARY, IsolatedResults

    test_file = upstream.parse_test_file(TEST_FILE, "./tests/q1.py")
    config = AutograderConfig({"show_hidden": False, "force_public_test_summary": True})
    assert GradingResults([test_file]).to_gradescope_dict(config)["tests"][0]["name"] == upstream.PUBLIC_TESTS
    tests = IsolatedResults([test_file], notebook=nbformat.v4.new_notebook()).to_gradescope_dict(config)["tests"]
    assert tests[0]["output"] == PUBLIC_SUMMARY
    assert all({"name", "score", "max_score", "visibility", "output"} <= set(t) for t in tests), tests


@check("otter.run.run_autograder.main via Otter Generate's run_otter.py")
def _entry_point() -> None:
    import otter.generate
    from otter.run.run_autograder import main

    templates = Path(otter.generate.__file__).parent / "templates" / "common"
    assert "from otter.run.run_autograder import main" in (templates / upstream.ENTRY_POINT).read_text()
    assert f"source/{upstream.ENTRY_POINT}" in (templates / "run_autograder").read_text()
    assert list(inspect.signature(main).parameters)[0] == "autograder_dir"


@check("PythonRunner.run reads ../submission_metadata.json with json.load when plugins are configured")
def _submission_metadata() -> None:
    import tempfile

    source = _runner_source()
    assert f'open("../{upstream.SUBMISSION_METADATA}"' in source and "json.load(f)" in source, "no longer read so"
    assert f"touch /autograder/{upstream.SUBMISSION_METADATA}" in upstream.grade_dockerfile(), "no longer empty"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, upstream.SUBMISSION_METADATA)
        assert not upstream.blank_metadata_as_none(tmp)  # missing: left missing
        path.write_text(" \n")
        assert upstream.blank_metadata_as_none(tmp) and json.loads(path.read_text()) == {}
        path.write_text('{"id": 1}')
        assert not upstream.blank_metadata_as_none(tmp) and path.read_text() == '{"id": 1}'


@check("otter.grade.containers.grade_submission reads results/results.pkl (dill GradingResults.without_results)")
def _results_pickle() -> None:
    import tempfile

    import dill
    from otter.grade import containers
    from otter.grade.utils import merge_scores_to_df

    source = inspect.getsource(containers.grade_submission)
    assert f"/autograder/results/{upstream.RESULTS_PICKLE}" in source and "dill.load(f)" in source
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, upstream.RESULTS_PICKLE)
        upstream.write_not_graded(str(path), "Submission not graded: x.ipynb is not JSON")
        results = dill.loads(path.read_bytes())
    assert results.has_catastrophic_failure() and results.total == 0
    results.file = "x.ipynb"
    row = merge_scores_to_df([results]).to_dict("records")[0]
    assert row["grading_status"] == "Submission not graded: x.ipynb is not JSON", row


@check("otter/grade/Dockerfile")
def _grade_dockerfile() -> None:
    from tools.docker.layout import instructions

    steps = instructions(upstream.grade_dockerfile())
    adds = [arguments for keyword, arguments in steps if keyword == "ADD"]
    assert "files* /autograder/source/files/" in adds and "tests /autograder/source/tests/" in adds, adds
    assert not any(a.split()[0] in ("autograder", ".") for a in adds), "the image now adds the zip root's package"
    setup = next(i for i, (k, a) in enumerate(steps) if "setup.sh" in a and k == "RUN")
    config = next(i for i, (k, a) in enumerate(steps) if "otter_config.json" in a)
    assert setup < config, "otter_config.json is now in the image before setup.sh runs"


@check("otter/generate/templates/python/setup.sh: the PDF branch's condition and the playwright line")
def _setup_template() -> None:
    import otter.generate

    template = (Path(otter.generate.__file__).parent / "templates" / "python" / "setup.sh").read_text()
    template = template.replace("{{ autograder_dir }}", "{autograder_dir}").replace("{{ otter_env_name }}", "{env}")
    assert template.count(upstream.SETUP_PDF_CONDITION) == 1
    assert template.count(upstream.SETUP_PLAYWRIGHT) == 1
    assert otter.generate.OTTER_ENV_NAME == upstream.OTTER_ENV


@check("otter.run.run_autograder.autograder_config.AutograderConfig")
def _autograder_config() -> None:
    upstream.check_otter_config({"show_hidden": True, "plugins": []})
    with pytest.raises(ValueError, match="show_hiden"):
        upstream.check_otter_config({"show_hiden": True})


@check("otter.plugins.PluginCollection._parse_plugin_config/_load_plugins")
def _plugin_entries() -> None:
    from otter.plugins import PluginCollection

    plugins = json.loads((ROOT / "otter_config.json").read_text())["plugins"]
    entries = upstream.plugin_entries(["a.B", *plugins])
    assert entries[0] == ("a.B", {}) and entries[1:] == [(next(iter(p)), next(iter(p.values()))) for p in plugins]
    with pytest.raises(ValueError):
        upstream.plugin_entries([{"a.B": {}, "c.D": {}}])
    # the classes Otter instantiates are the ones the build validates with
    loaded = PluginCollection._load_plugins(PluginCollection._parse_plugin_config(plugins), "", {})
    assert [type(p) for p in loaded] == [upstream.plugin_class(name) for name, _ in entries[1:]]


@check("otter.grade.utils.merge_scores_to_df")
def _grades_frame() -> None:
    import otter.grade.utils as utils

    for name in ("POINTS_POSSIBLE_LABEL", "SCORES_DICT_FILE_KEY", "SCORES_DICT_TOTAL_POINTS_KEY",
                 "SCORES_DICT_PERCENT_CORRECT_KEY", "SCORES_DICT_GRADING_STATUS_KEY"):
        assert getattr(utils, name) == getattr(upstream, name), name

    class StandIn:  # only what the batch grader's stand-ins offer
        def __init__(self, file: str, scores: dict, error: str | None = None):
            self.file, self._scores, self.catastrophic_error = file, scores, error

        def to_dict(self):
            return {q: {"score": s, "possible": m} for q, (s, m) in self._scores.items()}

        def has_catastrophic_failure(self):
            return self.catastrophic_error is not None

        total = property(lambda self: sum(s for s, _ in self._scores.values()))
        possible = property(lambda self: sum(m for _, m in self._scores.values()))
        percent = property(lambda self: self.total / self.possible if self.possible else 0)

    df = upstream.grades_frame([StandIn("a.ipynb", {"q1": (1, 2)}), StandIn("b.ipynb", {}, "timeout")])
    rows = {row[upstream.SCORES_DICT_FILE_KEY]: row for row in df.to_dict("records")}
    assert set(rows) == {upstream.POINTS_POSSIBLE_LABEL, "a.ipynb", "b.ipynb"}, rows
    assert rows["a.ipynb"]["q1"] == 1 and rows[upstream.POINTS_POSSIBLE_LABEL]["q1"] == 2, rows


@check("Otter's grading machinery (otter.execute.Checker, otter.test_files, otter.Notebook.init_grading_mode)")
def _scanned_names() -> None:
    for name, where in {**upstream.OTTER_GRADING_CLASSES, **upstream.OTTER_GRADING_ATTRIBUTES}.items():
        assert where.rsplit(".", 1)[-1] == name, where
        try:
            _resolve(where)
        except (ImportError, AttributeError) as e:
            raise AssertionError(f"{name} is no longer {where} ({e})") from None


def _keras():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    return keras


@check("keras.src.models.functional.Functional")
def _functional_class() -> None:
    keras = _keras()
    inputs = keras.Input(shape=(8, 2))
    model = keras.Model(inputs=inputs, outputs=keras.layers.LSTM(3)(inputs))
    kind = type(model)
    assert f"{kind.__module__}.{kind.__qualname__}" == upstream.KERAS_FUNCTIONAL, kind


@check("keras Model.to_json() of a functional model, and LSTM/GRU weight order")
def _model_layout() -> None:
    from autograder.recurrent_model import RecurrentModel

    keras = _keras()
    keras.utils.set_random_seed(0)
    data = np.random.default_rng(1).normal(size=(2, 8, 2)).astype("float32")
    for layer in (keras.layers.LSTM(3, return_state=True), keras.layers.GRU(3, return_sequences=True)):
        inputs = keras.Input(shape=(8, 2))
        model = keras.Model(inputs=inputs, outputs=layer(inputs))
        expected = model.predict(data, verbose=0)
        expected = list(expected) if isinstance(expected, (list, tuple)) else [expected]
        got = RecurrentModel.parse(model.to_json(), model.get_weights()).predict(data)
        assert len(got) == len(expected), type(layer).__name__
        for g, e in zip(got, expected, strict=True):
            np.testing.assert_allclose(g, e, atol=1e-5, err_msg=type(layer).__name__)


@pytest.mark.fast
def test_every_touch_has_a_check():
    assert set(CHECKS) == set(TOUCHES), "a touch in upstream.py without a check here, or a check of no touch"


@pytest.mark.fast
@pytest.mark.parametrize("name", sorted(TOUCHES))
def test_installed_version_is_the_one_checked(name):
    touch = TOUCHES[name]
    installed = importlib.metadata.version(touch.package)
    if installed != touch.version:
        pytest.fail(
            f"{touch.name}: checked against {touch.package} {touch.version}, {installed} is installed. "
            f"Check that it still holds ({touch.why}) and record {installed} in autograder/upstream.py.",
            pytrace=False,
        )


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_touched_name_still_has_its_shape(name):
    touch = TOUCHES[name]
    try:
        CHECKS[name]()
    except Exception as e:  # ImportError, AttributeError, AssertionError, ...: all mean it moved
        installed = importlib.metadata.version(touch.package)
        pytest.fail(
            f"{touch.name} moved (checked against {touch.package} {touch.version}, {installed} installed): "
            f"{type(e).__name__}: {e}\nrelied on: {touch.why}",
            pytrace=False,
        )


# public names the rest of the code may import; every other import of Otter or Keras is a touch
PUBLIC = {("otter.plugins", "AbstractOtterPlugin"), ("otter.test_files", "GradingResults"), ("keras", "")}
SCANNED = [p for p in [*ROOT.glob("autograder/**/*.py"), *ROOT.glob("tools/**/*.py")] if p.name != "upstream.py"]


@pytest.mark.fast
def test_every_touch_lives_in_upstream():
    outside = []
    for path in SCANNED:
        source = path.read_text(encoding="utf-8")
        if "keras.src" in source:
            outside.append(f"{path.relative_to(ROOT)}: keras.src")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                imported = [(alias.name, "") for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported = [(node.module, alias.name) for alias in node.names]
            else:
                continue
            for module, name in imported:
                if module.split(".")[0] in ("otter", "keras") and (module, name) not in PUBLIC:
                    outside.append(f"{path.relative_to(ROOT)}:{node.lineno}: {module} {name}".rstrip())
    assert not outside, "move these into autograder/upstream.py:\n" + "\n".join(outside)
