"""The inputs of a grading: one submission (a notebook, an export zip, a Gradescope folder) and who submitted it.

Read statically: notebooks as JSON, zips listed, never executed.
"""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder import submission_check
from tools.gradebook.records import Status

MAX_NOTEBOOK_BYTES = 64 * 1024 * 1024  # a notebook inside a zip is read only up to this size (zip bombs)


@dataclass(frozen=True)
class Submitter:
    name: str
    sid: str
    email: str


@dataclass
class Submission:
    """One input: a file of the folder or a Gradescope submission folder."""

    file: str  # the row label: the path relative to the submissions folder
    path: Path
    kind: str  # "notebook", "zip", "folder" or "other"
    submission_id: str | None = None  # Gradescope's, for export folders
    submitters: list[Submitter] = field(default_factory=list)
    problem: tuple[Status, str] | None = None  # (status, reason) known without grading

    def files(self) -> list[Path]:
        """The files that make up this submission (a folder's, recursively, without hidden ones)."""
        if self.path.is_file():
            return [self.path]
        return sorted(
            p for p in self.path.rglob("*")
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(self.path).parts)
        )

    def content_hash(self) -> str:
        """SHA-256 of the content (a folder holding a single file hashes as that file)."""
        files = self.files()
        if len(files) == 1:
            return sha256_file(files[0])
        h = hashlib.sha256()
        for f in files:
            h.update(str(f.relative_to(self.path)).encode() + b"\0")
            h.update(sha256_file(f).encode() + b"\0")
        return h.hexdigest()

    def notebook_bytes(self) -> bytes | None:
        """The submitted notebook's bytes (from the file, the zip or the folder), or None."""
        try:
            if self.kind == "notebook":
                return self.path.read_bytes()
            if self.kind == "zip":
                with zipfile.ZipFile(self.path) as zf:
                    names = zip_notebooks(zf)
                    if len(names) != 1 or zf.getinfo(names[0]).file_size > MAX_NOTEBOOK_BYTES:
                        return None
                    return zf.read(names[0])
            if self.kind == "folder":
                notebooks = [f for f in self.files() if f.parent == self.path and f.suffix == ".ipynb"]
                if len(notebooks) == 1:
                    return notebooks[0].read_bytes()
                zips = [f for f in self.files() if f.suffix == ".zip"]
                if not notebooks and len(zips) == 1:
                    return Submission(self.file, zips[0], "zip").notebook_bytes()
        except (OSError, zipfile.BadZipFile, KeyError):
            return None
        return None

    def notebook(self) -> dict[str, Any] | None:
        """The submitted notebook as parsed JSON, or None when there is none or it is not a notebook."""
        data = self.notebook_bytes()
        return None if data is None else submission_check.read_notebook(self.file, data)[0]

    @property
    def names(self) -> str:
        """The submitters' names, joined with "; " for one CSV cell."""
        return "; ".join(s.name for s in self.submitters)

    @property
    def sids(self) -> str:
        """The submitters' student ids, joined with "; " for one CSV cell."""
        return "; ".join(s.sid for s in self.submitters)

    @property
    def emails(self) -> str:
        """The submitters' emails, joined with "; " for one CSV cell."""
        return "; ".join(s.email for s in self.submitters)


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file's content."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def zip_notebooks(zf: zipfile.ZipFile) -> list[str]:
    """Notebooks at the top level of a zip (where Otter looks once Gradescope unpacks it)."""
    return sorted(n for n in zf.namelist() if n.endswith(".ipynb") and "/" not in n.strip("/"))
