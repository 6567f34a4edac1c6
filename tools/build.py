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
# Gradescope unpacks the whole zip into /autograder/source, so the package is found at the
# zip root; otter grade's image (otter/grade/Dockerfile) adds only files*, tests and a few
# named files, so there it is found under files/ (a complete copy, FILES_PACKAGE).
RUN_OTTER = '''"""Runs Otter-Grader's autograding process (written by tools/build.py).

Enters through autograder.plugins.safe_run: a submission Otter cannot read (not a notebook,
another assignment) gets a results.json that says why; anything else goes to Otter.
"""

import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
# Gradescope's layout has autograder/ next to this file; otter grade's image only files/autograder/
if not os.path.isfile(os.path.join(here, "autograder", "__init__.py")):
    sys.path.insert(0, os.path.join(here, "files"))

from autograder.plugins.safe_run import main  # noqa: E402

if __name__ == "__main__":
    main({autograder_dir!r})
'''
FILES_PACKAGE = "files"  # where Otter Assign puts autograder_files, and the package's second copy


def package_files(package: Path, student: Path) -> dict[str, bytes]:
    """The grader package as shipped: relative path -> content, with the scan's generated scaffold list."""
    files = {
        path.relative_to(package).as_posix(): path.read_bytes()
        for path in sorted(package.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc" and path != SHIPPED
    }
    shipped = shipped_file(nbformat.read(student, as_version=4), f"dist/student/{student.name}")
    files[SHIPPED.relative_to(package).as_posix()] = shipped.encode("utf-8")
    return files


def pdf_requested(config: dict[str, Any]) -> bool:
    """Whether Otter makes PDFs with this configuration (its setup.sh test: ``[.pdf, .token] | any``)."""
    return bool(config.get("pdf") or config.get("token"))


def rewrite_setup(text: str, config: dict[str, Any], autograder_dir: str = "/autograder") -> str:
    """Otter's setup.sh, installing the PDF tools only when the zip asks for PDFs.

    Otter's template decides from ``otter_config.json``, which otter grade's image adds after
    setup.sh ran (``jq -e`` then exits 0 on no input: LaTeX and pandoc get installed); and it
    installs playwright's Chromium, which only PDF export uses, always. Here the decision is made
    once: from ``otter_config.json`` when it is there (Gradescope), else from the zip's own
    configuration as built; the playwright line moves under it.
    """
    condition = upstream.SETUP_PDF_CONDITION.format(autograder_dir=autograder_dir)
    playwright = upstream.SETUP_PLAYWRIGHT.format(env=upstream.OTTER_ENV)
    for line in (condition, playwright):
        if text.count(line) != 1:
            raise BuildError(
                f"the setup.sh Otter Assign wrote no longer has the line {line!r} once: Otter's template"
                " changed; update autograder/upstream.py (SETUP_*) and tools/build.py (rewrite_setup)."
            )
    config_path = f"{autograder_dir}/source/otter_config.json"
    # otter_config.json decides where it is present (Gradescope); otter grade's image adds it only
    # after setup.sh, so there the zip's own setting, known now, decides
    decide = (
        f"if [ -f {config_path} ]; then\n"
        f"    OTTER_PDF=$(jq '[.pdf, .token] | any' {config_path})\n"
        "else\n"
        f"    OTTER_PDF={'true' if pdf_requested(config) else 'false'}  # this zip's setting (tools/build.py)\n"
        "fi\n"
        'if [ "$OTTER_PDF" = true ]; then'
    )
    text = text.replace(condition, decide)
    # playwright's Chromium renders PDFs (nbconvert webpdf) and nothing else during grading
    return text.replace(playwright, f'if [ "$OTTER_PDF" = true ]; then\n    {playwright}\nfi')


def finalize_zip(
    zip_path: Path,
    student: Path,
    package: Path = SUPPORT["autograder"],
    autograder_dir: str = "/autograder",
    config: dict[str, Any] | None = None,
) -> None:
    """Put ``autograder/`` at the zip root and under ``files/``, and enter grading through safe_run.

    The integrity scan's scaffold (``autograder/integrity/shipped_cells.json``) is generated here
    from ``student``, the notebook this build distributes, so it can never fall out of step.

    Otter imports plugins in its grading process, whose ``sys.path`` starts at the directory of
    ``run_otter.py`` (``/autograder/source``): on Gradescope the zip root's copy is there. Otter
    Assign ships ``autograder_files`` under ``files/`` (copied next to the submission for the
    kernel); otter grade's image has only that one, so it is written complete too, and
    ``run_otter.py`` falls back to it. ``setup.sh`` is rewritten by ``rewrite_setup``.
    """
    config = load_grading_config() if config is None else config
    shipped = package_files(package, student)
    copies = (f"{package.name}/", f"{FILES_PACKAGE}/{package.name}/")
    tmp = zip_path.with_suffix(".tmp")
    with zipfile.ZipFile(zip_path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            if item.filename == upstream.ENTRY_POINT or item.filename.startswith(copies):
                continue
            data = src.read(item.filename)
            if item.filename == "setup.sh":
                data = rewrite_setup(data.decode("utf-8"), config, autograder_dir).encode("utf-8")
            dst.writestr(item, data)
        dst.writestr(upstream.ENTRY_POINT, RUN_OTTER.format(autograder_dir=autograder_dir))
        for prefix in copies:
            for name, data in shipped.items():
                dst.writestr(prefix + name, data)
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
    config = load_grading_config()
    autograder_dir = config.get("autograder_dir", "/autograder")
    finalize_zip(zip_path, dist / "student" / MASTER.name, autograder_dir=autograder_dir, config=config)
    if run_tests:
        check_solutions(zip_path, dist)
    return zip_path


def main(argv: list[str] | None = None) -> int:
    """Build the autograder zip; the exit status, 1 with the reason when the build fails."""
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
