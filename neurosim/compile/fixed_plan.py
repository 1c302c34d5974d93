"""Network -> FixedPlan: the lowering of a network of loihi_lif populations (fixed point).

Index spaces as in :mod:`neurosim.compile.plan`: loihi_lif neurons first (LIF index), then
source populations (node index). Each projection keeps its own CSR over the presynaptic
node, because Lava applies a negative ``weight_exp`` to each connection's per-step sum.
"""

from typing import NamedTuple

import numpy as np

from ..engine.build import csr_scatter
from ..engine.lif import Sources
from ..engine.loihi import FixedConn, FixedParams, FixedState
from .plan import node_layout, poisson_streams, source_arrays

__all__ = ["FixedPlan", "build_fixed_plan", "FIXED_VAR_CODES"]

FIXED_VAR_CODES = {"u": 0, "v": 1}


class FixedPlan(NamedTuple):
    """Everything the fixed-point backends need, frozen after build."""
    dt: float
    n_lif: int
    n_nodes: int
    pop_node_start: dict
    specs: tuple              # LoihiLIFSpec of each loihi_lif population
    projections: tuple        # the Projections, in order (the reference backend reads them)
    params: FixedParams
    conn: FixedConn
    sources: Sources
    init: FixedState
    var_codes: dict


def build_fixed_plan(net):
    lifs, others, start, n_lif, n_nodes = node_layout(net, "loihi_lif")
    rep = lambda f: np.concatenate(  # noqa: E731
        [np.full(p.n, f(p.spec), np.int64) for p in lifs]) if lifs else np.zeros(0, np.int64)
    params = FixedParams(keep_u=rep(lambda s: 4096 - (s.du + 1)),
                         keep_v=rep(lambda s: 4096 - s.dv), vth=rep(lambda s: s.vth << 6))
    conn, max_delay, max_neg_delay = _connectivity(net.projections, start, n_nodes)
    sources, seeds = source_arrays(others, start, net)
    rng, nxt = poisson_streams(sources, seeds)
    cat = lambda f: (np.concatenate([f(p.spec) for p in lifs]).astype(np.int64)  # noqa: E731
                     if lifs else np.zeros(0, np.int64))
    d = max_neg_delay + 1 if max_neg_delay >= 0 else 0
    init = FixedState(
        u=cat(lambda s: s.u_init), v=cat(lambda s: s.v_init), bias=cat(lambda s: s.bias()),
        spike_count=np.zeros(n_nodes, np.int64),
        ring=np.zeros((max_delay + 2, n_lif), np.int64),
        acc=np.zeros((d, n_lif), np.int64), mark=np.zeros((d, n_lif), np.int64),
        touched=np.zeros(d * n_lif, np.int64), stamp=np.zeros(1, np.int64),
        pois_rng=rng, pois_next=nxt, fired=np.zeros(n_nodes, np.int32))
    return FixedPlan(dt=net.dt, n_lif=n_lif, n_nodes=n_nodes, pop_node_start=start,
                     specs=tuple(p.spec for p in lifs), projections=tuple(net.projections),
                     params=params, conn=conn, sources=sources, init=init,
                     var_codes=FIXED_VAR_CODES)


def _connectivity(projections, start, n_nodes):
    n_syn = sum(p.n_synapses for p in projections)
    indptr = np.zeros((len(projections), n_nodes + 1), np.int64)
    target = np.empty(n_syn, np.int32)
    weight = np.empty(n_syn, np.int64)
    delay = np.empty(n_syn, np.int64)
    rshift = np.zeros(len(projections), np.int64)
    offset, max_delay, max_neg_delay = 0, 0, -1
    for k, proj in enumerate(projections):
        syn = proj.loihi
        pre = proj.pre_index.astype(np.int64) + start[proj.pre]
        m = pre.shape[0]
        counts = np.bincount(pre, minlength=n_nodes)
        local = np.zeros(n_nodes + 1, np.int64)
        local[1:] = np.cumsum(counts)
        indptr[k] = local + offset
        order = np.empty(m, np.int64)
        csr_scatter(pre, local, order)
        w = syn.weight[order]
        if syn.weight_exp >= 0:
            w = w << syn.weight_exp
        else:
            rshift[k] = -syn.weight_exp
        d = np.broadcast_to(np.asarray(proj.delay_steps, np.int64), (m,))
        target[offset:offset + m] = proj.post_index[order] + start[proj.post]
        weight[offset:offset + m] = w
        delay[offset:offset + m] = d[order]
        if m:
            max_delay = max(max_delay, int(d.max()))
            if syn.weight_exp < 0:
                max_neg_delay = max(max_neg_delay, int(d.max()))
        offset += m
    return (FixedConn(indptr=indptr, target=target, weight=weight, delay=delay, rshift=rshift),
            max_delay, max_neg_delay)
