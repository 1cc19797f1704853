#!/usr/bin/env bash
# Sinkhorn benchmark: `perturbot bench sinkhorn` vs POT (sinkhorn_log) vs OTT-JAX on CPU,
# n = m in {1000, 4096, 16384}, d in {16, 64}, fixed epsilon, threshold 1e-3; plus
# n = m = 50,000, d = 64 in perturbot's online mode (time and peak RSS).
#
# Usage (from anywhere):
#   swift build -c release
#   bench/sinkhorn/run.sh [--perturbot PATH] [--sizes N ...] [--dims D ...] [--repeat R]
#                         [--skip-pot] [--skip-ott] [--skip-large] [--budget S] [--quick] ...
#
# Reuses the venv of the OT fixtures, $PERTURBOT_OT_VENV (default: .venv-ot in the
# repository root: ott-jax, jax[cpu], POT, numpy, pinned in scripts/fixtures/make_ot_fixtures.py);
# when it cannot import them it (re)creates it with the same pinned requirements through
# scripts/fixtures/fixture_venv.py. Then runs bench.py with the given options (see
# `bench/sinkhorn/run.sh --help`). The table is printed and written to notes/bench/sinkhorn.md
# (--out PATH to write elsewhere). Needs python3 with the venv module and pip access only when
# the venv has to be made.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../ot_venv.sh
source "$here/../ot_venv.sh"
ensure_ot_venv "import ot, jax, ott, numpy, scipy"

export JAX_PLATFORMS=cpu
exec "$venv/bin/python" "$here/bench.py" "$@"
