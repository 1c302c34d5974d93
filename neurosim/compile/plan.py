"""Network -> Plan: validate once, then lower everything to flat contiguous arrays.

Index spaces
------------
* *LIF index*: LIF populations in creation order, ``[0, n_lif)``; state arrays use it.
* *node index*: every spiking neuron; LIF neurons keep their LIF index, source populations
  follow in creation order, ``[n_lif, n_nodes)``. CSR rows and spike records use it.

Connectivity is one CSR matrix per *block* = (delay in steps, channel), built by a stable
counting sort on the presynaptic node, so a spike touches only its own rows. All synapses of
projections with a scalar delay share that delay (no per-synapse delay is stored); projections
with per-synapse delays go to blocks with delay -1 and an int32 delay per synapse.
"""

from typing import NamedTuple

import numpy as np

from ..engine.build import csr_positions
from ..engine.lif import Conn, LIFParams, Record, Sources, State
from ..models.lif import lif_propagator, refractory_steps
from ..drives import lower_drives
from .xbar_plan import build_xbar, crossbar_projections, initial_xbar_state

__all__ = ["Plan", "build_plan", "build_record", "initial_state", "poisson_streams",
           "node_layout", "source_arrays"]


class Plan(NamedTuple):
    """Everything the backends need, frozen after build."""
    dt: float
    dtype: type
    n_lif: int
    n_nodes: int
    pop_node_start: dict      # population -> first node index
    lif_specs: tuple          # LIFSpec of each LIF population, in LIF-index order
    params: LIFParams
    conn: Conn
    sources: Sources
    init: State               # initial state (backends copy it)
    var_codes: dict           # state variable name -> Record.var_code
    xbar: object = None       # XbarConn of the crossbar projections
    xbar_init: object = None  # their initial XbarState
    drives: object = None     # engine.poisson.Drives of the Poisson drives, None without
    drives_init: object = None  # their initial DriveState


def build_plan(net):
    """Lower ``net`` (already validated at its constructors) to a :class:`Plan`."""
    dtype = np.dtype(net.dtype).type
    lifs, others, start, n_lif, n_nodes = node_layout(net, "lif")

    params = _lif_params(lifs, net.dt, dtype)
    xprojs = crossbar_projections(net)
    conn, n_slots = _connectivity([p for p in net.projections if p.crossbar is None], start,
                                  n_nodes, n_lif, dtype, net.threads)
    n_slots = max([n_slots] + [int(p.delay_steps) + 1 for p in xprojs]
                  + [d.delay_steps + 1 for d in net.drives])
    sources, pois_seeds = source_arrays(others, start, net)
    init = initial_state(lifs, n_lif, n_nodes, n_slots, sources, pois_seeds, dtype)
    xbar = build_xbar(xprojs, start, start, net.dt)
    drives = drives_init = None
    if net.drives:
        drives, drives_init = lower_drives(net.drives, start, net.threads,
                                           lambda k: net._stream_seed("drive", k))
    return Plan(dt=net.dt, dtype=dtype, n_lif=n_lif, n_nodes=n_nodes, pop_node_start=start,
                lif_specs=tuple(p.spec for p in lifs), params=params, conn=conn,
                sources=sources, init=init, var_codes={"v": 0, "I_exc": 1, "I_inh": 2},
                xbar=xbar, xbar_init=initial_xbar_state(xprojs, xbar,
                                                        net._stream_seed("crossbar", 0)),
                drives=drives, drives_init=drives_init)


def node_layout(net, neuron_kind):
    """Neurons of ``neuron_kind`` first, then sources: (neurons, sources, start, n, n_nodes)."""
    lifs = [p for p in net.populations if p.kind == neuron_kind]
    others = [p for p in net.populations if p.kind != neuron_kind]
    start = {}
    pos = 0
    for pop in lifs + others:
        start[pop] = pos
        pos += pop.n
    return lifs, others, start, sum(p.n for p in lifs), pos


def _lif_params(lifs, dt, dtype):
    props = [lif_propagator(p.spec, dt) for p in lifs]
    f = lambda key: np.array([pr[key] for pr in props], dtype=dtype)  # noqa: E731
    g = lambda attr: np.array([getattr(p.spec, attr) for p in lifs], dtype=dtype)  # noqa: E731
    return LIFParams(
        pop_start=np.cumsum([0] + [p.n for p in lifs]).astype(np.int64),
        e_m=f("e_m"), e_e=f("e_e"), e_i=f("e_i"), c_e=f("c_e"), c_i=f("c_i"),
        v_rest=g("v_rest"), v_th=g("v_th"), v_reset=g("v_reset"),
        ref_steps=np.array([refractory_steps(p.spec.t_ref, dt) for p in lifs], dtype=np.int64),
        reset_subtract=np.array([p.spec.reset == "subtract" for p in lifs], dtype=np.uint8),
    )


#: Most (delay, channel) blocks made from per-synapse delays; beyond, those synapses keep a
#: per-synapse delay in one block per channel (delay -1).
MAX_DELAY_BLOCKS = 128


def _connectivity(projections, start, n_nodes, n_lif, dtype, n_parts=1):
    """Group synapses into (delay, channel) blocks; one CSR per (partition, block).

    Partition q owns the targets ``part_start[q] .. part_start[q+1]-1`` (equal shares of the
    LIF neurons). Within a row, synapses keep projection order then their original order, in
    every partition, so per-target input order does not depend on the number of partitions.

    Per-synapse delays are split into one block per delay value (up to MAX_DELAY_BLOCKS
    blocks), so delivery reads no per-synapse delay. Streamed: one pass over the projections
    counts the synapses of every (partition, block, source) row and finds the blocks' shared
    weights (a projection whose weights differ makes every block it reaches store per-synapse
    weights), a second pass writes each projection's
    synapses straight into their rows (a stable counting sort, in projection order). The
    working set beyond the plan's own arrays is that of one projection at a time.
    """
    part_start = np.round(np.linspace(0, n_lif, n_parts + 1)).astype(np.int64)
    # (delays present, weight range) of each projection's channels
    present = []
    max_delay = 0
    for proj in projections:
        w, d = proj._weight, proj.delay_steps
        inh = w < 0
        chans = []
        for channel in (0, 1):
            sel = inh if channel else ~inh
            if not np.any(sel):
                chans.append(None)
                continue
            if np.ndim(d) == 0:
                ds = np.array([int(d)])
            else:
                ds = np.flatnonzero(np.bincount(d[sel]))
            ws = w[sel].astype(dtype)
            chans.append((ds, float(ws.min()), float(ws.max())))
            max_delay = max(max_delay, int(ds[-1]))
        present.append(chans)
    # per-synapse delays become one block per delay value (no per-synapse delay array and
    # no modulo per synapse when delivering), unless there are too many distinct values
    split = len({(int(x), ch) for chans in present for ch, c in enumerate(chans)
                 if c is not None for x in c[0]}) <= MAX_DELAY_BLOCKS
    keyset = set()
    for proj, chans in zip(projections, present):
        for ch, c in enumerate(chans):
            if c is not None:
                hetero = np.ndim(proj.delay_steps) != 0
                keyset.update({(-1, ch)} if hetero and not split
                              else {(int(x), ch) for x in c[0]})
    keys = sorted(keyset)
    index = {k: b for b, k in enumerate(keys)}
    n_blocks = len(keys)
    lut = np.full((2, max_delay + 1), -1, dtype=np.int64)     # (channel, delay) -> block
    for (dk, ch), b in index.items():
        if dk >= 0:
            lut[ch, dk] = b
    rows = n_parts * n_blocks * n_nodes
    counts = np.zeros(rows, dtype=np.int64)
    w_lo = np.full(n_blocks, np.inf)
    w_hi = np.full(n_blocks, -np.inf)
    for proj, chans in zip(projections, present):
        for ch, c in enumerate(chans):
            if c is None:
                continue
            hetero = np.ndim(proj.delay_steps) != 0
            for b in ([index[(-1, ch)]] if hetero and not split
                      else [index[(int(x), ch)] for x in c[0]]):
                w_lo[b] = min(w_lo[b], c[1])
                w_hi[b] = max(w_hi[b], c[2])

    def row_keys(proj):
        """Flat (partition, block, source) row of each synapse of ``proj``."""
        inh = (proj._weight < 0).astype(np.intp)
        d = proj.delay_steps
        if np.ndim(d) != 0 and not split:
            block = np.where(inh, index.get((-1, 1), -1), index.get((-1, 0), -1))
        else:
            block = lut[inh, d]
        part = (np.searchsorted(part_start, proj.post_index + start[proj.post], side="right")
                - 1 if n_parts > 1 else 0)
        return (part * n_blocks + block) * n_nodes + (proj.pre_index + start[proj.pre])

    for proj in projections:
        counts += np.bincount(row_keys(proj), minlength=rows)
    shared = [_shared_weight(np.array([w_lo[b], w_hi[b]]), dtype) for b in range(n_blocks)]
    per_synapse = any(w != w for w in shared)
    n_syn = int(counts.sum())
    flat = np.zeros(rows + 1, dtype=np.int64)
    np.cumsum(counts, out=flat[1:])
    del counts
    target = np.empty(n_syn, dtype=np.int32)
    weight = np.empty(n_syn if per_synapse else 0, dtype=dtype)
    any_hetero = any(k[0] == -1 for k in keys)
    syn_delay = np.zeros(n_syn if any_hetero else 0, dtype=np.int32)
    fill = flat[:-1].copy()
    for proj in projections:
        pos = np.empty(proj.n_synapses, dtype=np.int64)
        csr_positions(row_keys(proj), fill, pos)
        target[pos] = proj.post_index + start[proj.post]
        if per_synapse:
            weight[pos] = proj._weight
        if any_hetero and np.ndim(proj.delay_steps) != 0:
            syn_delay[pos] = proj.delay_steps
        del pos
    del fill
    indptr = np.empty((n_parts, n_blocks, n_nodes + 1), dtype=np.int64)
    for q in range(n_parts):
        for b in range(n_blocks):
            r0 = (q * n_blocks + b) * n_nodes
            indptr[q, b] = flat[r0:r0 + n_nodes + 1]
    conn = Conn(part_start=part_start, indptr=indptr,
                block_delay=np.array([k[0] for k in keys], dtype=np.int64),
                block_inh=np.array([k[1] for k in keys], dtype=np.uint8),
                block_w=np.array(shared, dtype=dtype),
                target=target, weight=weight, syn_delay=syn_delay)
    return conn, max_delay + 1


def _shared_weight(w, dtype):
    """The weight (in the plan's dtype) shared by every synapse of a block (``w``: the
    block's weights, or their smallest and largest), else nan."""
    w = w.astype(dtype)
    return w[0] if w.size and np.all(w == w[0]) else np.nan


def source_arrays(others, start, net):
    """Spike-source and Poisson arrays of the source populations, and Poisson seeds."""
    gens = [p for p in others if p.kind == "spike_source"]
    steps = [p.spec.steps for p in gens]
    nodes = [p.spec.indices + start[p] for p in gens]
    steps = np.concatenate(steps) if steps else np.zeros(0, np.int64)
    nodes = np.concatenate(nodes) if nodes else np.zeros(0, np.int64)
    order = np.lexsort((nodes, steps))
    steps, nodes = steps[order], nodes[order]
    n_t = int(steps.max()) + 1 if steps.size else 0
    gen_ptr = np.zeros(n_t + 1, dtype=np.int64)
    gen_ptr[1:] = np.cumsum(np.bincount(steps, minlength=n_t))

    pois = [p for p in others if p.kind == "poisson"]
    p_step = [np.clip(p.spec.rate * net.dt, 0.0, 1.0) for p in pois]
    log1m = []
    for p, ps in zip(pois, p_step):
        if p.spec.homogeneous and p.n:
            log1m.append(np.log1p(-ps[0]) if ps[0] < 1.0 else -np.inf)
        else:
            log1m.append(np.nan)
    seeds = np.array([net._stream_seed("poisson", k) for k in range(len(pois))],
                     dtype=np.uint64)
    src = Sources(
        gen_ptr=gen_ptr, gen_node=nodes.astype(np.int32),
        pois_start=np.array([start[p] for p in pois], dtype=np.int64),
        pois_n=np.array([p.n for p in pois], dtype=np.int64),
        pois_log1m_p=np.array(log1m, dtype=np.float64),
        pois_p=np.concatenate(p_step).astype(np.float64) if pois else np.zeros(0),
        pois_p_start=np.cumsum([0] + [p.n for p in pois])[:-1].astype(np.int64),
    )
    return src, seeds


def initial_state(lifs, n_lif, n_nodes, n_slots, sources, pois_seeds, dtype):
    """Fresh state: v = v_init, currents 0, no refractoriness, Poisson streams re-seeded."""
    v = np.concatenate([p.spec.v_init for p in lifs]).astype(dtype) if lifs else np.zeros(0, dtype)
    bias = np.concatenate([p.spec.bias for p in lifs]).astype(dtype) if lifs else np.zeros(0, dtype)
    rng, nxt = poisson_streams(sources, pois_seeds)
    return State(
        v=v, i_exc=np.zeros(n_lif, dtype), i_inh=np.zeros(n_lif, dtype), bias=bias,
        ref_until=np.zeros(n_lif, np.int64), spike_count=np.zeros(n_nodes, np.int64),
        ring_exc=np.zeros((n_slots, n_lif), dtype), ring_inh=np.zeros((n_slots, n_lif), dtype),
        ring_used=np.zeros(n_slots, np.uint8),
        pois_rng=rng, pois_next=nxt, fired=np.zeros(n_nodes, np.int32),
        sink=np.zeros(1, np.int64),
    )


def poisson_streams(sources, pois_seeds):
    """Fresh random streams of the Poisson populations and their first successful trials."""
    from ..engine.rng import geometric
    rng = pois_seeds.copy()
    nxt = np.zeros(rng.shape[0], dtype=np.int64)
    for k in range(rng.shape[0]):
        lp = sources.pois_log1m_p[k]
        if lp == lp:
            nxt[k] = geometric(rng, k, lp)
    return rng, nxt


def count_order(plan):
    """Populations in node order: index p of ``Record.pop_active`` (empty ones first on ties,
    as laid out by :func:`node_layout`)."""
    return sorted(plan.pop_node_start, key=plan.pop_node_start.get)


def build_record(plan, spike_monitors, state_monitors, projections=(), fan_out=None):
    """Record arrays for the current monitors and the counters, and each state monitor's
    column slice. ``fan_out(proj)`` gives a projection's fan-out per presynaptic neuron
    (default: computed from its synapses) for the binned synaptic-event counts."""
    mask = np.zeros(plan.n_nodes, dtype=np.uint8)
    for m in spike_monitors:
        s = plan.pop_node_start[m.pop]
        if m.record_indices is None:
            mask[s:s + m.pop.n] = 1
        else:
            mask[s + m.record_indices] = 1
    codes, idx, cols = [], [], []
    code_of = plan.var_codes
    for m in state_monitors:
        s = plan.pop_node_start[m.pop]
        c0 = len(codes)
        codes.extend([code_of[m.var]] * len(m.indices))
        idx.extend((s + m.indices).tolist())
        cols.append(slice(c0, len(codes)))
    order = count_order(plan)
    starts = [plan.pop_node_start[p] for p in order]
    n_pops = len(starts)
    index = {p: i for i, p in enumerate(order)}
    out = [[j for j, proj in enumerate(projections) if index[proj.pre] == i]
           for i in range(n_pops)]
    fans = [(fan_out or (lambda pr: pr.fan_out()))(proj) for proj in projections]
    i64 = lambda x: np.asarray(x, dtype=np.int64)  # noqa: E731
    rec = Record(spike_mask=mask, var_code=i64(codes), var_index=i64(idx),
                 pop_bounds=i64(starts + [plan.n_nodes]),
                 pop_last=np.full(n_pops, -1, np.int64), pop_active=np.zeros(n_pops, np.int64),
                 bin_steps=np.zeros(1, np.int64), bin_base=np.zeros(1, np.int64),
                 bin_spikes=np.zeros((0, n_pops), np.int64),
                 bin_active=np.zeros((0, n_pops), np.int64),
                 bin_events=np.zeros((0, len(projections)), np.int64),
                 out_ptr=i64(np.cumsum([0] + [len(o) for o in out])),
                 out_proj=i64([j for o in out for j in o]),
                 fan_ptr=i64(np.cumsum([0] + [f.size for f in fans])[:-1]),
                 fan=np.concatenate(fans).astype(np.int64) if fans else i64([]))
    return rec, cols
