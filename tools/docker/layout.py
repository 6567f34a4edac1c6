"""``/autograder`` as otter grade's image lays it out, read from the installed Otter's Dockerfile.

``otter grade`` builds ``otter/grade/Dockerfile`` with the unpacked autograder zip as build
context. This module carries out that Dockerfile's file steps (``ADD``, and ``mkdir -p``,
``touch``, ``chmod +x``, ``dos2unix`` inside ``RUN``) on a directory that stands for
``/autograder``, so the tree the image holds can be graded without Docker
(``tests/docker/test_layout.py``). The steps that install software (``apt-get``, ``setup.sh``,
cleaning caches) are listed in ``ENVIRONMENT_COMMANDS`` and skipped: the project's environment
stands in for what they build. An instruction or command not known here raises
``LayoutError``, so an Otter release that changes its Dockerfile fails that test instead of
being tested against an old picture of it.

    python -m tools.docker.layout ZIP DIR   # lay out DIR as the image's /autograder; prints the steps
"""

from __future__ import annotations

import argparse
import fnmatch
import shlex
import shutil
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from autograder import upstream

AUTOGRADER = PurePosixPath("/autograder")
# commands of the Dockerfile's RUN steps that build the environment, not the /autograder tree
ENVIRONMENT_COMMANDS = {
    "apt-get": "installs Debian/Ubuntu packages",
    "bash /autograder/source/setup.sh": "the zip's setup.sh: Python, the pinned requirements",
    "rm -rf": "cleans package lists and temporary files",
}


class LayoutError(Exception):
    """Otter's Dockerfile has a step this module does not know: read it and teach ``lay_out``."""


@dataclass
class Layout:
    root: Path  # the directory standing for /autograder
    applied: list[str] = field(default_factory=list)  # file steps carried out
    skipped: list[str] = field(default_factory=list)  # environment steps, with why


def instructions(dockerfile: str) -> list[tuple[str, str]]:
    """``(INSTRUCTION, arguments)`` per Dockerfile instruction, continuation lines joined."""
    result: list[tuple[str, str]] = []
    pending = ""
    for line in dockerfile.splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        whole = (pending + stripped).strip()
        pending = ""
        keyword, _, arguments = whole.partition(" ")
        result.append((keyword.upper(), " ".join(arguments.split())))
    return result


def _host(root: Path, path: str) -> Path:
    """The host path standing for ``path`` of the image, which must lie under /autograder."""
    pure = PurePosixPath(path)
    if pure != AUTOGRADER and AUTOGRADER not in pure.parents:
        raise LayoutError(f"a file step outside {AUTOGRADER}: {path}")
    return root.joinpath(*pure.relative_to(AUTOGRADER).parts)


def _add(context: Path, root: Path, arguments: str) -> str:
    """Docker's ADD/COPY of local paths: a directory's contents, files into a directory ending in /."""
    *sources, dest = shlex.split(arguments)
    matched = []
    for pattern in sources:
        names = sorted(p.name for p in context.iterdir() if fnmatch.fnmatchcase(p.name, pattern))
        if not names and not any(c in pattern for c in "*?["):
            raise LayoutError(f"ADD {pattern}: the zip has no {pattern} (the image build would fail too)")
        matched += names
    if not matched:  # Docker refuses an ADD whose sources all match nothing
        raise LayoutError(f"ADD {arguments}: nothing in the zip matches")
    target = _host(root, dest)
    for name in matched:
        source = context / name
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
        elif dest.endswith("/") or len(matched) > 1:
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return f"ADD {' '.join(matched)} -> {dest}"


def _run(root: Path, command: str, layout: Layout) -> None:
    words = shlex.split(command)
    for prefix, why in ENVIRONMENT_COMMANDS.items():
        if words[: len(prefix.split())] == prefix.split():
            layout.skipped.append(f"{command}: {why}")
            return
    name, args = words[0], words[1:]
    if name == "mkdir" and args[:1] == ["-p"]:
        for path in args[1:]:
            _host(root, path).mkdir(parents=True, exist_ok=True)
    elif name == "touch":
        for path in args:
            _host(root, path).touch()
    elif name == "chmod" and args[:1] == ["+x"]:
        for path in args[1:]:
            target = _host(root, path)
            target.chmod(target.stat().st_mode | 0o111)
    elif name == "dos2unix":
        for path in args:
            target = _host(root, path)
            target.write_bytes(target.read_bytes().replace(b"\r\n", b"\n"))
    else:
        raise LayoutError(f"RUN ... {command}: a command this layout does not know (tools/docker/layout.py)")
    layout.applied.append(command)


def lay_out(zip_path: Path, root: Path, dockerfile: str | None = None) -> Layout:
    """Fill ``root`` (standing for ``/autograder``) as Otter's grade Dockerfile fills the image."""
    dockerfile = upstream.grade_dockerfile() if dockerfile is None else dockerfile
    root.mkdir(parents=True, exist_ok=True)
    layout = Layout(root)
    with tempfile.TemporaryDirectory(prefix="otter-grade-context-") as tmp:
        context = Path(tmp)
        with zipfile.ZipFile(zip_path) as zf:
            zf.extractall(context)
        for keyword, arguments in instructions(dockerfile):
            if keyword in ("ARG", "FROM"):
                layout.skipped.append(f"{keyword} {arguments}: the base image")
            elif keyword in ("ADD", "COPY"):
                layout.applied.append(_add(context, root, arguments))
            elif keyword == "RUN":
                for command in arguments.split("&&"):
                    _run(root, command.strip(), layout)
            else:
                raise LayoutError(f"{keyword} {arguments}: an instruction this layout does not know")
    return layout


def main(argv: list[str] | None = None) -> int:
    """Lay the zip out in a directory as Otter's Dockerfile would and print the steps applied and
    skipped; the exit status, 1 with the reason on failure.
    """
    parser = argparse.ArgumentParser(prog="python -m tools.docker.layout", description=__doc__.split("\n\n")[0])
    parser.add_argument("zip", type=Path)
    parser.add_argument("dir", type=Path, help="the directory standing for /autograder (created)")
    args = parser.parse_args(argv)
    try:
        layout = lay_out(args.zip, args.dir)
    except LayoutError as e:
        print(f"layout: {e}", file=sys.stderr)
        return 1
    print("\n".join([*(f"applied: {s}" for s in layout.applied), *(f"skipped: {s}" for s in layout.skipped)]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
