#!/usr/bin/env python3
"""Reference for `xbar crossbar`: the same crossbar assembled as a sparse
nodal matrix and solved with scipy's spsolve (SuperLU).

usage: crossbar_scipy.py G.csv V.csv R_ROW R_COL R_DRIVER R_SENSE [columns.csv]
  Prints assembly and solve times; with xbar's columns.csv, also the largest
  relative difference of the column currents. All four resistances must be
  positive (every physical node is kept).
usage: crossbar_scipy.py --generate ROWS COLS SEED DIR
  Writes DIR/G.csv (uniform 1e-6..1e-4 S) and DIR/V.csv (uniform 0..0.2 V).
"""
import sys
import time

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla


def generate(rows, cols, seed, out):
    rng = np.random.default_rng(seed)
    g = rng.uniform(1e-6, 1e-4, size=(rows, cols))
    v = rng.uniform(0.0, 0.2, size=rows)
    np.savetxt(f"{out}/G.csv", g, delimiter=",", fmt="%.17e")
    np.savetxt(f"{out}/V.csv", v, fmt="%.17e")


def solve(g, v, r_row, r_col, r_drv, r_sense):
    n, m = g.shape
    t0 = time.perf_counter()
    idx = np.arange(n * m).reshape(n, m)
    r_node, c_node = idx, idx + n * m
    gr, gc = 1.0 / r_row, 1.0 / r_col
    rows_, cols_, vals = [], [], []

    def stamp(a, b, gv):
        gv = np.broadcast_to(gv, a.shape).ravel()
        a, b = a.ravel(), b.ravel()
        rows_.extend([a, b, a, b])
        cols_.extend([a, b, b, a])
        vals.extend([gv, gv, -gv, -gv])

    stamp(r_node, c_node, g)
    stamp(r_node[:, :-1], r_node[:, 1:], gr)
    stamp(c_node[:-1, :], c_node[1:, :], gc)
    diag = np.zeros(2 * n * m)
    diag[r_node[:, 0]] += 1.0 / r_drv
    diag[c_node[-1, :]] += 1.0 / r_sense
    rows_.append(np.arange(2 * n * m))
    cols_.append(np.arange(2 * n * m))
    vals.append(diag)
    a = sp.csc_matrix(
        (np.concatenate(vals), (np.concatenate(rows_), np.concatenate(cols_))),
        shape=(2 * n * m, 2 * n * m),
    )
    b = np.zeros(2 * n * m)
    b[r_node[:, 0]] = v / r_drv
    t1 = time.perf_counter()
    x = spla.spsolve(a, b)
    t2 = time.perf_counter()
    currents = x[c_node[-1, :]] / r_sense
    return currents, t1 - t0, t2 - t1


def main():
    if sys.argv[1] == "--generate":
        generate(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
        return
    g = np.loadtxt(sys.argv[1], delimiter=",", ndmin=2)
    v = np.loadtxt(sys.argv[2], ndmin=1)
    r = [float(x) for x in sys.argv[3:7]]
    if min(r) <= 0:
        sys.exit("all four resistances must be positive")
    currents, t_asm, t_solve = solve(g, v, *r)
    print(f"scipy {g.shape[0]}x{g.shape[1]}: assembly {t_asm:.3f} s, spsolve {t_solve:.3f} s, total {t_asm + t_solve:.3f} s")
    if len(sys.argv) > 7:
        ours = np.loadtxt(sys.argv[7], delimiter=",", skiprows=1)[:, 1]
        diff = np.max(np.abs(ours - currents)) / np.max(np.abs(currents))
        print(f"max relative difference xbar vs scipy: {diff:.2e}")


if __name__ == "__main__":
    main()
