"""Plastic projections -> engine.plastic arrays (kept apart from the static CSR)."""

import math

import numpy as np

from ..engine.plastic import PlasticConn, PlasticState

__all__ = ["plastic_projections", "build_plastic", "PAR_SIZE"]

#: Length of a rule's parameter vector in PlasticConn.par.
PAR_SIZE = 9
#: Gaps (steps) whose trace decay factors are tabulated (longer ones call exp).
DECAY_STEPS = 2048


def trace_taus(rule):
    """Time constants of a rule's traces in PlasticConn.taus order (0: none): pair (K+,
    K-), triplet (r1, r2, o1, o2), Tsodyks-Markram (u, x)."""
    if rule.code == 1:
        return (rule.tau_plus, rule.tau_minus, 0.0, 0.0)
    if rule.code == 2:
        return (rule.tau_plus, rule.tau_x, rule.tau_minus, rule.tau_y)
    return (rule.tau_facil, rule.tau_rec, 0.0, 0.0)


def decay_table(taus, dt):
    """exp(-(g dt)/tau) for g < DECAY_STEPS, computed as the step loop's fallback does."""
    out = np.zeros((4, DECAY_STEPS))
    for c, tau in enumerate(taus):
        if tau > 0:
            out[c] = [math.exp(-(g * dt) / tau) for g in range(DECAY_STEPS)]
    return out


def plastic_projections(net):
    """Projections of ordinary synapses with a plasticity rule, in creation order."""
    return [p for p in net.projections if p.crossbar is None and p.plasticity is not None]


def _csr(index, n):
    """(row pointers int64[n+1], synapses ordered by row, stable)."""
    order = np.argsort(index, kind="stable").astype(np.int64)
    ptr = np.zeros(n + 1, np.int64)
    ptr[1:] = np.cumsum(np.bincount(index, minlength=n))
    return ptr, order


def build_plastic(projs, start, n_nodes, dt):
    """(PlasticConn, initial PlasticState, live weights float64[S], largest delay) of the
    plastic projections, or (None, None, None, 0) when there are none. ``start`` maps a
    population to its first node (= LIF) index."""
    if not projs:
        return None, None, None, 0
    rows = dict(rule=[], dendritic=[], pre_lo=[], n_pre=[], post_lo=[], n_post=[], delay=[],
                inh=[], par=[], pre_off=[], post_off=[], pre_base=[], post_base=[])
    pre_ptr, post_ptr, by_pre, by_post, target, source, weights = [], [], [], [], [], [], []
    post_src, pre_tgt = [], []
    s0 = p0 = q0 = pb = qb = 0
    for proj in projs:
        rule = proj.plasticity
        pre, post = proj.pre_index.astype(np.int64), proj.post_index.astype(np.int64)
        w = np.array(proj._weights(), dtype=np.float64)
        ptr, order = _csr(pre, proj.pre.n)
        pre_ptr.append(ptr + s0)
        by_pre.append(order + s0)
        pre_tgt.append(post[order] + start[proj.post])
        ptr, order = _csr(post, proj.post.n)
        post_ptr.append(ptr + s0)
        by_post.append(order + s0)
        target.append(post + start[proj.post])
        source.append(pre + start[proj.pre])
        post_src.append(pre[order] + pb)         # order: this projection's by_post
        weights.append(w)
        par = np.zeros(PAR_SIZE)
        par[:len(rule.params())] = rule.params()
        for key, val in (("rule", rule.code), ("dendritic", getattr(rule, "delay_split", "") == "dendritic"),
                         ("pre_lo", start[proj.pre]), ("n_pre", proj.pre.n),
                         ("post_lo", start[proj.post]), ("n_post", proj.post.n),
                         ("delay", int(proj.delay_steps)), ("inh", proj._sign() < 0 or bool(np.any(w < 0))),
                         ("par", par), ("pre_off", p0), ("post_off", q0),
                         ("pre_base", pb), ("post_base", qb)):
            rows[key].append(val)
        s0 += w.size
        p0 += proj.pre.n + 1
        pb += proj.pre.n
        qb += proj.post.n
        q0 += proj.post.n + 1
    i64 = lambda x: np.array(x, dtype=np.int64)  # noqa: E731
    cat = lambda xs: np.concatenate(xs).astype(np.int64)  # noqa: E731
    pc = PlasticConn(rule=i64(rows["rule"]), dendritic=np.array(rows["dendritic"], np.uint8),
                     pre_lo=i64(rows["pre_lo"]), n_pre=i64(rows["n_pre"]),
                     post_lo=i64(rows["post_lo"]), n_post=i64(rows["n_post"]),
                     delay=i64(rows["delay"]), inh=np.array(rows["inh"], np.uint8),
                     par=np.array(rows["par"], np.float64), pre_ptr=cat(pre_ptr),
                     pre_off=i64(rows["pre_off"]), by_pre=cat(by_pre), post_ptr=cat(post_ptr),
                     post_off=i64(rows["post_off"]), by_post=cat(by_post), target=cat(target),
                     source=cat(source), post_src=cat(post_src), pre_tgt=cat(pre_tgt),
                     pre_base=i64(rows["pre_base"]),
                     post_base=i64(rows["post_base"]),
                     taus=np.array([trace_taus(p.plasticity) for p in projs], np.float64),
                     decay=np.array([decay_table(trace_taus(p.plasticity), dt)
                                     for p in projs]),
                     mon_idx=np.zeros(0, np.int64), mon_every=np.zeros(1, np.int64))
    w = np.concatenate(weights)
    max_delay = int(pc.delay.max())
    n_pre = int(pc.n_pre.sum())
    pre_tr = np.zeros((n_pre, 2))
    pre_tr[:, 1] = np.where(np.repeat(pc.rule, pc.n_pre) == 3, 1.0, 0.0)   # TM: x = 1
    n_post = int(pc.n_post.sum())
    init = PlasticState(w=w.copy(), pre_tr=pre_tr, pre_last=np.zeros(n_pre, np.int64),
                        post_tr=np.zeros((n_post, 2)),
                        post_last=np.zeros(n_post, np.int64),
                        hist=np.zeros((max_delay + 1, n_nodes), np.int32),
                        hist_n=np.zeros(max_delay + 1, np.int64),
                        updates=np.zeros(len(projs), np.int64), mon_buf=np.zeros((0, 0)),
                        mon_row=np.zeros(1, np.int64))
    return pc, init, w, max_delay


def weight_sampling(monitors, dt):
    """(synapse indices into the plastic arrays, steps between samples) of the weight
    monitors: every monitor's synapses, sampled at the greatest common interval."""
    if not monitors:
        return np.zeros(0, np.int64), 0
    every = 0
    for m in monitors:
        every = math.gcd(every, m.every)
    idx = np.concatenate([m._flat for m in monitors]).astype(np.int64)
    return idx, every
