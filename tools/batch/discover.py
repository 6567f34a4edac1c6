"""Find the submissions in a folder and check statically what can be known without running them.

Inputs, one row each in the grade sheet:

* ``*.ipynb``: a notebook;
* ``*.zip``: what ``grader.export()`` writes (the notebook at the zip's top level);
* ``submission_<id>/`` folders of an unpacked Gradescope "Export Submissions" download, with
  the download's ``submission_metadata.yml`` (in the folder itself or in a subfolder such as
  ``assignment_123_export/``) naming each submission's submitters;
* anything else (``notes.txt``, other folders) is listed as "not a submission".

Nothing here executes student code: notebooks are read as JSON, zips are listed. Whether a
notebook is one of this assignment is decided by ``autograder.submission_check``, the module
the autograder zip itself checks submissions with.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import yaml

from autograder import submission_check
from tools.gradebook.inputs import MAX_NOTEBOOK_BYTES, Submission, Submitter, zip_notebooks
from tools.gradebook.records import Status, status_of

METADATA_FILE = "submission_metadata.yml"
SUBMISSION_PREFIX = "submission_"


def assignment_name(zip_path: Path) -> str | None:
    """The ``assignment_name`` of the autograder zip's ``otter_config.json``."""
    try:
        with zipfile.ZipFile(zip_path) as zf:
            config = json.loads(zf.read("otter_config.json"))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return None
    name = config.get("assignment_name") if isinstance(config, dict) else None
    return name if isinstance(name, str) else None


def _check_notebook(name: str, data: bytes, expected: str | None) -> tuple[Status, str] | None:
    """Why a notebook cannot be graded, as ``(status, reason)``, or None (``autograder.submission_check``).

    The reason is the message the zip's entry point gives a student on Gradescope, word for word.
    """
    problem = submission_check.check_notebook(name, data, expected)
    return None if problem is None else (status_of(problem.reason), problem.message())


def check_zip(path: Path, expected: str | None, label: str) -> tuple[Status, str] | None:
    """Why an export zip cannot be graded, as ``(status, reason)``, or None: it must hold exactly one notebook
    at its top level, of a sane size, that passes the notebook check.
    """
    try:
        with zipfile.ZipFile(path) as zf:
            notebooks = zip_notebooks(zf)
            if not notebooks:
                return Status.NOT_SUBMISSION, f"{label} is a zip without a notebook at its top level"
            if len(notebooks) > 1:
                listed = ", ".join(notebooks)
                return Status.MALFORMED, f"{label} holds {len(notebooks)} notebooks ({listed}); Otter grades one"
            size = zf.getinfo(notebooks[0]).file_size
            if size > MAX_NOTEBOOK_BYTES:
                mib = size // (1024 * 1024)
                return Status.MALFORMED, f"{label}:{notebooks[0]} unpacks to {mib} MiB, not a notebook"
            data = zf.read(notebooks[0])
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        return Status.MALFORMED, f"{label} is not a readable zip ({e})"
    return _check_notebook(f"{label}:{notebooks[0]}", data, expected)


def check_folder(sub: Submission, expected: str | None) -> tuple[Status, str] | None:
    """Why a submission folder cannot be graded, as ``(status, reason)``, or None: it must hold one notebook
    at its top level, or else exactly one zip (checked as an export zip).
    """
    files = sub.files()
    top_notebooks = [f for f in files if f.parent == sub.path and f.suffix == ".ipynb"]
    zips = [f for f in files if f.suffix == ".zip"]
    if len(top_notebooks) == 1:
        return _check_notebook(f"{sub.file}/{top_notebooks[0].name}", top_notebooks[0].read_bytes(), expected)
    if len(top_notebooks) > 1:
        return Status.MALFORMED, f"{sub.file} holds {len(top_notebooks)} notebooks; Otter grades one"
    if len(zips) == 1:
        return check_zip(zips[0], expected, f"{sub.file}/{zips[0].relative_to(sub.path)}")
    if not files:
        return Status.NOT_SUBMISSION, f"{sub.file} is an empty submission folder"
    return Status.NOT_SUBMISSION, f"{sub.file} holds no notebook ({', '.join(f.name for f in files[:5])})"


class _MetadataLoader(yaml.SafeLoader):
    """SafeLoader that reads Ruby-tagged nodes (``!ruby/object:...``) as plain data."""


def _untagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)


_MetadataLoader.add_multi_constructor("!", _untagged)


def _key(mapping: dict[Any, Any], name: str) -> Any:
    """``mapping[':name']`` (Gradescope writes Ruby symbols) or ``mapping['name']``."""
    for k in (f":{name}", name):
        if k in mapping:
            return mapping[k]
    return None


def read_metadata(path: Path) -> dict[str, list[Submitter]]:
    """``submission_<id>`` -> submitters, from a Gradescope export's ``submission_metadata.yml``."""
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=_MetadataLoader) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path} is not a mapping of submissions")
    out: dict[str, list[Submitter]] = {}
    for key, entry in data.items():
        submitters = _key(entry, "submitters") if isinstance(entry, dict) else None
        people = []
        for s in submitters or []:
            if isinstance(s, dict):
                people.append(Submitter(*(str(_key(s, k) or "") for k in ("name", "sid", "email"))))
        out[str(key)] = people
    return out


def discover(folder: Path, expected: str | None, exclude: list[Path] | None = None) -> list[Submission]:
    """Every input of ``folder``, statically checked, in file-name order."""
    folder = Path(folder).resolve()
    excluded = {Path(p).resolve() for p in exclude or []}
    subs: list[Submission] = []

    def add_export(export: Path, prefix: str) -> None:
        """Add the submissions of a Gradescope export folder, with their submitters from its metadata
        (unreadable metadata becomes a malformed input of its own); other entries are added as usual.
        """
        try:
            metadata = read_metadata(export / METADATA_FILE)
        except (OSError, ValueError, yaml.YAMLError) as e:
            metadata = {}
            subs.append(Submission(f"{prefix}{METADATA_FILE}", export / METADATA_FILE, "other",
                                   problem=(Status.MALFORMED, f"Gradescope metadata unreadable: {e}")))
        for entry in sorted(export.iterdir()):
            if entry.name.startswith(".") or entry.name == METADATA_FILE or entry.resolve() in excluded:
                continue
            if entry.is_dir() and (entry.name in metadata or entry.name.startswith(SUBMISSION_PREFIX)):
                sub = Submission(f"{prefix}{entry.name}", entry, "folder",
                                 submission_id=entry.name.removeprefix(SUBMISSION_PREFIX),
                                 submitters=metadata.get(entry.name, []))
                sub.problem = check_folder(sub, expected)
                subs.append(sub)
            else:
                add_entry(entry, prefix)

    def add_entry(entry: Path, prefix: str) -> None:
        """Add one file or folder: a notebook, an export zip, a Gradescope export or submission folder, or an
        input that is none of them (reported, never dropped).
        """
        label = f"{prefix}{entry.name}"
        if entry.is_dir():
            if (entry / METADATA_FILE).is_file() and not prefix:
                add_export(entry, f"{entry.name}/")
            elif entry.name.startswith(SUBMISSION_PREFIX):  # an export folder without its metadata file
                sub = Submission(label, entry, "folder", submission_id=entry.name.removeprefix(SUBMISSION_PREFIX))
                sub.problem = check_folder(sub, expected)
                subs.append(sub)
            else:
                subs.append(
                    Submission(
                        label,
                        entry,
                        "other",
                        problem=(
                            Status.NOT_SUBMISSION,
                            f"{label} is a folder, not a notebook, export zip or Gradescope submission",
                        ),
                    )
                )
        elif entry.suffix == ".ipynb":
            problem = _check_notebook(label, entry.read_bytes(), expected)
            subs.append(Submission(label, entry, "notebook", problem=problem))
        elif entry.suffix == ".zip":
            subs.append(Submission(label, entry, "zip", problem=check_zip(entry, expected, label)))
        else:
            problem = (Status.NOT_SUBMISSION, f"{label} is not a notebook or an export zip")
            subs.append(Submission(label, entry, "other", problem=problem))

    if (folder / METADATA_FILE).is_file():
        add_export(folder, "")
    else:
        for entry in sorted(folder.iterdir()):
            if entry.name.startswith(".") or entry.resolve() in excluded:
                continue
            if entry.is_dir() and any(p == entry.resolve() or entry.resolve() in p.parents for p in excluded):
                continue
            add_entry(entry, "")
    return subs


def gradable_file(sub: Submission, tmp: Path) -> Path:
    """The file handed to the Gradescope harness: the notebook or zip itself, or a folder zipped up."""
    if sub.kind != "folder":
        return sub.path
    files = sub.files()
    top_notebooks = [f for f in files if f.parent == sub.path and f.suffix == ".ipynb"]
    zips = [f for f in files if f.suffix == ".zip"]
    if len(files) == 1 or (not top_notebooks and len(zips) == 1):
        return files[0] if len(files) == 1 else zips[0]
    # several files: Gradescope unpacks an uploaded zip into /autograder/submission, so zip them
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in files:
            zf.write(f, str(f.relative_to(sub.path)))
    out = tmp / f"{sub.path.name}.zip"
    out.write_bytes(buf.getvalue())
    return out
