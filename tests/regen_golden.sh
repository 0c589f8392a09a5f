#!/usr/bin/env bash
# Regenerates the ngspice golden outputs used by crates/cli/tests/sim_ngspice.rs.
#
# For every deck in netlists/ (except memristor_* decks, which the device
# tests own), in netlists/memristor_models/ (except the *_ymem.cir and *_xyce.cir
# twins, which use YMEMRISTOR, a device ngspice lacks) and in tests/decks/, runs
#     SPICE_ASCIIRAWFILE=1 ngspice -b -r out.raw deck.cir
# and converts each plot of the ascii raw file (16 significant digits) into
# tests/golden/<deck>/<kind>.csv with kind = op, dc or tran. The header holds
# ngspice's vector names (the DC scale is `v(v-sweep)` or `i(i-sweep)`), the
# values are copied verbatim from the raw file.
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
  python3 - "$work/$name.raw" "$out.tmp" <<'PY'
import csv, os, sys

raw, out = sys.argv[1], sys.argv[2]
kinds = {"Operating Point": "op", "DC transfer characteristic": "dc", "Transient Analysis": "tran"}
lines = open(raw).read().splitlines()
i, seen = 0, set()
while i < len(lines):
    if not lines[i].startswith("Title:"):
        i += 1
        continue
    header = {}
    while not lines[i].startswith("Variables:"):
        key, _, value = lines[i].partition(":")
        header[key.strip()] = value.strip()
        i += 1
    i += 1
    nvars, npoints = int(header["No. Variables"]), int(header["No. Points"])
    names = [lines[i + k].split()[1] for k in range(nvars)]
    i += nvars
    assert lines[i].startswith("Values:"), lines[i]
    i += 1
    rows = []
    for _ in range(npoints):
        row = [lines[i].split()[1]] + [lines[i + k].strip() for k in range(1, nvars)]
        rows.append(row)
        i += nvars
    kind = kinds[header["Plotname"]]
    if kind in seen:
        sys.exit(f"{raw}: several {kind} plots; keep one analysis of each kind in golden decks")
    seen.add(kind)
    with open(os.path.join(out, f"{kind}.csv"), "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(names)
        writer.writerows(rows)
PY
  rm -rf "$out" && mv "$out.tmp" "$out"
  echo "$name: $(ls "$out" | tr '\n' ' ')"
done
