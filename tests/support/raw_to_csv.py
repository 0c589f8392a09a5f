"""Converts an ngspice ascii raw file into one CSV per plot: <kind>.csv with
kind = op, dc, ac or tran, the header holding ngspice's vector names and the
values copied verbatim (16 significant digits). An AC plot is complex: its
scale is `frequency` (the real part) and every vector becomes two columns,
`re(name)` and `im(name)`, as in xbar's ac.csv.

Usage: python3 raw_to_csv.py FILE.raw OUT_DIR
"""
import csv, os, sys

raw, out = sys.argv[1], sys.argv[2]
kinds = {"Operating Point": "op", "DC transfer characteristic": "dc", "Transient Analysis": "tran",
         "AC Analysis": "ac"}
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
    complex_values = "complex" in header.get("Flags", "")
    if complex_values:
        names = [names[0]] + [f"{part}({n})" for n in names[1:] for part in ("re", "im")]
    rows = []
    for _ in range(npoints):
        row = [lines[i].split()[1]] + [lines[i + k].strip() for k in range(1, nvars)]
        if complex_values:
            row = [row[0].split(",")[0]] + [part for value in row[1:] for part in value.split(",")]
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
