#!/usr/bin/env bash
# Times `xbar sim` against `ngspice -b` on the same decks: the example decks,
# the comparison decks of tests/decks/, and generated resistive grids with
# about 10^3, 10^4 and 10^5 unknowns. Both simulators write their full result
# (xbar: CSV files, ngspice: a binary raw file) so the work is comparable.
# Each run is repeated REPEAT times (default 3) and the fastest wall time kept;
# the 10^4 and 10^5 grids run once (ngspice needs minutes on them). A run
# longer than TIMEOUT seconds (default 1800) is reported as "> TIMEOUT".
#
# Usage: benches/sim_vs_ngspice.sh [REPEAT]    (prints a markdown table)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
repeat="${1:-3}"
timeout_s="${TIMEOUT:-1800}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cargo build --release -q -p xbar --manifest-path "$root/Cargo.toml"
# A private copy: a concurrent build must not swap the binary mid-run.
cp "$root/target/release/xbar" "$work/xbar"
xbar="$work/xbar"

# An n x n grid of 1 kOhm segments, each node leaking 1 MOhm to ground,
# driven at one corner by 1 V through 10 Ohm; n*n node voltages + 1 branch.
grid() {
  local n=$1 file=$2
  python3 - "$n" >"$file" <<'PY'
import sys
n = int(sys.argv[1])
out = [f"resistive grid {n}x{n}", "vin drive 0 dc 1", "rdrive drive n0_0 10"]
for i in range(n):
    for j in range(n):
        if j + 1 < n:
            out.append(f"rh{i}_{j} n{i}_{j} n{i}_{j+1} 1k")
        if i + 1 < n:
            out.append(f"rv{i}_{j} n{i}_{j} n{i+1}_{j} 1k")
        out.append(f"rl{i}_{j} n{i}_{j} 0 1meg")
out += [".op", ".end", ""]
sys.stdout.write("\n".join(out))
PY
}

# Fastest of $runs runs of "$@", in seconds.
best_time() {
  local runs=$1 best="" t start end status
  shift
  for _ in $(seq "$runs"); do
    start=$(date +%s.%N)
    status=0
    timeout "$timeout_s" "$@" >/dev/null 2>&1 || status=$?
    if [[ $status -eq 124 ]]; then echo "> $timeout_s"; return; fi
    if [[ $status -ne 0 ]]; then echo "failed: $*" >&2; echo "fail"; return; fi
    end=$(date +%s.%N)
    t=$(echo "$end - $start" | bc -l)
    if [[ -z "$best" ]] || (( $(echo "$t < $best" | bc -l) )); then best=$t; fi
  done
  printf '%.3f' "$best"
}

decks=()
for deck in "$root"/netlists/*.cir "$root"/tests/decks/*.cir; do
  case "$(basename "$deck")" in memristor*) continue ;; esac
  decks+=("$deck")
done
for n in 32 100 316; do
  grid "$n" "$work/grid_${n}x${n}.cir"
  decks+=("$work/grid_${n}x${n}.cir")
done

echo "| deck | analyses | unknowns (xbar) | xbar sim (s) | ngspice -b (s) | ngspice / xbar |"
echo "|---|---|---:|---:|---:|---:|"
for deck in "${decks[@]}"; do
  name="$(basename "$deck" .cir)"
  analyses="$(grep -ioE '^\.(op|dc|tran)\b' "$deck" | tr 'A-Z' 'a-z' | tr '\n' ' ' | sed 's/ $//')"
  runs=$repeat
  case "$name" in grid_100x100 | grid_316x316) runs=1 ;; esac
  tx=$(best_time "$runs" "$xbar" sim "$deck" --out "$work/xbar_$name")
  tn=$(cd "$(dirname "$deck")" && best_time "$runs" ngspice -b -r "$work/$name.raw" "$(basename "$deck")")
  ratio="-"
  if [[ "$tx" =~ ^[0-9.]+$ && "$tn" =~ ^[0-9.]+$ ]]; then ratio=$(printf '%.2f' "$(echo "$tn / $tx" | bc -l)"); fi
  unknowns="$("$xbar" sim "$deck" --out "$work/xbar_$name" 2>&1 | grep -oE '[0-9]+ unknowns' | head -1 | cut -d' ' -f1 || true)"
  echo "| $name | $analyses | ${unknowns:--} | $tx | $tn | $ratio |"
done
