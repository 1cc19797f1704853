#!/usr/bin/env bash
# A whole screen through the pipeline, cold then warm: wall time by stage, peak RSS, cache size
# (issue 30's aims for the full screen on this 2-core machine: <= 2 h cold, <= 8 GB, warm <= 60 s).
#
# Usage: bench/screen/run.sh [--perturbot PATH] [--tenth] [--work DIR] [--jobs 2]
#   --tenth     pipelines/screen-tenth.yaml (53,388 cells) instead of pipelines/screen.yaml (533,880)
#   --work      where the cache goes (default: a fresh temporary folder, removed afterwards)
#   --jobs      tasks at once (default 2, this machine's cores: a screen's tasks are small)
# Generates the data file when it is missing (data/screen.h5ad or data/screen-tenth.h5ad), runs
# `perturbot run --dry-run`, a cold run with /usr/bin/time -v, a warm rerun, and sums each
# stage's task seconds from the cache manifests. Prints a Markdown table, also written to
# notes/bench/<name>.md (the report itself lands in reports/<name>/, as the pipeline says).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
perturbot="$root/.build/release/perturbot"; pipeline="$root/pipelines/screen.yaml"; data="$root/data/screen.h5ad"
generate=(); work=""; jobs=2
while [ $# -gt 0 ]; do
  case "$1" in
    --perturbot) perturbot="$2"; shift 2 ;;
    --tenth) pipeline="$root/pipelines/screen-tenth.yaml"; data="$root/data/screen-tenth.h5ad"
             generate=(--cells-per-condition 23 --control-cells-per-line 500); shift ;;
    --work) work="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
if [ -z "$work" ]; then work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT; fi
mkdir -p "$work"
name="$(basename "$pipeline" .yaml)"
seconds() { local start=$1 end=$2; echo "$(( (end - start) / 1000000 ))" | awk '{ printf "%.1f", $1 / 1000 }'; }
generated="existing file"
if [ ! -f "$data" ]; then
  start=$(date +%s%N); "$perturbot" generate screen --out "$data" "${generate[@]}"; end=$(date +%s%N)
  generated="generated in $(seconds "$start" "$end") s"
fi
cache="$work/cache"; rm -rf "$cache"
start=$(date +%s%N); "$perturbot" run "$pipeline" --cache "$cache" --dry-run > "$work/dry.txt"; end=$(date +%s%N)
dry=$(seconds "$start" "$end"); tasks=$(tail -1 "$work/dry.txt")
/usr/bin/time -v "$perturbot" run "$pipeline" --cache "$cache" --jobs "$jobs" --quiet > "$work/cold.txt" 2> "$work/cold.time"
cold_wall=$(grep "Elapsed (wall clock)" "$work/cold.time" | awk '{print $NF}')
cold_rss=$(grep "Maximum resident" "$work/cold.time" | awk '{printf "%.2f", $NF / 1048576}')
start=$(date +%s%N); "$perturbot" run "$pipeline" --cache "$cache" --jobs "$jobs" --quiet > "$work/warm.txt"; end=$(date +%s%N)
warm=$(seconds "$start" "$end")
size=$(du -sh "$cache" | cut -f1)
out="$root/notes/bench/$name.md"
{
  echo "# $name: cold and warm run"
  echo
  echo "$(date -u +%Y-%m-%d), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), binary $perturbot."
  echo "Data: \`$(basename "$data")\` ($(du -h "$data" | cut -f1), $generated). Command: \`bench/screen/run.sh$([ "$name" = screen-tenth ] && echo " --tenth") --jobs $jobs\`."
  echo
  echo "| what | value |"
  echo "|---|---|"
  echo "| tasks | $tasks |"
  echo "| \`run --dry-run\` (plan, data digest remembered or computed) | $dry s |"
  echo "| cold run, wall | $cold_wall |"
  echo "| cold run, peak RSS | $cold_rss GiB |"
  echo "| warm rerun (every task cached, report rebuilt) | $warm s |"
  echo "| cache size | $size |"
  echo
  echo "Per stage, from the cache manifests: tasks, the sum of their compute seconds (two workers run"
  echo "tasks at once, so the stage's share of the wall time is about half the sum), and the slowest task."
  echo
  python3 - "$cache" <<'PY'
import json, os, sys
cache = sys.argv[1]
stages = {}
for name in os.listdir(cache):
    path = os.path.join(cache, name, "manifest.json")
    if name.startswith(".") or not os.path.exists(path):
        continue
    manifest = json.load(open(path))
    entry = stages.setdefault(manifest["stage"], [0, 0.0, 0.0, 0])
    seconds = manifest.get("seconds") or 0.0
    entry[0] += 1; entry[1] += seconds; entry[2] = max(entry[2], seconds)
    entry[3] += sum(manifest.get("sizes", {}).values())
order = ["load", "split", "pca", "ceiling", "solve", "evaluate", "gene_score"]
print("| stage | tasks | task seconds, sum | slowest task (s) | cache bytes |")
print("|---|---|---|---|---|")
for stage in sorted(stages, key=lambda s: order.index(s) if s in order else len(order)):
    count, total, slowest, size = stages[stage]
    print(f"| {stage} | {count:,} | {total:,.1f} | {slowest:.2f} | {size / 1e6:,.1f} MB |")
PY
} | tee "$out.tmp"
mv "$out.tmp" "$out"
echo "written: $out"
