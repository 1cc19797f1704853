#!/usr/bin/env bash
# Unbalanced Sinkhorn: the cost of one iteration at tau < 1 against tau = 1, in one run on the
# same clouds (issue 29's aim: at most 1.2x at n = m = 4,096).
#
# Usage: bench/unbalanced/run.sh [--perturbot PATH] [--n 4096] [--d 16] [--iterations 200] [--repeat 3]
# Needs python3 with numpy (to draw the clouds). Every solve runs exactly --iterations iterations
# (threshold 1e-300), so seconds / iterations compares like with like. Writes the table to
# notes/bench/unbalanced.md and prints it.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
perturbot="$root/.build/release/perturbot"; n=4096; d=16; iterations=200; repeat=3
while [ $# -gt 0 ]; do
  case "$1" in
    --perturbot) perturbot="$2"; shift 2 ;;
    --n) n="$2"; shift 2 ;;
    --d) d="$2"; shift 2 ;;
    --iterations) iterations="$2"; shift 2 ;;
    --repeat) repeat="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
python3 - "$work" "$n" "$d" <<'PY'
import sys, numpy as np
work, n, d = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(0)
np.save(f"{work}/x.npy", rng.normal(size=(n, d)).astype(np.float32))
np.save(f"{work}/y.npy", (rng.normal(size=(n, d)) * 0.8 + 0.7).astype(np.float32))
PY
out="$root/notes/bench/unbalanced.md"
{
  echo "# Unbalanced Sinkhorn: cost per iteration against balanced"
  echo
  echo "$(date -u +%Y-%m-%d), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), binary $perturbot."
  echo "n = m = $n, d = $d, float32, ε = auto, $iterations iterations each (threshold 1e-300), best of $repeat; command: \`bench/unbalanced/run.sh --n $n --d $d --iterations $iterations\`."
  echo
  echo "| tau_a = tau_b | mode | seconds | ms / iteration | ratio to balanced |"
  echo "|---|---|---|---|---|"
  for mode in dense online; do
    base=""
    for tau in 1 0.95 0.8; do
      seconds=$("$perturbot" bench sinkhorn --source "$work/x.npy" --target "$work/y.npy" --threshold 1e-300 \
        --max-iterations "$iterations" --mode "$mode" --tau-a "$tau" --tau-b "$tau" --repeat "$repeat" --json \
        | python3 -c 'import json,sys; print(json.load(sys.stdin)["seconds"])')
      [ -z "$base" ] && base="$seconds"
      python3 -c "s=$seconds; b=$base; it=$iterations; print(f'| $tau | $mode | {s:.3f} | {1000*s/it:.2f} | {s/b:.3f} |')"
    done
  done
} | tee "$out"
