"""Build ``dist/`` from the master notebook with Otter Assign.

The master notebook does not carry the grading configuration: ``otter_config.json`` at the
repo root is its single source. The build stages the notebook in ``build/assign/`` with that
configuration written into its ``generate`` key, next to the files the assignment config names
(the ``autograder`` package and ``requirements.txt``), and runs ``otter assign`` there, so the
zip gets exactly the root configuration plus what Otter adds (assignment name, seed).

    python -m tools.build [--no-run-tests]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import nbformat
import yaml

from autograder import upstream
from autograder.integrity.scan import SHIPPED_CELLS as SHIPPED
from autograder.integrity.scan import shipped_file
from autograder.settings import SettingsError

ROOT = Path(__file__).resolve().parent.parent
MASTER = ROOT / "assignment" / "rnn_states.ipynb"
CONFIG = ROOT / "otter_config.json"
STAGE = ROOT / "build" / "assign"
DIST = ROOT / "dist"
# files the assignment config refers to, copied next to the staged notebook
SUPPORT = {"autograder": ROOT / "autograder", "requirements.txt": ROOT / "requirements.txt"}
ASSIGNMENT_CONFIG_MARKER = "# ASSIGNMENT CONFIG"


class BuildError(Exception):
    """A problem with the sources that the instructor has to fix."""


def load_grading_config(path: Path = CONFIG) -> dict[str, Any]:
    """Read ``otter_config.json`` and check it: Otter's keys, then each plugin's settings."""
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BuildError(f"{path} is missing: it holds the grading configuration.") from None
    except json.JSONDecodeError as e:
        raise BuildError(f"{path} is not valid JSON (line {e.lineno}, column {e.colno}): {e.msg}.") from None
    if not isinstance(config, dict):
        raise BuildError(f"{path} must hold a JSON object of Otter autograder settings.")
    try:
        upstream.check_otter_config(config)
    except ValueError as e:
        raise BuildError(f"{path}: {e}. See Otter's otter_config.json reference for the settings.") from None
    check_plugin_settings(config.get("plugins", []), path)
    return config


def check_plugin_settings(plugins: Any, path: Path = CONFIG) -> None:
    """Ask each configured plugin to validate its settings, with the check it runs when grading."""
    try:
        entries = upstream.plugin_entries(plugins)
    except ValueError as e:
        raise BuildError(f"{path}: plugins: {e}.") from None
    for name, settings in entries:
        try:
            plugin = upstream.plugin_class(name)
        except (ImportError, AttributeError, ValueError) as e:
            raise BuildError(f"{path}: plugin {name} cannot be imported ({type(e).__name__}: {e}).") from None
        validate = getattr(plugin, "validate_settings", None)
        if validate is None:  # a plugin that declares no settings (Otter's own) checks them itself
            continue
        try:
            validate(settings)
        except SettingsError as e:
            raise BuildError(f"{path}: {e}") from None


def _assignment_config_cell(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    for cell in nb.cells:
        if cell.cell_type == "raw" and cell.source.lstrip().startswith(ASSIGNMENT_CONFIG_MARKER):
            return cell
    raise BuildError(f"{MASTER} has no raw cell starting with '{ASSIGNMENT_CONFIG_MARKER}'.")


def stage(master: Path = MASTER, config: dict[str, Any] | None = None, stage_dir: Path = STAGE) -> Path:
    """Copy the master notebook and its support files into ``stage_dir`` and return the notebook path."""
    config = load_grading_config() if config is None else config
    nb = nbformat.read(master, as_version=4)
    cell = _assignment_config_cell(nb)
    assignment = yaml.safe_load(cell.source)
    if assignment.get("generate") is not True:
        raise BuildError(
            f"{master}: set 'generate: true' in the assignment config and put grading settings in {CONFIG.name}."
        )
    assignment["generate"] = config
    cell.source = f"{ASSIGNMENT_CONFIG_MARKER}\n" + yaml.safe_dump(assignment, sort_keys=False)

    if stage_dir.exists():
        shutil.rmtree(stage_dir)
    stage_dir.mkdir(parents=True)
    for name, source in SUPPORT.items():
        if source.is_dir():
            shutil.copytree(source, stage_dir / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, stage_dir / name)
    staged = stage_dir / master.name
    nbformat.write(nb, staged)
    return staged


# The zip's entry point. Otter's own run_otter.py crashes without a results.json on a
# truncated notebook; safe_run answers such submissions with a results.json that says why.
RUN_OTTER = '''"""Runs Otter-Grader's autograding process (written by tools/build.py).

Enters through autograder.plugins.safe_run: a submission Otter cannot read (not a notebook,
another assignment) gets a results.json that says why; anything else goes to Otter unchanged.
"""

from autograder.plugins.safe_run import main

if __name__ == "__main__":
    main({autograder_dir!r})
'''


def finalize_zip(
    zip_path: Path,
    student: Path,
    package: Path = SUPPORT["autograder"],
    autograder_dir: str = "/autograder",
) -> None:
    """Put ``autograder/`` at the zip root and enter grading through its safe entry point.

    The integrity scan's scaffold (``autograder/integrity/shipped_cells.json``) is generated here
    from ``student``, the notebook this build distributes, so it can never fall out of step.

    Otter imports plugins in its grading process, whose ``sys.path`` starts at the directory of
    ``run_otter.py`` (``/autograder/source``); Otter Assign ships ``autograder_files`` only under
    ``files/`` (copied next to the submission for the kernel), out of that path.
    """
    tmp = zip_path.with_suffix(".tmp")
    with zipfile.ZipFile(zip_path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            if item.filename == upstream.ENTRY_POINT or item.filename.startswith(f"{package.name}/"):
                continue
            dst.writestr(item, src.read(item.filename))
        dst.writestr(upstream.ENTRY_POINT, RUN_OTTER.format(autograder_dir=autograder_dir))
        for path in sorted(package.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc" and path != SHIPPED:
                dst.write(path, f"{package.name}/{path.relative_to(package).as_posix()}")
        shipped = shipped_file(nbformat.read(student, as_version=4), f"dist/student/{student.name}")
        dst.writestr(f"{package.name}/{SHIPPED.relative_to(package).as_posix()}", shipped)
    os.replace(tmp, zip_path)


def check_dist(dist: Path = DIST) -> Path:
    """Check the layout Otter Assign produced and return the autograder zip."""
    expected = [dist / "student" / MASTER.name, dist / "autograder" / MASTER.name]
    missing = [str(p.relative_to(ROOT)) for p in expected if not p.is_file()]
    if missing:
        raise BuildError(f"otter assign did not produce {', '.join(missing)}.")
    zips = sorted((dist / "autograder").glob("*.zip"))
    if len(zips) != 1:
        raise BuildError(f"expected exactly one autograder zip in {dist / 'autograder'}, found {len(zips)}.")
    return zips[0]


def autograder_zip(dist: Path = DIST) -> Path:
    """Return the built autograder zip, or explain how to build it."""
    try:
        return check_dist(dist)
    except BuildError as e:
        raise BuildError(f"{e} Run `make dist` first.") from None


def check_solutions(zip_path: Path, dist: Path = DIST) -> None:
    """Grade the solutions notebook with ``otter run`` and the finished zip: it must get every point.

    Otter Assign's own test run grades with its intermediate zip and the checkout's plugins;
    this one grades what ships.
    """
    from tools.otter_run import OtterRunError, otter_run
    from tools.registry import registry

    solutions = dist / "autograder" / MASTER.name
    try:
        result = otter_run(solutions, zip_path)
    except OtterRunError as e:
        raise BuildError(f"grading the solutions notebook failed: {e}") from None
    got, possible = result.total
    lost = {q: f"{s:g}/{m:g}" for q, (s, m) in result.scores.items() if s != m}
    if lost or possible != registry().total:
        raise BuildError(
            f"the solutions notebook scores {got:g}/{possible:g} (the notebook's questions are worth"
            f" {registry().total:g}); questions short of full marks: {lost or 'none'}.\n{result.log[-3000:]}"
        )
    print(f"solutions notebook: {got:g}/{possible:g} with the built zip")


def check_questions(master: Path = MASTER, rubric_dir: Path | None = None) -> None:
    """Refuse to build when the notebook's tests and the rubrics disagree (the registry names how)."""
    from autograder.freetext.rubric import RUBRIC_DIR
    from tools.registry import RegistryError, load

    try:
        problems = load(master, rubric_dir or RUBRIC_DIR).problems()
    except RegistryError as e:
        raise BuildError(str(e)) from None
    if problems:  # the zip would grade other points than the rubrics say
        raise BuildError("the notebook's tests and the rubrics disagree:\n  " + "\n  ".join(problems))


def build(run_tests: bool = True, dist: Path = DIST) -> Path:
    """Stage the assignment, run ``otter assign`` into a clean ``dist``, finish the zip and return its path.

    With ``run_tests``, the solutions notebook is then graded with the finished zip (needs root,
    like every grading: see ``autograder/isolation``).
    """
    check_questions()
    staged = stage()
    if dist.exists():
        shutil.rmtree(dist)
    command = [sys.executable, "-m", "otter", "assign", str(staged), str(dist), "--no-run-tests"]
    result = subprocess.run(command, cwd=ROOT)
    if result.returncode != 0:
        raise BuildError("otter assign failed (see its output above); dist/ is incomplete.")
    zip_path = check_dist(dist)
    autograder_dir = load_grading_config().get("autograder_dir", "/autograder")
    finalize_zip(zip_path, dist / "student" / MASTER.name, autograder_dir=autograder_dir)
    if run_tests:
        check_solutions(zip_path, dist)
    return zip_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.build", description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-run-tests", action="store_true", help="skip the solution run of otter assign")
    args = parser.parse_args(argv)
    try:
        zip_path = build(run_tests=not args.no_run_tests)
    except BuildError as e:
        print(f"build failed: {e}", file=sys.stderr)
        return 1
    print(f"built {zip_path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
