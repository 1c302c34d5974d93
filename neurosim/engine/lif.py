"""The event-driven LIF step loop (float32 or float64, chosen by the arrays passed in).

Model per neuron (SI; currents in volts as in Brian2's CUBA example)::

    dv/dt     = (v_rest - v + I_exc + I_inh + I_bias) / tau_m
    dI_exc/dt = -I_exc / tau_exc,      dI_inh/dt = -I_inh / tau_inh

integrated exactly over one step (the closed-form propagator, as Brian2's method='exact'):

    v'     = v_rest + (I_bias + c_e*I_exc + c_i*I_inh + e_m*v + e_m*(-v_rest - I_bias))
    I_exc' = e_e * I_exc,   I_inh' = e_i * I_inh

(the same grouping of terms as the code Brian2 generates, so both round alike).

Order of operations within step n, as Brian2's default schedule
(start, groups, thresholds, synapses, resets):

1. start: state monitors record the values at the start of the step; the changes of the
   current sources at step n enter the bias (:mod:`neurosim.engine.currents`);
2. groups: integrate every neuron (v only outside its refractory period; the currents
   always); the ring-buffer slot of step n (inputs sent earlier with a delay) is added to
   the currents, which is Brian2's "synapses" slot for those inputs;
3. thresholds: neurons with v > v_th that are not refractory spike; spike sources and
   Poisson sources emit their spikes of step n (a Poisson neuron with a window only at
   steps inside it, drawing at every step so that its stream does not depend on it);
4. synapses: every spike of step n is delivered through the CSR rows of its neuron: delay 0
   straight into the target's current, delay d into ring slot (n + d) mod D; then the
   crossbar projections read the rows of this step's spikes and deliver their net column
   currents the same way, and plastic crossbars apply STDP as device pulses
   (:mod:`neurosim.engine.crossbar`);
5. resets: v = v_reset (or v -= v_th - v_reset), refractory counter set, spikes recorded.

A neuron that spiked at step s is refractory at steps s+1 .. s+R-1 (R = t_ref/dt steps):
it is free at step n when n >= ref_until = s + R. The update of step 2 is branch-free and
updates v of every neuron, so that it vectorises; the v of the refractory neurons (a list of
the neurons that spiked less than R steps ago, a few percent) is set aside before it and
put back after it. The threshold scan follows (it reads ref_until only where v > v_th).

Memory traffic per neuron and step (float64): v, I_exc and I_inh read and written (48
bytes); I_bias is read only in populations whose neurons have different biases. Per synapse: an int32 target, plus a weight only in (delay, channel) blocks whose
synapses do not all share one weight.
"""

from typing import NamedTuple

import numpy as np
from numba import njit, prange

from .._config import INNER_JIT_OPTIONS, JIT_OPTIONS, PARALLEL_JIT_OPTIONS, STEP_JIT_OPTIONS
from .crossbar import deliver_crossbars, stdp_crossbars
from .exchange import exchange_block, exchange_spikes
from .currents import apply_currents, unshare_bias
from .neurons import CODE_DELTA, CODE_FAST, generic_block, reset_one, threshold_block
from .plastic import plastic_step
from .poisson import deliver_drives
from .rng import step_geometric as geometric, step_uniform as uniform

__all__ = ["LIFParams", "State", "Conn", "Sources", "Record", "advance", "advance_parallel",
           "HOLD_MAX_NEURONS"]

#: Up to this many LIF neurons the update keeps a list of the refractory ones and reads no
#: ref_until; larger networks run the kernel variant that blends by ref_until (the list's
#: reads become random memory accesses). Same values either way. CUBA, same load: the list
#: is 1.35x faster at 4k and about 1.05x at 256k, the blend 1.2x faster at 1M.
HOLD_MAX_NEURONS = 1 << 19


class LIFParams(NamedTuple):
    """Per-population constants of the LIF populations (index p)."""
    pop_start: np.ndarray      # int64[P+1]: neuron ranges in the LIF index space
    e_m: np.ndarray            # float[P]: exp(-dt/tau_m)
    e_e: np.ndarray            # float[P]: exp(-dt/tau_exc)
    e_i: np.ndarray            # float[P]: exp(-dt/tau_inh)
    c_e: np.ndarray            # float[P]: weight of I_exc in the v propagator
    c_i: np.ndarray            # float[P]: weight of I_inh in the v propagator
    v_rest: np.ndarray         # float[P]
    v_th: np.ndarray           # float[P]
    v_reset: np.ndarray        # float[P]
    ref_steps: np.ndarray      # int64[P]
    reset_subtract: np.ndarray  # uint8[P]: 1 = v -= v_th - v_reset, 0 = v = v_reset
    code: np.ndarray           # int64[P]: model kernel (engine.neurons; 0 = this module's)
    nest: np.ndarray           # uint8[P]: 1 = NEST's convention (models.lif)
    coef: np.ndarray           # float[len(COEF), .]: coefficient tables, population p's ...
    coef_start: np.ndarray     # int64[P]: ... from this column,
    coef_h: np.ndarray         # int64[P]: 1 = one column per neuron, 0 = one column
    x_cur: np.ndarray          # int64[P]: offset in State.x of the alpha currents (-1: none)
    x_w: np.ndarray            # int64[P]: ... of the adaptation current w (-1: none)
    x_a: np.ndarray            # int64[P]: ... of the threshold offset a (-1: none)
    dt: float


class State(NamedTuple):
    """Everything that changes during a run (mutated in place)."""
    v: np.ndarray              # float[n_lif]
    i_exc: np.ndarray          # float[n_lif]
    i_inh: np.ndarray          # float[n_lif]
    bias: np.ndarray           # float[n_lif] (I_bias, volts)
    x: np.ndarray              # float[.]: state rows of the other models (LIFParams.x_*)
    ref_until: np.ndarray      # int64[n_lif]: first step at which the neuron is free again
    spike_count: np.ndarray    # int64[n_nodes]
    ring_exc: np.ndarray       # float[D, n_lif]
    ring_inh: np.ndarray       # float[D, n_lif]
    ring_used: np.ndarray      # uint8[D]: 1 when slot d holds inputs (else its read is skipped)
    pois_rng: np.ndarray       # uint64[K]: one random stream per Poisson population
    pois_next: np.ndarray      # int64[K]: next Bernoulli trial that succeeds (step*n + i)
    fired: np.ndarray          # int32[n_nodes]: scratch list of this step's spikes
    sink: np.ndarray           # int64[1]: where prefetching reads leave their result


class Conn(NamedTuple):
    """CSR connectivity by presynaptic node, one block per (delay, channel) and partition.

    Partition q holds only the synapses into LIF neurons part_start[q] .. part_start[q+1]-1,
    so threads that own partitions never write to the same target.
    """
    part_start: np.ndarray     # int64[Q+1]: target ranges of the partitions (LIF index)
    indptr: np.ndarray         # int64[Q, B, n_nodes+1]
    block_delay: np.ndarray    # int64[B]: delay in steps, -1 = per-synapse delays
    block_inh: np.ndarray      # uint8[B]: 1 = into I_inh, 0 = into I_exc
    block_w: np.ndarray        # float[B]: the weight every synapse of block b has, nan if
                               # they differ (then ``weight`` holds them)
    target: np.ndarray         # int32[S], or uint16[S] on an MPI rank that owns at most
                               # 65,536 neurons: LIF index of the target - target_base
    weight: np.ndarray         # float[S], or empty when every block has a shared weight
    syn_delay: np.ndarray      # int32[S] (empty when no block has per-synapse delays)
    target_base: int = 0       # first LIF neuron of this process (0 in one process)


class Sources(NamedTuple):
    """Spike sources (given times) and Poisson sources."""
    gen_ptr: np.ndarray        # int64[T+1]: spike-source events of step t in gen_node[ptr[t]:ptr[t+1]]
    gen_node: np.ndarray       # int32[E]
    pois_start: np.ndarray     # int64[K]: first node of Poisson population k
    pois_n: np.ndarray         # int64[K]
    pois_log1m_p: np.ndarray   # float64[K]: log(1-p) of a homogeneous population, nan if per-neuron
    pois_p: np.ndarray         # float64[sum n]: per-neuron p (used when pois_log1m_p is nan)
    pois_p_start: np.ndarray   # int64[K]: offset of population k in pois_p
    pois_win_off: np.ndarray   # int64[K]: offset of population k in pois_win_*, -1: always on
    pois_win_lo: np.ndarray    # int64[.]: a neuron spikes only at steps lo <= step < hi
    pois_win_hi: np.ndarray    # int64[.]  (its draws are made at every step all the same)


class Record(NamedTuple):
    """What the monitors record."""
    spike_mask: np.ndarray     # uint8[n_nodes]: 1 = record this node's spikes
    var_code: np.ndarray       # int64[R]: 0 = v, 1 = I_exc, 2 = I_inh
    var_index: np.ndarray      # int64[R]: LIF index of each recorded column
    pop_bounds: np.ndarray     # int64[P+1]: node ranges of all populations, in node order
    pop_last: np.ndarray       # int64[P]: last step in which population p spiked (-1: never)
    pop_active: np.ndarray     # int64[P]: steps in which population p spiked at least once
    bin_steps: np.ndarray      # int64[1]: steps per count bin (0: no binned counts)
    bin_base: np.ndarray       # int64[1]: global index of the first bin in the buffers
    bin_spikes: np.ndarray     # int64[NB, P]: spikes per bin and population
    bin_active: np.ndarray     # int64[NB, P]: active steps per bin and population
    bin_events: np.ndarray     # int64[NB, J]: synaptic events per bin and projection
    out_ptr: np.ndarray        # int64[P+1]: projections leaving population p ...
    out_proj: np.ndarray       # int64[.]: ... are out_proj[out_ptr[p]:out_ptr[p+1]]
    fan_ptr: np.ndarray        # int64[J]: projection j's fan-out of pre neuron i is
    fan: np.ndarray            # int64[.]: fan[fan_ptr[j] + i]


@njit(**STEP_JIT_OPTIONS)
def count_spike(rec, node, step):
    """Counters of a spike of ``node`` at ``step``: active steps of its population (once per
    step) and, with bins, spikes, active steps and synaptic events of the step's bin. A
    record without ``pop_bounds`` counts nothing (the counting-overhead benchmark)."""
    n_pops = rec.pop_bounds.shape[0] - 1
    if n_pops < 1:
        return
    lo = 0
    hi = n_pops
    while hi - lo > 1:             # last population starting at or before node
        mid = (lo + hi) >> 1
        if rec.pop_bounds[mid] <= node:
            lo = mid
        else:
            hi = mid
    new = rec.pop_last[lo] != step
    if new:
        rec.pop_last[lo] = step
        rec.pop_active[lo] += 1
    b = rec.bin_steps[0]
    if b > 0:
        k = step // b - rec.bin_base[0]
        rec.bin_spikes[k, lo] += 1
        if new:
            rec.bin_active[k, lo] += 1
        local = node - rec.pop_bounds[lo]
        for i in range(rec.out_ptr[lo], rec.out_ptr[lo + 1]):
            j = rec.out_proj[i]
            rec.bin_events[k, j] += rec.fan[rec.fan_ptr[j] + local]


@njit(**STEP_JIT_OPTIONS)
def _record_state(st, rec, row, out, step):
    for r in range(rec.var_code.shape[0]):
        code = rec.var_code[r]
        idx = rec.var_index[r]
        if code == 0:
            out[row, r] = st.v[idx]
        elif code == 1:
            out[row, r] = st.i_exc[idx]
        elif code == 2:
            out[row, r] = st.i_inh[idx]
        elif code == 3:
            out[row, r] = st.x[idx]
        elif code == 4:             # an inhibitory conductance (kept negative)
            out[row, r] = -st.i_inh[idx]
        else:                       # v of delta synapses: with the inputs of the last
            keep = 1.0 if step - 1 >= st.ref_until[idx] else 0.0    # synapses slot
            out[row, r] = st.v[idx] + (st.i_exc[idx] + st.i_inh[idx]) * keep


_BLOCK = 512  # neurons per block of the update (their state stays in L1 for the scan)


@njit(**STEP_JIT_OPTIONS)
def _neuron(v, ie, ii, n, b, e_m, e_e, e_i, c_e, c_i, v_rest, v_th):
    """One neuron's update (exact propagator); returns whether v > v_th afterwards. Also
    applied to refractory neurons, whose v is put back afterwards (:func:`_hold`): keeping it
    here took a blend or a masked store (microcoded on AMD) and a read of ref_until, a third
    of the update's time."""
    x_e = ie[n]
    x_i = ii[n]
    vn = v_rest + ((((b + c_e * x_e) + c_i * x_i) + e_m * v[n]) + e_m * (-v_rest - b))
    v[n] = vn
    ie[n] = e_e * x_e
    ii[n] = e_i * x_i
    return vn > v_th


@njit(**STEP_JIT_OPTIONS)
def _neuron_blend(v, ie, ii, n, b, until, step, e_m, e_e, e_i, c_e, c_i, v_rest, v_th):
    """As :func:`_neuron`, keeping v while refractory by an exact blend with 1.0 and 0.0
    (x*1 + y*0 == x; a select would become a masked store, microcoded on AMD). It reads
    ref_until (8 bytes a neuron) instead of using the list of refractory neurons, which is
    cheaper once the state no longer fits in the caches (the list's reads are random)."""
    x_e = ie[n]
    x_i = ii[n]
    vo = v[n]
    vn = v_rest + ((((b + c_e * x_e) + c_i * x_i) + e_m * vo) + e_m * (-v_rest - b))
    f = 1.0 if step >= until[n] else 0.0
    vn = vn * f + vo * (1.0 - f)
    v[n] = vn
    ie[n] = e_e * x_e
    ii[n] = e_i * x_i
    return vn > v_th


@njit(**STEP_JIT_OPTIONS)
def _update(v, ie, ii, bias, e_m, e_e, e_i, c_e, c_i, v_rest, v_th, ring_e, ring_i,
            use_ring, b0, until, step):
    """Groups slot for one block of neurons, branch-free so that LLVM vectorises it.

    Arguments are views (loops start at 0: Numba then proves indices non-negative and drops
    its wraparound checks, which would block vectorisation). ``b0``: the bias shared by
    every neuron of the block (then the ``bias`` array is not read: one stream fewer from
    memory), or nan. Returns how many neurons have v > v_th afterwards (an integer
    reduction, also vectorised), so that the threshold scan runs only on blocks that may
    hold a spike.
    """
    above = 0
    if until is not None:       # the large-network variant (pruned from the other one)
        if b0 == b0:
            for n in range(v.shape[0]):
                above += _neuron_blend(v, ie, ii, n, b0, until, step, e_m, e_e, e_i, c_e,
                                       c_i, v_rest, v_th)
        else:
            for n in range(v.shape[0]):
                above += _neuron_blend(v, ie, ii, n, bias[n], until, step, e_m, e_e, e_i,
                                       c_e, c_i, v_rest, v_th)
    elif b0 == b0:
        for n in range(v.shape[0]):
            above += _neuron(v, ie, ii, n, b0, e_m, e_e, e_i, c_e, c_i, v_rest, v_th)
    else:
        for n in range(v.shape[0]):
            above += _neuron(v, ie, ii, n, bias[n], e_m, e_e, e_i, c_e, c_i, v_rest, v_th)
    if use_ring:  # inputs that were sent with a delay arrive now (the block is still in L1)
        for n in range(v.shape[0]):
            ie[n] += ring_e[n]
            ii[n] += ring_i[n]
            ring_e[n] = 0.0
            ring_i[n] = 0.0
    return above


@njit(**STEP_JIT_OPTIONS)
def _threshold(v, until, offset, step, v_th, fired, nf):
    """Thresholds slot: non-refractory neurons with v > v_th (rarely true: cheap scan)."""
    for n in range(v.shape[0]):
        if v[n] > v_th:
            if step >= until[n]:
                fired[nf] = offset + n
                nf += 1
    return nf


@njit(**INNER_JIT_OPTIONS)
def _held(prm, st, step0):
    """The list of refractory neurons for a call of the step loop, (index, v, count): the
    neurons of fast-path populations with ref_until > step0 (rebuilt per call, since users
    may edit the state between runs), and room for every neuron (each one is in it at most
    once). The other models blend by ref_until themselves."""
    idx = np.empty(st.v.shape[0], np.int64)
    m = 0
    for p in range(prm.pop_start.shape[0] - 1):
        if prm.code[p] != CODE_FAST:
            continue
        for n in range(prm.pop_start[p], prm.pop_start[p + 1]):
            if st.ref_until[n] > step0:
                idx[m] = n
                m += 1
    return idx, np.empty(st.v.shape[0], st.v.dtype), m


@njit(**STEP_JIT_OPTIONS)
def _row(off, o, k):
    """Bounds of x[off + o : off + o + k] in State.x, or of an empty slice when the row is
    absent (off < 0)."""
    if off < 0:
        return 0, 0
    return off + o, off + o + k


@njit(**STEP_JIT_OPTIONS)
def _integrate_generic(prm, st, p, s, e, step, slot, use_ring, fired, nf):
    """Groups + thresholds of neurons s..e-1 of population p (a model of engine.neurons)."""
    base = prm.pop_start[p]
    npop = prm.pop_start[p + 1] - base
    o = s - base
    k = e - s
    h = prm.coef_h[p]
    jo = prm.coef_start[p] + o * h
    nest = prm.nest[p] != 0
    xc = prm.x_cur[p]
    c0, c1 = _row(xc, o, k)
    i0, i1 = _row(xc + npop if xc >= 0 else xc, o, k)
    a0, a1 = _row(prm.x_a[p], o, k)
    w0, w1 = _row(prm.x_w[p], o, k)
    a = st.x[a0:a1]
    v = st.v[s:e]
    until = st.ref_until[s:e]
    generic_block(prm.code[p], nest, v, st.i_exc[s:e], st.i_inh[s:e], st.x[c0:c1],
                  st.x[i0:i1], st.x[w0:w1], a, st.bias[s:e], until, step, prm.coef, jo, h,
                  st.ring_exc[slot, s:e], st.ring_inh[slot, s:e], use_ring, prm.dt)
    return threshold_block(v, until, a, s, step, prm.coef, jo, h, nest, fired, nf)


@njit(**STEP_JIT_OPTIONS)
def _hold(st, step, idx, held, m):
    """Keeps in the list the neurons refractory at ``step`` (ref_until > step) and sets their
    v aside; returns their number."""
    k = 0
    for j in range(m):
        n = idx[j]
        if st.ref_until[n] > step:
            idx[k] = n
            held[k] = st.v[n]
            k += 1
    return k


@njit(**STEP_JIT_OPTIONS)
def _put_back(st, idx, held, m):
    """v of the refractory neurons as it was before the update."""
    for j in range(m):
        st.v[idx[j]] = held[j]


@njit(**INNER_JIT_OPTIONS)
def _shared_bias(prm, st):
    """Per population: its bias when every neuron has the same one, else nan (checked per
    call of the step loop, since users may set the bias between runs)."""
    n_pops = prm.pop_start.shape[0] - 1
    out = np.empty(n_pops, st.bias.dtype)
    for p in range(n_pops):
        lo = prm.pop_start[p]
        hi = prm.pop_start[p + 1]
        out[p] = st.bias[lo] if hi > lo else 0.0
        for n in range(lo, hi):
            if st.bias[n] != out[p]:
                out[p] = np.nan
                break
    return out


@njit(**STEP_JIT_OPTIONS)
def _integrate(prm, st, step, slot, use_ring, fired, a, b, b0, ut, gm):
    """Groups + thresholds for LIF neurons a..b-1 (every population they overlap).

    ``use_ring``: ring slot ``slot`` holds inputs (added to the currents and cleared).
    ``b0``: :func:`_shared_bias`.

    Spikes are written to ``fired[a:]`` in ascending order; returns their number.
    """
    nf = a
    for p in range(prm.pop_start.shape[0] - 1):
        lo = max(a, prm.pop_start[p])
        hi = min(b, prm.pop_start[p + 1])
        if lo >= hi:
            continue
        if gm is not None and prm.code[p] != CODE_FAST:
            for s in range(lo, hi, _BLOCK):
                nf = _integrate_generic(prm, st, p, s, min(s + _BLOCK, hi), step, slot,
                                        use_ring, fired, nf)
            continue
        for s in range(lo, hi, _BLOCK):
            e = min(s + _BLOCK, hi)
            v = st.v[s:e]
            if ut is None:
                above = _update(v, st.i_exc[s:e], st.i_inh[s:e], st.bias[s:e], prm.e_m[p],
                                prm.e_e[p], prm.e_i[p], prm.c_e[p], prm.c_i[p],
                                prm.v_rest[p], prm.v_th[p], st.ring_exc[slot, s:e],
                                st.ring_inh[slot, s:e], use_ring, b0[p], None, step)
            else:
                above = _update(v, st.i_exc[s:e], st.i_inh[s:e], st.bias[s:e], prm.e_m[p],
                                prm.e_e[p], prm.e_i[p], prm.c_e[p], prm.c_i[p],
                                prm.v_rest[p], prm.v_th[p], st.ring_exc[slot, s:e],
                                st.ring_inh[slot, s:e], use_ring, b0[p], ut[s:e], step)
            if above:
                nf = _threshold(v, st.ref_until[s:e], s, step, prm.v_th[p], fired, nf)
    return nf - a


@njit(**STEP_JIT_OPTIONS)
def _emit_sources(src, st, step, fired, nf):
    """Spikes of spike sources and Poisson sources at ``step``, appended to ``fired``."""
    if step + 1 < src.gen_ptr.shape[0]:
        for e in range(src.gen_ptr[step], src.gen_ptr[step + 1]):
            fired[nf] = src.gen_node[e]
            nf += 1
    for k in range(src.pois_start.shape[0]):
        n = src.pois_n[k]
        start = src.pois_start[k]
        lp = src.pois_log1m_p[k]
        wo = src.pois_win_off[k]
        if lp == lp:  # homogeneous rate: geometric skips over the trial sequence
            end = (step + 1) * n
            pos = st.pois_next[k]
            while pos < end:
                i = pos - step * n
                if wo < 0 or _in_window(src, wo + i, step):
                    fired[nf] = start + i
                    nf += 1
                pos += 1 + geometric(st.pois_rng, k, lp)
            st.pois_next[k] = pos
        else:
            off = src.pois_p_start[k]
            for i in range(n):
                if uniform(st.pois_rng, k) <= src.pois_p[off + i]:
                    if wo < 0 or _in_window(src, wo + i, step):
                        fired[nf] = start + i
                        nf += 1
    return nf


@njit(**STEP_JIT_OPTIONS)
def _in_window(src, j, step):
    """Whether Poisson neuron j (of the window arrays) may spike at ``step``."""
    return src.pois_win_lo[j] <= step and step < src.pois_win_hi[j]


@njit(**STEP_JIT_OPTIONS)
def _scatter(dest, target, weight):
    """dest[target[k]] += weight[k] (row views; unsigned indices skip wraparound checks)."""
    for k in range(target.shape[0]):
        dest[np.uint32(target[k])] += weight[k]


@njit(**STEP_JIT_OPTIONS)
def _scatter_shared(dest, target, w):
    """dest[target[k]] += w (a block whose synapses share one weight: no weight reads)."""
    for k in range(target.shape[0]):
        dest[np.uint32(target[k])] += w


@njit(**STEP_JIT_OPTIONS)
def _scatter_block(conn, b, dest, lo, hi):
    """Synapses lo..hi-1 of block b into ``dest``."""
    w0 = conn.block_w[b]
    if w0 == w0:
        _scatter_shared(dest, conn.target[lo:hi], w0)
    else:
        _scatter(dest, conn.target[lo:hi], conn.weight[lo:hi])


@njit(**STEP_JIT_OPTIONS)
def _syn_weight(conn, b, s):
    """Weight of synapse s of block b."""
    w0 = conn.block_w[b]
    return w0 if w0 == w0 else conn.weight[s]


_GATHER = 256  # spikes whose row bounds are gathered at once (scratch: 2 x 256 x blocks)


@njit(**STEP_JIT_OPTIONS)
def _row_bounds(indptr, target, fired, f0, f1, bounds, sink):
    """(start, end) of the CSR row of spikes f0..f1-1 and every block, gathered before any
    delivery, and the first target of each row read: these loads do not depend on one
    another, so their cache and TLB misses overlap, where the delivery loop would meet them
    one row at a time (at large N a row costs two misses in series: its bounds, then its
    targets)."""
    n_blocks = indptr.shape[0]
    r = 0
    for f in range(f0, f1):
        pre = fired[f]
        for b in range(n_blocks):
            bounds[0, r] = indptr[b, pre]
            bounds[1, r] = indptr[b, pre + 1]
            r += 1
    seen = 0
    for j in range(r):
        if bounds[1, j] > bounds[0, j]:
            seen += target[bounds[0, j]]
    sink[0] = seen


@njit(**INNER_JIT_OPTIONS)
def _row_scratch(conn):
    """The scratch of :func:`_deliver` for each partition (made once per call of the loop)."""
    return np.empty((conn.indptr.shape[0], 2, _GATHER * conn.indptr.shape[1]), np.int64)


@njit(**STEP_JIT_OPTIONS)
def _deliver(conn, q, st, step, n_slots, fired, nf, bounds):
    """Synapses slot for partition q: every spike of this step through its CSR rows
    (``bounds``: partition q's scratch, int64[2, _GATHER * blocks])."""
    n_blocks = conn.block_delay.shape[0]
    base = conn.target_base           # targets are stored relative to it (an MPI rank's)
    for f0 in range(0, nf, _GATHER):
        f1 = min(f0 + _GATHER, nf)
        _row_bounds(conn.indptr[q], conn.target, fired, f0, f1, bounds, st.sink)
        r = 0
        for f in range(f0, f1):
            for b in range(n_blocks):
                lo = bounds[0, r]
                hi = bounds[1, r]
                r += 1
                if lo == hi:
                    continue
                d = conn.block_delay[b]
                inh = conn.block_inh[b] != 0
                if d == 0:
                    _scatter_block(conn, b, (st.i_inh if inh else st.i_exc)[base:], lo, hi)
                elif d > 0:
                    ring = st.ring_inh if inh else st.ring_exc
                    st.ring_used[(step + d) % n_slots] = 1
                    _scatter_block(conn, b, ring[(step + d) % n_slots][base:], lo, hi)
                else:
                    for s in range(lo, hi):
                        ds = conn.syn_delay[s]
                        if ds == 0:
                            dest = (st.i_inh if inh else st.i_exc)[base:]
                        else:
                            st.ring_used[(step + ds) % n_slots] = 1
                            dest = (st.ring_inh if inh
                                    else st.ring_exc)[(step + ds) % n_slots][base:]
                        dest[np.uint32(conn.target[s])] += _syn_weight(conn, b, s)


@njit(**STEP_JIT_OPTIONS)
def _reset_and_record(prm, st, rec, step, fired, nf, n_lif, spk_step, spk_node, n_spk, idx,
                      m, gm):
    """Resets and recording of this step's spikes; a neuron that will be refractory at the
    next step joins the list ``idx`` (of ``m``). Returns (spikes recorded, m)."""
    m = _reset_spikes(prm, st, step, fired, 0, nf, n_lif, idx, m, gm)
    return _record_spikes(st, rec, step, fired, nf, spk_step, spk_node, n_spk), m


@njit(**STEP_JIT_OPTIONS)
def _reset_spikes(prm, st, step, fired, f0, f1, n_lif, idx, m, gm):
    """Resets of the LIF neurons among ``fired[f0:f1]`` (ascending) at ``step``; a neuron
    that will be refractory at the next step joins the list ``idx`` (of ``m``). Returns m."""
    p = 0
    for f in range(f0, f1):
        node = fired[f]
        if node >= n_lif:
            continue
        while node >= prm.pop_start[p + 1]:  # LIF spikes come in ascending order
            p += 1
        if gm is not None and prm.code[p] != CODE_FAST:
            base = prm.pop_start[p]
            npop = prm.pop_start[p + 1] - base
            w0, w1 = _row(prm.x_w[p], 0, npop)
            a0, a1 = _row(prm.x_a[p], 0, npop)
            reset_one(st.v, st.ref_until, st.x[w0:w1], st.x[a0:a1], node, node - base,
                      step, prm.coef, prm.coef_start[p], prm.coef_h[p],
                      prm.reset_subtract[p] != 0)
            if prm.code[p] == CODE_DELTA and not prm.nest[p]:
                st.i_exc[node] = 0.0     # Brian2: inputs of a neuron's spike step are
                st.i_inh[node] = 0.0     # lost (not_refractory is False from then)
        else:
            if prm.reset_subtract[p]:
                st.v[node] -= prm.v_th[p] - prm.v_reset[p]
            else:
                st.v[node] = prm.v_reset[p]
            st.ref_until[node] = step + prm.ref_steps[p]
            if prm.ref_steps[p] > 1 and m >= 0:     # m < 0: no list (large networks)
                idx[m] = node
                m += 1
    return m


@njit(**STEP_JIT_OPTIONS)
def _record_spikes(st, rec, step, fired, nf, spk_step, spk_node, n_spk):
    """Spike counts, counters and the spike monitors' records of ``fired[:nf]`` at
    ``step``. Returns the number of spikes recorded."""
    for f in range(nf):
        node = fired[f]
        st.spike_count[node] += 1
        count_spike(rec, node, step)
        if rec.spike_mask[node]:
            spk_step[n_spk] = step
            spk_node[n_spk] = node
            n_spk += 1
    return n_spk


@njit(**STEP_JIT_OPTIONS)
def _compact(fired, part_start, counts):
    """Move each partition's spikes (at fired[part_start[q]:]) together, in order."""
    nf = 0
    for q in range(counts.shape[0]):
        src = part_start[q]
        for j in range(counts[q]):
            fired[nf + j] = fired[src + j]     # nf <= src: forward copy is safe
        nf += counts[q]
    return nf


@njit(**STEP_JIT_OPTIONS)
def _open_step(st, rec, k, step, rec_buf):
    """Start slot: record the state; return the ring slot of this step and whether it holds
    inputs."""
    _record_state(st, rec, k, rec_buf, step)
    slot = step % st.ring_exc.shape[0]
    return slot, st.ring_used[slot] != 0


@njit(**INNER_JIT_OPTIONS)
def _prologue(prm, st, conn, cc, cs, ut, step0, n_steps):
    """What a step loop sets up once per call: the shared bias (current sources' share
    taken out), the delivery scratch, the list of held refractory neurons and its length
    (-1: the large-network variant keeps no list, the update reads ref_until)."""
    b0 = _shared_bias(prm, st)
    if cc is not None:
        unshare_bias(cc, cs, b0, step0, n_steps)
    bounds = _row_scratch(conn)
    idx, held, m = _held(prm, st, step0)
    if ut is not None:
        m = np.int64(-1)
    return b0, bounds, idx, held, m


@njit(**STEP_JIT_OPTIONS)
def _update_own(prm, st, rec, k, step, rec_buf, cc, cs, lo, hi, b0, ut, gm, idx, held, m):
    """Start of a step (state recorded, current sources) and the update of LIF neurons
    lo..hi-1 with their thresholds, refractory neurons held. Returns (the step's ring slot,
    spikes at ``st.fired[lo:]``, m)."""
    slot, use_ring = _open_step(st, rec, k, step, rec_buf)
    if cc is not None:
        apply_currents(cc, cs, st.bias, step)
    if ut is None:
        m = _hold(st, step, idx, held, m)
    nf = _integrate(prm, st, step, slot, use_ring, st.fired, lo, hi, b0, ut, gm)
    if ut is None:
        _put_back(st, idx, held, m)
    return slot, nf, m


@njit(**STEP_JIT_OPTIONS)
def _after_integrate(src, st, step, slot, fired, nf):
    """The ring slot was consumed by the update; sources add their spikes of this step."""
    st.ring_used[slot] = 0
    return _emit_sources(src, st, step, fired, nf)


@njit(**INNER_JIT_OPTIONS)
def _crossbar_flags(xc):
    """(has crossbars, one of them learns), read once per call of the step loop."""
    has = xc.pre_lo.shape[0] > 0
    return has, has and xc.plastic.max() > 0


@njit(**INNER_JIT_OPTIONS)
def _crossbars(xc, xs, st, step, n_slots, fired, nf, n_lif, plastic):
    """Synapses slot of the crossbar projections (one thread: they write every target),
    then their plasticity (only called when a crossbar learns: the call alone is costly)."""
    deliver_crossbars(xc, xs, st, step, n_slots, fired, nf)
    if plastic:
        stdp_crossbars(xc, xs, fired, nf, n_lif)


@njit(**JIT_OPTIONS)
def advance(prm, st, conn, src, rec, xc, xs, dv, ds, pc, ps, ut, gm, cc, cs, ex, step0,
            n_steps, max_rec_per_step, spk_step, spk_node, rec_buf):
    """Run steps ``step0 .. step0+n_steps-1`` on one thread.

    Spikes of recorded nodes go to ``spk_step``/``spk_node``; state samples to
    ``rec_buf[k]`` for the k-th step. Stops early when the spike buffer could overflow in the
    next step. Returns ``(steps_done, spikes_written)``.

    ``xc``/``xs``: the crossbar projections (:mod:`.crossbar`), or None for a network
    without them. None selects a kernel variant at compile time: Numba prunes the branches
    ``xc is not None`` of a NoneType argument before typing, so the crossbar code (most of
    the compile time) is compiled only into the variant that receives crossbars.
    ``dv``/``ds``: the Poisson drives (:mod:`.poisson`), or None likewise; their input
    spikes are delivered after the crossbars.
    ``pc``/``ps``: the plastic projections (:mod:`.plastic`), or None likewise; their
    stage runs last in the synapses slot. ``gm``: anything but None when some population
    runs a model of :mod:`.neurons` (off the fast path); None compiles a variant without
    that code (the plain CUBA loop as before the models existed). ``cc``/``cs``: the
    current sources (:mod:`.currents`), or None likewise; their changes of a step enter
    the bias at the start of the step, before the update. ``ex``: anything but None when
    this process is one of several MPI ranks (:mod:`.exchange`): it integrates only its
    own neurons, ``conn.part_start[0] .. conn.part_start[-1] - 1``, and swaps spikes with
    the other ranks before the synapses slot; None compiles the one-process loop. Under
    MPI, ``ex[0] > 1`` runs :func:`_advance_intervals` (spikes swapped once per interval of
    that many steps).
    """
    if ex is not None:
        if ex[0] > 1:         # exchange once per interval of ex[0] steps
            return _advance_intervals(prm, st, conn, src, rec, dv, ds, ut, gm, cc, cs, ex[0],
                                      step0, n_steps, max_rec_per_step, spk_step, spk_node,
                                      rec_buf)
    n_slots = st.ring_exc.shape[0]
    n_lif = st.v.shape[0]
    lo = conn.part_start[0]
    hi = conn.part_start[-1]
    has_xbar = plastic = False
    if xc is not None:
        has_xbar, plastic = _crossbar_flags(xc)
    b0, bounds, idx, held, m = _prologue(prm, st, conn, cc, cs, ut, step0, n_steps)
    n_spk = np.int64(0)  # not 0: a literal makes Numba compile the callees twice
    for k in range(n_steps):
        if spk_step.shape[0] - n_spk < max_rec_per_step:
            return k, n_spk
        step = step0 + k
        # (not _update_own: the call costs the per-step loop a few %, measured on CUBA)
        slot, use_ring = _open_step(st, rec, k, step, rec_buf)
        if cc is not None:
            apply_currents(cc, cs, st.bias, step)
        if ut is None:
            m = _hold(st, step, idx, held, m)
        nf = _integrate(prm, st, step, slot, use_ring, st.fired, lo, hi, b0, ut, gm)
        if ut is None:
            _put_back(st, idx, held, m)
        if ex is not None:
            nf = exchange_spikes(st.fired, lo, nf)
        nf = _after_integrate(src, st, step, slot, st.fired, nf)
        for q in range(conn.indptr.shape[0]):
            _deliver(conn, q, st, step, n_slots, st.fired, nf, bounds[q])
        if xc is not None and has_xbar:
            _crossbars(xc, xs, st, step, n_slots, st.fired, nf, n_lif, plastic)
        if dv is not None:
            deliver_drives(dv, ds, np.int64(0), lo, hi, st.i_exc, st.i_inh,
                           st.ring_exc, st.ring_inh, st.ring_used, step)
        if pc is not None:
            plastic_step(pc, ps, st, st.fired, nf, step, prm.dt, n_slots)
        n_spk, m = _reset_and_record(prm, st, rec, step, st.fired, nf, n_lif, spk_step,
                                     spk_node, n_spk, idx, m, gm)
    return n_steps, n_spk


@njit(**INNER_JIT_OPTIONS)
def _advance_intervals(prm, st, conn, src, rec, dv, ds, ut, gm, cc, cs, interval, step0,
                       n_steps, max_rec_per_step, spk_step, spk_node, rec_buf):
    """:func:`advance` of one MPI rank that swaps spikes once per ``interval`` steps.

    For a network whose every synaptic and drive delay is at least ``interval`` steps (and
    that has no crossbar or plastic projection): a spike of step t reaches no neuron before
    step t + interval, so the rank integrates ``interval`` steps of its own neurons (resets
    included) keeping their spikes, swaps them with one collective, and then, step by step
    in order, emits the sources' spikes and delivers each step's whole fired list and its
    drives' inputs, exactly as the one-process loop does at that step: every ring slot
    receives the same inputs in the same order, so results are bitwise the same. The last
    interval of a call may be shorter (nothing is pending between calls).
    """
    n_slots = st.ring_exc.shape[0]
    n_lif = st.v.shape[0]
    lo = conn.part_start[0]
    hi = conn.part_start[-1]
    b0, bounds, idx, held, m = _prologue(prm, st, conn, cc, cs, ut, step0, n_steps)
    own = np.empty(max(hi - lo, 16), st.fired.dtype)     # this rank's spikes of an interval
    cnt = np.zeros(interval, np.int64)
    n_spk = np.int64(0)
    k = np.int64(0)
    while k < n_steps:
        nb = min(interval, n_steps - k)
        if spk_step.shape[0] - n_spk < nb * max_rec_per_step:
            return k, n_spk
        n_own = 0
        for j in range(nb):
            step = step0 + k + j
            slot, nf, m = _update_own(prm, st, rec, k + j, step, rec_buf, cc, cs, lo, hi, b0,
                                      ut, gm, idx, held, m)
            st.ring_used[slot] = 0
            m = _reset_spikes(prm, st, step, st.fired, lo, lo + nf, n_lif, idx, m, gm)
            own = _keep_own(own, n_own, st.fired, lo, nf)
            n_own += nf
            cnt[j] = nf
        every, ptr = exchange_block(own[:n_own], cnt[:nb])
        for j in range(nb):
            step = step0 + k + j
            nf = _step_of_interval(src, st, step, every, ptr, j)
            for q in range(conn.indptr.shape[0]):
                _deliver(conn, q, st, step, n_slots, st.fired, nf, bounds[q])
            if dv is not None:
                deliver_drives(dv, ds, np.int64(0), lo, hi, st.i_exc, st.i_inh,
                               st.ring_exc, st.ring_inh, st.ring_used, step)
            n_spk = _record_spikes(st, rec, step, st.fired, nf, spk_step, spk_node, n_spk)
        k += nb
    return n_steps, n_spk


@njit(**INNER_JIT_OPTIONS)
def _keep_own(own, n_own, fired, a, nf):
    """``fired[a:a + nf]`` appended to ``own[:n_own]`` (grown when full); returns own."""
    if n_own + nf > own.shape[0]:
        grown = np.empty(2 * (n_own + nf), own.dtype)
        grown[:n_own] = own[:n_own]
        own = grown
    own[n_own:n_own + nf] = fired[a:a + nf]
    return own


@njit(**STEP_JIT_OPTIONS)
def _step_of_interval(src, st, step, every, ptr, j):
    """The fired list of the interval's step j (every rank's spikes, then the sources'
    spikes of ``step``) into ``st.fired``; returns its length."""
    nf = ptr[j + 1] - ptr[j]
    for i in range(nf):
        st.fired[i] = every[ptr[j] + i]
    return _emit_sources(src, st, step, st.fired, nf)


@njit(**PARALLEL_JIT_OPTIONS)
def _advance_intervals_parallel(prm, st, conn, src, rec, dv, ds, ut, gm, cc, cs, interval,
                                step0, n_steps, max_rec_per_step, spk_step, spk_node,
                                rec_buf):
    """:func:`_advance_intervals` with one thread per partition of this rank's neurons (as
    :func:`advance_parallel`): the same inputs in the same order, so the same results."""
    n_slots = st.ring_exc.shape[0]
    n_lif = st.v.shape[0]
    part = conn.part_start
    counts = np.zeros(conn.indptr.shape[0], np.int64)
    b0, bounds, idx, held, m = _prologue(prm, st, conn, cc, cs, ut, step0, n_steps)
    own = np.empty(max(part[-1] - part[0], 16), st.fired.dtype)
    cnt = np.zeros(interval, np.int64)
    n_spk = np.int64(0)
    k = np.int64(0)
    while k < n_steps:
        nb = min(interval, n_steps - k)
        if spk_step.shape[0] - n_spk < nb * max_rec_per_step:
            return k, n_spk
        n_own = 0
        for j in range(nb):
            step = step0 + k + j
            slot, use_ring = _open_step(st, rec, k + j, step, rec_buf)
            if cc is not None:
                apply_currents(cc, cs, st.bias, step)
            if ut is None:
                m = _hold(st, step, idx, held, m)
            for q in prange(counts.shape[0]):
                counts[q] = _integrate(prm, st, step, slot, use_ring, st.fired, part[q],
                                       part[q + 1], b0, ut, gm)
            if ut is None:
                _put_back(st, idx, held, m)
            nf = _compact(st.fired, part, counts)
            st.ring_used[slot] = 0
            m = _reset_spikes(prm, st, step, st.fired, 0, nf, n_lif, idx, m, gm)
            own = _keep_own(own, n_own, st.fired, 0, nf)
            n_own += nf
            cnt[j] = nf
        every, ptr = exchange_block(own[:n_own], cnt[:nb])
        for j in range(nb):
            step = step0 + k + j
            nf = _step_of_interval(src, st, step, every, ptr, j)
            for q in prange(counts.shape[0]):
                _deliver(conn, q, st, step, n_slots, st.fired, nf, bounds[q])
            if dv is not None:
                for q in prange(counts.shape[0]):
                    deliver_drives(dv, ds, q, part[q], part[q + 1], st.i_exc, st.i_inh,
                                   st.ring_exc, st.ring_inh, st.ring_used, step)
            n_spk = _record_spikes(st, rec, step, st.fired, nf, spk_step, spk_node, n_spk)
        k += nb
    return n_steps, n_spk


@njit(**PARALLEL_JIT_OPTIONS)
def advance_parallel(prm, st, conn, src, rec, xc, xs, dv, ds, pc, ps, ut, gm, cc, cs, ex,
                     step0, n_steps, max_rec_per_step, spk_step, spk_node, rec_buf):
    """As :func:`advance`, with one thread per partition of the target neurons.

    Each thread integrates its own neurons and delivers every spike into its own targets
    only; per target, inputs arrive in the same order as in the serial loop, so results are
    identical to :func:`advance` for any number of threads.
    """
    if ex is not None:
        if ex[0] > 1:         # exchange once per interval of ex[0] steps
            return _advance_intervals_parallel(prm, st, conn, src, rec, dv, ds, ut, gm, cc,
                                               cs, ex[0], step0, n_steps, max_rec_per_step,
                                               spk_step, spk_node, rec_buf)
    n_slots = st.ring_exc.shape[0]
    n_lif = st.v.shape[0]
    part = conn.part_start
    counts = np.zeros(conn.indptr.shape[0], np.int64)
    has_xbar = plastic = False
    if xc is not None:
        has_xbar, plastic = _crossbar_flags(xc)
    b0, bounds, idx, held, m = _prologue(prm, st, conn, cc, cs, ut, step0, n_steps)
    n_spk = np.int64(0)  # not 0: a literal makes Numba compile the callees twice
    for k in range(n_steps):
        if spk_step.shape[0] - n_spk < max_rec_per_step:
            return k, n_spk
        step = step0 + k
        slot, use_ring = _open_step(st, rec, k, step, rec_buf)
        if cc is not None:
            apply_currents(cc, cs, st.bias, step)
        if ut is None:
            m = _hold(st, step, idx, held, m)
        for q in prange(counts.shape[0]):
            counts[q] = _integrate(prm, st, step, slot, use_ring, st.fired, part[q],
                                   part[q + 1], b0, ut, gm)
        if ut is None:
            _put_back(st, idx, held, m)
        nf = _compact(st.fired, part, counts)
        if ex is not None:
            nf = exchange_spikes(st.fired, np.int64(0), nf)
        nf = _after_integrate(src, st, step, slot, st.fired, nf)
        for q in prange(counts.shape[0]):
            _deliver(conn, q, st, step, n_slots, st.fired, nf, bounds[q])
        if xc is not None and has_xbar:
            _crossbars(xc, xs, st, step, n_slots, st.fired, nf, n_lif, plastic)
        if dv is not None:
            for q in prange(counts.shape[0]):
                deliver_drives(dv, ds, q, part[q], part[q + 1], st.i_exc, st.i_inh,
                               st.ring_exc, st.ring_inh, st.ring_used, step)
        if pc is not None:
            plastic_step(pc, ps, st, st.fired, nf, step, prm.dt, n_slots)
        n_spk, m = _reset_and_record(prm, st, rec, step, st.fired, nf, n_lif, spk_step,
                                     spk_node, n_spk, idx, m, gm)
    return n_steps, n_spk
