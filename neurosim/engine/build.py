"""Kernels that lower connectivity to CSR and draw random connectivity (build time only)."""

import numpy as np
from numba import njit

from .._config import JIT_OPTIONS
from .rng import geometric, next_u64

__all__ = ["csr_positions", "fixed_probability", "draw_sources", "count_rows", "place_rows"]


#: Entries sorted per compiled call (Python sees Ctrl-C between calls).
SCATTER_CHUNK = 1 << 23


@njit(**JIT_OPTIONS)
def _positions_chunk(keys, fill, out):
    for s in range(keys.shape[0]):
        k = keys[s]
        out[s] = fill[k]
        fill[k] += 1


def csr_positions(keys, fill, out):
    """Stable counting-sort positions: ``out[s]`` = ``fill[keys[s]]``, then that row's fill
    pointer moves on (rows filled in the order of the calls and of ``keys``). In chunks, so
    that Ctrl-C stops a large build at once."""
    for s0 in range(0, keys.shape[0], SCATTER_CHUNK):
        _positions_chunk(keys[s0:s0 + SCATTER_CHUNK], fill, out[s0:s0 + SCATTER_CHUNK])


@njit(**JIT_OPTIONS)
def fixed_probability(n_pre, n_post, p, skip_diagonal, state, pos, stop, pre_out, post_out):
    """Bernoulli(p) for every (pre, post) pair, pre-major, by geometric skipping.

    Draws the pairs at flat positions below ``stop`` (``pre * n_post + post``), starting at
    ``pos``: the first success not yet written, as returned by the previous call (-1 before
    the first call). Drawn in such chunks, the synapses are those of one call over all pairs.
    Cost is proportional to the number of synapses drawn, not n_pre * n_post. Returns
    (count written, next pos), or count -1 when ``pre_out`` is too small (the caller grows
    it and redraws the chunk from a saved ``state`` and ``pos``).
    """
    total = np.int64(n_pre) * np.int64(n_post)
    log1m_p = np.log1p(-p) if p < 1.0 else -np.inf
    if pos < 0:
        pos = geometric(state, np.int64(0), log1m_p)
    end = min(stop, total)
    cap = pre_out.shape[0]
    n = 0
    while pos < end:
        i = pos // n_post
        j = pos - i * n_post
        if not (skip_diagonal and i == j):
            if n >= cap:
                return -1, pos
            pre_out[n] = i
            post_out[n] = j
            n += 1
        pos += 1 + geometric(state, np.int64(0), log1m_p)
    return n, pos


@njit(**JIT_OPTIONS)
def draw_sources(n_pre, j0, j1, offsets, skip_diagonal, multapses, state, pre_out, post_out):
    """For each target j in [j0, j1), ``offsets[j+1] - offsets[j]`` sources drawn uniformly
    (without repeats unless ``multapses``), written target-major from index 0 of the
    outputs (target j at ``offsets[j] - offsets[j0]``).

    Distinct draws use a mark array (O(k) per target). With ``skip_diagonal`` target j never
    draws source j. Calls over consecutive target ranges draw what one call over all would.
    """
    mark = np.zeros(n_pre, dtype=np.uint8)
    n_cand = n_pre - 1 if skip_diagonal else n_pre
    base = offsets[j0]
    for j in range(j0, j1):
        start = offsets[j] - base
        stop = offsets[j + 1] - base
        n = start
        while n < stop:
            i = np.int64(next_u64(state, np.int64(0)) % np.uint64(n_cand))
            if skip_diagonal and i >= j:
                i += 1
            if not multapses:
                if mark[i]:
                    continue
                mark[i] = 1
            pre_out[n] = i
            post_out[n] = j
            n += 1
        if not multapses:
            for s in range(start, stop):
                mark[pre_out[s]] = 0


@njit(**JIT_OPTIONS)
def _channel(sign, w, wmode, s):
    if sign > 0:
        return 0
    if sign < 0:
        return 1
    x = w[s] if wmode == 0 else w[0]
    return 1 if x < 0 else 0


@njit(**JIT_OPTIONS)
def _part(part_start, node):
    q = 0
    while node >= part_start[q + 1]:
        q += 1
    return q


@njit(**JIT_OPTIONS)
def count_rows(pre, post, w, wmode, d, d0, sign, pre_off, post_off, part_start, slot_lut,
               n_nodes, counts, w_lo, w_hi, fan):
    """Pass 1 of the streamed lowering, over one chunk of a projection's synapses: count
    each synapse in its (slot, partition, source) row, where ``slot_lut[channel, delay]``
    is the slot of its (delay, channel) key; track each slot's weight range (``wmode`` 0:
    ``w`` per synapse, 1: ``w[0]`` for all, 2: drawn, varying) and the sources' fan-out.
    ``d`` holds per-synapse delays, or is empty and ``d0`` is the delay of all. Only the
    targets ``part_start[0] .. part_start[-1] - 1`` are counted (one process: every LIF
    neuron); fan-outs and weight ranges cover every synapse, so they agree on every rank."""
    hetero = d.shape[0] > 0
    lo = part_start[0]
    hi = part_start[-1]
    for s in range(pre.shape[0]):
        ch = _channel(sign, w, wmode, s)
        slot = slot_lut[ch, d[s] if hetero else d0]
        fan[pre[s]] += 1
        node = post[s] + post_off
        if lo <= node < hi:               # else the target is another rank's (neurosim.mpi)
            q = _part(part_start, node)
            counts[slot, q * n_nodes + pre[s] + pre_off] += 1
        if wmode == 2:
            w_lo[slot] = -np.inf
            w_hi[slot] = np.inf
        else:
            x = w[s] if wmode == 0 else w[0]
            if x < w_lo[slot]:
                w_lo[slot] = x
            if x > w_hi[slot]:
                w_hi[slot] = x


@njit(**JIT_OPTIONS)
def place_rows(pre, post, w, wmode, d, d0, sign, pre_off, post_off, part_start, block_lut,
               block_delay, n_blocks, n_nodes, fill, target, weight, syn_delay):
    """Pass 2: write one chunk of a projection's synapses into their CSR rows (a stable
    counting sort: rows fill in the order of the calls and of the synapses). ``weight`` is
    empty when every block shares one weight; a block of delay -1 stores ``syn_delay``."""
    hetero = d.shape[0] > 0
    store_w = weight.shape[0] > 0
    lo = part_start[0]
    hi = part_start[-1]
    for s in range(pre.shape[0]):
        node = post[s] + post_off
        if node < lo or node >= hi:      # another rank's target (neurosim.mpi)
            continue
        ch = _channel(sign, w, wmode, s)
        dd = d[s] if hetero else d0
        b = block_lut[ch, dd]
        row = (_part(part_start, node) * n_blocks + b) * n_nodes + pre[s] + pre_off
        pos = fill[row]
        fill[row] = pos + 1
        target[pos] = node - lo          # relative to the first target (Conn.target_base)
        if store_w:
            weight[pos] = w[s] if wmode == 0 else w[0]
        if block_delay[b] < 0:
            syn_delay[pos] = dd
