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

from .._config import INNER_JIT_OPTIONS, JIT_OPTIONS
from .rng import fill_normal
from .rng import normal as _normal
from .rng import uniform

__all__ = ["GAMMA_MIN", "normal", "ir_solve", "pulse_update", "XbarConn", "XbarState",
           "deliver_crossbars", "stdp_crossbars"]

GAMMA_MIN = 0.01

# columns of XbarState.stats
ROW_DRIVES, TILE_READS, CONVERSIONS, CELL_ENERGY, WRITE_PULSES, WRITE_ENERGY, IR_FAILS = range(7)
N_STATS = 7


@njit(inline="always", **JIT_OPTIONS)
def normal(xs, x):
    """A standard normal draw of crossbar x's stream (ziggurat, :func:`.rng.normal`)."""
    return _normal(xs.rng, x)


@njit(inline="always", **JIT_OPTIONS)
def read_draws(xs, x, n):
    """``n`` standard normal draws of crossbar x's stream in ``xs.z[:n]`` (the read of one
    row tile: a draw per weight column, then one per reference column of an offset
    mapping, column tile by column tile)."""
    z = xs.z[:n]
    fill_normal(xs.rng, x, z, xs.zraw, xs.zflag)
    return z


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
        out += c2c * span * math.sqrt(abs(n)) * _normal(rng, k)
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
    noisy: np.ndarray         # uint8[X]: 1 = read noise on
    t_read: np.ndarray        # float64[X]
    n_ct: np.ndarray          # int64[X]: column tiles
    w_off: np.ndarray         # int64[X]: offset of x in the per-weight arrays (n_in x n_out)
    r_off: np.ndarray         # int64[X]: offset of x in the per-(row, column tile) arrays
    snet: np.ndarray          # float32[sum n_in n_out]: read-noise sigma of a net conductance (S)
    vref: np.ndarray          # float64[sum n_in n_ct]: read variance of the reference device
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
    gnet: np.ndarray          # float64[sum n_in n_out]: G+ - G- (or G - G_ref) per weight
    grow: np.ndarray          # float64[sum n_in n_ct]: sum of G of a row in a column tile
    acc: np.ndarray           # float64[max n_out]: scratch net currents
    sd: np.ndarray            # float64[max n_out]: scratch read-noise sigmas (S)
    var_ref: np.ndarray       # float64[max n_ct]: scratch reference-column variances
    rows: np.ndarray          # int64[max n_in]: scratch active rows
    dv: np.ndarray            # float64[max tile cells]: IR scratch
    vin: np.ndarray           # float64[max tile rows]: IR scratch
    iout: np.ndarray          # float64[max phys]: IR scratch
    z: np.ndarray             # float64[max n_out + 1]: read-noise draws of one tile read
    zraw: np.ndarray          # int32[max n_out + 2]: their raw bits
    zflag: np.ndarray         # uint8[max n_out + 8, multiple of 8]: draws to redo
    pre_trace: np.ndarray     # float64[sum n_in]
    post_trace: np.ndarray    # float64[sum n_out]
    trace_off: np.ndarray     # int64[X, 2]: offsets of x in pre_trace / post_trace


@njit(**INNER_JIT_OPTIONS)
def _add_row(dest, src):
    """dest += src (views of equal length: the loop vectorises)."""
    for k in range(dest.shape[0]):
        dest[k] += src[k]


@njit(**INNER_JIT_OPTIONS)
def _copy_row(dest, src):
    """dest = src (float32 or float64 source)."""
    for k in range(dest.shape[0]):
        dest[k] = src[k]


@njit(**INNER_JIT_OPTIONS)
def _set_squares(dest, src):
    """dest = src**2 (src float32 sigmas, squared in float64)."""
    for k in range(dest.shape[0]):
        s = np.float64(src[k])
        dest[k] = s * s


@njit(**INNER_JIT_OPTIONS)
def _root_of_two(dest, a, b):
    """dest = sqrt(a**2 + b**2) (float32 sigmas squared and summed in float64, float32
    root as in :func:`_read_noise`)."""
    for k in range(dest.shape[0]):
        x = np.float64(a[k])
        y = np.float64(b[k])
        dest[k] = np.float64(math.sqrt(np.float32(x * x + y * y)))


@njit(**INNER_JIT_OPTIONS)
def _add_squares(dest, src):
    """dest += src**2 (src float32 sigmas, squared in float64)."""
    for k in range(dest.shape[0]):
        s = np.float64(src[k])
        dest[k] += s * s


@njit(**INNER_JIT_OPTIONS)
def _ir_tile(xc, xs, x, t, a0, a1):
    """Net currents of tile t solved as a circuit (inactive rows at 0 V) into
    ``xs.acc[k0:k1]`` (before the v_read scaling of the wire-free path: already in A);
    returns the cell energy V I t."""
    v = xc.v_read[x]
    base = xc.g_off[x]
    npx = xc.n_phys[x]
    p0 = xc.t_p0[t]
    r0 = xc.t_r0[t]
    m = xc.t_r1[t] - r0
    w = xc.t_p1[t] - p0
    g = np.empty((m, w))
    for i in range(m):
        off = base + (r0 + i) * npx + p0
        for p in range(w):
            g[i, p] = xs.g[off + p]
        xs.vin[i] = 0.0
    for a in range(a0, a1):
        xs.vin[xs.rows[a] - r0] = v
    dv = xs.dv[:m * w].reshape((m, w))
    for i in range(m):
        for p in range(w):
            dv[i, p] = xs.vin[i]
    sweeps, err, gam = ir_solve(g, xs.vin[:m], xc.r_row[x], xc.r_col[x], xc.ir_gamma,
                                xc.ir_tol, xc.ir_max_iter, dv, xs.iout[:w])
    if err >= xc.ir_tol * v:
        xs.stats[x, IR_FAILS] += 1.0
    total = 0.0
    for p in range(w):
        total += xs.iout[p]
    k0 = xc.t_k0[t]
    for k in range(k0, xc.t_k1[t]):
        if xc.offset_map[x]:
            xs.acc[k] = xs.iout[k - k0] - xs.iout[w - 1]
        else:
            xs.acc[k] = xs.iout[2 * (k - k0)] - xs.iout[2 * (k - k0) + 1]
    return total * v * xc.t_read[x]


@njit(**INNER_JIT_OPTIONS)
def _read_noise(snet, vref, rows, n_out, n_ct, offset_map, sd, var_ref):
    """Read-noise sigma of every net conductance of one crossbar (its per-weight sigmas
    ``snet``, (rows, n_out), and reference variances ``vref``, (rows, n_ct)) for the
    active ``rows`` of one row tile into ``sd`` (the stored sigma of a single active row,
    else the root of the summed variances), and the variance of each column tile's
    reference device into ``var_ref`` (offset mapping). Arrays only, no plan tuples: a
    call that passes them costs more than this whole read."""
    first = rows[0] * n_out
    if rows.shape[0] == 1:
        _copy_row(sd, snet[first:first + n_out])
    elif rows.shape[0] == 2:               # the common case of several: one pass
        _root_of_two(sd, snet[first:first + n_out],
                     snet[rows[1] * n_out:rows[1] * n_out + n_out])
    else:
        _set_squares(sd, snet[first:first + n_out])
        for a in range(1, rows.shape[0]):
            off = rows[a] * n_out
            _add_squares(sd, snet[off:off + n_out])
        for k in range(n_out):             # a float32 root: 8 lanes, precise to 6e-8
            sd[k] = np.float64(math.sqrt(np.float32(sd[k])))
    if offset_map:
        for c in range(n_ct):
            var_ref[c] = 0.0
        for a in range(rows.shape[0]):
            for c in range(n_ct):
                var_ref[c] += vref[rows[a] * n_ct + c]


@njit(inline="always", **JIT_OPTIONS)
def _read_row_tile(xc, xs, x, a0, a1):
    """Read the arrays of one row tile of crossbar x (no wire resistance) for its active
    rows ``xs.rows[a0:a1]``: net conductance of every weight column (the pair differences
    ``gnet`` summed over the active rows; times v_read in the conversion) into ``xs.acc``.
    Returns the cell read energy (J)."""
    n_out = xc.n_out[x]
    n_ct = xc.n_ct[x]
    wo = xc.w_off[x]
    ro = xc.r_off[x]
    acc = xs.acc[:n_out]
    gsum = 0.0
    for a in range(a0, a1):
        for c in range(n_ct):
            gsum += xs.grow[ro + xs.rows[a] * n_ct + c]
    first = wo + xs.rows[a0] * n_out
    _copy_row(acc, xs.gnet[first:first + n_out])
    for a in range(a0 + 1, a1):
        off = wo + xs.rows[a] * n_out
        _add_row(acc, xs.gnet[off:off + n_out])
    return gsum * xc.e_read[x]


@njit(**INNER_JIT_OPTIONS)
def _read_row_tile_ir(xc, xs, x, rt, a0, a1):
    """:func:`_read_row_tile` with wire resistance: each array of row tile ``rt`` solved as
    a circuit, net currents (A) into ``xs.acc``. Returns the cell read energy (J)."""
    energy = 0.0
    t0 = xc.x_tiles[x] + rt * xc.n_ct[x]
    for t in range(t0, t0 + xc.n_ct[x]):
        energy += _ir_tile(xc, xs, x, t, a0, a1)
    return energy


@njit(inline="always", **JIT_OPTIONS)
def _convert_row_tile(xc, xs, x, rt, gain):
    """The net currents of row tile ``rt`` (``gain * xs.acc``) with their read noise (one
    draw per net current and one per reference column: :func:`read_draws`), through each
    array's ADC (if any), scaled by the array's drift compensation and k_w, added to
    ``xs.out``: one pass per column tile."""
    o = xc.out_off[x]
    v = xc.v_read[x]
    kw = xc.k_w[x]
    noisy = xc.noisy[x] != 0
    n_ct = xc.n_ct[x]
    t0 = xc.x_tiles[x] + rt * n_ct
    n_out = xc.n_out[x]
    ref = 0.0
    if noisy:                  # all draws of the row tile's read at once (longer batches)
        z = read_draws(xs, x, n_out + n_ct * xc.offset_map[x])
        _add_noise(xs.acc[:n_out], xs.sd[:n_out], z[:n_out], gain, v)
        gain = 1.0
    for c in range(n_ct):
        t = t0 + c
        k0 = xc.t_k0[t]
        k1 = xc.t_k1[t]
        step = xc.t_adc_step[t]
        lim = xc.t_adc_range[t]
        scale = xc.t_alpha[t] * kw
        acc = xs.acc[k0:k1]
        out = xs.out[o + k0:o + k1]
        if noisy and xc.offset_map[x]:
            ref = v * math.sqrt(xs.var_ref[c]) * z[n_out + c]
        if step > 0.0:
            inv = 1.0 / step
            for k in range(acc.shape[0]):
                q = step * np.round((gain * acc[k] - ref) * inv)
                out[k] += scale * min(max(q, -lim), lim)
        else:
            for k in range(acc.shape[0]):
                out[k] += scale * (gain * acc[k] - ref)


@njit(**INNER_JIT_OPTIONS)
def _add_noise(acc, sd, z, gain, v):
    """acc = gain acc + v sd z (a pass of its own: three arrays, so the loop vectorises)."""
    for k in range(acc.shape[0]):
        acc[k] = gain * acc[k] + v * sd[k] * z[k]


@njit(**INNER_JIT_OPTIONS)
def deliver_crossbars(xc, xs, st, step, n_slots, fired, nf):
    """Synapses slot of the crossbar projections: the rows of this step's presynaptic
    spikes are read (arrays without an active row are skipped: no read, no conversion) and
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
        n_out = xc.n_out[x]
        n_ct = xc.n_ct[x]
        out = xs.out[xc.out_off[x]:xc.out_off[x] + n_out]
        for k in range(n_out):
            out[k] = 0.0
        n_rt = (xc.x_tiles[x + 1] - xc.x_tiles[x]) // n_ct
        ir = xc.r_row[x] != 0.0 or xc.r_col[x] != 0.0
        a0 = np.int64(0)           # rows are sorted; row tiles in order (np.int64: a
                                   # literal 0 would compile the callees twice)
        for rt in range(n_rt):
            t = xc.x_tiles[x] + rt * n_ct
            a1 = a0
            while a1 < n_act and xs.rows[a1] < xc.t_r1[t]:
                a1 += 1
            if a1 > a0:
                if xc.noisy[x]:
                    _read_noise(xc.snet[xc.w_off[x]:xc.w_off[x] + xc.n_in[x] * n_out],
                                xc.vref[xc.r_off[x]:xc.r_off[x] + xc.n_in[x] * n_ct],
                                xs.rows[a0:a1], n_out, n_ct, xc.offset_map[x],
                                xs.sd[:n_out], xs.var_ref[:n_ct])
                if ir:
                    xs.stats[x, CELL_ENERGY] += _read_row_tile_ir(xc, xs, x, rt, a0, a1)
                    _convert_row_tile(xc, xs, x, rt, 1.0)      # already in A
                else:
                    xs.stats[x, CELL_ENERGY] += _read_row_tile(xc, xs, x, a0, a1)
                    _convert_row_tile(xc, xs, x, rt, xc.v_read[x])
                xs.stats[x, ROW_DRIVES] += (a1 - a0) * n_ct
                xs.stats[x, TILE_READS] += n_ct
                if xc.t_adc_step[t] > 0.0:
                    xs.stats[x, CONVERSIONS] += n_out
            a0 = a1
        d = xc.delay[x]
        base = xc.post_lo[x]
        if d == 0:
            _route(out, st.i_exc[base:base + n_out], st.i_inh[base:base + n_out])
        else:
            slot = (step + d) % n_slots
            st.ring_used[slot] = 1
            _route(out, st.ring_exc[slot, base:base + n_out],
                   st.ring_inh[slot, base:base + n_out])


@njit(**INNER_JIT_OPTIONS)
def _route(out, exc, inh):
    """Net inputs >= 0 into the excitatory channel, < 0 into the inhibitory one (without
    branches: the loop vectorises and signs do not cost mispredictions)."""
    for k in range(out.shape[0]):
        val = out[k]
        exc[k] += max(val, 0.0)
        inh[k] += min(val, 0.0)


@njit(**INNER_JIT_OPTIONS)
def _pulses(xc, xs, x, i, k, dw):
    """Apply the weight change ``dw`` (V) of weight (i, k) to its positive device as a whole
    number of pulses (stochastic rounding of dw / dw_min) through the device law; count them
    and their energy."""
    p, c = _phys(xc, x, k)
    idx = xc.g_off[x] + i * xc.n_phys[x] + p
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
    xs.gnet[xc.w_off[x] + i * xc.n_out[x] + k] += g_new - g_old
    xs.grow[xc.r_off[x] + i * xc.n_ct[x] + c] += g_new - g_old
    xs.stats[x, WRITE_PULSES] += n


@njit(**INNER_JIT_OPTIONS)
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
        for f in range(nf):
            node = fired[f]
            if node >= lo and node < lo + n_in:
                i = node - lo
                for j in range(n_out):
                    tr = xs.post_trace[qo + j]
                    if tr > 0.0:
                        _pulses(xc, xs, x, i, j, -xc.a_minus[x] * tr)
                xs.pre_trace[po + i] += 1.0
        for f in range(nf):
            node = fired[f]
            if node < n_lif and node >= post_lo and node < post_lo + n_out:
                j = node - post_lo
                for i in range(n_in):
                    tr = xs.pre_trace[po + i]
                    if tr > 0.0:
                        _pulses(xc, xs, x, i, j, xc.a_plus[x] * tr)
                xs.post_trace[qo + j] += 1.0


@njit(**INNER_JIT_OPTIONS)
def _phys(xc, x, k):
    """(physical column of weight column k's positive or data device, its column tile)."""
    n_ct = xc.n_ct[x]
    for t in range(xc.x_tiles[x], xc.x_tiles[x] + n_ct):    # the first row of tiles
        if k >= xc.t_k0[t] and k < xc.t_k1[t]:
            step = 1 if xc.offset_map[x] else 2
            return xc.t_p0[t] + (k - xc.t_k0[t]) * step, t - xc.x_tiles[x]
    return -1, -1
