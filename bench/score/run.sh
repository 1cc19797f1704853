#!/usr/bin/env bash
# `perturbot score` against `cell-eval run` (and pertpy's Distance("edistance")) on the same
# files, as ratios from one run. Needs a Python ≥ 3.12 for pertpy 1.2 (PYTHON=python3.12 by
# default); makes .venv-score-bench/ with the pins of scripts/fixtures/make_score_fixture.py.
#   swift build -c release && bench/score/run.sh [--cells 2000 20000] [--genes 2000]
# Writes notes/bench/score.md.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
python="${PYTHON:-python3.12}"
venv="$repo/.venv-score-bench"
pins=(cell-eval==0.8.1 pdex==0.2.5 pertpy==1.2.0)
if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c "import cell_eval, pertpy" 2>/dev/null; then
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${pins[@]}"
fi
exec "$venv/bin/python" "$here/bench.py" "$@"
