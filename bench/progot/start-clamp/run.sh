#!/usr/bin/env bash
# The start-ε clamp (progot's `start_at_least_end`) measured on every ProgOT benchmark here:
# the demo, the sci-Plex-like table, the GMM map benchmark and the Gaussian case of
# bench/progot/sweep.py; writes notes/progot/start-clamp.md (and the reports it summarises).
#   bench/progot/start-clamp/run.sh [PERTURBOT]
set -euo pipefail
cd "$(dirname "$0")/../../.."
perturbot="${1:-.build/release/perturbot}"
[ -f data/sciplex-like.h5ad ] || "$perturbot" generate scrna-like --out data/sciplex-like.h5ad
[ -f data/map-benchmark.h5ad ] || "$perturbot" generate map-benchmark --dim 64 --dim 128 --dim 256 --seed 0 \
    --source-cells 2500 --target-cells 2500 --out data/map-benchmark.h5ad
timings=notes/progot/start-clamp/wall-times.txt
mkdir -p notes/progot/start-clamp
: >"$timings"
for benchmark in demo sciplex-like map-estimation; do
    start=$(date +%s)
    "$perturbot" run "bench/progot/start-clamp/$benchmark.yaml" --quiet
    echo "$benchmark $(( $(date +%s) - start ))" >>"$timings"
done
start=$(date +%s)
python3 bench/progot/sweep.py --perturbot "$perturbot" --cases gaussian8 \
    --settings "K4 quad warm thr 1e-2→1e-3,K4 quad warm thr 1e-2→1e-3 clamp" \
    --out notes/progot/start-clamp/gaussian8.md >/dev/null
echo "gaussian8 $(( $(date +%s) - start ))" >>"$timings"
python3 bench/progot/start-clamp/summarise.py >notes/progot/start-clamp.md
cat notes/progot/start-clamp.md
