"""Update kernels of the LIF models beyond the fast path (see :mod:`neurosim.models.lif` for
the equations, their integration and the two conventions).

Each population block calls :func:`generic_block` with its model code (chosen at build time,
one branch per block, none per neuron) and views of its state. Parameters come from the
population's coefficient table ``C`` (rows :data:`COEF`, columns: one per neuron, or a single
column for a homogeneous population: ``j = n * h`` with h = 0 or 1). Refractory neurons keep
v by an exact blend with 1.0 and 0.0 (no branch): ``f = step >= ref_until``.

Per step and block: the model's update (v, channels, auxiliary currents), then the ring
slot of this step into the channels (a delta population under NEST's convention adds it to
v instead, before the threshold), then the adaptation current and threshold decay.
"""

import numpy as np
from numba import njit

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


@njit(**STEP_JIT_OPTIONS)
def _exp(v, ie, ii, w, bias, until, step, C, jo, h, has_w):
    for n in range(v.shape[0]):
        j = jo + n * h
        e_m = C[E_M, j]
        v_rest = C[V_REST, j]
        b = bias[n]
        x_e = ie[n]
        x_i = ii[n]
        vo = v[n]
        vn = v_rest + ((((b + C[C_E, j] * x_e) + C[C_I, j] * x_i) + e_m * vo)
                       + e_m * (-v_rest - b))
        if has_w:
            vn += C[C_W, j] * w[n]
        f = 1.0 if step >= until[n] else 0.0
        v[n] = vn * f + vo * (1.0 - f)
        ie[n] = C[E_E, j] * x_e
        ii[n] = C[E_I, j] * x_i


@njit(**STEP_JIT_OPTIONS)
def _alpha(v, ze, zi, ce, ci, w, bias, until, step, C, jo, h, has_w):
    """ze/zi: the channels that spikes feed; ce/ci: the currents (auxiliary rows)."""
    for n in range(v.shape[0]):
        j = jo + n * h
        e_m = C[E_M, j]
        v_rest = C[V_REST, j]
        b = bias[n]
        x_e = ze[n]
        x_i = zi[n]
        i_e = ce[n]
        i_i = ci[n]
        vo = v[n]
        vn = v_rest + ((((((b + C[C_E, j] * i_e) + C[K_E, j] * x_e) + C[C_I, j] * i_i)
                          + C[K_I, j] * x_i) + e_m * vo) + e_m * (-v_rest - b))
        if has_w:
            vn += C[C_W, j] * w[n]
        f = 1.0 if step >= until[n] else 0.0
        v[n] = vn * f + vo * (1.0 - f)
        e_e = C[E_E, j]
        e_i = C[E_I, j]
        ce[n] = e_e * i_e + C[H_E, j] * x_e
        ci[n] = e_i * i_i + C[H_I, j] * x_i
        ze[n] = e_e * x_e
        zi[n] = e_i * x_i


@njit(**STEP_JIT_OPTIONS)
def _delta(v, ie, ii, w, bias, until, step, C, jo, h, has_w, nest, ring_e, ring_i,
           use_ring):
    """ie + ii: inputs delivered since the last update, in the synapses slot of the last
    step. Brian2: they were added to v there, so they propagate with v; they were lost if
    the neuron was refractory in that step (Brian2 makes every write to a variable
    "(unless refractory)" conditional on not_refractory, on_pre included; v as recorded or
    read includes the kept ones). NEST: they and this step's ring slot are added after the
    propagation, or discarded while refractory."""
    for n in range(v.shape[0]):
        j = jo + n * h
        e_m = C[E_M, j]
        v_rest = C[V_REST, j]
        b = bias[n]
        vo = v[n]
        x = ie[n] + ii[n]
        if nest:
            if use_ring:
                x += ring_e[n] + ring_i[n]
            vn = (v_rest + (b + e_m * ((vo - v_rest) - b))) + x
            held = vo
        else:
            x = x * (1.0 if step - 1 >= until[n] else 0.0)
            vn = v_rest + (b + e_m * (((vo + x) - v_rest) - b))
            held = vo
        if has_w:
            vn += C[C_W, j] * w[n]
        f = 1.0 if step >= until[n] else 0.0
        v[n] = vn * f + held * (1.0 - f)
        ie[n] = 0.0
        ii[n] = 0.0


@njit(**STEP_JIT_OPTIONS)
def _cond(v, ge, gi, w, bias, until, step, C, jo, h, has_w, dt):
    """Exponential Euler. gi holds -g_inh (inhibitory weights are negative)."""
    for n in range(v.shape[0]):
        j = jo + n * h
        g_l = C[G_L, j]
        x_e = ge[n]
        x_i = -gi[n]
        vo = v[n]
        drive = C[V_REST, j] + bias[n]
        if has_w:
            drive -= w[n]
        g_tot = (g_l + x_e) + x_i
        v_inf = ((g_l * drive + x_e * C[K_E, j]) + x_i * C[K_I, j]) / g_tot
        vn = v_inf + (vo - v_inf) * np.exp(-(g_tot * C[INV_C, j]) * dt)
        f = 1.0 if step >= until[n] else 0.0
        v[n] = vn * f + vo * (1.0 - f)
        ge[n] = C[E_E, j] * x_e
        gi[n] = C[E_I, j] * gi[n]


@njit(**STEP_JIT_OPTIONS)
def generic_block(code, nest, v, ie, ii, ce, ci, w, a, bias, until, step, C, jo, h, ring_e,
                  ring_i, use_ring, dt):
    """Groups slot of one block of a population with model ``code`` (views; ``ce``/``ci``:
    alpha currents, ``w``/``a``: adaptation current and threshold offset, each of length 0
    when the population has none)."""
    has_w = w.shape[0] > 0
    if code == CODE_EXP:
        _exp(v, ie, ii, w, bias, until, step, C, jo, h, has_w)
    elif code == CODE_ALPHA:
        _alpha(v, ie, ii, ce, ci, w, bias, until, step, C, jo, h, has_w)
    elif code == CODE_DELTA:
        _delta(v, ie, ii, w, bias, until, step, C, jo, h, has_w, nest, ring_e, ring_i,
               use_ring)
    else:
        _cond(v, ie, ii, w, bias, until, step, C, jo, h, has_w, dt)
    if use_ring:
        if code == CODE_DELTA and nest:
            for n in range(v.shape[0]):
                ring_e[n] = 0.0
                ring_i[n] = 0.0
        else:
            for n in range(v.shape[0]):
                ie[n] += ring_e[n]
                ii[n] += ring_i[n]
                ring_e[n] = 0.0
                ring_i[n] = 0.0
    if has_w:
        for n in range(v.shape[0]):
            w[n] *= C[E_W, jo + n * h]
    if a.shape[0] > 0:
        for n in range(v.shape[0]):
            a[n] *= C[E_A, jo + n * h]


@njit(**STEP_JIT_OPTIONS)
def threshold_block(v, until, a, offset, step, C, jo, h, nest, fired, nf):
    """Thresholds slot of one block: free neurons with v > v_th + a (NEST: >=)."""
    has_a = a.shape[0] > 0
    for n in range(v.shape[0]):
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
