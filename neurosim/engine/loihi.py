"""The fixed-point (Loihi) step loop: integer LIF and Dense/DelayDense as Lava computes them.

Equations: see :mod:`neurosim.models.loihi`. Order of operations within step n (Lava's step
t = n + 1):

1. every loihi_lif neuron reads its input ``a`` = ring slot n (what the connections built
   in earlier steps; Lava's Dense sends its buffer first), integrates u then v, spikes and
   resets v; spike sources and Poisson sources emit their spikes of step n;
2. state monitors record u and v after the reset (as Lava's Monitor probes);
3. every spike of step n goes through each projection. A projection with
   ``weight_exp >= 0`` adds its (pre-shifted) weights straight into ring slot n + 1 + d;
   one with a negative exponent first sums per (delay, target) this step, then adds the
   floor-shifted sum (Lava shifts the sum, not each weight). Dense projections with one
   delay (at least a quarter of all pairs connected) keep a (pre, post) block and add whole
   rows; the others use CSR rows.

All arithmetic is int64 with explicit two's-complement wraps where Lava's int32 wraps.
"""

from typing import NamedTuple

import numpy as np
from numba import njit

from .._config import INNER_JIT_OPTIONS, JIT_OPTIONS
from .lif import _emit_sources, count_spike

__all__ = ["FixedParams", "FixedState", "FixedConn", "advance_fixed"]


class FixedParams(NamedTuple):
    """Per-neuron constants (LIF index)."""
    keep_u: np.ndarray         # int64[n]: 4096 - (du + 1)
    keep_v: np.ndarray         # int64[n]: 4096 - dv
    vth: np.ndarray            # int64[n]: vth << 6


class FixedState(NamedTuple):
    """Everything that changes during a run (mutated in place)."""
    u: np.ndarray              # int64[n_lif]
    v: np.ndarray              # int64[n_lif]
    bias: np.ndarray           # int64[n_lif]: bias_mant shifted by bias_exp
    spike_count: np.ndarray    # int64[n_nodes]
    ring: np.ndarray           # int64[R, n_lif]: input arriving at step n in slot n % R
    acc: np.ndarray            # int64[D, n_lif]: per-step sums of negative-exponent projections
    mark: np.ndarray           # int64[D, n_lif]: stamp of the last (projection, step) touching acc
    touched: np.ndarray        # int64[D * n_lif]: acc cells touched this (projection, step)
    stamp: np.ndarray          # int64[1]
    pois_rng: np.ndarray       # uint64[K] (shared with the float engine's source kernel)
    pois_next: np.ndarray      # int64[K]
    fired: np.ndarray          # int32[n_nodes]
    flag: np.ndarray           # uint8[n_lif]: spiked this step
    dense_acc: np.ndarray      # int32[max post_n]: per-step sums of a dense projection


class FixedConn(NamedTuple):
    """Per projection either one CSR (by presynaptic node) over shared synapse arrays, or a
    dense (pre, post) weight block whose rows are added with vector instructions."""
    indptr: np.ndarray         # int64[P, n_nodes+1] (empty rows for dense projections)
    target: np.ndarray         # int32[S]: LIF index
    weight: np.ndarray         # int64[S]: effective weight (times 2**weight_exp when >= 0)
    delay: np.ndarray          # int64[S]: 0..63
    rshift: np.ndarray         # int64[P]: -weight_exp when negative, else 0
    proj_delay: np.ndarray     # int64[P]: the projection's delay if it is one value, else -1
    dense_off: np.ndarray      # int64[P]: offset of the dense block in dense_w, -1 = CSR
    pre_start: np.ndarray      # int64[P]: first presynaptic node
    pre_n: np.ndarray          # int64[P]
    post_start: np.ndarray     # int64[P]: first target (LIF index)
    post_n: np.ndarray         # int64[P]
    dense_w: np.ndarray        # int16[sum pre_n*post_n of dense projections], row = pre:
                               # the effective 8-bit weights, not shifted
    lshift: np.ndarray         # int64[P]: weight_exp when >= 0 (applied to dense sums)


_I32_OFF = 2147483648
_I32_MASK = 4294967295


@njit(**INNER_JIT_OPTIONS)
def _wrap32(x):
    return ((x + _I32_OFF) & _I32_MASK) - _I32_OFF


@njit(**INNER_JIT_OPTIONS)
def _decay(x, keep):
    """x * keep / 4096 rounded toward zero (branch-free: add 4095 before shifting when
    the product is negative)."""
    p = x * keep
    return (p + ((p >> 63) & 4095)) >> 12


@njit(**INNER_JIT_OPTIONS)
def _lif_step(prm, st, slot, fired):
    """Integrate every neuron with the input of ring slot ``slot``; return the spike count.

    The first loop is branch-free so that it vectorises; the second collects the spikes.
    """
    ring = st.ring[slot]
    u_arr, v_arr, flag = st.u, st.v, st.flag
    for i in range(u_arr.shape[0]):
        a = _wrap32(ring[i])
        ring[i] = 0
        u = _wrap32(_decay(u_arr[i], prm.keep_u[i]) + _wrap32(a << 6))
        u = u - 16777216 if u > 8388608 else u
        u = u + 16777216 if u <= -8388608 else u
        v = _wrap32(_decay(v_arr[i], prm.keep_v[i]) + u + st.bias[i])
        v = min(max(v, -8388607), 8388607)
        s = v > prm.vth[i]
        u_arr[i] = u
        v_arr[i] = 0 if s else v
        flag[i] = s
    nf = 0
    for i in range(u_arr.shape[0]):
        if flag[i]:
            fired[nf] = i
            nf += 1
    return nf


@njit(**INNER_JIT_OPTIONS)
def _deliver_dense(conn, st, p, step, fired, nf):
    """A dense projection: sum the int16 weight rows of this step's presynaptic spikes in
    int32 (vectorised; exact, as pre_n * 256 < 2**31), then shift the sums by weight_exp."""
    ps, pn = conn.pre_start[p], conn.pre_n[p]
    qs, qn = conn.post_start[p], conn.post_n[p]
    off = conn.dense_off[p]
    acc = st.dense_acc[:qn]
    used = False
    for f in range(nf):
        j = fired[f] - ps
        if j < 0 or j >= pn:
            continue
        if not used:
            acc[:] = 0
            used = True
        row = conn.dense_w[off + j * qn:off + (j + 1) * qn]
        for t in range(qn):
            acc[t] += row[t]
    if used:
        dest = st.ring[(step + 1 + conn.proj_delay[p]) % st.ring.shape[0], qs:qs + qn]
        sh, lsh = conn.rshift[p], conn.lshift[p]
        for t in range(qn):
            dest[t] += (np.int64(acc[t]) << lsh) >> sh


@njit(**INNER_JIT_OPTIONS)
def _deliver_fixed(conn, st, step, fired, nf):
    n_slots = st.ring.shape[0]
    n_lif = st.u.shape[0]
    for p in range(conn.indptr.shape[0]):
        if conn.dense_off[p] >= 0:
            _deliver_dense(conn, st, p, step, fired, nf)
            continue
        indptr = conn.indptr[p]
        sh = conn.rshift[p]
        if sh == 0 and conn.proj_delay[p] >= 0:
            dest = st.ring[(step + 1 + conn.proj_delay[p]) % n_slots]
            for f in range(nf):
                j = fired[f]
                for s in range(indptr[j], indptr[j + 1]):
                    dest[conn.target[s]] += conn.weight[s]
            continue
        if sh == 0:
            for f in range(nf):
                j = fired[f]
                for s in range(indptr[j], indptr[j + 1]):
                    st.ring[(step + 1 + conn.delay[s]) % n_slots, conn.target[s]] += \
                        conn.weight[s]
            continue
        st.stamp[0] += 1
        stamp = st.stamp[0]
        nt = 0
        for f in range(nf):
            j = fired[f]
            for s in range(indptr[j], indptr[j + 1]):
                d = conn.delay[s]
                t = conn.target[s]
                if st.mark[d, t] != stamp:
                    st.mark[d, t] = stamp
                    st.acc[d, t] = 0
                    st.touched[nt] = d * n_lif + t
                    nt += 1
                st.acc[d, t] += conn.weight[s]
        for k in range(nt):
            d = st.touched[k] // n_lif
            t = st.touched[k] - d * n_lif
            st.ring[(step + 1 + d) % n_slots, t] += st.acc[d, t] >> sh


@njit(**JIT_OPTIONS)
def advance_fixed(prm, st, conn, src, rec, step0, n_steps, max_rec_per_step,
                  spk_step, spk_node, rec_buf):
    """Run steps ``step0 .. step0+n_steps-1``; same contract as ``engine.lif.advance``.

    State samples (``rec.var_code`` 0 = u, 1 = v) are taken after the step's reset.
    """
    n_slots = st.ring.shape[0]
    n_spk = 0
    for k in range(n_steps):
        if spk_step.shape[0] - n_spk < max_rec_per_step:
            return k, n_spk
        step = step0 + k
        nf = _lif_step(prm, st, step % n_slots, st.fired)
        nf = _emit_sources(src, st, step, st.fired, nf)
        for r in range(rec.var_code.shape[0]):
            idx = rec.var_index[r]
            rec_buf[k, r] = st.u[idx] if rec.var_code[r] == 0 else st.v[idx]
        _deliver_fixed(conn, st, step, st.fired, nf)
        for f in range(nf):
            node = st.fired[f]
            st.spike_count[node] += 1
            count_spike(rec, node, step)
            if rec.spike_mask[node]:
                spk_step[n_spk] = step
                spk_node[n_spk] = node
                n_spk += 1
    return n_steps, n_spk
