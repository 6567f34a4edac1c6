"""Every touch of Otter's and Keras' internals, each with the version it was checked against.

The autograder relies on Otter and Keras beyond their documented API here and nowhere else
(plugin events, ``otter.Notebook``, ``GradingResults``' plugin methods and Keras'
``to_json``/``get_weights`` are public and used where needed). Each touch is declared with
``_touch``: the upstream name, the package and version it was checked against, and why it is
needed. ``tests/grading/test_upstream.py`` checks the installed versions against these and, on its own,
that each touched name still exists with the shape relied on. After an upgrade: fix what that
test names, then record the new version on the touches it passes.

Otter is imported inside the functions that need it: the zip's entry point
(``autograder.plugins.safe_run``) reads this module before Otter is loaded (2 s it does not
spend on a refused upload), and the grading process has loaded every module used here before
any plugin starts, so nothing is imported after student code runs.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from otter.test_files import ExceptionTestFile, GradingResults
    from otter.test_files.abstract_test import TestCase, TestCaseResult


@dataclass(frozen=True)
class Touch:
    package: str  # the distribution, as pip names it
    version: str  # the version this touch was checked against
    name: str  # the upstream name (or behaviour) relied on
    why: str


TOUCHES: list[Touch] = []


def _touch(package: str, version: str, name: str, why: str) -> None:
    TOUCHES.append(Touch(package, version, name, why))


# --- Otter's runner: where isolated grading takes over -------------------------------------

_touch(
    "otter-grader",
    "7.0.0",
    "otter.run.run_autograder.runners.python_runner.grade_notebook",
    "isolated grading replaces Otter's in-kernel execution: PythonRunner.run looks this module "
    "global up after the before_grading event and calls it with keyword arguments; the replacement "
    "runs the plugins' before_execution and after_grading events, as Otter's grade_notebook does",
)


def replace_grade_notebook(grade: Callable[..., GradingResults]) -> None:
    """Make Otter's runner call ``grade`` in place of ``grade_notebook`` (call in ``before_grading``).

    ``grade(submission_path, *, seed, seed_variable, script, before_execution, after_grading)``:
    the last two are the plugins' events (``None`` without plugins).
    """
    from otter.run.run_autograder.runners import python_runner

    def grade_notebook(submission_path: str, **otter_kwargs: Any) -> GradingResults:
        """Otter's call, translated: the seed, script flag and plugin events it passes, handed to ``grade``."""
        plugins = otter_kwargs.get("plugin_collection")
        return grade(
            submission_path,
            seed=otter_kwargs.get("seed"),
            seed_variable=otter_kwargs.get("seed_variable"),
            script=bool(otter_kwargs.get("script")),
            before_execution=None if plugins is None else plugins.before_execution,
            after_grading=None if plugins is None else lambda results: plugins.run("after_grading", results),
        )

    python_runner.grade_notebook = grade_notebook


_touch(
    "otter-grader",
    "7.0.0",
    "otter.check.notebook.OTTER_LOG_FILENAME",
    "PythonRunner.run unpickles (dill) this file of the submission directory right after the "
    "before_grading event; the isolation plugin deletes an uploaded one first",
)
OTTER_LOG = ".OTTER_LOG"

_touch(
    "otter-grader",
    "7.0.0",
    "otter.run.run_autograder.utils.OtterRuntimeError",
    "raised during grading, Otter's main catches it and writes a results.json whose one test "
    "('Autograder Error') shows the message",
)


def grading_error(message: str) -> Exception:
    """The exception that ends Otter's grading run with ``message`` shown as its result."""
    from otter.run.run_autograder.utils import OtterRuntimeError

    return OtterRuntimeError(message)


# --- what Otter runs of a submission --------------------------------------------------------

_touch(
    "otter-grader",
    "7.0.0",
    "otter.execute.preprocessor.GradingPreprocessor.filter_ignored_cells/add_seeds",
    "the isolated run executes the cells Otter would (not those tagged otter_ignore or with "
    '{"otter": {"ignore": true}} metadata) with Otter\'s intercell seeding: "seed_variable = seed" '
    "first in every code cell but cell magics",
)
IGNORE_TAG = "otter_ignore"
NOTEBOOK_METADATA_KEY = "otter"


def is_ignored(cell: Any) -> bool:
    """Whether Otter leaves ``cell`` out of grading."""
    metadata = cell.get("metadata", {})
    return IGNORE_TAG in metadata.get("tags", []) or bool(metadata.get(NOTEBOOK_METADATA_KEY, {}).get("ignore"))


def add_seed(cell: Any, seed_variable: str | None, seed: int | None) -> None:
    """Prepend Otter's seed line to a code cell (with a seed variable; the other seeding mode is not used)."""
    if cell.cell_type == "code" and seed_variable and seed is not None and not cell.source.startswith("%%"):
        cell.source = f"{seed_variable} = {seed}\n{cell.source}"


_touch(
    "otter-grader",
    "7.0.0",
    "otter.nbmeta_config.NBMetadataConfig.assignment_name",
    "safe_run refuses a notebook of another assignment before Otter does, reading the name where "
    "Otter reads it (the notebook's metadata.otter.assignment_name)",
)


def notebook_assignment(nb: Any) -> str | None:
    """The Otter assignment name in a notebook read as plain JSON (``None`` if it has none)."""
    metadata = nb.get("metadata", {}) if isinstance(nb, dict) else {}
    otter = metadata.get(NOTEBOOK_METADATA_KEY, {}) if isinstance(metadata, dict) else {}
    return otter.get("assignment_name") if isinstance(otter, dict) else None


# --- Otter's test files and results ---------------------------------------------------------

_touch(
    "otter-grader",
    "7.0.0",
    "otter.test_files.ExceptionTestFile/test_case/abstract_test.TestCaseResult",
    "the hidden tests are parsed before student code runs and run in the grading process; each "
    "case's result is recorded as Otter's TestCaseResult in TestFile.test_case_results, which Otter scores",
)


def parse_test_file(source: str, path: str) -> ExceptionTestFile:
    """An exception-format test file from its source; its test code runs now."""
    from otter.test_files import ExceptionTestFile

    return ExceptionTestFile.from_string(source, path=path)


def case_function(case: TestCase) -> Callable[..., None]:
    """The function a test case decorates (its parameters name the values the case takes)."""
    return case.body.test_func


def run_case(case: TestCase, env: dict[str, Any]) -> None:
    """Call a test case on ``env`` as Otter does (each parameter from ``env``, ``None`` if missing)."""
    case.body.call_func(env)


def case_result(case: TestCase, message: str, passed: bool) -> TestCaseResult:
    """An Otter ``TestCaseResult`` for ``case`` (Otter's class, imported only when needed)."""
    from otter.test_files.abstract_test import TestCaseResult

    return TestCaseResult(test_case=case, message=message, passed=passed)


_touch(
    "otter-grader",
    "7.0.0",
    "otter.test_files.GradingResults.to_gradescope_dict",
    "IsolatedResults rewrites the summary entry Otter names 'Public Tests' (public checks are not "
    "rerun in grading) and fills in the fields Otter leaves out of it",
)
PUBLIC_TESTS = "Public Tests"


# --- the zip's entry point and configuration -------------------------------------------------

_touch(
    "otter-grader",
    "7.0.0",
    "otter.run.run_autograder.main via Otter Generate's run_otter.py",
    "the build replaces the zip's run_otter.py (which Gradescope's run_autograder runs) with one that "
    "enters through safe_run, which then calls Otter's main as Otter's own run_otter.py does",
)
ENTRY_POINT = "run_otter.py"


def run_autograder(autograder_dir: str) -> None:
    """Run Otter's autograder on ``autograder_dir``, as Otter's own ``run_otter.py`` does."""
    from otter.run.run_autograder import main

    main(autograder_dir)


_touch(
    "otter-grader",
    "7.0.0",
    "PythonRunner.run reads ../submission_metadata.json with json.load when plugins are configured",
    "otter grade's Dockerfile (otter/grade/Dockerfile) touches an empty /autograder/submission_metadata.json, "
    "which json.load refuses (JSONDecodeError, every submission 0); safe_run writes '{}' into a blank one first, "
    "which is what an empty file means: no metadata",
)
SUBMISSION_METADATA = "submission_metadata.json"


def blank_metadata_as_none(autograder_dir: str) -> bool:
    """Make a blank ``submission_metadata.json`` read as "no metadata" (``{}``); True if it was blank.

    A missing file is left missing (Otter's own error says so), a non-blank one untouched.
    """
    path = os.path.join(autograder_dir, SUBMISSION_METADATA)
    try:
        with open(path, "rb") as f:
            blank = not f.read(1 << 16).strip()
    except OSError:
        return False
    if blank:
        with open(path, "w", encoding="utf-8") as f:
            f.write("{}\n")
    return blank


_touch(
    "otter-grader",
    "7.0.0",
    "otter.grade.containers.grade_submission reads results/results.pkl (dill GradingResults.without_results)",
    "otter grade reads back the container's /autograder/results/results.pkl, not results.json, and "
    "records a failure when it is empty; a submission safe_run refuses gets a pickled "
    "GradingResults.without_results whose error is the reason, which otter grade puts in the CSV's "
    "grading_status (a builtin exception, so the TA's otter unpickles it without this package)",
)
RESULTS_PICKLE = "results.pkl"


def write_not_graded(path: str, reason: str) -> None:
    """Write at ``path`` the ``results.pkl`` otter grade reads for a submission that was not graded."""
    import dill
    from otter.test_files import GradingResults

    with open(path, "wb") as f:
        dill.dump(GradingResults.without_results(ValueError(reason)), f)


def load_otter() -> None:
    """Import what ``run_autograder`` runs (a batch worker's fork server does it once, up front)."""
    from otter.run.run_autograder import main  # noqa: F401


_touch(
    "otter-grader",
    "7.0.0",
    "otter.run.run_autograder.autograder_config.AutograderConfig",
    "the build checks otter_config.json's keys with the class Otter reads it with (fica, "
    "require_valid_keys=True), so a misspelt key fails the build",
)


def check_otter_config(config: dict[str, Any]) -> None:
    """Raise ``ValueError`` naming a key Otter's autograder config does not have."""
    from otter.run.run_autograder.autograder_config import AutograderConfig

    AutograderConfig(config, require_valid_keys=True)


_touch(
    "otter-grader",
    "7.0.0",
    "otter.plugins.PluginCollection._parse_plugin_config/_load_plugins",
    "the build reads the plugins list and imports each plugin class exactly as Otter will "
    "(a name, or a one-key object of name: settings; the class is the name after the last dot)",
)


def plugin_entries(plugins: Any) -> list[tuple[str, Any]]:
    """``(importable class name, settings)`` for each plugin of ``otter_config.json``; ``ValueError`` if malformed."""
    from otter.plugins import PluginCollection

    return [(entry["plugin"], entry["config"]) for entry in PluginCollection._parse_plugin_config(plugins)]


def plugin_class(name: str) -> type:
    """The class a dotted name such as ``autograder.isolation.IsolatedGrading`` names, importing its module."""
    module, _, class_name = name.rpartition(".")
    return getattr(importlib.import_module(module), class_name)


# --- otter grade's image and the setup.sh Otter Generate writes --------------------------------

_touch(
    "otter-grader",
    "7.0.0",
    "otter/grade/Dockerfile",
    "otter grade builds its grading image with this Dockerfile: it ADDs only run_autograder, setup.sh, "
    "environment.yml, requirements.*, otter_config.json (after setup.sh ran), run_otter.py, files* and "
    "tests of the zip, and touches an empty submission_metadata.json; the zip's run_otter.py finds the "
    "grader package under files/, and tools/docker/layout.py reads this file to lay out /autograder as "
    "the image does, for the test that needs no Docker",
)


def grade_dockerfile() -> str:
    """The text of the Dockerfile ``otter grade`` builds its image with (``otter/grade/Dockerfile``)."""
    import importlib.resources

    return (importlib.resources.files("otter.grade") / "Dockerfile").read_text(encoding="utf-8")


_touch(
    "otter-grader",
    "7.0.0",
    "otter/generate/templates/python/setup.sh: the PDF branch's condition and the playwright line",
    "the build rewrites the zip's setup.sh so that the PDF tools (LaTeX, pandoc from GitHub, playwright's "
    "Chromium from its CDN) are installed only when the zip asks for PDFs: Otter's condition reads "
    "otter_config.json, which otter grade's image adds only after setup.sh, and `jq -e` on the missing "
    "file exits 0, so every otter grade image installed about 684 MB of LaTeX; playwright only exports PDFs",
)
SETUP_PDF_CONDITION = "if cat {autograder_dir}/source/otter_config.json | jq -e '[.pdf, .token] | any'; then"
SETUP_PLAYWRIGHT = 'mamba run -n {env} bash -c "playwright install-deps && playwright install chromium"'
OTTER_ENV = "otter-env"  # the environment name Otter Generate gives environment.yml


# --- otter grade's grade sheet (used by the TA's batch grader, tools/batch) -------------------

_touch(
    "otter-grader",
    "7.0.0",
    "otter.grade.utils.merge_scores_to_df",
    "the batch grader's final_grades.csv is built by the function otter grade writes its own with, "
    "so columns, the points-possible row, sorting and number formatting are Otter's; it is handed "
    "stand-ins for GradingResults with the attributes it reads (file, to_dict, "
    "has_catastrophic_failure, catastrophic_error, total, possible, percent)",
)
POINTS_POSSIBLE_LABEL = "points-per-question"
SCORES_DICT_FILE_KEY = "file"
SCORES_DICT_TOTAL_POINTS_KEY = "total_points_earned"
SCORES_DICT_PERCENT_CORRECT_KEY = "percent_correct"
SCORES_DICT_GRADING_STATUS_KEY = "grading_status"


def grades_frame(results: list[Any]) -> Any:
    """Otter's grade-sheet DataFrame for ``results`` (stand-ins for ``GradingResults``)."""
    from otter.grade.utils import merge_scores_to_df

    return merge_scores_to_df(results)


# --- names the integrity scan knows ---------------------------------------------------------

_touch(
    "otter-grader",
    "7.0.0",
    "Otter's grading machinery (otter.execute.Checker, otter.test_files, otter.Notebook.init_grading_mode)",
    "the integrity scan flags student code naming these; a name Otter renames would go unflagged",
)
# name -> where it lives; classes are flagged as names and as attributes, the rest as attributes
OTTER_GRADING_CLASSES = {
    "Checker": "otter.execute.Checker",
    "GradingResults": "otter.test_files.GradingResults",
}
OTTER_GRADING_ATTRIBUTES = {
    "test_case": "otter.test_files.test_case",
    "TestFile": "otter.test_files.TestFile",
    "TestCaseResult": "otter.test_files.abstract_test.TestCaseResult",
    "ExceptionTestFile": "otter.test_files.ExceptionTestFile",
    "check_if_not_already_checked": "otter.execute.Checker.check_if_not_already_checked",
    "init_grading_mode": "otter.Notebook.init_grading_mode",
    "get_results": "otter.execute.Checker.get_results",
    "_test_files": "otter.execute.Checker._test_files",
    "_track_results": "otter.execute.Checker._track_results",
}


# --- Keras -------------------------------------------------------------------------------------

_touch(
    "keras",
    "3.15.1",
    "keras.src.models.functional.Functional",
    "the export cell (run in the student's kernel) exports a model built with Model(inputs, outputs) "
    "by the exact class path of its type, without importing anything of Keras' itself",
)
KERAS_FUNCTIONAL = "keras.src.models.functional.Functional"

_touch(
    "keras",
    "3.15.1",
    "keras Model.to_json() of a functional model, and LSTM/GRU weight order",
    "autograder/recurrent_model.py reads an exported model as this data (class_name, config.layers, "
    "inbound_nodes args with keras_history, output_layers, the Input's batch_shape; kernel, "
    "recurrent kernel, bias) and computes its forward pass in NumPy",
)
