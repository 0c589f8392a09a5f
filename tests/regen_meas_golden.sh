#!/usr/bin/env bash
# Regenerates the ngspice golden outputs of the measurement and .control decks
# in tests/meas/, used by crates/cli/tests/meas_ngspice.rs.
#
# For every deck:
#   NGSPICE_MEAS_PRECISION=12 ngspice -b deck.cir   (ngspice refuses .meas
#   together with -r) -> tests/golden/meas/<deck>/meas.csv: name,value in
#   deck order as ngspice printed them, nan for a measurement that failed;
#   every file the deck's `wrdata` commands wrote -> wrdata_<file>.csv with
#   the scale (`time`, `v-sweep`) and the vectors named on the wrdata line;
#   and for a deck without .control, the dot analyses' plots from
#   SPICE_ASCIIRAWFILE=1 ngspice -b -r out.raw -> <kind>.csv as
#   tests/regen_golden.sh writes them.
#
# Usage: tests/regen_meas_golden.sh   (from anywhere; needs ngspice and python3)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

for deck in "$root"/tests/meas/*.cir; do
  name="$(basename "$deck" .cir)"
  out="$root/tests/golden/meas/$name"
  run="$work/$name"
  mkdir -p "$run"
  cp "$deck" "$run/"
  (cd "$run" && NGSPICE_MEAS_PRECISION=12 ngspice -b "$name.cir" >"$work/$name.log" 2>&1) || {
    echo "ngspice failed on $deck:" >&2
    cat "$work/$name.log" >&2
    exit 1
  }
  rm -rf "$out.tmp" && mkdir -p "$out.tmp"
  if ! grep -qi '^[[:space:]]*\.control' "$deck"; then
    (cd "$run" && SPICE_ASCIIRAWFILE=1 ngspice -b -r "$work/$name.raw" "$name.cir" >/dev/null 2>&1)
    python3 "$root/tests/support/raw_to_csv.py" "$work/$name.raw" "$out.tmp"
  fi
  python3 - "$deck" "$work/$name.log" "$run" "$out.tmp" <<'PY'
import csv, os, re, sys

deck, log, run, out = sys.argv[1:]
names = []          # measurement names in deck order
wrdata = []         # (file, [vectors])
for line in open(deck):
    words = line.split()
    if not words:
        continue
    head = words[0].lower()
    if head in (".meas", ".measure", "meas", "measure") and len(words) > 2:
        names.append(words[2].lower())
    if head == "wrdata" and len(words) > 2:
        wrdata.append((words[1], [w.lower() for w in words[2:]]))

# ngspice prints a result as `%-20s=` then the value; a failed PARAM prints
# `failed`, any other failure prints nothing on stdout.
values = {}
for line in open(log):
    m = re.match(r"^(\S+) *=\s+(\S+)", line)
    if m and len(line.split("=")[0]) >= 20 and m.group(1).lower() in names:
        value = m.group(2)
        values[m.group(1).lower()] = "nan" if value == "failed" else value
with open(os.path.join(out, "meas.csv"), "w", newline="") as f:
    writer = csv.writer(f, lineterminator="\n")
    writer.writerow(["name", "value"])
    for name in names:
        writer.writerow([name, values.get(name, "nan")])

for file, vectors in wrdata:
    rows = [line.split() for line in open(os.path.join(run, file)) if line.strip()]
    scale = "time"
    with open(os.path.join(out, f"wrdata_{file}.csv"), "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow([scale] + vectors)
        for row in rows:
            writer.writerow([row[0]] + row[1::2])
PY
  rm -rf "$out" && mv "$out.tmp" "$out"
  echo "$name: $(ls "$out" | tr '\n' ' ')"
done
