#!/bin/sh
# Offline stand-in for the Miniforge installer (tools/docker/base_image.py, DEVIATIONS): Otter's
# setup.sh runs it as `mamba_install.sh -b`; it installs the stand-in `mamba` where Miniforge
# puts its own (~/miniforge3/bin, or -p PREFIX). Environments are venvs of the image's Python.
set -eu
prefix="$HOME/miniforge3"
while [ $# -gt 0 ]; do
    case "$1" in
        -b|-u|-f) ;;
        -p) shift; prefix="$1" ;;
        *) echo "Miniforge stand-in: unsupported option $1" >&2; exit 2 ;;
    esac
    shift
done
mkdir -p "$prefix/bin" "$prefix/envs"
install -m 0755 /opt/otter-offline/mamba "$prefix/bin/mamba"
echo "Miniforge stand-in: mamba installed in $prefix (environments are venvs of $(python3 --version))"
