"""What the build changes so the zip grades in otter grade's image as on Gradescope.

The grader package is complete in both places a layout may put it, and the zip's setup.sh
installs the PDF tools (LaTeX, pandoc, playwright's Chromium) only when the zip asks for PDFs,
whether or not ``otter_config.json`` is there when it runs (otter grade's image adds it later).
The end-to-end proofs are ``tests/docker/test_layout.py`` (no Docker) and
``tests/docker/test_otter_grade.py`` (Docker).
"""

from __future__ import annotations

import json
import os
import subprocess
import zipfile
from pathlib import Path

import otter.generate
import pytest

from tools.build import FILES_PACKAGE, rewrite_setup

TEMPLATE = Path(otter.generate.__file__).parent / "templates" / "python" / "setup.sh"
STUB = """#!/bin/sh
echo "$(basename "$0") $*" >> "{log}"
case "$(basename "$0")" in
    wget) while [ $# -gt 0 ]; do [ "$1" = -O ] && printf '#!/bin/sh\\n' > "$2"; shift; done ;;
esac
"""


def test_both_copies_of_the_grader_package_are_complete_and_equal(ag_zip):
    with zipfile.ZipFile(ag_zip) as zf:
        root = {n[len("autograder/"):]: zf.read(n) for n in zf.namelist() if n.startswith("autograder/")}
        files = {n[len(f"{FILES_PACKAGE}/autograder/"):]: zf.read(n) for n in zf.namelist()
                 if n.startswith(f"{FILES_PACKAGE}/autograder/")}
        run_otter = zf.read("run_otter.py").decode()
    assert "integrity/shipped_cells.json" in root and "plugins/safe_run.py" in root
    assert files == root
    assert 'os.path.join(here, "files")' in run_otter


def _run_setup(tmp: Path, config: dict | None, zip_pdf: bool) -> list[str]:
    """Run Otter's setup.sh as the build rewrites it, every installer a stub; return the commands run."""
    text = TEMPLATE.read_text().replace("{{ otter_env_name }}", "otter-env").replace("{{ miniforge_version }}", "0")
    text = text.replace("{{ autograder_dir }}", str(tmp))
    setup = rewrite_setup(text, {"pdf": zip_pdf}, autograder_dir=str(tmp))
    setup = setup.replace("/root/.bashrc", str(tmp / "bashrc"))  # the one write outside the stubs
    (tmp / "source").mkdir()
    if config is not None:
        (tmp / "source" / "otter_config.json").write_text(json.dumps(config))
    bin_dir, log = tmp / "bin", tmp / "commands.log"
    bin_dir.mkdir()
    for name in ("apt-get", "wget", "dpkg", "mamba"):
        (bin_dir / name).write_text(STUB.format(log=log))
        (bin_dir / name).chmod(0o755)
    (tmp / "setup.sh").write_text(setup)
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "HOME": str(tmp)}
    done = subprocess.run(["bash", str(tmp / "setup.sh")], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return log.read_text().splitlines()


@pytest.mark.parametrize(
    ("config", "zip_pdf", "pdf"),
    [
        (None, False, False),  # otter grade's image, this zip: the bug was LaTeX here
        (None, True, True),  # otter grade's image, a zip that asks for PDFs
        ({"pdf": False}, True, False),  # Gradescope: the file decides
        ({"pdf": True}, False, True),
        ({"token": "t"}, False, True),
    ],
)
def test_setup_installs_pdf_tools_only_when_pdfs_are_asked_for(tmp_path, config, zip_pdf, pdf):
    commands = _run_setup(tmp_path, config, zip_pdf)
    latex = any(c.startswith("apt-get install -y texlive-xetex") for c in commands)
    pandoc = any("pandoc" in c for c in commands)
    playwright = any(c.startswith("mamba run") and "playwright" in c for c in commands)
    assert (latex, pandoc, playwright) == (pdf, pdf, pdf), commands
    # the rest of Otter's setup runs either way
    assert any(c.startswith("mamba env create -f") for c in commands), commands
    assert any("Miniforge3-Linux" in c for c in commands), commands


def test_a_changed_template_stops_the_build():
    from tools.build import BuildError

    with pytest.raises(BuildError, match="template changed"):
        rewrite_setup("#!/bin/bash\napt-get install -y wget\n", {"pdf": False})
