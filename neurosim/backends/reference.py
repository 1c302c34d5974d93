"""Reference backend: plain NumPy, one step at a time, written for clarity not speed.

It shares only the Plan (connectivity, parameters) with the engine; the dynamics are
computed independently: the propagator is the matrix exponential of the linear system
(scipy.linalg.expm) rather than the closed form, refractoriness is tracked by the step of
the last spike, and delayed inputs wait in an explicit dict ``step -> [(target, w, inh)]``.
"""

import numpy as np
from scipy.linalg import expm

from ..crossbar.irdrop import solve_exact
from ..engine.crossbar import CELL_ENERGY, CONVERSIONS, ROW_DRIVES, TILE_READS, read_draws
from ..engine.poisson import poisson_count
from ..engine.rng import geometric, uniform
from ..models.lif import refractory_steps
from .base import Chunk, copy_state, count_spike

__all__ = ["ReferenceRunner", "source_spikes"]


def _propagator(spec, dt):
    """3x3 exact propagator of y = v - v_rest - I_bias, I_exc, I_inh over one step."""
    a = np.array([[-1.0 / spec.tau_m, 1.0 / spec.tau_m, 1.0 / spec.tau_m],
                  [0.0, -1.0 / spec.tau_exc, 0.0],
                  [0.0, 0.0, -1.0 / spec.tau_inh]])
    return expm(a * dt)


def source_spikes(plan, st, step):
    """Nodes of the spike sources and Poisson sources that spike at ``step`` (advances the
    Poisson streams in ``st``)."""
    src = plan.sources
    out = []
    if step + 1 < src.gen_ptr.shape[0]:
        out.extend(src.gen_node[src.gen_ptr[step]:src.gen_ptr[step + 1]].tolist())
    for k in range(src.pois_start.shape[0]):
        n, start, lp = int(src.pois_n[k]), int(src.pois_start[k]), src.pois_log1m_p[k]
        if not np.isnan(lp):
            while st.pois_next[k] < (step + 1) * n:
                out.append(start + int(st.pois_next[k]) - step * n)
                st.pois_next[k] += 1 + geometric(st.pois_rng, k, lp)
        else:
            p = src.pois_p[src.pois_p_start[k]:src.pois_p_start[k] + n]
            for i in range(n):
                if uniform(st.pois_rng, k) <= p[i]:
                    out.append(start + i)
    return out


class ReferenceRunner:
    name = "reference"

    def __init__(self, plan):
        self.plan = plan
        self.state = copy_state(plan.init)
        self.xstate = copy_state(plan.xbar_init)
        self.dstate = copy_state(plan.drives_init) if plan.drives is not None else None
        self.last_spike = np.full(plan.n_lif, -(1 << 40), dtype=np.int64)
        self.pending = {}
        specs = plan.lif_specs
        bounds = plan.params.pop_start
        self.pops = [(int(bounds[p]), int(bounds[p + 1]), spec, _propagator(spec, plan.dt),
                      refractory_steps(spec.t_ref, plan.dt)) for p, spec in enumerate(specs)]

    def advance(self, step0, n_steps, record):
        st, plan = self.state, self.plan
        samples = np.empty((n_steps, record.var_code.shape[0]))
        out_s, out_n = [], []
        for k in range(n_steps):
            step = step0 + k
            variables = (st.v, st.i_exc, st.i_inh)
            for r, (code, idx) in enumerate(zip(record.var_code, record.var_index)):
                samples[k, r] = variables[code][idx]
            fired = []
            for lo, hi, spec, prop, ref in self.pops:
                sl = slice(lo, hi)
                v_inf = spec.v_rest + st.bias[sl].astype(float)
                y = st.v[sl].astype(float) - v_inf
                ie = st.i_exc[sl].astype(float)
                ii = st.i_inh[sl].astype(float)
                free = (step - self.last_spike[sl]) >= ref
                y_new = prop[0, 0] * y + prop[0, 1] * ie + prop[0, 2] * ii
                st.v[sl] = np.where(free, y_new + v_inf, st.v[sl])
                st.i_exc[sl] = prop[1, 1] * ie
                st.i_inh[sl] = prop[2, 2] * ii
                fired.extend((lo + np.flatnonzero(free & (st.v[sl] > spec.v_th))).tolist())
            for tgt, w, inh in self.pending.pop(step, []):
                (st.i_inh if inh else st.i_exc)[tgt] += w
            fired.extend(source_spikes(plan, st, step))
            self._deliver(step, fired)
            self._crossbars(step, fired)
            self._drives(step)
            for node in fired:
                st.spike_count[node] += 1
                count_spike(record, node, step)
                if node < plan.n_lif:
                    p = int(np.searchsorted(plan.params.pop_start, node, side="right") - 1)
                    spec = self.pops[p][2]
                    if spec.reset == "subtract":
                        st.v[node] -= spec.v_th - spec.v_reset
                    else:
                        st.v[node] = spec.v_reset
                    self.last_spike[node] = step
                if record.spike_mask[node]:
                    out_s.append(step)
                    out_n.append(node)
        return Chunk(n_steps, np.array(out_s, np.int64), np.array(out_n, np.int64), samples)

    def _deliver(self, step, fired):
        conn, st = self.plan.conn, self.state
        for node in fired:
            for q in range(conn.indptr.shape[0]):
                for b in range(conn.block_delay.shape[0]):
                    inh = bool(conn.block_inh[b])
                    for s in range(conn.indptr[q, b, node], conn.indptr[q, b, node + 1]):
                        d = conn.block_delay[b] if conn.block_delay[b] >= 0 else conn.syn_delay[s]
                        w0 = conn.block_w[b]
                        tgt, w = int(conn.target[s]), (w0 if w0 == w0 else conn.weight[s])
                        if d == 0:
                            (st.i_inh if inh else st.i_exc)[tgt] += w
                        else:
                            self.pending.setdefault(step + int(d), []).append((tgt, w, inh))

    def _drives(self, step):
        """Poisson drives, after the crossbars as in the engine: each target's count from its
        own stream, count * weight to its current now or when its delay is over."""
        dv, ds = self.plan.drives, self.dstate
        if dv is None:
            return
        st = self.state
        for d in range(dv.start.shape[0]):
            for j in range(int(dv.n[d])):
                s = int(dv.off[d]) + j
                k = int(poisson_count(ds.rng, s, dv.lam[s], dv.exp_neg_lam[s]))
                if k == 0:
                    continue
                tgt, w = int(dv.start[d]) + j, k * dv.weight[d]
                ds.events[0, d] += k
                if dv.delay[d] == 0:
                    (st.i_inh if w < 0 else st.i_exc)[tgt] += w
                else:
                    self.pending.setdefault(step + int(dv.delay[d]), []).append(
                        (tgt, w, bool(w < 0)))

    def _crossbars(self, step, fired):
        """Crossbar reads of this step's spikes, written independently of the engine: plain
        sums over the active rows, the exact nodal solve for IR drop (the engine iterates),
        the same read-noise stream."""
        xc, xs = self.plan.xbar, self.xstate
        if xc.pre_lo.shape[0] == 0:
            return
        fired = np.array(sorted(fired), dtype=np.int64)
        for x in range(xc.pre_lo.shape[0]):
            lo, n_in, n_out = int(xc.pre_lo[x]), int(xc.n_in[x]), int(xc.n_out[x])
            rows = fired[(fired >= lo) & (fired < lo + n_in)] - lo
            if rows.size == 0:
                continue
            npx = int(xc.n_phys[x])
            size = n_in * npx
            g = xs.g[xc.g_off[x]:xc.g_off[x] + size].reshape(n_in, npx)
            n_ct = int(xc.n_ct[x])
            snet = xc.snet[xc.w_off[x]:xc.w_off[x] + n_in * n_out].reshape(n_in, n_out)
            vref = xc.vref[xc.r_off[x]:xc.r_off[x] + n_in * n_ct].reshape(n_in, n_ct)
            v = xc.v_read[x]
            out = np.zeros(n_out)
            for t in range(xc.x_tiles[x], xc.x_tiles[x + 1]):
                r0, r1, p0, p1 = (int(a) for a in (xc.t_r0[t], xc.t_r1[t], xc.t_p0[t],
                                                    xc.t_p1[t]))
                mine = rows[(rows >= r0) & (rows < r1)]
                if mine.size == 0:
                    continue
                if xc.r_row[x] == 0.0:
                    cur = v * g[mine, p0:p1].sum(axis=0)
                    xs.stats[x, CELL_ENERGY] += g[mine, p0:p1].sum() * xc.e_read[x]
                else:
                    vin = np.zeros(r1 - r0)
                    vin[mine - r0] = v
                    cur = solve_exact(g[r0:r1, p0:p1], vin, xc.r_row[x], xc.r_col[x])
                    xs.stats[x, CELL_ENERGY] += cur.sum() / v * xc.e_read[x]
                k0, k1 = int(xc.t_k0[t]), int(xc.t_k1[t])
                c = (t - int(xc.x_tiles[x])) % n_ct
                noisy = bool(xc.noisy[x])
                var_net = ((snet[mine, k0:k1].astype(np.float64) ** 2).sum(axis=0) if noisy
                           else np.zeros(k1 - k0))
                var_ref = vref[mine, c].sum() if noisy else 0.0
                if c == 0:     # the draws of the row tile's read: per net current, per ref
                    z = (read_draws(xs, x, n_out + n_ct * int(xc.offset_map[x])).copy()
                         if noisy else np.zeros(n_out + n_ct))
                if xc.offset_map[x]:
                    ref = cur[-1] + v * np.sqrt(var_ref) * z[n_out + c]
                    net = cur[:-1] - ref
                else:
                    net = cur[0::2] - cur[1::2]
                # float32 roots, as the engine (whose stored sigma for one row is the same:
                # sqrt(fl32(s*s)) == s for float32 s)
                sd = np.sqrt(var_net.astype(np.float32)).astype(np.float64)
                net = net + v * sd * z[k0:k1]
                step_adc = xc.t_adc_step[t]
                if step_adc > 0.0:
                    net = np.clip(step_adc * np.round(net * (1.0 / step_adc)), -xc.t_adc_range[t],
                                  xc.t_adc_range[t])
                    xs.stats[x, CONVERSIONS] += net.size
                out[xc.t_k0[t]:xc.t_k1[t]] += xc.t_alpha[t] * xc.k_w[x] * net
                xs.stats[x, ROW_DRIVES] += mine.size
                xs.stats[x, TILE_READS] += 1
            d = int(xc.delay[x])
            for k in np.flatnonzero(out):
                tgt, w = int(xc.post_lo[x] + k), out[k]
                if d == 0:
                    (self.state.i_inh if w < 0 else self.state.i_exc)[tgt] += w
                else:
                    self.pending.setdefault(step + d, []).append((tgt, w, w < 0))
