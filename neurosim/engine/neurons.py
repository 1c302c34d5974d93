"""Update kernels of the LIF models beyond the fast path (see :mod:`neurosim.models.lif` for
the equations, their integration and the two conventions).

Each population block calls :func:`generic_block` with its model code (chosen at build time,
one branch per block, none per neuron) and views of its state. Parameters come from the
population's coefficient table ``C`` (rows :data:`COEF`, columns: one per neuron, or a single
column for a homogeneous population). Each model is a function of one neuron with scalar
coefficients (``_exp_n`` ...), called from two loops: a homogeneous population's with the
coefficients loaded once, a heterogeneous one's with contiguous rows of the table; both are
branch-free so that LLVM vectorises them. Refractory neurons keep v by an exact blend with
1.0 and 0.0: ``f = step >= ref_until``. The exponential of the conductance model is
:func:`exp_neg`, branch-free (vectorisable) and within 3 ulp of libm's.

Per step and block: the model's update (v, channels, auxiliary currents), then the ring
slot of this step into the channels (a delta population under NEST's convention adds it to
v instead, before the threshold), then the adaptation current and threshold decay.
"""

import numpy as np
from numba import njit, types
from numba.extending import intrinsic

from .._config import STEP_JIT_OPTIONS

__all__ = ["COEF", "CODE_FAST", "CODE_EXP", "CODE_ALPHA", "CODE_DELTA", "CODE_COND",
           "generic_block", "threshold_block", "reset_one"]

#: Rows of a population's coefficient table (:func:`neurosim.models.lif.coefficients`).
COEF = ("e_m", "e_e", "e_i", "c_e", "c_i", "k_e", "k_i", "h_e", "h_i", "v_rest", "v_th",
        "v_reset", "ref", "e_w", "c_w", "b_w", "e_a", "beta", "g_l", "inv_c")
(E_M, E_E, E_I, C_E, C_I, K_E, K_I, H_E, H_I, V_REST, V_TH, V_RESET, REF, E_W, C_W, B_W,
 E_A, BETA, G_L, INV_C) = range(len(COEF))

CODE_FAST = 0    # exp kernel, homogeneous, no adaptation: engine.lif's own update
CODE_EXP = 1
CODE_ALPHA = 2
CODE_DELTA = 3
CODE_COND = 4


_LOG2E = 1.4426950408889634
_ROUND = 6755399441055744.0              # 1.5 * 2**52: x + it - it rounds x to an integer
_ROUND_BITS = 0x4338000000000000         # its bits: those of x + it minus these = round(x)
_LN2_HI = 6.93147180369123816490e-01     # fdlibm's split of ln 2
_LN2_LO = 1.90821492927058770002e-10


@intrinsic
def _f64_bits(typingctx, x):
    """The bits of a float64 as int64 (an LLVM bitcast: vectorises, no call)."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.int64))
    return types.int64(types.float64), codegen


@intrinsic
def _bits_f64(typingctx, x):
    """The float64 with these int64 bits (an LLVM bitcast)."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.float64))
    return types.float64(types.int64), codegen


@njit(inline="always", **STEP_JIT_OPTIONS)
def exp_neg(x):
    """exp(x) for x <= 0 without branches or calls, so that a loop of it vectorises (a call
    of libm's exp does not): x = k ln2 + r with |r| <= ln2/2 (k by the round-to-nearest of
    adding and subtracting 1.5 * 2**52, whose low bits then hold k), exp(r) by its Taylor
    series to r**12 (truncation < 2e-16 relative), 2**k built from its exponent bits.
    Within 3 ulp of libm's exp (tested; 90 % equal); x below -708 gives exp(-708)."""
    x = max(x, -708.0)
    y = x * _LOG2E + _ROUND
    k = y - _ROUND                           # round(x / ln 2), an integer in [-1022, 0]
    r = (x - k * _LN2_HI) - k * _LN2_LO
    p = 1.0 / 479001600.0
    p = p * r + 1.0 / 39916800.0
    p = p * r + 1.0 / 3628800.0
    p = p * r + 1.0 / 362880.0
    p = p * r + 1.0 / 40320.0
    p = p * r + 1.0 / 5040.0
    p = p * r + 1.0 / 720.0
    p = p * r + 1.0 / 120.0
    p = p * r + 1.0 / 24.0
    p = p * r + 1.0 / 6.0
    p = p * r + 0.5
    p = p * r + 1.0
    p = p * r + 1.0
    ki = _f64_bits(y) - _ROUND_BITS          # k as an integer
    return p * _bits_f64((ki + 1023) << 52)


@njit(**STEP_JIT_OPTIONS)
def _exp_n(n, v, ie, ii, bias, until, step, e_m, v_rest, c_e, c_i, e_e, e_i):
    b = bias[n]
    x_e = ie[n]
    x_i = ii[n]
    vo = v[n]
    vn = v_rest + ((((b + c_e * x_e) + c_i * x_i) + e_m * vo) + e_m * (-v_rest - b))
    f = 1.0 if step >= until[n] else 0.0
    v[n] = vn * f + vo * (1.0 - f)
    ie[n] = e_e * x_e
    ii[n] = e_i * x_i


@njit(**STEP_JIT_OPTIONS)
def _exp(v, ie, ii, bias, until, step, C, jo, h):
    m = v.shape[0]
    if h == 0:
        e_m, v_rest, c_e, c_i = C[E_M, jo], C[V_REST, jo], C[C_E, jo], C[C_I, jo]
        e_e, e_i = C[E_E, jo], C[E_I, jo]
        for n in range(m):
            _exp_n(n, v, ie, ii, bias, until, step, e_m, v_rest, c_e, c_i, e_e, e_i)
    else:
        e_m, v_rest, c_e, c_i = C[E_M, jo:jo + m], C[V_REST, jo:jo + m], \
            C[C_E, jo:jo + m], C[C_I, jo:jo + m]
        e_e, e_i = C[E_E, jo:jo + m], C[E_I, jo:jo + m]
        for n in range(m):
            _exp_n(n, v, ie, ii, bias, until, step, e_m[n], v_rest[n], c_e[n], c_i[n],
                   e_e[n], e_i[n])


@njit(**STEP_JIT_OPTIONS)
def _alpha_n(n, v, ze, zi, ce, ci, bias, until, step, e_m, v_rest, c_e, c_i, k_e, k_i, h_e,
             h_i, e_e, e_i):
    """ze/zi: the channels that spikes feed; ce/ci: the currents (auxiliary rows)."""
    b = bias[n]
    x_e = ze[n]
    x_i = zi[n]
    i_e = ce[n]
    i_i = ci[n]
    vo = v[n]
    vn = v_rest + ((((((b + c_e * i_e) + k_e * x_e) + c_i * i_i) + k_i * x_i) + e_m * vo)
                   + e_m * (-v_rest - b))
    f = 1.0 if step >= until[n] else 0.0
    v[n] = vn * f + vo * (1.0 - f)
    ce[n] = e_e * i_e + h_e * x_e
    ci[n] = e_i * i_i + h_i * x_i
    ze[n] = e_e * x_e
    zi[n] = e_i * x_i


@njit(**STEP_JIT_OPTIONS)
def _alpha(v, ze, zi, ce, ci, bias, until, step, C, jo, h):
    m = v.shape[0]
    if h == 0:
        e_m, v_rest, c_e, c_i = C[E_M, jo], C[V_REST, jo], C[C_E, jo], C[C_I, jo]
        k_e, k_i, h_e, h_i = C[K_E, jo], C[K_I, jo], C[H_E, jo], C[H_I, jo]
        e_e, e_i = C[E_E, jo], C[E_I, jo]
        for n in range(m):
            _alpha_n(n, v, ze, zi, ce, ci, bias, until, step, e_m, v_rest, c_e, c_i, k_e,
                     k_i, h_e, h_i, e_e, e_i)
    else:
        e_m, v_rest, c_e, c_i = C[E_M, jo:jo + m], C[V_REST, jo:jo + m], \
            C[C_E, jo:jo + m], C[C_I, jo:jo + m]
        k_e, k_i, h_e, h_i = C[K_E, jo:jo + m], C[K_I, jo:jo + m], C[H_E, jo:jo + m], \
            C[H_I, jo:jo + m]
        e_e, e_i = C[E_E, jo:jo + m], C[E_I, jo:jo + m]
        for n in range(m):
            _alpha_n(n, v, ze, zi, ce, ci, bias, until, step, e_m[n], v_rest[n], c_e[n],
                     c_i[n], k_e[n], k_i[n], h_e[n], h_i[n], e_e[n], e_i[n])


@njit(**STEP_JIT_OPTIONS)
def _delta_n(n, v, ie, ii, bias, until, step, e_m, v_rest, nest, ring_e, ring_i):
    """ie + ii: inputs delivered since the last update, in the synapses slot of the last
    step. Brian2: they were added to v there, so they propagate with v; they were lost if
    the neuron was refractory in that step (Brian2 makes every write to a variable
    "(unless refractory)" conditional on not_refractory, on_pre included; v as recorded or
    read includes the kept ones). NEST: they and this step's ring slot (zeros when unused)
    are added after the propagation, or discarded while refractory."""
    b = bias[n]
    vo = v[n]
    x = ie[n] + ii[n]
    if nest:
        x += ring_e[n] + ring_i[n]
        vn = (v_rest + (b + e_m * ((vo - v_rest) - b))) + x
    else:
        x = x * (1.0 if step - 1 >= until[n] else 0.0)
        vn = v_rest + (b + e_m * (((vo + x) - v_rest) - b))
    f = 1.0 if step >= until[n] else 0.0
    v[n] = vn * f + vo * (1.0 - f)
    ie[n] = 0.0
    ii[n] = 0.0


@njit(**STEP_JIT_OPTIONS)
def _delta(v, ie, ii, bias, until, step, C, jo, h, nest, ring_e, ring_i):
    m = v.shape[0]
    if h == 0:
        e_m, v_rest = C[E_M, jo], C[V_REST, jo]
        if nest:
            for n in range(m):
                _delta_n(n, v, ie, ii, bias, until, step, e_m, v_rest, True, ring_e, ring_i)
        else:
            for n in range(m):
                _delta_n(n, v, ie, ii, bias, until, step, e_m, v_rest, False, ring_e, ring_i)
    else:
        e_m, v_rest = C[E_M, jo:jo + m], C[V_REST, jo:jo + m]
        for n in range(m):
            _delta_n(n, v, ie, ii, bias, until, step, e_m[n], v_rest[n], nest, ring_e,
                     ring_i)


@njit(error_model="numpy", **STEP_JIT_OPTIONS)   # no zero-division check: g_tot > 0
def _cond_n(n, v, ge, gi, wn, bias, until, step, g_l, v_rest, e_ex, e_in, inv_c, e_e, e_i,
            dt, ring_e, ring_i, use_ring):
    """Exponential Euler. gi holds -g_inh (inhibitory weights are negative); wn: the
    adaptation current (0.0 without). The ring slot of this step is added here (the same
    sums as a separate pass, one pass over the block fewer)."""
    x_e = ge[n]
    x_i = -gi[n]
    vo = v[n]
    g_tot = (g_l + x_e) + x_i
    v_inf = ((g_l * ((v_rest + bias[n]) - wn) + x_e * e_ex) + x_i * e_in) / g_tot
    vn = v_inf + (vo - v_inf) * exp_neg(-(g_tot * inv_c) * dt)
    f = 1.0 if step >= until[n] else 0.0
    v[n] = vn * f + vo * (1.0 - f)
    if use_ring:
        ge[n] = e_e * x_e + ring_e[n]
        gi[n] = e_i * gi[n] + ring_i[n]
        ring_e[n] = 0.0
        ring_i[n] = 0.0
    else:
        ge[n] = e_e * x_e
        gi[n] = e_i * gi[n]


@njit(**STEP_JIT_OPTIONS)
def _cond(v, ge, gi, w, bias, until, step, C, jo, h, dt, ring_e, ring_i, use_ring):
    m = v.shape[0]
    has_w = w.shape[0] > 0
    if h == 0:
        g_l, v_rest, e_ex, e_in = C[G_L, jo], C[V_REST, jo], C[K_E, jo], C[K_I, jo]
        inv_c, e_e, e_i = C[INV_C, jo], C[E_E, jo], C[E_I, jo]
        if has_w:
            for n in range(m):
                _cond_n(n, v, ge, gi, w[n], bias, until, step, g_l, v_rest, e_ex, e_in,
                        inv_c, e_e, e_i, dt, ring_e, ring_i, use_ring)
        elif use_ring:
            for n in range(m):
                _cond_n(n, v, ge, gi, 0.0, bias, until, step, g_l, v_rest, e_ex, e_in,
                        inv_c, e_e, e_i, dt, ring_e, ring_i, True)
        else:
            for n in range(m):
                _cond_n(n, v, ge, gi, 0.0, bias, until, step, g_l, v_rest, e_ex, e_in,
                        inv_c, e_e, e_i, dt, ring_e, ring_i, False)
    else:
        g_l, v_rest, e_ex, e_in = C[G_L, jo:jo + m], C[V_REST, jo:jo + m], \
            C[K_E, jo:jo + m], C[K_I, jo:jo + m]
        inv_c, e_e, e_i = C[INV_C, jo:jo + m], C[E_E, jo:jo + m], C[E_I, jo:jo + m]
        for n in range(m):
            _cond_n(n, v, ge, gi, w[n] if has_w else 0.0, bias, until, step, g_l[n],
                    v_rest[n], e_ex[n], e_in[n], inv_c[n], e_e[n], e_i[n], dt, ring_e,
                    ring_i, use_ring)


@njit(**STEP_JIT_OPTIONS)
def _decay(x, C, row, jo, h):
    """x *= the row's factor (one per neuron, or one for all)."""
    m = x.shape[0]
    if h == 0:
        f = C[row, jo]
        for n in range(m):
            x[n] *= f
    else:
        r = C[row, jo:jo + m]
        for n in range(m):
            x[n] *= r[n]


@njit(**STEP_JIT_OPTIONS)
def generic_block(code, nest, v, ie, ii, ce, ci, w, a, bias, until, step, C, jo, h, ring_e,
                  ring_i, use_ring, dt):
    """Groups slot of one block of a population with model ``code`` (views; ``ce``/``ci``:
    alpha currents, ``w``/``a``: adaptation current and threshold offset, each of length 0
    when the population has none). The adaptation current enters v of the linear models
    after their update (exact: the system is linear), before it decays."""
    m = v.shape[0]
    if code == CODE_EXP:
        _exp(v, ie, ii, bias, until, step, C, jo, h)
    elif code == CODE_ALPHA:
        _alpha(v, ie, ii, ce, ci, bias, until, step, C, jo, h)
    elif code == CODE_DELTA:
        _delta(v, ie, ii, bias, until, step, C, jo, h, nest, ring_e, ring_i)
    else:
        _cond(v, ie, ii, w, bias, until, step, C, jo, h, dt, ring_e, ring_i, use_ring)
    if w.shape[0] > 0:
        if code != CODE_COND:
            for n in range(m):
                f = 1.0 if step >= until[n] else 0.0
                v[n] += f * (C[C_W, jo + n * h] * w[n])
        _decay(w, C, E_W, jo, h)
    if use_ring and code != CODE_COND:       # (the conductance kernel adds its own)
        if code == CODE_DELTA and nest:
            for n in range(m):
                ring_e[n] = 0.0
                ring_i[n] = 0.0
        else:
            for n in range(m):
                ie[n] += ring_e[n]
                ii[n] += ring_i[n]
                ring_e[n] = 0.0
                ring_i[n] = 0.0
    if a.shape[0] > 0:
        _decay(a, C, E_A, jo, h)


@njit(**STEP_JIT_OPTIONS)
def threshold_block(v, until, a, offset, step, C, jo, h, nest, fired, nf):
    """Thresholds slot of one block: free neurons with v > v_th + a (NEST: >=). A
    vectorised count of the candidates first: the scan runs only when there are some."""
    has_a = a.shape[0] > 0
    m = v.shape[0]
    above = 0
    if h == 0:
        th0 = C[V_TH, jo]
        if has_a:
            for n in range(m):
                above += v[n] >= th0 + a[n]
        else:
            for n in range(m):
                above += v[n] >= th0
    else:
        r = C[V_TH, jo:jo + m]
        if has_a:
            for n in range(m):
                above += v[n] >= r[n] + a[n]
        else:
            for n in range(m):
                above += v[n] >= r[n]
    if above == 0:
        return nf
    if h == 0 and not has_a:            # one threshold: a plain scan (the common case)
        th0 = C[V_TH, jo]
        for n in range(m):
            vn = v[n]
            if vn >= th0:
                if (vn > th0 or nest) and step >= until[n]:
                    fired[nf] = offset + n
                    nf += 1
        return nf
    for n in range(m):
        th = C[V_TH, jo + n * h]
        if has_a:
            th += a[n]
        vn = v[n]
        if vn > th or (nest and vn == th):
            if step >= until[n]:
                fired[nf] = offset + n
                nf += 1
    return nf


@njit(**STEP_JIT_OPTIONS)
def reset_one(v, until, w, a, node, i, step, C, j0, h, subtract):
    """Reset after a spike at ``step`` of neuron ``i`` of a population, LIF index ``node``
    (``w``/``a``: the population's rows, or empty; its coefficients from column j0)."""
    j = j0 + i * h
    th = C[V_TH, j]
    if a.shape[0] > 0:
        th += a[i]
        a[i] += C[BETA, j]
    if subtract:
        v[node] -= th - C[V_RESET, j]
    else:
        v[node] = C[V_RESET, j]
    if w.shape[0] > 0:
        w[i] += C[B_W, j]
    until[node] = step + np.int64(C[REF, j])
