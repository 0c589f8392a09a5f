#!/usr/bin/env bash
# Times `xbar sim` against `ngspice -b` on the memristor-model decks of
# netlists/memristor_models/ (issue 12, must show 3): ngspice and xbar on the
# same behavioural deck, and xbar on the deck's native YMEMRISTOR twin. Both
# simulators write their full result (xbar: CSV, ngspice: a binary raw file).
# Wall times are hyperfine's mean over RUNS runs after 3 warm-ups; accepted
# time points are ngspice's data rows and xbar's summary line.
#
# Usage: benches/memristor_models.sh [RUNS]    (prints a markdown table; needs
# hyperfine, e.g. Debian's package)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
runs="${1:-20}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cargo build --release -q -p xbar --manifest-path "$root/Cargo.toml"
# A private copy: a concurrent build must not swap the binary mid-run.
cp "$root/target/release/xbar" "$work/xbar"
xbar="$work/xbar"
cp "$root"/netlists/memristor_models/*.sub "$root"/netlists/memristor_models/*.cir "$work/"

mean_ms() { # command -> mean wall time in ms
  hyperfine -N -w 3 -r "$runs" --export-json "$work/h.json" "$1" >/dev/null 2>&1
  python3 -c "import json; print(f\"{json.load(open('$work/h.json'))['results'][0]['mean'] * 1e3:.1f}\")"
}

echo "| deck | ngspice ms | xbar ms (same deck) | xbar ms (native twin) | ngspice points | xbar points (same deck) | xbar points (twin) |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
cd "$work"
for model in biolek joglekar yakopcic pershin mms; do
  for drive in sine pulse; do
    deck="${model}_${drive}"
    spice_points=$(ngspice -b -r "$work/out.raw" "$deck.cir" 2>&1 | sed -n 's/^No. of Data Rows : *\([0-9]*\).*/\1/p')
    same_points=$("$xbar" sim "$deck.cir" --out "$work/same" 2>&1 | sed -n 's/.*tran: \([0-9]*\) accepted time points.*/\1/p')
    twin_points=$("$xbar" sim "${deck}_ymem.cir" --out "$work/twin" 2>&1 | sed -n 's/.*tran: \([0-9]*\) accepted time points.*/\1/p')
    t_spice=$(mean_ms "ngspice -b -r $work/out.raw $deck.cir")
    t_same=$(mean_ms "$xbar sim $deck.cir --out $work/same")
    t_twin=$(mean_ms "$xbar sim ${deck}_ymem.cir --out $work/twin")
    echo "| $deck | $t_spice | $t_same | $t_twin | $spice_points | $same_points | $twin_points |"
  done
done
