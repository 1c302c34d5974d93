"""Network -> FixedPlan: the lowering of a network of loihi_lif populations (fixed point).

Index spaces as in :mod:`neurosim.compile.plan`: loihi_lif neurons first (LIF index), then
source populations (node index). Each projection keeps its own connectivity, because Lava
applies a negative ``weight_exp`` to each connection's per-step sum: a dense (pre, post)
int16 block when it has one delay value and at least DENSE_ABOVE of all pairs, else a CSR
over the presynaptic node.
"""

from typing import NamedTuple

import numpy as np

from ..engine.build import csr_positions
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
        pois_rng=rng, pois_next=nxt, fired=np.zeros(n_nodes, np.int32),
        flag=np.zeros(n_lif, np.uint8),
        dense_acc=np.zeros(int(conn.post_n.max()) if conn.post_n.size else 0, np.int32))
    return FixedPlan(dt=net.dt, n_lif=n_lif, n_nodes=n_nodes, pop_node_start=start,
                     specs=tuple(p.spec for p in lifs), projections=tuple(net.projections),
                     params=params, conn=conn, sources=sources, init=init,
                     var_codes=FIXED_VAR_CODES)


#: A projection with one delay value and at least this fraction of all (pre, post) pairs
#: connected is stored as a dense block (rows added with vector instructions).
DENSE_ABOVE = 0.25


def _connectivity(projections, start, n_nodes):
    P = len(projections)
    indptr = np.zeros((P, n_nodes + 1), np.int64)
    rshift, lshift = np.zeros(P, np.int64), np.zeros(P, np.int64)
    proj_delay, dense_off = np.full(P, -1, np.int64), np.full(P, -1, np.int64)
    pre_start, pre_n, post_start, post_n = (np.zeros(P, np.int64) for _ in range(4))
    targets, weights, delays, blocks = [], [], [], []
    offset, dense_size, max_delay, max_neg_delay = 0, 0, 0, -1
    for k, proj in enumerate(projections):
        syn = proj.loihi
        pre_start[k], pre_n[k] = start[proj.pre], proj.pre.n
        post_start[k], post_n[k] = start[proj.post], proj.post.n
        w = syn.weight << syn.weight_exp if syn.weight_exp >= 0 else syn.weight.copy()
        rshift[k] = max(-syn.weight_exp, 0)
        d = np.broadcast_to(np.asarray(proj.delay_steps, np.int64), w.shape)
        m = w.shape[0]
        if m:
            max_delay = max(max_delay, int(d.max()))
            if syn.weight_exp < 0:
                max_neg_delay = max(max_neg_delay, int(d.max()))
        if m == 0 or d.min() == d.max():
            proj_delay[k] = int(d[0]) if m else 0
        pairs = proj.pre.n * proj.post.n
        if proj_delay[k] >= 0 and m >= DENSE_ABOVE * pairs and proj.pre.n < 2**23 and \
                _single_pairs(proj):
            block = np.zeros((proj.pre.n, proj.post.n), np.int16)
            block[proj.pre_index, proj.post_index] = syn.weight
            lshift[k] = max(syn.weight_exp, 0)
            dense_off[k] = dense_size
            dense_size += pairs
            blocks.append(block.ravel())
            indptr[k] = offset
            continue
        pre = proj.pre_index.astype(np.int64) + start[proj.pre]
        counts = np.bincount(pre, minlength=n_nodes)
        local = np.zeros(n_nodes + 1, np.int64)
        local[1:] = np.cumsum(counts)
        indptr[k] = local + offset
        pos = np.empty(m, np.int64)
        csr_positions(pre, local[:-1].copy(), pos)
        order = np.empty(m, np.int64)
        order[pos] = np.arange(m)
        targets.append(proj.post_index[order] + start[proj.post])
        weights.append(w[order])
        delays.append(d[order])
        offset += m
    cat = lambda xs, dt: np.concatenate(xs).astype(dt) if xs else np.zeros(0, dt)  # noqa
    conn = FixedConn(indptr=indptr, target=cat(targets, np.int32), weight=cat(weights, np.int64),
                     delay=cat(delays, np.int64), rshift=rshift, proj_delay=proj_delay,
                     dense_off=dense_off, pre_start=pre_start, pre_n=pre_n,
                     post_start=post_start, post_n=post_n, dense_w=cat(blocks, np.int16),
                     lshift=lshift)
    return conn, max_delay, max_neg_delay


def _single_pairs(proj):
    """No (pre, post) pair twice (a dense block holds one weight per pair)."""
    key = proj.pre_index.astype(np.int64) * proj.post.n + proj.post_index
    return np.unique(key).size == key.size
