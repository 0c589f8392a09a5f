#!/usr/bin/env bash
# ngspice on the same crossbar decks `xbar crossbar --emit-netlist` writes,
# next to the whole `xbar crossbar` process, for growing sizes.
# usage: benches/crossbar_ngspice.sh [XBAR_BINARY] [SIZES...]
#   defaults: target/release/xbar, sizes 32 64 128
set -euo pipefail
XBAR=${1:-target/release/xbar}
shift || true
SIZES=${*:-32 64 128}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
for n in $SIZES; do
  dir="$WORK/$n"
  mkdir -p "$dir"
  start=$(date +%s.%N)
  "$XBAR" crossbar --rows "$n" --cols "$n" --g-min 1e-6 --g-max 1e-4 --v-max 0.2 --seed 1 \
    --r-row 2.5 --r-col 2.5 --r-driver 100 --r-sense 100 --out "$dir" \
    --emit-netlist "$dir/deck.cir" > "$dir/xbar.log"
  xbar_s=$(echo "$(date +%s.%N) - $start" | bc)
  start=$(date +%s.%N)
  SPICE_ASCIIRAWFILE=1 ngspice -b -r "$dir/out.raw" "$dir/deck.cir" > "$dir/ngspice.log" 2>&1
  spice_s=$(echo "$(date +%s.%N) - $start" | bc)
  # Largest relative difference of the column currents.
  diff=$(python3 - "$dir" <<'PY'
import sys
d = sys.argv[1]
raw = open(f"{d}/out.raw").read()
vals = [float(t) for t in raw[raw.index("\nValues:") + 8:].split() if "." in t]
ours = [float(l.split(",")[1]) for l in open(f"{d}/columns.csv").read().splitlines()[1:]]
scale = max(abs(x) for x in vals)
print(f"{max(abs(a - b) for a, b in zip(ours, vals)) / scale:.1e}")
PY
)
  printf '%5dx%-5d xbar (incl. deck writing) %8.3f s   ngspice %9.3f s   max rel diff %s\n' "$n" "$n" "$xbar_s" "$spice_s" "$diff"
done
