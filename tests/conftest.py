"""Shared fixtures: the built distribution and reference submissions graded once per session.

Two speeds: ``make test`` runs everything; ``make test-fast`` runs the tests marked ``fast``
(no TensorFlow, no ``dist/``, no root), which this file holds to that promise. The tests are laid
out like the source (tests/README.md); what several folders share is in ``tests/helpers/``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tools.build import DIST, BuildError, autograder_zip, build
from tools.otter_run import OtterRunResult, otter_run
from tools.submissions import build_all, load_answer_set

# fixtures several folders use, defined once so that a session-scoped one runs once
pytest_plugins = ["tests.helpers.graded_folder", "tests.helpers.review_sheet"]

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


@pytest.fixture(scope="session")
def ag_zip() -> Path:
    """The autograder zip in dist/, built with its solution run if dist/ is missing."""
    try:
        return autograder_zip()
    except BuildError:
        return build(run_tests=True)


@pytest.fixture(scope="session")
def submissions(ag_zip: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Reference submissions (answer sets + blank) built from the student notebook."""
    return build_all(tmp_path_factory.mktemp("submissions"))


@pytest.fixture(scope="session")
def grade(ag_zip: Path, tmp_path_factory: pytest.TempPathFactory) -> Callable[[Path], OtterRunResult]:
    """Grade a submission with `otter run` and the built zip; results cached per path."""
    cache: dict[Path, OtterRunResult] = {}

    def _grade(path: Path) -> OtterRunResult:
        if path not in cache:
            cache[path] = otter_run(path, ag_zip, tmp_path_factory.mktemp("otter-run"))
        return cache[path]

    return _grade


@pytest.fixture(scope="session")
def expected() -> Callable[[str], dict[str, float]]:
    return lambda name: {q: float(p) for q, p in load_answer_set(name).get("expect", {}).items()}


@pytest.fixture(scope="session")
def dist() -> Path:
    return DIST


# fixtures that need dist/ (and so otter assign, TensorFlow, root): a fast test may not use them
NEEDS_DIST = frozenset({"ag_zip", "submissions", "grade", "dist"})
HEAVY_MODULES = ("tensorflow", "keras")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    misfiled = [
        f"{item.nodeid} (uses {', '.join(sorted(NEEDS_DIST & set(item.fixturenames)))})"
        for item in items
        if item.get_closest_marker("fast") and NEEDS_DIST & set(item.fixturenames)
    ]
    if misfiled:
        raise pytest.UsageError("tests marked fast that need dist/: " + "; ".join(misfiled))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if session.config.option.markexpr != "fast":
        return
    imported = [name for name in HEAVY_MODULES if name in sys.modules]
    if imported:
        print(f"\nthe fast tier imported {', '.join(imported)}: a test marked fast needs it", file=sys.stderr)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Keep each phase's report on the test item, so fixtures can tell whether the test failed."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
