#!/usr/bin/env bash
# Monge gap training throughput: `perturbot ot --map monge_gap` vs OTT-JAX's MongeGapEstimator
# on CPU (bench/monge_gap/bench.py says what a step is). Uses the venv of the OT fixtures
# (bench/ot_venv.sh) and adds flax there, at the pin of bench/neural/run.sh, when missing.
#   swift build -c release && bench/monge_gap/run.sh [--dims 16 64] [--steps 200] [--ott-steps 100]
# Writes notes/bench/monge_gap.md.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
flax_pins=(flax==0.12.8 diffrax==0.7.2)   # as bench/neural/run.sh
# shellcheck source=../ot_venv.sh
source "$here/../ot_venv.sh"
ensure_ot_venv "import jax, optax, ott, numpy"
if ! JAX_PLATFORMS=cpu "$venv/bin/python" -c "from ott.neural.methods.monge_gap import MongeGapEstimator" 2>/dev/null; then
    echo "installing ${flax_pins[*]} into $venv for the OTT-JAX peer" >&2
    constraints="$(mktemp)"
    "$venv/bin/python" -m pip freeze --exclude-editable > "$constraints"
    "$venv/bin/python" -m pip install --quiet -c "$constraints" "${flax_pins[@]}"
    rm -f "$constraints"
fi

export JAX_PLATFORMS=cpu
exec "$venv/bin/python" "$here/bench.py" "$@"
