"""IR drop in one crossbar array: the exact nodal solve (reference) and the iterative solver.

Geometry (also :mod:`neurosim.engine.crossbar`): M rows by N physical columns. Row i is driven
at its j = 0 end through one wire segment ``r_row``; segments ``r_row`` join cell (i, j) to
(i, j+1) and the far end is open. Column j is held at virtual ground at its i = M-1 end through
one segment ``r_col``; segments join (i, j) to (i+1, j) and the top end is open. Device
G[i, j] joins row node (i, j) and column node (i, j). The column current is the current into
the virtual ground.

The exact solve writes Kirchhoff's current law at the 2 M N nodes (a sparse symmetric
positive-definite system) and factorises it with SuperLU; it is the reference, O((MN)^1.5).
The iterative solver is CrossSim's under-relaxed fixed point (O(MN) per sweep, compiled).
"""

import warnings

import numpy as np

from ..engine.crossbar import GAMMA_MIN, ir_solve
from ..validation import check_nonnegative, fail

__all__ = ["solve_exact", "solve_iterative", "IRDropWarning", "IRDropError",
           "DROP_WARN"]

#: mean loss of column current above which the design is called unrealistic (a warning)
DROP_WARN = 0.3


class IRDropWarning(UserWarning):
    """The wire resistance takes a large share of the column current."""


class IRDropError(RuntimeError):
    """The iterative IR-drop solver did not converge."""


def _check(g, v_in, r_row, r_col):
    g = np.asarray(g, dtype=np.float64)
    if g.ndim != 2 or min(g.shape) < 1:
        fail("g", "a 2-D array of conductances (S)", np.shape(g), "shape")
    if np.any(~np.isfinite(g)) or np.any(g < 0):
        fail("g", "finite conductances >= 0 S", float(np.nanmin(g)))
    v = np.asarray(v_in, dtype=np.float64)
    if v.shape != (g.shape[0],):
        fail("v_rows.shape", f"({g.shape[0]},) (one voltage per row)", v.shape)
    if np.any(~np.isfinite(v)):
        fail("v_rows", "finite voltages (V)", v)
    return g, v, check_nonnegative("r_row", r_row, "ohm"), check_nonnegative("r_col", r_col, "ohm")


def solve_exact(g, v_in, r_row, r_col):
    """Column currents (A) by the exact nodal solve; ``r_row``/``r_col`` in ohm per segment
    (0 gives the ideal ``v_in @ g``)."""
    import scipy.sparse as sp
    from scipy.sparse.linalg import spsolve
    g, v, r_row, r_col = _check(g, v_in, r_row, r_col)
    if r_row == 0.0 or r_col == 0.0:
        if r_row == r_col:
            return v @ g
        fail("r_row/r_col", "both > 0 or both 0 for the exact solve", (r_row, r_col))
    m, n = g.shape
    gr, gc = 1.0 / r_row, 1.0 / r_col
    idx = np.arange(m * n).reshape(m, n)
    row_node, col_node = idx, idx + m * n
    rows, cols, vals = [], [], []

    def add(a, b, val):
        rows.append(a.ravel())
        cols.append(b.ravel())
        vals.append(np.broadcast_to(val, a.shape).ravel())

    # device between row node and column node
    add(row_node, row_node, g)
    add(col_node, col_node, g)
    add(row_node, col_node, -g)
    add(col_node, row_node, -g)
    # row wire segments: driver -> (i, 0), (i, j) -> (i, j+1)
    add(row_node[:, :1], row_node[:, :1], gr)
    a, b = row_node[:, :-1], row_node[:, 1:]
    for p, q in ((a, a), (b, b)):
        add(p, q, gr)
    add(a, b, -gr)
    add(b, a, -gr)
    # column wire segments: (i, j) -> (i+1, j), (M-1, j) -> ground
    add(col_node[-1:, :], col_node[-1:, :], gc)
    a, b = col_node[:-1, :], col_node[1:, :]
    for p, q in ((a, a), (b, b)):
        add(p, q, gc)
    add(a, b, -gc)
    add(b, a, -gc)
    size = 2 * m * n
    mat = sp.csc_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                        shape=(size, size))
    rhs = np.zeros(size)
    rhs[row_node[:, 0]] = gr * v
    x = spsolve(mat, rhs)
    return gc * x[col_node[-1, :]]


def solve_iterative(g, v_in, r_row, r_col, gamma=0.9, tol=1e-9, max_iter=5000,
                    warn=DROP_WARN):
    """Column currents (A) by under-relaxed sweeps (see :mod:`neurosim.engine.crossbar`).

    ``tol`` is the largest residual allowed, as a fraction of max |v_in|. Raises
    :class:`IRDropError` when the sweeps do not converge (damping fell below 0.01 or
    ``max_iter`` sweeps), and warns (:class:`IRDropWarning`) when the wires take more than
    ``warn`` of the ideal column current. Returns ``(currents, info)`` with ``info`` =
    dict(sweeps, residual, gamma, drop).
    """
    g, v, r_row, r_col = _check(g, v_in, r_row, r_col)
    ideal = v @ g
    dv = np.repeat(v[:, None], g.shape[1], axis=1)
    out = np.empty(g.shape[1])
    sweeps, err, gam = ir_solve(np.ascontiguousarray(g), v, r_row, r_col, float(gamma),
                                float(tol), int(max_iter), dv, out)
    vmax = float(np.abs(v).max()) if v.size else 0.0
    if err >= tol * vmax and vmax > 0:
        why = (f"damping fell below {GAMMA_MIN}" if gam < GAMMA_MIN
               else f"{max_iter} sweeps were not enough")
        raise IRDropError(
            f"the IR-drop solver did not converge ({why}; residual {err:.3g} V against "
            f"{tol * vmax:.3g} V). The wire resistance ({r_row:g}/{r_col:g} ohm per cell) "
            f"is too large for a {g.shape[0]} x {g.shape[1]} array: use smaller arrays, "
            f"lower conductances or solver='exact'")
    drop = mean_drop(ideal, out)
    if drop > warn:
        warnings.warn(f"IR drop takes {100 * drop:.0f}% of the column current of this "
                      f"{g.shape[0]} x {g.shape[1]} array (r = {r_row:g}/{r_col:g} ohm per "
                      f"cell); a design with such a drop is unrealistic", IRDropWarning,
                      stacklevel=2)
    return out, dict(sweeps=int(sweeps), residual=float(err), gamma=float(gam), drop=drop)


def mean_drop(ideal, actual):
    """Share of the ideal column current lost to the wires (sum over columns)."""
    total = float(np.abs(ideal).sum())
    return float(np.abs(ideal - actual).sum()) / total if total > 0 else 0.0
