#!/usr/bin/env bash
# h5ad load benchmark: anndata.read_h5ad vs `perturbot bench h5ad-load` on a 200k x 2k CSR file.
#
# Usage (from anywhere):
#   swift build -c release
#   bench/h5ad_load/run.sh [--perturbot PATH] [--data PATH] [--repeat N] [--regenerate] ...
#
# Makes (or reuses) a venv with anndata, scipy and numpy at $PERTURBOT_BENCH_VENV
# (default: .venv-bench in the repository root), then runs bench.py with the given options
# (see `bench/h5ad_load/run.sh --help`). The result table is printed and written to
# notes/bench/h5ad_load.md. Needs python3 with the venv module and pip access.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="${PERTURBOT_BENCH_VENV:-$repo/.venv-bench}"
python="${PYTHON:-python3}"

if ! "$venv/bin/python" -c "import anndata, scipy, numpy, h5py" 2>/dev/null; then
    echo "creating benchmark venv at $venv" >&2
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet anndata scipy numpy h5py
fi

exec "$venv/bin/python" "$here/bench.py" "$@"
