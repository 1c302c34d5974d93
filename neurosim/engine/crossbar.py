"""Crossbar kernels: IR-drop sweeps, spike-driven column reads and per-pulse device updates.

Geometry of one array (tile) of M rows and N physical columns (the convention of every
function here and of :mod:`neurosim.crossbar.irdrop`)::

    row i is driven at its j = 0 end through one wire segment r_row; segments r_row join
    cell (i, j) to (i, j+1) along the row; the far end (j = N-1) is open.
    column j is held at virtual ground at its i = M-1 end through one segment r_col;
    segments r_col join cell (i, j) to (i+1, j); the top end (i = 0) is open.
    the device G[i, j] joins row node (i, j) to column node (i, j).

IR-drop fixed point (CrossSim's under-relaxed sweeps), with dV = V_row - V_col per cell:

    I    = G * dV
    Vrow = V_in - r_row * cumsum_j(revcumsum_j(I))      (drop along each row)
    Vcol = r_col * revcumsum_i(cumsum_i(I))             (rise along each column)
    dV  += gamma * (Vrow - Vcol - dV)

until ``max |Vrow - Vcol - dV| < tol * max |V_in|``; ``gamma`` shrinks by 0.98 whenever the
residual grows (divergence), and the solve fails when it falls below ``GAMMA_MIN``.
The column current into the virtual ground is ``sum_i G * dV``.

Per-pulse update (NeuroSim's exponential law, one signed parameter A per direction)::

    G(P) = B (1 - exp(-P / A)) + g_min,     B = (g_max - g_min) / (1 - exp(-P_max / A))
    P    = -A ln(1 - (G - g_min) / B);      P' = clip(P + n, 0, P_max);  G' = G(P') + c2c noise

A > 0 gives steps that shrink towards g_max (LTP), A < 0 steps that shrink towards g_min
(LTD); c2c noise is N(0, c2c (g_max - g_min) sqrt(|n|)); G' is clipped to [g_min, g_max].
"""

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from .._config import JIT_OPTIONS
from .rng import uniform

__all__ = ["GAMMA_MIN", "gauss", "ir_solve", "pulse_update", "XbarConn", "XbarState",
           "deliver_crossbars", "stdp_crossbars"]

GAMMA_MIN = 0.01

# columns of XbarState.stats
ROW_DRIVES, TILE_READS, CONVERSIONS, CELL_ENERGY, WRITE_PULSES, WRITE_ENERGY, IR_FAILS = range(7)
N_STATS = 7


@njit(**JIT_OPTIONS)
def gauss(state, k):
    """A standard normal draw (Box-Muller on two uniforms of stream ``k``)."""
    u1 = uniform(state, k)
    u2 = uniform(state, k)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


@njit(**JIT_OPTIONS)
def ir_solve(g, v_in, r_row, r_col, gamma, tol, max_iter, dv, i_out):
    """Column currents of one array with wire resistance (see the module docstring).

    ``g`` (M, N) conductances (S), ``v_in`` (M,) row voltages (V), ``dv`` (M, N) scratch
    (its content on entry is the first guess; pass V_in broadcast or the last solution),
    ``i_out`` (N,) receives the currents (A). Returns ``(sweeps, residual, gamma)``; the
    residual (V) is below ``tol * max|V_in|`` when the solve converged.
    """
    m, n = g.shape
    vmax = 0.0
    for i in range(m):
        vmax = max(vmax, abs(v_in[i]))
    if vmax == 0.0:
        for j in range(n):
            i_out[j] = 0.0
        for i in range(m):
            for j in range(n):
                dv[i, j] = 0.0
        return 0, 0.0, gamma
    limit = tol * vmax
    colsum = np.zeros(n)       # cumsum_i(I) of the rows above
    vcol = np.zeros((m, n))
    last = np.inf
    sweeps = 0
    err = np.inf
    while sweeps < max_iter:
        sweeps += 1
        # column wires: currents accumulate downwards, voltages rise from the ground end
        for j in range(n):
            colsum[j] = 0.0
        for i in range(m):
            for j in range(n):
                colsum[j] += g[i, j] * dv[i, j]
                vcol[i, j] = colsum[j]            # current in the segment below node (i, j)
        for j in range(n):
            acc = 0.0
            for i in range(m - 1, -1, -1):
                acc += r_col * vcol[i, j]
                vcol[i, j] = acc
        # row wires: the segment left of node (i, j) carries the currents of cells j..N-1
        err = 0.0
        for i in range(m):
            rest = 0.0
            for j in range(n):
                rest += g[i, j] * dv[i, j]
            vr = v_in[i]
            for j in range(n):
                vr -= r_row * rest
                rest -= g[i, j] * dv[i, j]
                e = vr - vcol[i, j] - dv[i, j]
                err = max(err, abs(e))
                dv[i, j] += gamma * e
        if err < limit:
            break
        if err > last:                  # diverging: damp harder (CrossSim's rule)
            gamma *= 0.98
            if gamma < GAMMA_MIN:
                break
        last = err
    for j in range(n):
        s = 0.0
        for i in range(m):
            s += g[i, j] * dv[i, j]
        i_out[j] = s
    return sweeps, err, gamma


@njit(**JIT_OPTIONS)
def pulse_update(g, n, a, p_max, g_min, g_max, c2c, rng, k):
    """Conductance after ``n`` pulses (signed: n > 0 raises G) of the exponential law with
    parameter ``a`` (pulses, signed as in the module docstring) and ``p_max`` pulses from
    g_min to g_max; ``c2c`` is the cycle-to-cycle sigma as a fraction of the range."""
    span = g_max - g_min
    b = span / (1.0 - math.exp(-p_max / a))
    x = 1.0 - (g - g_min) / b
    p = -a * math.log(x) if x > 0.0 else p_max
    p = min(max(p, 0.0), p_max)
    p2 = min(max(p + n, 0.0), p_max)
    out = b * (1.0 - math.exp(-p2 / a)) + g_min
    if c2c > 0.0:
        out += c2c * span * math.sqrt(abs(n)) * gauss(rng, k)
    return min(max(out, g_min), g_max)


class XbarConn(NamedTuple):
    """Crossbar projections (index x) and their arrays (tile index t), frozen at build."""
    pre_lo: np.ndarray        # int64[X]: first node of the presynaptic population
    n_in: np.ndarray          # int64[X]: rows (presynaptic neurons)
    post_lo: np.ndarray       # int64[X]: LIF index of the first target
    n_out: np.ndarray         # int64[X]: weight columns (targets)
    n_phys: np.ndarray        # int64[X]: physical columns of the flat conductance matrix
    g_off: np.ndarray         # int64[X]: offset of projection x in the flat per-device arrays
    out_off: np.ndarray       # int64[X]: offset of x's targets in the scratch output
    delay: np.ndarray         # int64[X]: delay in steps
    k_w: np.ndarray           # float64[X]: weight (V) per ampere of net column current
    v_read: np.ndarray        # float64[X]
    e_read: np.ndarray        # float64[X]: v_read^2 t_read (J per siemens read)
    r_row: np.ndarray         # float64[X]: wire resistance per segment (0: no IR drop)
    r_col: np.ndarray         # float64[X]
    offset_map: np.ndarray    # uint8[X]: 1 = offset mapping (reference column), 0 = differential
    t_x: np.ndarray           # int64[T]: owner of tile t (tiles of x are contiguous)
    x_tiles: np.ndarray       # int64[X+1]: tiles of x are x_tiles[x] .. x_tiles[x+1]-1
    t_r0: np.ndarray          # int64[T]: rows r0 .. r1-1 (local to x)
    t_r1: np.ndarray
    t_k0: np.ndarray          # int64[T]: weight columns k0 .. k1-1
    t_k1: np.ndarray
    t_p0: np.ndarray          # int64[T]: physical columns p0 .. p1-1 of x's flat matrix
    t_p1: np.ndarray
    t_adc_range: np.ndarray   # float64[T]: ADC full scale (A of net current)
    t_adc_step: np.ndarray    # float64[T]: ADC step (A); 0 = no ADC (direct read-out)
    t_alpha: np.ndarray       # float64[T]: drift compensation factor of the tile
    sig2: np.ndarray          # float64[S]: read-noise variance of every device (S^2)
    frozen: np.ndarray        # uint8[S]: 1 = stuck device (pulses do not move it)
    ir_gamma: float
    ir_tol: float
    ir_max_iter: int
    # plasticity (pair-based STDP as device pulses), per projection
    plastic: np.ndarray       # uint8[X]
    a_plus: np.ndarray        # float64[X]: weight (V) added per pre trace unit at a post spike
    a_minus: np.ndarray       # float64[X]: weight removed per post trace unit at a pre spike
    decay_pre: np.ndarray     # float64[X]: exp(-dt/tau_plus)
    decay_post: np.ndarray    # float64[X]: exp(-dt/tau_minus)
    dw_ltp: np.ndarray        # float64[X]: weight of one LTP pulse (linear approximation)
    dw_ltd: np.ndarray
    law: np.ndarray           # float64[X, 7]: a_ltp, p_ltp, a_ltd, p_ltd, g_min, g_max, c2c
    e_write: np.ndarray       # float64[X, 2]: V^2 t of one LTP / LTD pulse (J per siemens)


class XbarState(NamedTuple):
    """What changes while crossbars run (mutated in place)."""
    g: np.ndarray             # float64[S]: conductances (learning writes them)
    rng: np.ndarray           # uint64[X]: read-noise / pulse streams
    stats: np.ndarray         # float64[X, N_STATS]
    out: np.ndarray           # float64[sum n_out]: scratch
    acc: np.ndarray           # float64[max phys]: scratch column sums
    var: np.ndarray           # float64[max phys]: scratch noise variances
    rows: np.ndarray          # int64[max n_in]: scratch active rows
    dv: np.ndarray            # float64[max tile cells]: IR scratch
    vin: np.ndarray           # float64[max tile rows]: IR scratch
    iout: np.ndarray          # float64[max phys]: IR scratch
    pre_trace: np.ndarray     # float64[sum n_in]
    post_trace: np.ndarray    # float64[sum n_out]
    trace_off: np.ndarray     # int64[X, 2]: offsets of x in pre_trace / post_trace


@njit(**JIT_OPTIONS)
def _read_tile(xc, xs, x, t, a0, a1):
    """Column currents (A) of tile t for the active rows ``xs.rows[a0:a1]`` into
    ``xs.acc[p0:p1]`` (read noise included); returns the cell read energy (J)."""
    base = xc.g_off[x]
    npx = xc.n_phys[x]
    p0 = xc.t_p0[t]
    p1 = xc.t_p1[t]
    v = xc.v_read[x]
    for p in range(p0, p1):
        xs.acc[p] = 0.0
        xs.var[p] = 0.0
    gsum = 0.0
    if xc.r_row[x] == 0.0 and xc.r_col[x] == 0.0:
        for a in range(a0, a1):
            off = base + xs.rows[a] * npx
            for p in range(p0, p1):
                gv = xs.g[off + p]
                xs.acc[p] += gv
                xs.var[p] += xc.sig2[off + p]
        for p in range(p0, p1):
            gsum += xs.acc[p]
            xs.acc[p] *= v
    else:  # every row of the tile is a node of the circuit: inactive rows sit at 0 V
        r0 = xc.t_r0[t]
        m = xc.t_r1[t] - r0
        w = p1 - p0
        g = np.empty((m, w))
        for i in range(m):
            off = base + (r0 + i) * npx
            for p in range(w):
                g[i, p] = xs.g[off + p0 + p]
            xs.vin[i] = 0.0
        for a in range(a0, a1):
            r = xs.rows[a]
            xs.vin[r - r0] = v
            off = base + r * npx
            for p in range(p0, p1):
                xs.var[p] += xc.sig2[off + p]
        dv = xs.dv[:m * w].reshape((m, w))
        for i in range(m):
            for p in range(w):
                dv[i, p] = xs.vin[i]
        sweeps, err, gam = ir_solve(g, xs.vin[:m], xc.r_row[x], xc.r_col[x], xc.ir_gamma,
                                    xc.ir_tol, xc.ir_max_iter, dv, xs.iout[:w])
        if err >= xc.ir_tol * v:
            xs.stats[x, IR_FAILS] += 1.0
        for p in range(w):
            xs.acc[p0 + p] = xs.iout[p]
            gsum += xs.iout[p] / v          # energy: V * I * t per cell, summed
    for p in range(p0, p1):    # per-device read noise, summed over the active rows
        if xs.var[p] > 0.0:
            xs.acc[p] += v * math.sqrt(xs.var[p]) * gauss(xs.rng, x)
    return gsum * xc.e_read[x]


@njit(**JIT_OPTIONS)
def _convert(xc, xs, x, t):
    """Net current of each weight column of tile t, through the ADC (if any), scaled by the
    tile's drift compensation and k_w, added to ``xs.out``. Returns conversions done."""
    p0 = xc.t_p0[t]
    k0 = xc.t_k0[t]
    k1 = xc.t_k1[t]
    step = xc.t_adc_step[t]
    rng_ = xc.t_adc_range[t]
    scale = xc.t_alpha[t] * xc.k_w[x]
    o = xc.out_off[x]
    offset = xc.offset_map[x] != 0
    ref = xs.acc[xc.t_p1[t] - 1] if offset else 0.0
    for k in range(k0, k1):
        if offset:
            net = xs.acc[p0 + (k - k0)] - ref
        else:
            net = xs.acc[p0 + 2 * (k - k0)] - xs.acc[p0 + 2 * (k - k0) + 1]
        if step > 0.0:
            net = min(max(step * np.round(net / step), -rng_), rng_)
        xs.out[o + k] += scale * net
    return k1 - k0


@njit(**JIT_OPTIONS)
def deliver_crossbars(xc, xs, st, step, n_slots, fired, nf):
    """Synapses slot of the crossbar projections: the rows of this step's presynaptic
    spikes are read (tiles without an active row are skipped: no read, no conversion) and
    the net column currents go to the targets (w >= 0 into I_exc, w < 0 into I_inh), now or
    through the delay ring. Node indices of ``fired`` are ascending within a population."""
    for x in range(xc.pre_lo.shape[0]):
        lo = xc.pre_lo[x]
        hi = lo + xc.n_in[x]
        n_act = 0
        for f in range(nf):
            node = fired[f]
            if node >= lo and node < hi:
                xs.rows[n_act] = node - lo
                n_act += 1
        if n_act == 0:
            continue
        o = xc.out_off[x]
        for k in range(xc.n_out[x]):
            xs.out[o + k] = 0.0
        a0 = 0   # rows are sorted; tiles of x are ordered by row tile, then column tile
        for t in range(xc.x_tiles[x], xc.x_tiles[x + 1]):
            while a0 < n_act and xs.rows[a0] < xc.t_r0[t]:
                a0 += 1
            while a0 > 0 and xs.rows[a0 - 1] >= xc.t_r0[t]:   # next column tile, same rows
                a0 -= 1
            a1 = a0
            while a1 < n_act and xs.rows[a1] < xc.t_r1[t]:
                a1 += 1
            if a1 == a0:
                continue
            xs.stats[x, CELL_ENERGY] += _read_tile(xc, xs, x, t, a0, a1)
            xs.stats[x, ROW_DRIVES] += a1 - a0
            xs.stats[x, TILE_READS] += 1.0
            n_conv = _convert(xc, xs, x, t)
            if xc.t_adc_step[t] > 0.0:
                xs.stats[x, CONVERSIONS] += n_conv
        d = xc.delay[x]
        slot = (step + d) % n_slots
        if d > 0:
            st.ring_used[slot] = 1
        base = xc.post_lo[x]
        for k in range(xc.n_out[x]):
            val = xs.out[o + k]
            if val == 0.0:
                continue
            if d == 0:
                if val > 0.0:
                    st.i_exc[base + k] += val
                else:
                    st.i_inh[base + k] += val
            else:
                if val > 0.0:
                    st.ring_exc[slot, base + k] += val
                else:
                    st.ring_inh[slot, base + k] += val


@njit(**JIT_OPTIONS)
def _pulses(xc, xs, x, idx, dw):
    """Apply the weight change ``dw`` (V) to device ``idx`` as a whole number of pulses
    (stochastic rounding of dw / dw_min) through the device law; count them and their
    energy."""
    if xc.frozen[idx]:
        return
    up = dw > 0.0
    q = dw / (xc.dw_ltp[x] if up else -xc.dw_ltd[x])
    q = abs(q)
    n = math.floor(q)
    if uniform(xs.rng, x) < q - n:
        n += 1
    if n == 0:
        return
    law = xc.law[x]
    g_old = xs.g[idx]
    if up:
        g_new = pulse_update(g_old, float(n), law[0], law[1], law[4], law[5], law[6],
                             xs.rng, x)
        xs.stats[x, WRITE_ENERGY] += n * xc.e_write[x, 0] * 0.5 * (g_old + g_new)
    else:
        g_new = pulse_update(g_old, -float(n), law[2], law[3], law[4], law[5], law[6],
                             xs.rng, x)
        xs.stats[x, WRITE_ENERGY] += n * xc.e_write[x, 1] * 0.5 * (g_old + g_new)
    xs.g[idx] = g_new
    xs.stats[x, WRITE_PULSES] += n


@njit(**JIT_OPTIONS)
def stdp_crossbars(xc, xs, fired, nf, n_lif):
    """Pair-based STDP of plastic crossbars after this step's deliveries: traces decay; a
    presynaptic spike depresses its row by a_minus x post-trace (LTD pulses), then its trace
    grows by 1; a postsynaptic spike potentiates its column by a_plus x pre-trace (LTP
    pulses), then its trace grows by 1. Pulses go to the positive device of each pair (the
    data device of the offset mapping)."""
    for x in range(xc.pre_lo.shape[0]):
        if not xc.plastic[x]:
            continue
        n_in = xc.n_in[x]
        n_out = xc.n_out[x]
        po = xs.trace_off[x, 0]
        qo = xs.trace_off[x, 1]
        for i in range(n_in):
            xs.pre_trace[po + i] *= xc.decay_pre[x]
        for j in range(n_out):
            xs.post_trace[qo + j] *= xc.decay_post[x]
        lo = xc.pre_lo[x]
        post_lo = xc.post_lo[x]
        npx = xc.n_phys[x]
        base = xc.g_off[x]
        offset = xc.offset_map[x] != 0
        for f in range(nf):
            node = fired[f]
            if node >= lo and node < lo + n_in:
                i = node - lo
                for j in range(n_out):
                    tr = xs.post_trace[qo + j]
                    if tr > 0.0:
                        _pulses(xc, xs, x, base + i * npx + _phys(xc, x, j, offset),
                                -xc.a_minus[x] * tr)
                xs.pre_trace[po + i] += 1.0
        for f in range(nf):
            node = fired[f]
            if node < n_lif and node >= post_lo and node < post_lo + n_out:
                j = node - post_lo
                col = _phys(xc, x, j, offset)
                for i in range(n_in):
                    tr = xs.pre_trace[po + i]
                    if tr > 0.0:
                        _pulses(xc, xs, x, base + i * npx + col, xc.a_plus[x] * tr)
                xs.post_trace[qo + j] += 1.0


@njit(**JIT_OPTIONS)
def _phys(xc, x, k, offset):
    """Physical column of weight column k's positive (or data) device."""
    for t in range(xc.x_tiles[x], xc.x_tiles[x + 1]):
        if k >= xc.t_k0[t] and k < xc.t_k1[t]:
            return xc.t_p0[t] + (k - xc.t_k0[t]) * (1 if offset else 2)
    return -1
