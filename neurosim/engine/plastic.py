"""Plastic synapses in the step loop (the rules: :mod:`neurosim.plasticity`).

They are kept apart from the static CSR: synapses of the plastic projections in
projection order (``w``: their weights, signed, shared with ``proj.weight``) and two index
lists (by presynaptic neuron and by postsynaptic neuron, both stable). A plastic projection
has one delay, so the synapses of a neuron see its spikes at the same times: the traces
are kept per presynaptic and per postsynaptic neuron of each projection (8 bytes per
synapse in all, the weight), each with the time it was last brought up to date, and decay
exactly (exp(-gap/tau)) when an event reads them: the values of Brian2's per-synapse
event-driven traces. A ring ``hist`` keeps the spikes of the last D
steps (D > every plastic delay), so an event with delay d at step n reads the spikes of step
n - d. The stage runs in the synapses slot, after the static synapses, on one thread (its
results do not depend on the thread count), and records the weights chosen by weight
monitors at the start of every ``mon_every``-th step (the value at that time, as state
monitors do).
"""

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from .._config import STEP_JIT_OPTIONS

__all__ = ["PlasticConn", "PlasticState", "plastic_step", "RULE_PAIR", "RULE_TRIPLET",
           "RULE_TM"]

RULE_PAIR = 1
RULE_TRIPLET = 2
RULE_TM = 3


class PlasticConn(NamedTuple):
    """The plastic projections j of a plan and their synapses k (fixed during a run)."""
    rule: np.ndarray           # int64[J]: RULE_*
    dendritic: np.ndarray      # uint8[J]: 1 = NEST's delay split
    pre_lo: np.ndarray         # int64[J]: node index of presynaptic neuron 0
    n_pre: np.ndarray          # int64[J]
    post_lo: np.ndarray        # int64[J]: LIF index of postsynaptic neuron 0
    n_post: np.ndarray         # int64[J]
    delay: np.ndarray          # int64[J]: steps
    inh: np.ndarray            # uint8[J]: 1 = weights <= 0, into the inhibitory channel
    par: np.ndarray            # float64[J, 9]: the rule's parameters (Rule.params())
    pre_ptr: np.ndarray        # int64[.]: projection j's rows at pre_ptr[pre_off[j] + i]
    pre_off: np.ndarray        # int64[J]
    by_pre: np.ndarray         # int64[S]: synapses (flat index) ordered by presynaptic neuron
    post_ptr: np.ndarray       # int64[.]: as pre_ptr, by postsynaptic neuron
    post_off: np.ndarray       # int64[J]
    by_post: np.ndarray        # int64[S]
    target: np.ndarray         # int64[S]: LIF index of each synapse's target
    source: np.ndarray         # int64[S]: node index of each synapse's source
    post_src: np.ndarray       # int64[S]: pre_tr row of the source of by_post[q] (read in
                               # by_post order: one random read fewer per postsynaptic event)
    pre_tgt: np.ndarray        # int64[S]: target of by_pre[q] (likewise, by_pre order)
    pre_base: np.ndarray       # int64[J]: row of projection j's presynaptic neuron 0 in pre_tr
    taus: np.ndarray           # float64[J, 4]: time constants of the traces (s; 0: none)
    decay: np.ndarray          # float64[J, 4, G]: exp(-(g dt)/tau) for gaps of g < G steps
    post_base: np.ndarray      # int64[J]: ... of its postsynaptic neuron 0 in post_tr
    mon_idx: np.ndarray        # int64[M]: synapses recorded by weight monitors
    mon_every: np.ndarray      # int64[1]: steps between weight samples


class PlasticState(NamedTuple):
    w: np.ndarray              # float64[S]: weights (signed), the projections' live arrays
    pre_tr: np.ndarray         # float64[NP, 2]: traces of each presynaptic neuron of each
                               # projection (pair: K+; triplet: r1, r2; Tsodyks-Markram: u, x)
    pre_last: np.ndarray       # int64[NP]: the step they were last brought up to date at
    post_tr: np.ndarray        # float64[NQ, 2]: traces of each postsynaptic neuron (pair:
                               # K-; triplet: o1, o2)
    post_last: np.ndarray      # int64[NQ]
    hist: np.ndarray           # int32[D, n_nodes]: spikes of step s at hist[s % D]
    hist_n: np.ndarray         # int64[D]
    updates: np.ndarray        # int64[J]: plasticity updates (weight or efficacy changes)
    mon_buf: np.ndarray        # float64[R, M]: weight samples of this call of the loop
    mon_row: np.ndarray        # int64[1]: rows written


@njit(**STEP_JIT_OPTIONS)
def _deliver(st, tgt, value, inh, step, d, n_slots):
    """A plastic synapse's current now (d = 0) or d steps later (the ring)."""
    if d == 0:
        if inh:
            st.i_inh[tgt] += value
        else:
            st.i_exc[tgt] += value
    else:
        slot = (step + d) % n_slots
        st.ring_used[slot] = 1
        if inh:
            st.ring_inh[slot, tgt] += value
        else:
            st.ring_exc[slot, tgt] += value


@njit(**STEP_JIT_OPTIONS)
def _pow(x, mu):
    """x ** mu, without the call for the additive (mu = 0) and multiplicative (mu = 1)
    rules (pow(x, 0) = 1 and pow(x, 1) = x exactly)."""
    if mu == 0.0:
        return 1.0
    if mu == 1.0:
        return x
    return x ** mu


@njit(**STEP_JIT_OPTIONS)
def _factor(pc, j, c, gap, dt):
    """exp(-(gap dt) / tau_c): from the table below G steps (no exp in the step loop)."""
    if gap < pc.decay.shape[2]:
        return pc.decay[j, c, gap]
    return math.exp(-(gap * dt) / pc.taus[j, c])


@njit(**STEP_JIT_OPTIONS)
def _bring(pc, tr, last, r, step, j, c0, c1, dt):
    """Traces of row r (time constants c0, c1 of projection j; c1 < 0: one trace) decayed
    exactly to ``step`` (once per row and step: later calls find them up to date)."""
    gap = step - last[r]
    if gap != 0:
        tr[r, 0] *= _factor(pc, j, c0, gap, dt)
        if c1 >= 0:
            tr[r, 1] *= _factor(pc, j, c1, gap, dt)
        last[r] = step


@njit(**STEP_JIT_OPTIONS)
def _pre_events(pc, ps, st, j, i, dt, step, n_slots, inc):
    """A spike of presynaptic neuron i of projection j reaches its synapses at time t
    (``inc``: then count it in the neuron's traces; else :func:`_count_spike` does)."""
    rule = pc.rule[j]
    inh = pc.inh[j] != 0
    sgn = -1.0 if inh else 1.0
    p = pc.par[j]
    a = pc.pre_base[j] + i
    base = pc.pre_off[j] + i
    lo, hi = pc.pre_ptr[base], pc.pre_ptr[base + 1]
    ps.updates[j] += hi - lo
    if rule == RULE_TM:                 # the efficacy of the neuron's release, every synapse
        gap = step - ps.pre_last[a]
        ps.pre_last[a] = step
        u = ps.pre_tr[a, 0] * _factor(pc, j, 0, gap, dt) if p[2] > 0.0 else 0.0
        x = 1.0 + (ps.pre_tr[a, 1] - 1.0) * _factor(pc, j, 1, gap, dt)
        u = u + p[0] * (1.0 - u)
        r = u * x
        ps.pre_tr[a, 0] = u
        ps.pre_tr[a, 1] = x - r
        for q in range(lo, hi):
            k = pc.by_pre[q]
            _deliver(st, pc.pre_tgt[q], ps.w[k] * r, inh, step, 0, n_slots)
        return
    w_max = p[0]
    dendritic = pc.dendritic[j] != 0
    triplet = rule == RULE_TRIPLET
    if triplet:
        _bring(pc, ps.pre_tr, ps.pre_last, a, step, j, 0, 1, dt)
    else:
        _bring(pc, ps.pre_tr, ps.pre_last, a, step, j, 0, -1, dt)
    for q in range(lo, hi):
        k = pc.by_pre[q]
        tgt = pc.pre_tgt[q]
        if not dendritic:               # Brian2: the current with the weight before
            _deliver(st, tgt, ps.w[k], inh, step, 0, n_slots)
        b = pc.post_base[j] + tgt - pc.post_lo[j]
        m = sgn * ps.w[k]
        if triplet:
            _bring(pc, ps.post_tr, ps.post_last, b, step, j, 2, 3, dt)
            m = min(max(m - ps.post_tr[b, 0] * (p[3] + p[4] * ps.pre_tr[a, 1]), 0.0), w_max)
        else:
            _bring(pc, ps.post_tr, ps.post_last, b, step, j, 1, -1, dt)
            wn = m / w_max - p[2] * p[1] * _pow(m / w_max, p[6]) * ps.post_tr[b, 0]
            m = wn * w_max if wn > 0.0 else 0.0
        ps.w[k] = sgn * m
        if dendritic:                   # NEST: the updated weight, d steps later
            _deliver(st, tgt, ps.w[k], inh, step, pc.delay[j], n_slots)
    if inc:
        _count_spike(ps.pre_tr, a, triplet, p[7] != 0.0)


@njit(**STEP_JIT_OPTIONS)
def _count_spike(tr, r, triplet, nearest):
    """A spike of the neuron of row r (traces up to date): +1 each (nearest: set to 1)."""
    if triplet:
        tr[r, 0] += 1.0
        tr[r, 1] += 1.0
    else:
        tr[r, 0] = 1.0 if nearest else tr[r, 0] + 1.0


@njit(**STEP_JIT_OPTIONS)
def _post_events(pc, ps, j, i, dt, step, inc):
    """A spike of postsynaptic neuron i of projection j reaches its synapses at time t."""
    rule = pc.rule[j]
    sgn = -1.0 if pc.inh[j] != 0 else 1.0
    p = pc.par[j]
    w_max = p[0]
    b = pc.post_base[j] + i
    base = pc.post_off[j] + i
    lo, hi = pc.post_ptr[base], pc.post_ptr[base + 1]
    ps.updates[j] += hi - lo
    triplet = rule == RULE_TRIPLET
    if triplet:
        _bring(pc, ps.post_tr, ps.post_last, b, step, j, 2, 3, dt)
    else:
        _bring(pc, ps.post_tr, ps.post_last, b, step, j, 1, -1, dt)
    for q in range(lo, hi):
        k = pc.by_post[q]
        a = pc.post_src[q]
        m = sgn * ps.w[k]
        if triplet:
            _bring(pc, ps.pre_tr, ps.pre_last, a, step, j, 0, 1, dt)
            m = min(max(m + ps.pre_tr[a, 0] * (p[1] + p[2] * ps.post_tr[b, 1]), 0.0), w_max)
        else:
            _bring(pc, ps.pre_tr, ps.pre_last, a, step, j, 0, -1, dt)
            wn = m / w_max + p[1] * _pow(1.0 - m / w_max, p[5]) * ps.pre_tr[a, 0]
            m = wn * w_max if wn < 1.0 else w_max
        ps.w[k] = sgn * m
    if inc:
        _count_spike(ps.post_tr, b, triplet, p[7] != 0.0)


@njit(**STEP_JIT_OPTIONS)
def plastic_step(pc, ps, st, fired, nf, step, dt, n_slots):
    """The plastic stage of step ``step`` (``fired[:nf]``: this step's spikes)."""
    every = pc.mon_every[0]
    if every > 0 and step % every == 0 and ps.mon_row[0] < ps.mon_buf.shape[0]:
        row = ps.mon_row[0]
        for m in range(pc.mon_idx.shape[0]):
            ps.mon_buf[row, m] = ps.w[pc.mon_idx[m]]
        ps.mon_row[0] = row + 1
    n_hist = ps.hist.shape[0]
    slot = step % n_hist
    for f in range(nf):
        ps.hist[slot, f] = fired[f]
    ps.hist_n[slot] = nf
    for j in range(pc.rule.shape[0]):
        d = pc.delay[j]
        if pc.dendritic[j] != 0 and pc.rule[j] != RULE_TM:
            _dendritic(pc, ps, st, j, d, step, dt, n_slots, n_hist)
            continue
        if step - d >= 0:                       # Brian2: presynaptic events, then post
            s = (step - d) % n_hist
            for f in range(ps.hist_n[s]):
                i = ps.hist[s, f] - pc.pre_lo[j]
                if 0 <= i < pc.n_pre[j]:
                    _pre_events(pc, ps, st, j, i, dt, step, n_slots, True)
        if pc.rule[j] == RULE_TM:
            continue
        for f in range(ps.hist_n[slot]):
            i = ps.hist[slot, f] - pc.post_lo[j]
            if 0 <= i < pc.n_post[j]:
                _post_events(pc, ps, j, i, dt, step, True)


@njit(**STEP_JIT_OPTIONS)
def _dendritic(pc, ps, st, j, d, step, dt, n_slots, n_hist):
    """NEST's order at the synapse for a step: the postsynaptic spikes that reach it now
    (those of step - d) facilitate with K+ of the earlier presynaptic spikes, the
    presynaptic spikes of this step depress with K- of the earlier postsynaptic spikes (a
    pre and a post spike at the same time at the synapse do not pair, as in NEST's
    stdp_synapse), and only then are both counted in their traces."""
    triplet = pc.rule[j] == RULE_TRIPLET
    nearest = pc.par[j, 7] != 0.0 and not triplet
    now = step % n_hist
    if step - d >= 0:
        s = (step - d) % n_hist
        for f in range(ps.hist_n[s]):
            i = ps.hist[s, f] - pc.post_lo[j]
            if 0 <= i < pc.n_post[j]:
                _post_events(pc, ps, j, i, dt, step, False)
    for f in range(ps.hist_n[now]):
        i = ps.hist[now, f] - pc.pre_lo[j]
        if 0 <= i < pc.n_pre[j]:
            _pre_events(pc, ps, st, j, i, dt, step, n_slots, False)
    if step - d >= 0:
        s = (step - d) % n_hist
        for f in range(ps.hist_n[s]):
            i = ps.hist[s, f] - pc.post_lo[j]
            if 0 <= i < pc.n_post[j]:
                _count_spike(ps.post_tr, pc.post_base[j] + i, triplet, nearest)
    for f in range(ps.hist_n[now]):
        i = ps.hist[now, f] - pc.pre_lo[j]
        if 0 <= i < pc.n_pre[j]:
            _count_spike(ps.pre_tr, pc.pre_base[j] + i, triplet, nearest)
