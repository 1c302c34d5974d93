"""Plastic synapses in the step loop (the rules: :mod:`neurosim.plasticity`).

They are kept apart from the static CSR: synapses of the plastic projections in
projection order (``w``: their weights, signed, shared with ``proj.weight``), two index
lists (by presynaptic neuron and by postsynaptic neuron, both stable) and per synapse its
traces and the time of its last update. A ring ``hist`` keeps the spikes of the last D
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
    mon_idx: np.ndarray        # int64[M]: synapses recorded by weight monitors
    mon_every: np.ndarray      # int64[1]: steps between weight samples


class PlasticState(NamedTuple):
    w: np.ndarray              # float64[S]: weights (signed), the projections' live arrays
    tr: np.ndarray             # float64[S, 4]: traces (pair: K+, K-; triplet: r1, r2, o1,
                               # o2; Tsodyks-Markram: u, x)
    last: np.ndarray           # float64[S]: time of the last update (s)
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
def _pre_event(pc, ps, st, j, k, t, step, n_slots):
    """A presynaptic spike reaches synapse k of projection j at time t (step)."""
    rule = pc.rule[j]
    inh = pc.inh[j] != 0
    sgn = -1.0 if inh else 1.0
    p = pc.par[j]
    tgt = pc.target[k]
    gap = t - ps.last[k]
    ps.last[k] = t
    ps.updates[j] += 1
    if rule == RULE_TM:
        u, x = ps.tr[k, 0], ps.tr[k, 1]
        tau_f = p[2]
        u = u * math.exp(-gap / tau_f) if tau_f > 0.0 else 0.0
        x = 1.0 + (x - 1.0) * math.exp(-gap / p[1])
        u = u + p[0] * (1.0 - u)
        r = u * x
        x = x - r
        ps.tr[k, 0] = u
        ps.tr[k, 1] = x
        _deliver(st, tgt, ps.w[k] * r, inh, step, 0, n_slots)
        return
    w_max = p[0]
    dendritic = pc.dendritic[j] != 0
    if not dendritic:                   # Brian2: the current with the weight before
        _deliver(st, tgt, ps.w[k], inh, step, 0, n_slots)
    m = sgn * ps.w[k]
    if rule == RULE_PAIR:
        kp = ps.tr[k, 0] * math.exp(-gap / p[3])
        km = ps.tr[k, 1] * math.exp(-gap / p[4])
        wn = m / w_max - p[2] * p[1] * (m / w_max) ** p[6] * km
        m = wn * w_max if wn > 0.0 else 0.0
        ps.tr[k, 0] = 1.0 if p[7] != 0.0 else kp + 1.0
        ps.tr[k, 1] = km
    else:
        r1 = ps.tr[k, 0] * math.exp(-gap / p[5])
        r2 = ps.tr[k, 1] * math.exp(-gap / p[7])
        o1 = ps.tr[k, 2] * math.exp(-gap / p[6])
        o2 = ps.tr[k, 3] * math.exp(-gap / p[8])
        m = min(max(m - o1 * (p[3] + p[4] * r2), 0.0), w_max)
        ps.tr[k, 0] = r1 + 1.0
        ps.tr[k, 1] = r2 + 1.0
        ps.tr[k, 2] = o1
        ps.tr[k, 3] = o2
    ps.w[k] = sgn * m
    if dendritic:                       # NEST: the updated weight, d steps later
        _deliver(st, tgt, ps.w[k], inh, step, pc.delay[j], n_slots)


@njit(**STEP_JIT_OPTIONS)
def _post_event(pc, ps, j, k, t):
    """A postsynaptic spike reaches synapse k of projection j at time t."""
    rule = pc.rule[j]
    if rule == RULE_TM:
        return
    sgn = -1.0 if pc.inh[j] != 0 else 1.0
    p = pc.par[j]
    w_max = p[0]
    gap = t - ps.last[k]
    ps.last[k] = t
    ps.updates[j] += 1
    m = sgn * ps.w[k]
    if rule == RULE_PAIR:
        kp = ps.tr[k, 0] * math.exp(-gap / p[3])
        km = ps.tr[k, 1] * math.exp(-gap / p[4])
        wn = m / w_max + p[1] * (1.0 - m / w_max) ** p[5] * kp
        m = wn * w_max if wn < 1.0 else w_max
        ps.tr[k, 0] = kp
        ps.tr[k, 1] = 1.0 if p[7] != 0.0 else km + 1.0
    else:
        r1 = ps.tr[k, 0] * math.exp(-gap / p[5])
        r2 = ps.tr[k, 1] * math.exp(-gap / p[7])
        o1 = ps.tr[k, 2] * math.exp(-gap / p[6])
        o2 = ps.tr[k, 3] * math.exp(-gap / p[8])
        m = min(max(m + r1 * (p[1] + p[2] * o2), 0.0), w_max)
        ps.tr[k, 0] = r1
        ps.tr[k, 1] = r2
        ps.tr[k, 2] = o1 + 1.0
        ps.tr[k, 3] = o2 + 1.0
    ps.w[k] = sgn * m


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
    t = step * dt
    for j in range(pc.rule.shape[0]):
        d = pc.delay[j]
        dendritic = pc.dendritic[j] != 0
        lag = 0 if dendritic else d                    # presynaptic events
        if step - lag >= 0:
            s = (step - lag) % n_hist
            lo = pc.pre_lo[j]
            base = pc.pre_off[j]
            for f in range(ps.hist_n[s]):
                i = ps.hist[s, f] - lo
                if 0 <= i < pc.n_pre[j]:
                    for r in range(pc.pre_ptr[base + i], pc.pre_ptr[base + i + 1]):
                        _pre_event(pc, ps, st, j, pc.by_pre[r], t, step, n_slots)
        if pc.rule[j] == RULE_TM:
            continue
        lag = d if dendritic else 0                    # postsynaptic events
        if step - lag >= 0:
            s = (step - lag) % n_hist
            lo = pc.post_lo[j]
            base = pc.post_off[j]
            for f in range(ps.hist_n[s]):
                i = ps.hist[s, f] - lo
                if 0 <= i < pc.n_post[j]:
                    for r in range(pc.post_ptr[base + i], pc.post_ptr[base + i + 1]):
                        _post_event(pc, ps, j, pc.by_post[r], t)
