#!/usr/bin/env bash
# Energy-guided entropic OT (EgNOT) training benchmark: `perturbot bench egnot` vs the same
# training step in PyTorch (CPU, float32); d in {2, 16}, batch 1024, MLP 3 x 256, 100 Langevin
# steps per training step. Reports training steps and Langevin steps per second and the ratio
# perturbot / PyTorch.
#
# Usage (from anywhere):
#   swift build -c release
#   bench/egnot/run.sh [--perturbot PATH] [--dims D ...] [--steps S] [--repeat R]
#                      [--skip-perturbot] [--skip-torch] [--self-check] [--self-check-only] ...
#
# Uses its own venv, $PERTURBOT_TORCH_VENV (default: .venv-torch in the repository root), with
# torch (the CPU build) and numpy, pinned below. It is created only when its
# python cannot `import torch, numpy` (a ~200 MB download, done once). Then runs bench.py with
# the given options (see `bench/egnot/run.sh --help`). The table is printed and written to
# notes/bench/egnot.md (--out PATH to write elsewhere).
# Needs python3 with the venv module and pip access only when the venv has to be made.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
torch_pin="torch==2.13.0+cpu"     # keep in step with TORCH_PIN / NUMPY_PIN in bench.py
torch_index="https://download.pytorch.org/whl/cpu"
numpy_pin="numpy==2.4.6"
venv="${PERTURBOT_TORCH_VENV:-$repo/.venv-torch}"
python="${PYTHON:-python3}"

if ! "$venv/bin/python" -c "import torch, numpy" 2>/dev/null; then
    echo "creating the PyTorch benchmark venv at $venv ($torch_pin, $numpy_pin)" >&2
    [[ -x "$venv/bin/python" ]] || "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --upgrade pip
    "$venv/bin/python" -m pip install --quiet "$numpy_pin"
    # The CPU wheel by its pinned name through pip's configured sources first (a wheelhouse in
    # find-links, or a mirror, provides it where the PyTorch index is not reachable; PyPI itself
    # has no +cpu builds, so there this fails at once), else from the PyTorch CPU index, which
    # also serves torch's dependencies.
    if ! "$venv/bin/python" -m pip install --quiet "$torch_pin" 2>/dev/null; then
        "$venv/bin/python" -m pip install --quiet "$torch_pin" --index-url "$torch_index"
    fi
    "$venv/bin/python" -c "import torch, numpy" || {
        echo "error: $venv still cannot import torch and numpy" >&2; exit 1; }
fi

exec "$venv/bin/python" "$here/bench.py" "$@"
