"""Reference backend of the fixed-point mode: Lava's process structure in plain NumPy.

Written from Lava's PyLifModelBitAcc / PyDelayDenseModelBitAcc rather than from the engine:
each projection is a Lava-style connection with its own dense (n_post, n_pre) weight matrix
and a buffer of shape (n_post, max_delay + 1) that it sends column 0 of at the start of every
step and then shifts; each LIF population sums its connections' int32 messages. Only the
spike-source arrays are shared with the engine.
"""

import numpy as np

from ..models.loihi import shift
from .base import Chunk, copy_state, fixed_bias_mant, count_spike
from .reference import source_spikes

__all__ = ["FixedReferenceRunner"]

I64 = np.int64


def wrap_i32(x):
    return ((np.asarray(x, I64) + 2**31) % 2**32) - 2**31


class _Connection:
    def __init__(self, proj, buf=None):
        """``buf``: the buffer of this connection before its weights or delays changed
        (what is in flight is kept)."""
        syn = proj.loihi
        self.pre, self.post = proj.pre, proj.post
        d = np.broadcast_to(np.asarray(proj.delay_steps, I64), (proj.n_synapses,))
        n_d = int(d.max()) + 1 if d.size else 1
        n_d = max(n_d, buf.shape[1] if buf is not None else 0)
        # one dense (post, pre) matrix per delay value, as DelayDense splits them
        self.w_d = np.zeros((n_d, proj.post.n, proj.pre.n), I64)
        np.add.at(self.w_d, (d, proj.post_index, proj.pre_index), syn.weight)
        self.exp = syn.weight_exp
        self.buf = np.zeros((proj.post.n, n_d), I64)
        if buf is not None:
            self.buf[:, :buf.shape[1]] = buf

    def emit(self):
        out = wrap_i32(self.buf[:, 0])
        self.buf = np.roll(self.buf, -1, axis=1)
        self.buf[:, -1] = 0
        return out

    def accumulate(self, spikes):
        for k in range(self.w_d.shape[0]):
            self.buf[:, k] += shift(self.w_d[k][:, spikes != 0].sum(axis=1), self.exp)


class FixedReferenceRunner:
    name = "reference"

    def __init__(self, plan):
        self.plan = plan
        self.state = copy_state(plan.init)
        self.bias_mant = fixed_bias_mant(plan)
        self.conns = [_Connection(p) for p in plan.projections]
        self.pops = []
        for pop, spec in zip([p for p in plan.pop_node_start if p.kind == "loihi_lif"],
                             plan.specs):
            s = plan.pop_node_start[pop]
            self.pops.append((pop, slice(s, s + pop.n), 4096 - (spec.du + 1), 4096 - spec.dv,
                              spec.vth << 6))

    def plan_changed(self):
        """Weights or delays changed between runs: new matrices, buffers kept."""
        self.conns = [_Connection(p, c.buf) for p, c in zip(self.plan.projections, self.conns)]

    @staticmethod
    def _decay(x, keep):
        p = x * keep
        return np.sign(p) * (np.abs(p) >> 12)

    def advance(self, step0, n_steps, record):
        st, plan = self.state, self.plan
        samples = np.empty((n_steps, record.var_code.shape[0]), I64)
        out_s, out_n = [], []
        for k in range(n_steps):
            step = step0 + k
            a = {pop: np.zeros(pop.n, I64) for pop, *_ in self.pops}
            for c in self.conns:                       # connections send first
                a[c.post] = wrap_i32(a[c.post] + c.emit())
            spikes = np.zeros(plan.n_nodes, I64)
            for pop, sl, keep_u, keep_v, vth in self.pops:
                u = wrap_i32(self._decay(st.u[sl], keep_u) + wrap_i32(a[pop] << 6))
                u = np.where(u > 2**23, u - 2**24, u)
                u = np.where(u <= -2**23, u + 2**24, u)
                v = wrap_i32(self._decay(st.v[sl], keep_v) + u + st.bias[sl])
                v = np.clip(v, -(2**23 - 1), 2**23 - 1)
                s = v > vth
                st.u[sl], st.v[sl] = u, np.where(s, 0, v)
                spikes[sl] = s
            spikes[source_spikes(plan, st, step)] = 1
            variables = (st.u, st.v)
            for r, (code, idx) in enumerate(zip(record.var_code, record.var_index)):
                samples[k, r] = variables[code][idx]
            for c in self.conns:                       # then take this step's spikes
                s0 = plan.pop_node_start[c.pre]
                c.accumulate(spikes[s0:s0 + c.pre.n])
            for node in np.flatnonzero(spikes):
                st.spike_count[node] += 1
                count_spike(record, node, step)
                if record.spike_mask[node]:
                    out_s.append(step)
                    out_n.append(node)
        return Chunk(n_steps, np.array(out_s, I64), np.array(out_n, I64), samples)
