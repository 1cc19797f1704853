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
# and written to reports/bench/elastic.md (--out PATH to write elsewhere).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="${PERTURBOT_OT_VENV:-$repo/.venv-ot}"
python="${PYTHON:-python3}"

if ! JAX_PLATFORMS=cpu "$venv/bin/python" -c "import jax, ott, numpy" 2>/dev/null; then
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
