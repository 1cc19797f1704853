# Sourced by bench/*/run.sh: `ensure_ot_venv "import …"` sets $venv to the venv of the OT fixtures,
# $PERTURBOT_OT_VENV (default: .venv-ot in the repository root: ott-jax, jax[cpu], POT, numpy,
# pinned in scripts/fixtures/make_ot_fixtures.py), and when its python cannot run the given
# imports (re)creates it with those pinned requirements through scripts/fixtures/fixture_venv.py
# (python3 with the venv module and pip access needed only then).
ensure_ot_venv() {
    local repo
    repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
    venv="${PERTURBOT_OT_VENV:-$repo/.venv-ot}"
    local python="${PYTHON:-python3}"
    if ! JAX_PLATFORMS=cpu "$venv/bin/python" -c "$1" 2>/dev/null; then
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
}
