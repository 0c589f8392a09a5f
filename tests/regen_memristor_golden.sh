#!/usr/bin/env bash
# Regenerates the ngspice goldens of the memristor decks: for every
# netlists/memristor_*_bsource.cir, tests/golden/memristor_*_bsource.csv with
# columns time_s, v_V (device voltage v(dp)), i_A (device current, -i(v1):
# every deck drives the device from v1 through series elements only), x (the
# state w/D on the 1 F state capacitor, node xs).
# Usage: tests/regen_memristor_golden.sh [DECK.cir OUTPUT.csv]
# (no arguments: every deck into tests/golden/; the tests pass one deck and a
# temporary output to compare against a live ngspice run). NGSPICE names the
# program (default ngspice).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

run_deck() {
    local deck="$1" out="$2" tmp
    tmp="$(mktemp -d)"
    # The deck stays a plain deck (no .control) so that any simulator can read
    # it; the output commands are appended here. `quit 0` because ngspice -b
    # exits 1 after a .control run without .print.
    sed '/^\.end[[:space:]]*$/Id' "$deck" > "$tmp/run.cir"
    cat >> "$tmp/run.cir" <<CTRL
.control
set wr_singlescale
set wr_vecnames
set numdgt=15
run
let idev = -i(v1)
wrdata $tmp/out.txt v(dp) idev v(xs)
quit 0
.endc
.end
CTRL
    if ! (cd "$tmp" && "${NGSPICE:-ngspice}" -b run.cir > "$tmp/log.txt" 2>&1); then
        cat "$tmp/log.txt" >&2
        rm -rf "$tmp"
        exit 1
    fi
    mkdir -p "$(dirname "$out")"
    awk 'NR == 1 { print "time_s,v_V,i_A,x"; next } { printf "%s,%s,%s,%s\n", $1, $2, $3, $4 }' \
        "$tmp/out.txt" > "$out.tmp"
    mv "$out.tmp" "$out"
    rm -rf "$tmp"
    echo "wrote $out ($(($(wc -l < "$out") - 1)) points)"
}

if [ $# -eq 2 ]; then
    run_deck "$1" "$2"
else
    for deck in "$root"/netlists/memristor_*_bsource.cir; do
        run_deck "$deck" "$root/tests/golden/$(basename "${deck%.cir}").csv"
    done
fi
