#!/usr/bin/env bash
# Regenerates the ngspice golden outputs used by crates/cli/tests/sim_ngspice.rs.
#
# For every deck in netlists/ (except memristor_* decks, which the device
# tests own), in netlists/memristor_models/ (except the *_ymem.cir and *_xyce.cir
# twins, which use YMEMRISTOR, a device ngspice lacks) and in tests/decks/, runs
#     SPICE_ASCIIRAWFILE=1 ngspice -b -r out.raw deck.cir
# and converts each plot of the ascii raw file (16 significant digits) into
# tests/golden/<deck>/<kind>.csv with kind = op, dc, ac or tran. The header
# holds ngspice's vector names (the DC scale is `v(v-sweep)` or `i(i-sweep)`),
# the values are copied verbatim from the raw file. An AC plot is complex:
# its scale is `frequency` (the real part) and every vector becomes two
# columns, `re(name)` and `im(name)`, as in xbar's ac.csv. For a deck with a
# transient it also writes tests/golden/<deck>/tran_points.txt: ngspice's
# count of accepted time points (from a second run of a copy with
# `.options acct`), which sim_ngspice.rs holds xbar's count against.
#
# Usage: tests/regen_golden.sh   (from anywhere; needs ngspice and python3)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

decks=()
for deck in "$root"/netlists/*.cir "$root"/netlists/memristor_models/*.cir "$root"/tests/decks/*.cir; do
  case "$(basename "$deck")" in memristor*|*_ymem.cir|*_xyce.cir) continue ;; esac
  decks+=("$deck")
done

for deck in "${decks[@]}"; do
  name="$(basename "$deck" .cir)"
  out="$root/tests/golden/$name"
  (cd "$(dirname "$deck")" && SPICE_ASCIIRAWFILE=1 ngspice -b -r "$work/$name.raw" "$(basename "$deck")" >"$work/$name.log" 2>&1) || {
    echo "ngspice failed on $deck:" >&2
    cat "$work/$name.log" >&2
    exit 1
  }
  rm -rf "$out.tmp" && mkdir -p "$out.tmp"
  python3 "$root/tests/support/raw_to_csv.py" "$work/$name.raw" "$out.tmp"
  if [ -f "$out.tmp/tran.csv" ]; then
    acct="$(dirname "$deck")/.acct-$name.cir"
    sed '/^\.end[[:space:]]*$/Id' "$deck" >"$acct"
    printf '.options acct\n.end\n' >>"$acct"
    (cd "$(dirname "$deck")" && ngspice -b -r "$work/acct.raw" "$(basename "$acct")" >"$work/$name.acct" 2>&1) || true
    rm -f "$acct"
    points="$(sed -n 's/^Accepted timepoints *= *\([0-9]*\).*/\1/p' "$work/$name.acct")"
    [ -n "$points" ] || { echo "no accepted-point count from ngspice for $deck" >&2; exit 1; }
    echo "$points" >"$out.tmp/tran_points.txt"
  fi
  rm -rf "$out" && mv "$out.tmp" "$out"
  echo "$name: $(ls "$out" | tr '\n' ' ')"
done
