#!/usr/bin/env bash
# ICNN-OT training benchmark: `perturbot bench icnn` vs the same CellOT training step in JAX
# (CPU), and with OTT-JAX's ICNN module; d in {16, 64}, batch 256, 10 inner g-steps per
# outer step. Reports outer steps per second and the ratio perturbot / peer.
#
# Usage (from anywhere):
#   swift build -c release
#   bench/neural/run.sh [--perturbot PATH] [--dims D ...] [--steps S] [--repeat R]
#                       [--skip-perturbot] [--skip-ott] [--self-check] [--self-check-only] ...
#
# Reuses the venv of the OT fixtures, $PERTURBOT_OT_VENV (default: .venv-ot in the
# repository root: ott-jax, jax[cpu], POT, numpy, pinned in scripts/fixtures/make_ot_fixtures.py);
# when it cannot import them it (re)creates it with the same pinned requirements through
# scripts/fixtures/fixture_venv.py. The OTT ICNN-module peer needs flax and diffrax (ott.neural
# imports both), which that venv lacks: unless --skip-ott is given, they are installed into it,
# pinned (flax==0.12.8, diffrax==0.7.2), with every package already there held at its version
# (pip's constraints = the venv's `pip freeze`); if that fails the peer is reported as not
# available. Then runs bench.py with the given options (see `bench/neural/run.sh --help`).
# The table is printed and written to notes/bench/neural.md (--out PATH to write elsewhere).
# Needs python3 with the venv module and pip access only when something has to be installed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
flax_pins=(flax==0.12.8 diffrax==0.7.2)   # keep in step with FLAX_PIN / DIFFRAX_PIN in bench.py
# shellcheck source=../ot_venv.sh
source "$here/../ot_venv.sh"
ensure_ot_venv "import jax, optax, ott, numpy"

want_ott=1
for arg in "$@"; do
    case "$arg" in
        --skip-ott|-h|--help) want_ott=0 ;;
    esac
done
if [[ $want_ott == 1 ]] && \
   ! JAX_PLATFORMS=cpu "$venv/bin/python" -c "from ott.neural.networks.icnn import ICNN" 2>/dev/null; then
    echo "installing ${flax_pins[*]} into $venv for the OTT ICNN-module peer" >&2
    constraints="$(mktemp)"
    "$venv/bin/python" -m pip freeze --exclude-editable > "$constraints"
    if ! "$venv/bin/python" -m pip install --quiet -c "$constraints" "${flax_pins[@]}"; then
        echo "warning: could not install ${flax_pins[*]}; the OTT ICNN-module peer will be" \
             "reported as not available (pass --skip-ott to leave it out)" >&2
    fi
    rm -f "$constraints"
fi

export JAX_PLATFORMS=cpu
exec "$venv/bin/python" "$here/bench.py" "$@"
