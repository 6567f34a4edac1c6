"""The base image ``otter grade --image`` builds on here, made without any registry.

Otter's online recipe: ``otter grade`` builds ``otter/grade/Dockerfile`` (used unchanged) on a
base image from Docker Hub (``ubuntu:22.04`` by default), and the zip's ``setup.sh`` installs
Miniforge from GitHub and the environment from conda-forge and PyPI. This machine reaches
Debian's archive and PyPI only, so the base is Debian bookworm made by ``mmdebstrap`` and
imported with ``docker import``, carrying stand-ins for what setup.sh downloads from GitHub.
``DEVIATIONS`` below is the one list of what differs from the online recipe, and why.

The image is tagged by a digest of everything it is made from (suite, packages, stand-ins), so
it is built once per machine and reused; Docker's layer cache then keeps Otter's own build
steps (setup.sh included) until the zip's environment changes.

    python -m tools.docker.base_image [--rebuild] [--deviations]   # prints the tag
"""

from __future__ import annotations

import argparse
import hashlib
import io
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

STANDINS = Path(__file__).resolve().with_name("standins")
REPOSITORY = "rnn-states-otter-base"
SUITE = "bookworm"
MIRRORS = (
    f"deb http://deb.debian.org/debian {SUITE} main",
    f"deb http://deb.debian.org/debian {SUITE}-updates main",
    f"deb http://deb.debian.org/debian-security {SUITE}-security main",
)
# what the stand-ins need: the environment's Python (Debian's 3.11, as environment.yml's
# python=3.11), venv, and YAML to read environment.yml
PACKAGES = ("python3", "python3-venv", "python3-yaml", "ca-certificates")
# CA certificates the host's administrator added: trusted in the image too (DEVIATIONS)
HOST_CAS = Path("/usr/local/share/ca-certificates")
IMAGE_CAS = "/usr/local/share/ca-certificates/host"
# stand-in file -> where it goes in the image, mode
FILES = {
    "wget": ("/usr/local/bin/wget", 0o755),
    "Miniforge3-Linux.sh": ("/opt/otter-offline/Miniforge3-Linux.sh", 0o755),
    "mamba": ("/opt/otter-offline/mamba", 0o755),
}


@dataclass(frozen=True)
class Deviation:
    online: str  # what Otter's recipe does online
    here: str  # what this image does instead
    why: str


DEVIATIONS = (
    Deviation(
        "base image ubuntu:22.04 from Docker Hub",
        f"Debian {SUITE} (minbase + {', '.join(PACKAGES)}) made by mmdebstrap from deb.debian.org, "
        "then `docker import`",
        "no registry is reachable; Debian's archive is, and its python3 is 3.11 as environment.yml asks",
    ),
    Deviation(
        "the base image trusts its distribution's CA certificates",
        f"the CA certificates the host's administrator added ({HOST_CAS}/**.crt) are added to the image's "
        "store (update-ca-certificates); on a host without any, nothing is added",
        "where HTTPS leaves the machine through an intercepting proxy (as here), pip in the build reaches "
        "PyPI only if the image trusts what the host trusts",
    ),
    Deviation(
        "setup.sh downloads the Miniforge installer from github.com",
        "/usr/local/bin/wget (tools/docker/standins/wget) serves that URL from a stand-in installer "
        "(tools/docker/standins/Miniforge3-Linux.sh, which installs the stand-in mamba); every other URL goes "
        "to Debian's wget, and any other GitHub URL fails with a message",
        "GitHub is not reachable (DNS fails)",
    ),
    Deviation(
        "Miniforge's mamba creates otter-env from conda-forge (python, pip, jupyter_server) and PyPI "
        "(environment.yml's pip list)",
        "a stand-in mamba (tools/docker/standins/mamba): otter-env is a venv of Debian's Python 3.11 at "
        "/root/miniforge3/envs/otter-env; jupyter_server and the pip list are installed by pip from PyPI, "
        "at the versions environment.yml pins",
        "conda-forge is not reachable; PyPI is",
    ),
    Deviation(
        "`mamba install -n otter-env -c conda-forge nb_conda_kernels`",
        "skipped, with a line in the build log",
        "it makes Jupyter find the kernels of other conda environments; a venv's own ipykernel is its kernel",
    ),
    Deviation(
        "`mamba shell init --shell bash` writes a hook into ~/.bashrc",
        "nothing; run_autograder evaluates `mamba shell hook --shell bash`, which defines `mamba activate`",
        "run_autograder does not read ~/.bashrc",
    ),
)


class BaseImageError(Exception):
    """The base image could not be made; the message carries the failing command's output."""


def host_cas() -> list[Path]:
    """The CA certificates the host's administrator added (``HOST_CAS``), to be trusted in the image too."""
    return sorted(HOST_CAS.rglob("*.crt")) if HOST_CAS.is_dir() else []


def image_tag() -> str:
    """``rnn-states-otter-base:<digest>`` of everything the image is made from."""
    digest = hashlib.sha256()
    for part in (SUITE, *MIRRORS, *PACKAGES):
        digest.update(part.encode() + b"\0")
    for name, (dest, mode) in sorted(FILES.items()):
        digest.update(f"{name}\0{dest}\0{mode:o}\0".encode() + (STANDINS / name).read_bytes())
    for ca in host_cas():
        digest.update(ca.name.encode() + b"\0" + ca.read_bytes())
    return f"{REPOSITORY}:{digest.hexdigest()[:12]}"


def image_exists(tag: str) -> bool:
    """Whether the Docker engine has an image tagged ``tag``."""
    return subprocess.run(["docker", "image", "inspect", tag], capture_output=True).returncode == 0


def image_size(tag: str) -> int:
    """The image's size in bytes as Docker reports it; 0 if it cannot say."""
    done = subprocess.run(["docker", "image", "inspect", "--format", "{{.Size}}", tag], capture_output=True, text=True)
    return int(done.stdout.strip() or 0)


def _add_standins(tar_path: Path) -> None:
    """Append the stand-ins to the mmdebstrap tarball, owned by root."""
    with tarfile.open(tar_path, "a") as tar:
        for name, (dest, mode) in sorted(FILES.items()):
            data = (STANDINS / name).read_bytes()
            info = tarfile.TarInfo("." + dest)
            info.size, info.mode, info.mtime = len(data), mode, int(time.time())
            tar.addfile(info, io.BytesIO(data))


def _check(command: list[str], timeout: float) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise BaseImageError(f"`{' '.join(command[:3])} ...` failed:\n{(done.stdout + done.stderr)[-3000:]}")


def build(rebuild: bool = False) -> tuple[str, float | None]:
    """Make the base image if this machine lacks it; return its tag and the seconds spent (None: reused).

    Installs Debian's ``mmdebstrap`` first if it is missing (root).
    """
    tag = image_tag()
    if image_exists(tag) and not rebuild:
        return tag, None
    if shutil.which("mmdebstrap") is None:
        from tools.docker.engine import apt_install

        apt_install("mmdebstrap")
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="otter-base-") as tmp:
        tar_path = Path(tmp) / "rootfs.tar"
        hooks = []
        if host_cas():
            hooks = [
                f'--customize-hook=mkdir -p "$1{IMAGE_CAS}"',
                f"--customize-hook=copy-in {' '.join(str(ca) for ca in host_cas())} {IMAGE_CAS}",
                '--customize-hook=chroot "$1" update-ca-certificates',
            ]
        _check(["mmdebstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}", *hooks, SUITE,
                str(tar_path), *MIRRORS], timeout=1800)
        _add_standins(tar_path)
        _check(["docker", "import", "--message", "tools/docker/base_image.py", str(tar_path), tag], timeout=600)
    return tag, time.monotonic() - start


def format_deviations() -> str:
    """Where the image differs from Otter's online recipe, what it does here and why, as a list for the terminal."""
    return "\n".join(f"- {d.online}\n  here: {d.here}\n  why: {d.why}" for d in DEVIATIONS)


def main(argv: list[str] | None = None) -> int:
    """Make the base image (or, with ``--deviations``, list how it differs from Otter's recipe); the exit
    status, 1 with the reason when it cannot be made.
    """
    parser = argparse.ArgumentParser(prog="python -m tools.docker.base_image", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rebuild", action="store_true", help="make the image again even if it exists")
    parser.add_argument("--deviations", action="store_true", help="list what differs from Otter's online recipe")
    args = parser.parse_args(argv)
    if args.deviations:
        print(format_deviations())
        return 0
    try:
        tag, seconds = build(rebuild=args.rebuild)
    except (BaseImageError, subprocess.TimeoutExpired) as e:
        print(f"base image: {e}", file=sys.stderr)
        return 1
    made = f"made in {seconds:.0f} s" if seconds is not None else "present"
    print(f"{tag} ({made}, {image_size(tag) / 1e6:.0f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
