#!/usr/bin/env bash
# Sinkhorn's convergence accelerators at a small ε, perturbot vs OTT-JAX on CPU
# (bench/sinkhorn/accelerators.py says what is timed). Uses the venv of bench/ot_venv.sh.
#   swift build -c release && bench/sinkhorn/accelerators.sh [--dims 16 64] [--repeat 2]
# Writes notes/bench/sinkhorn-accelerators.md.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../ot_venv.sh
source "$here/../ot_venv.sh"
ensure_ot_venv "import jax, ott, numpy"

export JAX_PLATFORMS=cpu
exec "$venv/bin/python" "$here/accelerators.py" "$@"
