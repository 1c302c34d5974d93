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

import functools
from typing import NamedTuple

import numpy as np

from ..engine.build import count_rows, place_rows
from .. import rules
from ..projections import MAX_DELAY_STEPS
from ..engine.lif import Conn, LIFParams, Record, Sources, State
from ..engine.neurons import CODE_FAST, COEF
from ..models.lif import coefficients, lif_propagator, refractory_steps
from ..currents import lower_currents
from ..drives import lower_drives
from .plastic_plan import build_plastic, plastic_projections
from .xbar_plan import build_xbar, crossbar_projections, initial_xbar_state

__all__ = ["Plan", "build_plan", "build_record", "initial_state", "poisson_streams",
           "node_layout", "source_arrays", "spike_table", "poisson_windows", "relower_lif"]


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
    var_loc: dict = None      # (population, variable) -> (Record.var_code, index of neuron 0)
    plastic: object = None    # engine.plastic.PlasticConn of the plastic projections, or None
    plastic_init: object = None  # their initial PlasticState
    plastic_w: object = None  # their live weights (float64; proj.weight views of it)
    currents: object = None   # engine.currents.Currents of the current sources, None without
    currents_init: object = None  # their CurrentState at step 0
    ranks: object = None      # neurosim.mpi.Ranks when this process is one of several


#: Synapses drawn at once on an MPI rank (it keeps a fraction of them; the draws do not
#: depend on it): the working set of the build drops from about 180 MB a process.
RANK_DRAW_CHUNK = 1 << 19


def build_plan(net):
    """Lower ``net`` (already validated at its constructors) to a :class:`Plan`."""
    dtype = np.dtype(net.dtype).type
    lifs, others, start, n_lif, n_nodes = node_layout(net, "lif")

    params, x_size = _lif_params(lifs, net.dt, dtype)
    xprojs = crossbar_projections(net)
    ranks = net._ranks
    with rules.draw_chunk(rules.DRAW_CHUNK if ranks is None else RANK_DRAW_CHUNK):
        conn, n_slots = _connectivity(static_projections(net), start, n_nodes, n_lif, dtype,
                                      net.threads, ranks.own(net._rank_edges()) if ranks
                                      else None)
    pc, p_init, p_w, p_delay = build_plastic(plastic_projections(net), start, n_nodes,
                                             net.dt)
    n_slots = max([n_slots, p_delay + 1] + [int(p.delay_steps) + 1 for p in xprojs]
                  + [d.delay_steps + 1 for d in net.drives])
    sources, pois_seeds = source_arrays(others, start, net)
    init = initial_state(lifs, n_lif, n_nodes, n_slots, sources, pois_seeds, dtype, x_size)
    var_loc = _var_loc(lifs, params)
    for pop in lifs:                   # initial values of currents, conductances, w, a
        for var, values in pop._initial.items():
            code, s = var_loc[pop, var]
            (init.v, init.i_exc, init.i_inh, init.x, init.i_inh)[code][s:s + pop.n] = \
                -values if code == 4 else values
    xbar = build_xbar(xprojs, start, start, net.dt)
    drives = drives_init = None
    if net.drives:
        drives, drives_init = lower_drives(net.drives, start, net.threads,
                                           lambda k: net._stream_seed("drive", k))
    currents, currents_init = lower_currents(net.current_sources, start, lifs, dtype, 0)
    return Plan(dt=net.dt, dtype=dtype, n_lif=n_lif, n_nodes=n_nodes, pop_node_start=start,
                lif_specs=tuple(p.spec for p in lifs), params=params, conn=conn,
                sources=sources, init=init, var_codes={"v": 0, "I_exc": 1, "I_inh": 2},
                xbar=xbar, xbar_init=initial_xbar_state(xprojs, xbar,
                                                        net._stream_seed("crossbar", 0)),
                drives=drives, drives_init=drives_init, var_loc=var_loc, plastic=pc,
                plastic_init=p_init, plastic_w=p_w, currents=currents,
                currents_init=currents_init, ranks=ranks)


def relower_lif(plan, lifs):
    """``plan`` with the parameters of its LIF populations ``lifs`` (edited specs, same
    synapse kernels and state rows) lowered again: the state and its layout are kept."""
    params, x_size = _lif_params(lifs, plan.dt, plan.dtype)
    if x_size != plan.init.x.shape[0]:
        raise RuntimeError("the state rows of a LIF population changed between runs")
    return plan._replace(params=params, lif_specs=tuple(p.spec for p in lifs))


def static_projections(net):
    """Projections of the static CSR: neither crossbar nor plastic synapses."""
    return [p for p in net.projections if p.crossbar is None and p.plasticity is None]


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
    """Per-population constants: the fast path's scalars (populations on it) and, for the
    other models, their coefficient tables and the layout of their extra state rows.
    Returns (LIFParams, size of State.x)."""
    fast = [p.spec.fast for p in lifs]
    props = [lif_propagator(p.spec, dt) if f else {} for p, f in zip(lifs, fast)]
    f = lambda key: np.array([pr.get(key, 0.0) for pr in props], dtype=dtype)  # noqa: E731
    g = lambda attr: np.array([getattr(p.spec, attr) if ok else 0.0  # noqa: E731
                               for p, ok in zip(lifs, fast)], dtype=dtype)
    tables, coef_start, coef_h, pos = [], [], [], 0
    x_cur, x_w, x_a, xpos = [], [], [], 0
    for pop, ok in zip(lifs, fast):
        spec = pop.spec
        coef_start.append(pos)
        coef_h.append(int(spec.heterogeneous))
        offs = []
        for rows, on in ((2, spec.kind.aux_rows and not ok), (1, spec.tau_w is not None),
                         (1, spec.tau_a is not None)):
            offs.append(xpos if on else -1)
            xpos += rows * pop.n if on else 0
        x_cur.append(offs[0]), x_w.append(offs[1]), x_a.append(offs[2])
        if not ok:
            t = coefficients(spec, dt)
            tables.append(t)
            pos += t.shape[1]
    i64 = lambda x: np.array(x, dtype=np.int64)  # noqa: E731
    params = LIFParams(
        pop_start=np.cumsum([0] + [p.n for p in lifs]).astype(np.int64),
        e_m=f("e_m"), e_e=f("e_e"), e_i=f("e_i"), c_e=f("c_e"), c_i=f("c_i"),
        v_rest=g("v_rest"), v_th=g("v_th"), v_reset=g("v_reset"),
        ref_steps=np.array([refractory_steps(p.spec.t_ref, dt) if ok else 0
                            for p, ok in zip(lifs, fast)], dtype=np.int64),
        reset_subtract=np.array([p.spec.reset == "subtract" for p in lifs], dtype=np.uint8),
        code=i64([CODE_FAST if ok else p.spec.kind.code for p, ok in zip(lifs, fast)]),
        nest=np.array([p.spec.convention == "nest" for p in lifs], dtype=np.uint8),
        coef=np.ascontiguousarray(np.concatenate(tables, axis=1) if tables else
                                  np.zeros((len(COEF), 0)), dtype=dtype),
        coef_start=i64(coef_start), coef_h=i64(coef_h), x_cur=i64(x_cur), x_w=i64(x_w),
        x_a=i64(x_a), dt=float(dt),
    )
    return params, xpos


def _var_loc(lifs, prm):
    """Where each recordable variable of each LIF population lives: (code, index of its
    neuron 0) with Record codes 0 = v, 1 = i_exc, 2 = i_inh, 3 = State.x, 4 = -i_inh,
    5 = v + i_exc + i_inh (delta synapses, Brian2's convention: inputs added in the
    synapses slot are part of v)."""
    out = {}
    for p, pop in enumerate(lifs):
        s, n = int(prm.pop_start[p]), pop.n
        syn = pop.spec.synapse
        out[pop, "v"] = (5, s) if syn == "delta" and pop.spec.convention == "brian2" else (0, s)
        if syn == "exp":
            out[pop, "I_exc"], out[pop, "I_inh"] = (1, s), (2, s)
        elif syn == "alpha":
            c = int(prm.x_cur[p])
            out[pop, "I_exc"], out[pop, "I_inh"] = (3, c), (3, c + n)
        elif syn == "cond_exp":
            out[pop, "g_exc"], out[pop, "g_inh"] = (1, s), (4, s)
        if prm.x_w[p] >= 0:
            out[pop, "w"] = (3, int(prm.x_w[p]))
        if prm.x_a[p] >= 0:
            out[pop, "a"] = (3, int(prm.x_a[p]))
    return out


#: Most (delay, channel) blocks made from per-synapse delays; beyond, those synapses keep a
#: per-synapse delay in one block per channel (delay -1).
MAX_DELAY_BLOCKS = 128


def _connectivity(projections, start, n_nodes, n_lif, dtype, n_parts=1, lif_range=None):
    """Group synapses into (delay, channel) blocks; one CSR per (partition, block).

    Partition q owns the targets ``part_start[q] .. part_start[q+1]-1`` (equal shares of the
    LIF neurons). Within a row, synapses keep projection order then their original order, in
    every partition, so per-target input order does not depend on the number of partitions.

    Per-synapse delays are split into one block per delay value (up to MAX_DELAY_BLOCKS
    blocks), so delivery reads no per-synapse delay. Streamed, in chunks of each
    projection's synapses (drawn from its seed, or read where stored): pass 1 counts the
    synapses of every (partition, delay, channel, source) row and the weight range of each
    (delay, channel) key; pass 2 draws the same synapses again and writes them straight into
    their rows (a stable counting sort in projection order). Beyond the plan's own arrays
    the working set is one chunk and the per-key row counts.

    ``lif_range``: (lo, hi), the LIF neurons of this MPI rank (:mod:`neurosim.mpi`): only
    the synapses into them are stored, the partitions split that range, and the keys,
    weight ranges, fan-outs and delay range still come from every synapse, so that each
    rank's CSR holds exactly its targets' rows of the one-process CSR.
    """
    lo_hi = (0, n_lif) if lif_range is None else lif_range
    part_start = np.round(np.linspace(*lo_hi, n_parts + 1)).astype(np.int64)
    own = None if tuple(lo_hi) == (0, n_lif) else _own_targets(start, *lo_hi)
    rows_per_slot = n_parts * n_nodes
    # ---- pass 1: count rows per key slot; a slot is (hetero?, channel, delay)
    luts = {kind: np.full((2, MAX_DELAY_STEPS + 1), -1, np.int64) for kind in (0, 1)}
    slots = []                         # [kind, channel, delay or -1, alive]
    counts = np.zeros((4, rows_per_slot), np.int64)
    w_lo, w_hi = np.full(4, np.inf), np.full(4, -np.inf)
    merged = False                     # per-synapse delays kept per synapse (too many keys)

    def add_slot(kind, ch, d):
        nonlocal counts, w_lo, w_hi
        if len(slots) == counts.shape[0]:
            grow = counts.shape[0]
            counts = np.concatenate([counts, np.zeros((grow, rows_per_slot), np.int64)])
            w_lo = np.concatenate([w_lo, np.full(grow, np.inf)])
            w_hi = np.concatenate([w_hi, np.full(grow, -np.inf)])
        slots.append([kind, ch, d, True])
        return len(slots) - 1

    def merge_hetero():
        """Too many (delay, channel) keys: per-synapse delays go to one block per channel."""
        for ch in (0, 1):
            old = [k for k, sl in enumerate(slots) if sl[0] == 1 and sl[1] == ch and sl[3]]
            if not old:
                continue
            k = add_slot(1, ch, -1)
            for o in old:
                counts[k] += counts[o]
                w_lo[k], w_hi[k] = min(w_lo[k], w_lo[o]), max(w_hi[k], w_hi[o])
                slots[o][3] = False
            luts[1][ch, :] = k

    max_delay = 0
    drawn = {}                       # delays drawn in pass 1, kept in the smallest int type
    fans = {p: np.zeros(p.pre.n, np.int64) for p in projections}
    sizes = dict.fromkeys(projections, 0)
    count_chunks = ((p, c) for p in projections
                    for c in p._chunks(weights=p._sign() == 0 or p._w is not None))
    last = None
    for proj, (pre_i, post_i, w, d) in _ahead(count_chunks, n_parts > 1):
        if proj is not last:
            sign, rng, kind, last = (proj._sign(), proj._weight_range(),
                                     int(proj.hetero_delays), proj)
        m = pre_i.shape[0]
        sizes[proj] += m
        if proj._dsteps is None and own is None:   # (a rank draws them again: memory)
            top = int(d.max()) if m else 0
            drawn.setdefault(proj, []).append(
                d.astype(np.uint8 if top < 256 else np.uint16 if top < 65536 else np.int32))
        if m == 0:
            continue
        w_arr, wmode = _weight_mode(w, rng, sign)
        if sign:
            chans = [(0 if sign > 0 else 1, None)]
        else:
            neg = w < 0
            chans = [(c, sel) for c, sel in ((0, ~neg), (1, neg)) if np.any(sel)]
        d_arr = np.zeros(0, np.int32)
        for ch, sel in chans:
            if np.ndim(d) == 0:
                present = [int(d)]
            else:
                present = np.flatnonzero(np.bincount(d if sel is None else d[sel]))
            for dv in present:
                if luts[kind][ch, dv] >= 0:
                    continue
                if merged and kind:
                    luts[1][ch, :] = add_slot(1, ch, -1)
                else:
                    luts[kind][ch, dv] = add_slot(kind, ch, int(dv))
            max_delay = max(max_delay, int(present[-1]))
        if np.ndim(d):
            d_arr = d
        if not merged and len({(sl[1], sl[2]) for sl in slots if sl[3]}) > MAX_DELAY_BLOCKS:
            merged = True
            merge_hetero()
        count_rows(pre_i, post_i, w_arr, wmode, d_arr, int(d) if np.ndim(d) == 0 else 0,
                   sign, start[proj.pre], start[proj.post], part_start, luts[kind],
                   n_nodes, counts, w_lo, w_hi, fans[proj])
    for proj in projections:
        proj._fan, proj._n = fans[proj], sizes[proj]
    # ---- blocks: the live slots' keys, sorted; a block's rows sum its slots'
    live = [k for k, sl in enumerate(slots) if sl[3]]
    keys = sorted({(slots[k][2], slots[k][1]) for k in live})
    index = {key: b for b, key in enumerate(keys)}
    n_blocks = len(keys)
    blk = {kind: np.full((2, max_delay + 1), -1, np.int64) for kind in (0, 1)}
    lo, hi = np.full(n_blocks, np.inf), np.full(n_blocks, -np.inf)
    flat = np.zeros(n_parts * n_blocks * n_nodes + 1, dtype=np.int64)
    rows3 = flat[1:].reshape(n_parts, n_blocks, n_nodes)
    for k in live:
        kind, ch, d, _ = slots[k]
        b = index[(d, ch)]
        if d >= 0:
            blk[kind][ch, d] = b
        else:
            blk[kind][ch, :] = b
        lo[b], hi[b] = min(lo[b], w_lo[k]), max(hi[b], w_hi[k])
        rows3[:, b, :] += counts[k].reshape(n_parts, n_nodes)
    del counts
    np.cumsum(flat, out=flat)
    shared = [_shared_weight(np.array([lo[b], hi[b]]), dtype) for b in range(n_blocks)]
    per_synapse = any(w != w for w in shared)
    n_syn = int(flat[-1])
    target = np.empty(n_syn, dtype=target_dtype(lif_range, n_lif))
    weight = np.empty(n_syn if per_synapse else 0, dtype=dtype)
    block_delay = np.array([k[0] for k in keys], dtype=np.int64)
    any_hetero = bool(np.any(block_delay < 0))
    syn_delay = np.zeros(n_syn if any_hetero else 0, dtype=np.int32)
    # ---- pass 2: the same synapses, into their rows (fill: the row starts, moving)
    fill = ends = flat[:-1]
    place_chunks = ((p, c) for p in projections
                    for c in p._chunks(weights=per_synapse or p._sign() == 0,
                                       drawn_delays=drawn.pop(p, None),
                                       keep=None if own is None else functools.partial(own, p)))
    last = None
    for proj, (pre_i, post_i, w, d) in _ahead(place_chunks, n_parts > 1):
        if proj is not last:
            sign, rng, last = proj._sign(), proj._weight_range(), proj
        w_arr, wmode = _weight_mode(w, rng, sign)
        place_rows(pre_i, post_i, w_arr, wmode,
                   d if np.ndim(d) else np.zeros(0, np.uint8),
                   int(d) if np.ndim(d) == 0 else 0, sign, start[proj.pre],
                   start[proj.post], part_start, blk[int(proj.hetero_delays)],
                   block_delay, n_blocks, n_nodes, fill, target, weight, syn_delay)
    del fill, flat       # fill[r] ends row r now: the start of row r + 1 (no copy kept)
    indptr = np.empty((n_parts, n_blocks, n_nodes + 1), dtype=np.int64)
    indptr[:, :, 1:] = ends.reshape(n_parts, n_blocks, n_nodes)
    if n_blocks:
        first = indptr[:, :, 0].reshape(-1)
        first[0] = 0
        first[1:] = ends[n_nodes - 1:-1:n_nodes]
        indptr[:, :, 0] = first.reshape(n_parts, n_blocks)
    del ends
    conn = Conn(part_start=part_start, indptr=indptr, block_delay=block_delay,
                block_inh=np.array([k[1] for k in keys], dtype=np.uint8),
                block_w=np.array(shared, dtype=dtype),
                target=target, weight=weight, syn_delay=syn_delay,
                target_base=int(part_start[0]))
    return conn, max_delay + 1


def target_dtype(lif_range, n_lif):
    """The type of Conn.target: uint16 on an MPI rank that owns at most 65,536 neurons
    (targets are stored relative to its first one, 2 bytes a synapse instead of 4), else
    int32. One process keeps int32 whatever its size, so its kernels are the ones compiled
    and benchmarked for every network."""
    if lif_range is not None and tuple(lif_range) != (0, n_lif) and \
            lif_range[1] - lif_range[0] <= 1 << 16:
        return np.uint16
    return np.int32


def _own_targets(start, lo, hi):
    """own(proj, post_index) -> mask of the synapses into LIF neurons lo .. hi-1."""
    def own(proj, post_i):
        first = start[proj.post]             # compared in the chunk's int32: no temporary
        return (post_i >= lo - first) & (post_i < hi - first)
    return own


_END = object()


def _ahead(chunks, on):
    """``chunks``, each drawn in a background thread while the previous one is counted or
    placed (when ``on``: the network may use more than one thread). The draws (numpy's
    generators, compiled kernels) run without the GIL, so both overlap; the order and the
    values are those of ``chunks``. Ctrl-C or an error stops the drawing thread."""
    if not on:
        yield from chunks
        return
    import queue
    import threading
    q = queue.Queue(maxsize=1)
    stop = threading.Event()

    def put(item):
        while not stop.is_set():
            try:
                q.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce():
        try:
            for item in chunks:
                if not put(item):
                    return
            put(_END)
        except BaseException as e:  # noqa: BLE001 - handed to the consumer, raised there
            put(e)

    thread = threading.Thread(target=produce, name="neurosim-draw", daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()


def _weight_mode(w, rng, sign):
    """The weights of a chunk for the lowering kernels: (array, mode) with mode 0 per
    synapse, 1 one value (``rng``) for all, 2 drawn but not needed (a varying distribution
    whose channel is known)."""
    if w is not None:
        return np.ascontiguousarray(w, dtype=np.float64), 0
    if rng is not None:
        return np.array([rng[0]]), 1
    return np.zeros(1), 2


def _shared_weight(w, dtype):
    """The weight (in the plan's dtype) shared by every synapse of a block (``w``: the
    block's weights, or their smallest and largest), else nan."""
    w = w.astype(dtype)
    return w[0] if w.size and np.all(w == w[0]) else np.nan


def spike_table(gens, start):
    """(gen_ptr, gen_node) of the spike sources ``gens``: the spikes of step t are nodes
    gen_node[gen_ptr[t]:gen_ptr[t+1]], ascending."""
    steps = [p.spec.steps for p in gens]
    nodes = [p.spec.indices + start[p] for p in gens]
    steps = np.concatenate(steps) if steps else np.zeros(0, np.int64)
    nodes = np.concatenate(nodes) if nodes else np.zeros(0, np.int64)
    order = np.lexsort((nodes, steps))
    steps, nodes = steps[order], nodes[order]
    n_t = int(steps.max()) + 1 if steps.size else 0
    gen_ptr = np.zeros(n_t + 1, dtype=np.int64)
    gen_ptr[1:] = np.cumsum(np.bincount(steps, minlength=n_t))
    return gen_ptr, nodes.astype(np.int32)


def poisson_windows(pois):
    """(pois_win_off, pois_win_lo, pois_win_hi) of the Poisson populations ``pois``: the
    steps lo <= step < hi of each neuron of those with a window (others: offset -1)."""
    off, lo, hi, pos = [], [], [], 0
    for p in pois:
        if p._window is None:
            off.append(-1)
            continue
        off.append(pos)
        lo.append(p._window[0])
        hi.append(p._window[1])
        pos += p.n
    cat = lambda xs: np.concatenate(xs) if xs else np.zeros(0, np.int64)  # noqa: E731
    return np.array(off, np.int64), cat(lo), cat(hi)


def source_arrays(others, start, net):
    """Spike-source and Poisson arrays of the source populations, and Poisson seeds."""
    gen_ptr, gen_node = spike_table([p for p in others if p.kind == "spike_source"], start)
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
    win_off, win_lo, win_hi = poisson_windows(pois)
    src = Sources(
        gen_ptr=gen_ptr, gen_node=gen_node,
        pois_start=np.array([start[p] for p in pois], dtype=np.int64),
        pois_n=np.array([p.n for p in pois], dtype=np.int64),
        pois_log1m_p=np.array(log1m, dtype=np.float64),
        pois_p=np.concatenate(p_step).astype(np.float64) if pois else np.zeros(0),
        pois_p_start=np.cumsum([0] + [p.n for p in pois])[:-1].astype(np.int64),
        pois_win_off=win_off, pois_win_lo=win_lo, pois_win_hi=win_hi,
    )
    return src, seeds


def initial_state(lifs, n_lif, n_nodes, n_slots, sources, pois_seeds, dtype, x_size=0):
    """Fresh state: v = v_init, currents 0, no refractoriness, Poisson streams re-seeded."""
    v = np.concatenate([p.spec.v_init for p in lifs]).astype(dtype) if lifs else np.zeros(0, dtype)
    bias = np.concatenate([p.spec.bias for p in lifs]).astype(dtype) if lifs else np.zeros(0, dtype)
    rng, nxt = poisson_streams(sources, pois_seeds)
    return State(
        v=v, i_exc=np.zeros(n_lif, dtype), i_inh=np.zeros(n_lif, dtype), bias=bias,
        x=np.zeros(x_size, dtype),
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
    for m in state_monitors:
        if getattr(plan, "var_loc", None) is not None:
            code, s = plan.var_loc[m.pop, m.var]
        else:
            code, s = plan.var_codes[m.var], plan.pop_node_start[m.pop]
        c0 = len(codes)
        codes.extend([code] * len(m.indices))
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
