"""A Docker engine ``otter grade`` can use: Debian's ``docker.io``, ``dockerd`` running, buildx.

Otter builds its image with ``docker buildx build`` (python_on_whales). Debian bookworm's
``docker.io`` (engine 20.10) has no buildx plugin and bookworm has no ``docker-buildx`` package;
Debian trixie's ``docker-buildx`` (a static Go binary that needs only libc6 >= 2.34) does. It is
fetched with apt from trixie using a private sources list and state directory (so the
archive's signatures are checked and the system's sources stay bookworm only) and installed
with ``dpkg -i``, which records it like any package (``apt-get remove docker-buildx`` undoes it).

    python -m tools.docker.engine     # install what is missing, start dockerd if none runs

Needs root (apt-get, dockerd). Idempotent: a running engine and an installed plugin are left alone.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEBIAN_MIRROR = "http://deb.debian.org/debian"
BUILDX_SUITE = "trixie"  # the oldest Debian suite with a docker-buildx package
DEBIAN_KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
DOCKERD_LOG = Path("/var/log/dockerd.log")
START_TIMEOUT = 60.0


class EngineError(Exception):
    """No usable Docker engine and it could not be set up; the message says what to do."""


def _run(command: list[str], timeout: float = 600, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, **kwargs)


def engine_running() -> bool:
    """Whether ``docker info`` reaches an engine."""
    if shutil.which("docker") is None:
        return False
    try:
        return _run(["docker", "info"], timeout=30).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def buildx_available() -> bool:
    """Whether the ``docker`` client is installed and ``docker buildx`` answers (within 30 s)."""
    try:
        return shutil.which("docker") is not None and _run(["docker", "buildx", "version"], timeout=30).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def _require_root(what: str) -> None:
    if os.geteuid() != 0:
        raise EngineError(f"{what} needs root (apt-get, dockerd): run it with sudo, or as root.")


def apt_install(*packages: str) -> None:
    """``apt-get install`` Debian packages (after ``apt-get update``); raises with apt's message."""
    _require_root(f"installing {', '.join(packages)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *packages]):
        done = _run(command, env=env, timeout=1800)
        if done.returncode != 0:
            raise EngineError(f"`{' '.join(command)}` failed:\n{(done.stdout + done.stderr)[-2000:]}")


def start_dockerd() -> None:
    """Start ``dockerd`` in the background (its log: /var/log/dockerd.log) and wait for it to answer."""
    _require_root("starting dockerd")
    with open(DOCKERD_LOG, "ab") as log:  # the daemon keeps its own descriptor and outlives this process
        subprocess.Popen(["dockerd"], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         start_new_session=True, close_fds=True)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if engine_running():
            return
        time.sleep(1)
    tail = DOCKERD_LOG.read_text(errors="replace")[-2000:] if DOCKERD_LOG.exists() else ""
    raise EngineError(f"dockerd did not answer within {START_TIMEOUT:g} s; its log ({DOCKERD_LOG}):\n{tail}")


def fetch_buildx(dest: Path) -> Path:
    """Download Debian trixie's ``docker-buildx`` .deb into ``dest`` with apt (signatures checked)."""
    state = Path(tempfile.mkdtemp(prefix="buildx-apt-"))
    try:
        (state / "lists" / "partial").mkdir(parents=True)
        (state / "archives" / "partial").mkdir(parents=True)
        sources = state / "sources.list"
        sources.write_text(f"deb [signed-by={DEBIAN_KEYRING}] {DEBIAN_MIRROR} {BUILDX_SUITE} main\n")
        options = [
            "-o", f"Dir::Etc::SourceList={sources}", "-o", "Dir::Etc::SourceParts=/dev/null",
            "-o", f"Dir::State::Lists={state / 'lists'}", "-o", f"Dir::Cache={state}",
            "-o", "Dir::Cache::pkgcache=", "-o", "Dir::Cache::srcpkgcache=",
            "-o", "APT::Sandbox::User=root",
        ]
        for command in (["apt-get", *options, "update", "-qq"], ["apt-get", *options, "download", "docker-buildx"]):
            done = _run(command, cwd=dest, timeout=600)
            if done.returncode != 0:
                raise EngineError(f"`{' '.join(command)}` failed:\n{(done.stdout + done.stderr)[-2000:]}")
    finally:
        shutil.rmtree(state, ignore_errors=True)
    debs = sorted(dest.glob("docker-buildx_*.deb"))
    if not debs:
        raise EngineError(f"apt-get download docker-buildx wrote no .deb into {dest}")
    return debs[-1]


def install_buildx() -> None:
    """Install Debian trixie's ``docker-buildx`` as a Docker CLI plugin (``/usr/libexec/docker/cli-plugins``)."""
    _require_root("installing docker-buildx")
    with tempfile.TemporaryDirectory(prefix="buildx-") as tmp:
        deb = fetch_buildx(Path(tmp))
        done = _run(["dpkg", "-i", str(deb)])
        if done.returncode != 0:
            raise EngineError(f"dpkg -i {deb.name} failed:\n{(done.stdout + done.stderr)[-2000:]}")
    if not buildx_available():
        raise EngineError("docker-buildx was installed but `docker buildx version` still fails.")


def ensure_engine() -> list[str]:
    """Make ``docker info`` and ``docker buildx`` work; return what was done (empty: nothing was needed)."""
    done = []
    if not engine_running():
        if shutil.which("dockerd") is None or shutil.which("docker") is None:
            apt_install("docker.io")
            done.append("installed docker.io")
        if not engine_running():
            start_dockerd()
            done.append(f"started dockerd (log: {DOCKERD_LOG})")
    if not buildx_available():
        install_buildx()
        done.append(f"installed docker-buildx from Debian {BUILDX_SUITE}")
    return done


def versions() -> str:
    """The client, engine and buildx versions, one line."""
    engine = _run(["docker", "version", "--format", "client {{.Client.Version}}, engine {{.Server.Version}}"])
    buildx = _run(["docker", "buildx", "version"])
    return f"docker {engine.stdout.strip()}; buildx {' '.join(buildx.stdout.split()[1:2])}"


def main() -> int:
    """Make the Docker engine usable, print what was done and the versions; the exit status, 1 on failure."""
    try:
        for step in ensure_engine():
            print(step)
    except (EngineError, subprocess.TimeoutExpired) as e:
        print(f"docker engine: {e}", file=sys.stderr)
        return 1
    print(versions())
    return 0


if __name__ == "__main__":
    sys.exit(main())
