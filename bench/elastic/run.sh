#!/usr/bin/env bash
# Elastic-cost Sinkhorn benchmark: `perturbot bench sinkhorn --cost elastic_l1|elastic_stvs` vs
# OTT-JAX's RegTICost on CPU, n = m = 2000, d = 3000 and n = m = 4096, d = 64 (bench.py --help).
#
# Usage (from anywhere):
#   swift build -c release
#   bench/elastic/run.sh [--cases 2000x3000 4096x64] [--costs elastic_l1 elastic_stvs] [--repeat R] [--quick]
#
# Reuses the venv of the cost fixtures, $PERTURBOT_OT_VENV (default: .venv-ot in the repository
# root, made by scripts/fixtures/make_ot_fixtures.py: ott-jax 0.6.0, jax[cpu], POT, numpy); when it
# cannot import them it (re)creates it with the same pinned requirements. The table is printed
# and written to notes/bench/elastic.md (--out PATH to write elsewhere).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../ot_venv.sh
source "$here/../ot_venv.sh"
ensure_ot_venv "import jax, ott, numpy"

export JAX_PLATFORMS=cpu
exec "$venv/bin/python" "$here/bench.py" "$@"
