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
# `bench/sinkhorn/run.sh --help`). The table is printed and written to reports/bench/sinkhorn.md
# (--out PATH to write elsewhere). Needs python3 with the venv module and pip access only when
# the venv has to be made.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="${PERTURBOT_OT_VENV:-$repo/.venv-ot}"
python="${PYTHON:-python3}"

if ! JAX_PLATFORMS=cpu "$venv/bin/python" -c "import ot, jax, ott, numpy, scipy" 2>/dev/null; then
    echo "creating benchmark venv at $venv" >&2
    "$python" - "$repo/scripts/fixtures" "$venv" "$python" <<'PY'
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from fixture_venv import ensure_venv
from make_ot_fixtures import REQUIREMENTS, STAMP
ensure_venv(Path(sys.argv[2]), REQUIREMENTS, sys.argv[3], reinstall=False, stamp_name=STAMP)
PY
fi

export JAX_PLATFORMS=cpu
exec "$venv/bin/python" "$here/bench.py" "$@"
