#!/usr/bin/env bash
# Inverse OT: time per fit of the joint solver (OWL-QN over (A, g), one plan pass a step) against
# the nested one (FISTA + a converged Sinkhorn per step, the solver before issue 33), on seed
# 004's 10-node circular graph at n ∈ {10³, 10⁴}, ε ∈ {1, 10}, ℓ1 with λ = 0.5·√(log n / n),
# both on the same pairs in one run. Aim (issue 33): an n = 10⁴, ε = 1 fit in ≤ 60 s here.
#
# Usage: bench/iot/run.sh [--perturbot PATH] [--limit SECONDS] [--pairs "1000 10000"] [--epsilons "1 10"]
#   --limit   wall-clock cap per nested fit (default 1000 s); a fit stopped there is reported as
#             "> limit" with the FISTA step it had reached, and its ratio as a lower bound.
# Prints a Markdown table, also written to notes/bench/iot.md.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
perturbot="$root/.build/release/perturbot"; limit=1000; pairs_list="1000 10000"; epsilons="1 10"
while [ $# -gt 0 ]; do
  case "$1" in
    --perturbot) perturbot="$2"; shift 2 ;;
    --limit) limit="$2"; shift 2 ;;
    --pairs) pairs_list="$2"; shift 2 ;;
    --epsilons) epsilons="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"; }
rows=()
for n in $pairs_list; do
  for eps in $epsilons; do
    data="$work/pairs-$n-$eps.csv"
    "$perturbot" generate iot-graph --nodes 10 --graph circular --delta 1 --epsilon "$eps" --pairs "$n" --seed 0 --out "$data" > /dev/null
    lambda=$(python3 -c "import math; print(0.5 * math.sqrt(math.log($n) / $n))")
    common=(iot --pairs "$data" --x-columns 1:10 --y-columns 11:20 --epsilon "$eps" --lambda "$lambda" --penalty l1
            --truth "${data%.csv}.A_star.csv" --json)
    declare -A result=()
    for solver in joint nested; do
      out="$work/$solver-$n-$eps"
      start=$(date +%s%N)
      set +e
      timeout --signal=TERM "$limit" "$perturbot" "${common[@]}" --solver "$solver" --out "$out.csv" \
        > "$out.json" 2> "$out.err"
      status=$?
      set -e
      end=$(date +%s%N)
      seconds=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
      if [ "$status" -eq 0 ]; then
        result[$solver]="$seconds|$(field "$out.json" outer_iterations)|$(field "$out.json" plan_passes)|$(field "$out.json" converged)|$(field "$out.json" wrong_positions)|done"
      elif [ "$status" -eq 124 ]; then
        step=$(grep -o 'iot step [0-9]*' "$out.err" | tail -1 | awk '{print $3}')
        result[$solver]="$seconds|${step:-?}|?|stopped at the $limit s cap|?|capped"
      else
        echo "$solver n=$n ε=$eps failed (exit $status):" >&2; cat "$out.err" >&2; exit 1
      fi
    done
    IFS='|' read -r js jsteps jpasses jconv jwrong _ <<< "${result[joint]}"
    IFS='|' read -r ns nsteps npasses nconv nwrong nstate <<< "${result[nested]}"
    # The ratio from the unrounded times; the table shows them to 0.01 s.
    ratio="$(awk -v a="$ns" -v b="$js" 'BEGIN { r = a / b; printf (r < 10 ? "%.1f" : "%.0f"), r }')×"
    [ "$nstate" = capped ] && ratio="> $ratio"
    js=$(printf '%.2f' "$js"); ns=$(printf '%.2f' "$ns")
    [ "$nstate" = capped ] && ns="> $ns"
    rows+=("| $n | $eps | $(printf '%.4f' "$lambda") | $js | $jsteps / $jpasses | $jconv | $jwrong | $ns | $nsteps / $npasses | $nconv | $nwrong | **$ratio** |")
    unset result
  done
done
out="$root/notes/bench/iot.md"
{
  echo "# Inverse OT: joint against nested solver, time per fit"
  echo
  echo "$(date -u +%Y-%m-%d), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), binary $perturbot."
  echo "Command: \`bench/iot/run.sh --limit $limit\`. Pairs: \`perturbot generate iot-graph\` (10-node circular graph, δ = 1, seed 0);"
  echo "fit: \`perturbot iot … --penalty l1 --lambda λ --solver joint|nested\` (tolerance 1e-5, marginal threshold 1e-8)."
  echo "Steps / passes: quasi-Newton or FISTA steps / passes over the n × n plan (a Sinkhorn iteration is two)."
  echo
  echo "| n | ε | λ | joint s | joint steps / passes | converged | wrong pos. | nested s | nested steps / passes | converged | wrong pos. | nested / joint |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
} | tee "$out"
