"""The same-step (layered) schedule: discrete-time layer models in topological order.

For networks imported from NIR graphs (and built with :class:`neurosim.LayerNetwork`), a
spike or value reaches the next layer in the step it was emitted, as the training frameworks
(snnTorch, Norse, Sinabs) run them; projections with a delay of d >= 1 steps (recurrent edges,
NIR Delay nodes) land d steps later. Populations are stored level by level (the longest-path
layering of the delay-0 projections), so one step is::

    for each level:
        every population of the level: I = ring[slot] (+ bias); update; emit ``out``
        every projection from the level: ring[(step + d) % D, target] += w * out[pre]
    record; count

``ring[slot]`` is consumed (and zeroed) by the update, so a delay-0 delivery into a later
level of the same step and a delayed one from an earlier step share one buffer. The model
equations are those of :mod:`neurosim.models.layer` (which also holds the NumPy reference);
the codes and coefficient columns below mirror it (a test checks that they agree).
"""

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from .._config import INNER_JIT_OPTIONS, JIT_OPTIONS

__all__ = ["LayerPlan", "LayerState", "LayerCounts", "advance_layers", "update_level",
           "deliver_level", "record_step"]

INPUT, PASS, THRESH, INTEG, IF, LI, LIF, CUBALI, CUBALIF = range(9)
A, S, G, W, L, TH, RS, C = range(8)
MAX_CROSSINGS = 1000


class LayerPlan(NamedTuple):
    p_lo: np.ndarray          # (P,) first neuron of each population (populations in level order)
    p_hi: np.ndarray
    p_code: np.ndarray        # model code
    p_reset: np.ndarray       # 0 zero, 1 subtract
    p_timing: np.ndarray      # 0 same step, 1 next step
    p_exact: np.ndarray       # 1: exact integration
    p_spike: np.ndarray       # value of a spike (1, or 1/dt for Dirac spikes)
    p_col: np.ndarray         # input populations: first column of x; else -1
    lv_pop: np.ndarray        # (V+1,) populations of level v: lv_pop[v] .. lv_pop[v+1]
    lv_proj: np.ndarray       # (V+1,) projections sent from level v (sorted by level)
    coef: np.ndarray          # (n, 8) per-neuron coefficients (models.layer.COEF columns)
    bias: np.ndarray          # (n,) constant input
    q_pre: np.ndarray         # (Q,) first presynaptic neuron
    q_npre: np.ndarray
    q_ptr: np.ndarray         # offset of the projection's row pointers in indptr
    q_delayed: np.ndarray     # 1 if any synapse has a delay > 0
    q_skip: np.ndarray        # 1: delivered outside the kernel (crossbar synapses)
    indptr: np.ndarray        # row pointers of every projection (n_pre + 1 each), into tgt/w/dly
    tgt: np.ndarray           # (S,) int32 target neuron (global index)
    w: np.ndarray             # (S,) weight
    dly: np.ndarray           # (S,) int32 delay in steps (all zero if no projection is delayed)


class LayerState(NamedTuple):
    v: np.ndarray
    isyn: np.ndarray
    zprev: np.ndarray         # uint8: spiked in the previous step (next-step resets)
    out: np.ndarray           # what each neuron emitted in this step
    ring: np.ndarray          # (D, n) inputs by arrival step


class LayerCounts(NamedTuple):
    nonzero: np.ndarray       # (n,) int64 steps with a nonzero output (spikes, values sent)
    active: np.ndarray        # (P,) int64 steps in which the population emitted anything
    events: np.ndarray        # (Q,) int64 synapses traversed by nonzero outputs


@njit(inline="always", **JIT_OPTIONS)
def _reset(v, c, subtract):
    return v - (c[TH] - c[RS]) if subtract else c[RS]


@njit(**INNER_JIT_OPTIONS)
def _exact_lif(v, v_inf, c, zero):
    """Exact LIF over one step, resets at the crossing times; returns (v, crossings)."""
    v_th, v_reset, a = c[TH], c[RS], c[C]
    rem, k = 1.0, 0
    while k < MAX_CROSSINGS:
        if v > v_th:
            k += 1
            v = v_reset if zero else v - (v_th - v_reset)
            continue
        if v_inf <= v_th:
            break
        f = math.log((v - v_inf) / (v_th - v_inf)) / a
        if f > rem:
            break
        k += 1
        rem -= f
        v = v_reset
    return v_inf + (v - v_inf) * math.exp(-a * rem), k


@njit(**INNER_JIT_OPTIONS)
def _update_pop(pl, st, p, slot, xrow, cnt):
    lo, hi = pl.p_lo[p], pl.p_hi[p]
    code = pl.p_code[p]
    subtract = pl.p_reset[p] == 1
    nxt = pl.p_timing[p] == 1
    exact = pl.p_exact[p] == 1
    spk = pl.p_spike[p]
    coef, ring, v, isyn, out = pl.coef, st.ring, st.v, st.isyn, st.out
    nz = 0
    for i in range(lo, hi):
        I = ring[slot, i] + pl.bias[i]
        ring[slot, i] = 0.0
        c = coef[i]
        if code == INPUT:
            o = xrow[pl.p_col[p] + i - lo]
        elif code == PASS:
            o = I
        elif code == THRESH:
            o = spk if I > c[TH] else 0.0
        elif code == INTEG or code == IF:
            v[i] += c[G] * I
            o = v[i]
        elif exact and code == LIF:
            vi, k = _exact_lif(v[i], c[L] + c[G] * I, c, not subtract)
            v[i] = vi
            o = k * spk
        elif exact:
            if code == CUBALI or code == CUBALIF:
                i_inf = c[W] * I
                v_inf = c[L] + c[G] * i_inf
                v[i] = v_inf + (v[i] - v_inf) * c[A] + c[G] * (isyn[i] - i_inf) * c[C]
                isyn[i] = i_inf + (isyn[i] - i_inf) * c[S]
            else:
                v_inf = c[L] + c[G] * I
                v[i] = v_inf + (v[i] - v_inf) * c[A]
            o = v[i]
        else:
            if code == CUBALI or code == CUBALIF:
                isyn[i] += c[S] * (c[W] * I - isyn[i])
                I = isyn[i]
            v[i] += c[A] * ((c[L] - v[i]) + c[G] * I)
            o = v[i]
        if (code == IF or code == LIF or code == CUBALIF) and not (exact and code == LIF):
            if nxt and st.zprev[i] != 0:
                v[i] = _reset(v[i], c, subtract)
            z = v[i] > c[TH]
            st.zprev[i] = z
            if z and not nxt:
                v[i] = _reset(v[i], c, subtract)
            o = spk if z else 0.0
        out[i] = o
        if o != 0.0:
            cnt.nonzero[i] += 1
            nz += 1
    if nz:
        cnt.active[p] += 1


@njit(**JIT_OPTIONS)
def update_level(pl, st, lv, step, xrow, cnt):
    """Update every population of level ``lv`` in step ``step`` (inputs of row ``xrow``)."""
    slot = step % st.ring.shape[0]
    for p in range(pl.lv_pop[lv], pl.lv_pop[lv + 1]):
        _update_pop(pl, st, p, slot, xrow, cnt)


@njit(**JIT_OPTIONS)
def deliver_level(pl, st, lv, step, cnt):
    """Send the outputs of level ``lv`` through its projections (crossbar ones excepted)."""
    ring, out = st.ring, st.out
    n_slots = ring.shape[0]
    slot = step % n_slots
    for q in range(pl.lv_proj[lv], pl.lv_proj[lv + 1]):
        if pl.q_skip[q]:
            continue
        pre, base, delayed = pl.q_pre[q], pl.q_ptr[q], pl.q_delayed[q]
        ev = 0
        for j in range(pl.q_npre[q]):
            val = out[pre + j]
            if val == 0.0:
                continue
            s0, s1 = pl.indptr[base + j], pl.indptr[base + j + 1]
            ev += s1 - s0
            if delayed:
                for s in range(s0, s1):
                    ring[(step + pl.dly[s]) % n_slots, pl.tgt[s]] += pl.w[s] * val
            else:
                for s in range(s0, s1):
                    ring[slot, pl.tgt[s]] += pl.w[s] * val
        cnt.events[q] += ev


@njit(**JIT_OPTIONS)
def record_step(st, rec_var, rec_lo, rec_hi, rec_off, buf, k):
    """Copy the recorded variables (0 out, 1 v, 2 i_syn) of this step into row k of buf."""
    for r in range(rec_var.shape[0]):
        src = st.out if rec_var[r] == 0 else (st.v if rec_var[r] == 1 else st.isyn)
        o = rec_off[r] - rec_lo[r]
        for i in range(rec_lo[r], rec_hi[r]):
            buf[k, o + i] = src[i]


@njit(**JIT_OPTIONS)
def advance_layers(pl, st, x, step0, cnt, rec_var, rec_lo, rec_hi, rec_off, buf):
    """Run ``x.shape[0]`` steps from ``step0`` (x: one row of input values per step);
    returns the number of steps run."""
    n_levels = pl.lv_pop.shape[0] - 1
    for k in range(x.shape[0]):
        step = step0 + k
        for lv in range(n_levels):
            update_level(pl, st, lv, step, x[k], cnt)
            deliver_level(pl, st, lv, step, cnt)
        record_step(st, rec_var, rec_lo, rec_hi, rec_off, buf, k)
    return x.shape[0]
