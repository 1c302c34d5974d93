"""Reference backend: plain NumPy, one step at a time, written for clarity not speed.

It shares only the Plan (connectivity, the layout of the state) with the engine; the
dynamics are computed independently from the model specs: the propagator of the linear
models is the matrix exponential of their system (scipy.linalg.expm, per neuron when the
neurons differ) rather than the closed forms, the conductance model's exponential Euler
step is written as relaxation to v_inf with time constant c_m/g_tot, refractoriness is
tracked by the step of the last spike, and delayed inputs wait in an explicit dict
``step -> [(target, w, inh)]``.
"""

import math

import numpy as np
from scipy.linalg import expm

from ..crossbar.irdrop import solve_exact
from ..engine.crossbar import CELL_ENERGY, CONVERSIONS, ROW_DRIVES, TILE_READS, read_draws
from ..drives import start_drives
from ..engine.poisson import arrival_count, next_arrival, poisson_count
from ..engine.rng import geometric, uniform
from ..models.lif import linear_matrix, refractory_steps
from .base import Chunk, copy_state, count_spike, plastic_state, weight_buffer

__all__ = ["ReferenceRunner", "source_spikes", "current_bias"]


def _propagators(spec, dt):
    """Exact one-step propagators of the linear system of each neuron (the matrix
    exponential of :func:`neurosim.models.lif.linear_matrix`): array (m, 6, 6), m = 1 for a
    homogeneous population."""
    m = spec.n if spec.heterogeneous else 1
    return np.stack([expm(linear_matrix(spec, i) * dt) for i in range(m)])


def _col(spec, name, n):
    """Parameter ``name`` for every neuron (float64[n]); zeros when it is None."""
    val = getattr(spec, name)
    return np.zeros(n) if val is None else np.broadcast_to(np.asarray(val, float), (n,))


def _projection_of(pc):
    """Projection index of each plastic synapse (None without plastic projections)."""
    if pc is None:
        return None
    sizes = [int(pc.pre_ptr[pc.pre_off[j] + pc.n_pre[j]] - pc.pre_ptr[pc.pre_off[j]])
             for j in range(pc.rule.shape[0])]
    return np.repeat(np.arange(len(sizes)), sizes)


def source_spikes(plan, st, step):
    """Nodes of the spike sources and Poisson sources that spike at ``step`` (advances the
    Poisson streams in ``st``)."""
    src = plan.sources
    out = []
    if step + 1 < src.gen_ptr.shape[0]:
        out.extend(src.gen_node[src.gen_ptr[step]:src.gen_ptr[step + 1]].tolist())
    for k in range(src.pois_start.shape[0]):
        n, start, lp = int(src.pois_n[k]), int(src.pois_start[k]), src.pois_log1m_p[k]
        drawn = []
        if not np.isnan(lp):
            while st.pois_next[k] < (step + 1) * n:
                drawn.append(int(st.pois_next[k]) - step * n)
                st.pois_next[k] += 1 + geometric(st.pois_rng, k, lp)
        else:
            p = src.pois_p[src.pois_p_start[k]:src.pois_p_start[k] + n]
            drawn = [i for i in range(n) if uniform(st.pois_rng, k) <= p[i]]
        w = int(src.pois_win_off[k])      # a window keeps the draws, drops the spikes
        out.extend(start + i for i in drawn
                   if w < 0 or src.pois_win_lo[w + i] <= step < src.pois_win_hi[w + i])
    return out


def current_bias(cc, step):
    """Bias of each neuron targeted by current sources at ``step`` (float64, ``cc.nrn``
    order): its own plus, per source in order, the amplitude of the source's last change
    at or before ``step`` (0 before its first)."""
    total = cc.nrn_base.copy()
    for k in range(cc.per.shape[0]):
        lo, hi = int(cc.tgt_off[k]), int(cc.tgt_off[k + 1])
        rows = np.flatnonzero((cc.ev_src == k) & (cc.ev_step <= step))
        amp = 0.0
        if rows.size:
            a = int(cc.ev_amp[rows[-1]])
            amp = cc.amp[a:a + hi - lo] if cc.per[k] else cc.amp[a]
        total[cc.slot_nrn[lo:hi]] += amp
    return total


class ReferenceRunner:
    name = "reference"

    def __init__(self, plan):
        self.plan = plan
        self.state = copy_state(plan.init)
        self.xstate = copy_state(plan.xbar_init)
        self.dstate = (start_drives(plan.drives, copy_state(plan.drives_init))
                       if plan.drives is not None else None)
        self.last_spike = np.full(plan.n_lif, -(1 << 40), dtype=np.int64)
        self.pending = {}
        self._now = (0, set())         # (step, LIF nodes that spiked in it)
        self.pstate = plastic_state(plan)
        self.hist = {}                 # step -> its spikes (plastic projections)
        self._proj_of = _projection_of(plan.plastic)
        self.cstate = None             # (the engine's; this backend recomputes the currents)
        self.pops = []
        self.plan_changed()

    def plan_changed(self):
        """The populations' constants from the plan (again, after an edit between runs);
        a neuron refractory now keeps the end of its refractory period."""
        plan, prm, old = self.plan, self.plan.params, self.pops
        self.pops = []
        for p, spec in enumerate(plan.lif_specs):
            lo, hi = int(prm.pop_start[p]), int(prm.pop_start[p + 1])
            n = hi - lo
            ref = np.array([refractory_steps(t, plan.dt) for t in _col(spec, "t_ref", n)])
            rows = {key: (np.arange(int(off), int(off) + n) if off >= 0 else None)
                    for key, off in (("cur", prm.x_cur[p]), ("w", prm.x_w[p]),
                                     ("a", prm.x_a[p]))}
            if rows["cur"] is not None:
                rows["cur_i"] = rows["cur"] + n
            self.pops.append(dict(
                lo=lo, hi=hi, spec=spec, rows=rows,
                prop=None if spec.synapse == "cond_exp" else _propagators(spec, plan.dt),
                ref=ref + (1 if spec.convention == "nest" else 0),
                **{k: _col(spec, k, n) for k in ("v_rest", "v_th", "v_reset", "tau_m",
                                                 "tau_exc", "tau_inh", "e_exc", "e_inh",
                                                 "c_m", "tau_a", "b_w", "beta")}))
        for q_old, q in zip(old, self.pops):
            self.last_spike[q["lo"]:q["hi"]] += q_old["ref"] - q["ref"]

    def _update(self, q, step):
        """Groups slot of population ``q``; returns its free mask."""
        st, lo, hi, spec = self.state, q["lo"], q["hi"], q["spec"]
        sl, rows, dt = slice(lo, hi), q["rows"], self.plan.dt
        free = (step - self.last_spike[sl]) >= q["ref"]
        b = st.bias[sl].astype(float)
        v = st.v[sl].astype(float)
        w = st.x[rows["w"]].astype(float) if rows["w"] is not None else np.zeros(hi - lo)
        if spec.synapse == "cond_exp":
            ge, gi = st.i_exc[sl].astype(float), -st.i_inh[sl].astype(float)
            g_l = q["c_m"] / q["tau_m"]
            g_tot = g_l + ge + gi
            v_inf = (g_l * (q["v_rest"] + b - w) + ge * q["e_exc"] + gi * q["e_inh"]) / g_tot
            new = v_inf + (v - v_inf) * np.exp(-dt * g_tot / q["c_m"])
            held = v
            st.i_exc[sl] = ge * np.exp(-dt / q["tau_exc"])
            st.i_inh[sl] = -gi * np.exp(-dt / q["tau_inh"])
        else:
            x = np.zeros((hi - lo, 6))
            pend = np.zeros(hi - lo)
            if spec.synapse == "exp":
                x[:, 1], x[:, 3] = st.i_exc[sl], st.i_inh[sl]
            elif spec.synapse == "alpha":
                x[:, 1], x[:, 3] = st.x[rows["cur"]], st.x[rows["cur_i"]]
                x[:, 2], x[:, 4] = st.i_exc[sl], st.i_inh[sl]
            else:
                pend = st.i_exc[sl].astype(float) + st.i_inh[sl].astype(float)
            nest = spec.convention == "nest"
            x[:, 0] = v - q["v_rest"] - b + (0.0 if nest else pend)
            x[:, 5] = w
            x = np.einsum("nij,nj->ni", np.broadcast_to(q["prop"], (hi - lo, 6, 6)), x)
            new = x[:, 0] + q["v_rest"] + b + (pend if nest else 0.0)
            held = v if nest else v + pend
            w = x[:, 5]
            if spec.synapse == "exp":
                st.i_exc[sl], st.i_inh[sl] = x[:, 1], x[:, 3]
            elif spec.synapse == "alpha":
                st.x[rows["cur"]], st.x[rows["cur_i"]] = x[:, 1], x[:, 3]
                st.i_exc[sl], st.i_inh[sl] = x[:, 2], x[:, 4]
            else:
                st.i_exc[sl] = st.i_inh[sl] = 0.0
        if spec.synapse == "cond_exp" and rows["w"] is not None:
            w = w * np.exp(-dt / _col(spec, "tau_w", hi - lo))
        if rows["w"] is not None:
            st.x[rows["w"]] = w
        if rows["a"] is not None:
            st.x[rows["a"]] *= np.exp(-dt / q["tau_a"])
        st.v[sl] = np.where(free, new, held)
        return free

    def _threshold(self, q, free):
        st, sl, spec = self.state, slice(q["lo"], q["hi"]), q["spec"]
        th = q["v_th"] + (st.x[q["rows"]["a"]] if q["rows"]["a"] is not None else 0.0)
        v = st.v[sl]
        above = (v >= th) if spec.convention == "nest" else (v > th)
        return (q["lo"] + np.flatnonzero(free & above)).tolist()

    def _pop_of(self, node):
        return next(q for q in self.pops if q["lo"] <= node < q["hi"])

    def _input(self, tgt, w, inh):
        """An input in the synapses slot: into v itself for delta synapses (Brian2's
        ``v_post += w``), else into the channel."""
        q = self._pop_of(tgt)
        spec = q["spec"]
        if spec.synapse == "delta" and spec.convention == "brian2":
            step, fired = self._now      # Brian2: no write to v while refractory, which
            if step - self.last_spike[tgt] >= q["ref"][tgt - q["lo"]] and tgt not in fired:
                self.state.v[tgt] += w   # starts in the step of the spike
        else:
            (self.state.i_inh if inh else self.state.i_exc)[tgt] += w

    def _reset(self, node, step):
        st = self.state
        q = self._pop_of(node)
        i, rows = node - q["lo"], q["rows"]
        th = q["v_th"][i]
        if rows["a"] is not None:
            th += st.x[rows["a"][i]]
            st.x[rows["a"][i]] += q["beta"][i]
        if q["spec"].reset == "subtract":
            st.v[node] -= th - q["v_reset"][i]
        else:
            st.v[node] = q["v_reset"][i]
        if rows["w"] is not None:
            st.x[rows["w"][i]] += q["b_w"][i]
        self.last_spike[node] = step

    def advance(self, step0, n_steps, record):
        self.pstate = weight_buffer(self.plan, self.pstate, step0, n_steps)
        st, plan = self.state, self.plan
        samples = np.empty((n_steps, record.var_code.shape[0]))
        out_s, out_n = [], []
        for k in range(n_steps):
            step = step0 + k
            variables = (st.v, st.i_exc, st.i_inh, st.x, st.i_inh, st.v)
            for r, (code, idx) in enumerate(zip(record.var_code, record.var_index)):
                samples[k, r] = variables[code][idx] * (-1.0 if code == 4 else 1.0)
            if plan.currents is not None:
                st.bias[plan.currents.nrn] = current_bias(plan.currents, step)
            free = [self._update(q, step) for q in self.pops]
            late = []
            for tgt, w, inh in self.pending.pop(step, []):
                q = self._pop_of(tgt)
                if q["spec"].synapse == "delta" and q["spec"].convention == "nest":
                    if free[self.pops.index(q)][tgt - q["lo"]]:   # NEST: now, into v;
                        st.v[tgt] += w                              # lost if refractory
                else:
                    late.append((tgt, w, inh))
            fired = [n for q, f in zip(self.pops, free) for n in self._threshold(q, f)]
            self._now = (step, set(fired))
            for tgt, w, inh in late:      # Brian2's synapses slot, after the thresholds
                self._input(tgt, w, inh)
            fired.extend(source_spikes(plan, st, step))
            self._deliver(step, fired)
            self._crossbars(step, fired)
            self._drives(step)
            self._plastic(step, fired)
            for node in fired:
                st.spike_count[node] += 1
                count_spike(record, node, step)
                if node < plan.n_lif:
                    self._reset(node, step)
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
                        tgt, w = int(conn.target[s]) + conn.target_base, (w0 if w0 == w0 else conn.weight[s])
                        if d == 0:
                            self._input(tgt, w, inh)
                        else:
                            self.pending.setdefault(step + int(d), []).append((tgt, w, inh))

    def _plastic(self, step, fired):
        """The plastic projections' stage (written from the rules, independently of
        engine.plastic): weight samples first, then per projection its presynaptic events
        (spikes of step - delay, or of this step with the dendritic split) and its
        postsynaptic ones; a neuron's traces decay from the time they were last read."""
        pc, ps = self.plan.plastic, self.pstate
        if pc is None:
            return
        every = int(pc.mon_every[0])
        if every and step % every == 0 and ps.mon_row[0] < ps.mon_buf.shape[0]:
            ps.mon_buf[ps.mon_row[0]] = ps.w[pc.mon_idx]
            ps.mon_row[0] += 1
        self.hist[step] = list(fired)
        self.hist.pop(step - ps.hist.shape[0], None)
        t = step * self.plan.dt
        for j in range(pc.rule.shape[0]):
            d, dend = int(pc.delay[j]), bool(pc.dendritic[j]) and pc.rule[j] != 3
            mine = self._proj_of == j
            pre = [(int(n - pc.pre_lo[j]), np.flatnonzero(mine & (pc.source == n)))
                   for n in self.hist.get(step if dend else step - d, [])]
            post = [(int(n - pc.post_lo[j]), np.flatnonzero(mine & (pc.target == n)))
                    for n in self.hist.get(step - d if dend else step, [])]
            pre = [(i, syn) for i, syn in pre if syn.size]
            post = [] if pc.rule[j] == 3 else [(i, syn) for i, syn in post if syn.size]
            if not dend:          # Brian2: on_pre of every arrival, then on_post
                for i, syn in pre:
                    self._on_pre(j, i, syn, t, step, d, False, True)
                for i, syn in post:
                    self._on_post(j, i, syn, step, True)
                continue
            # NEST: facilitation by the post spikes reaching the synapse now, depression by
            # the pre spikes of now, each with the other side's earlier spikes only; then
            # both sides count their spikes
            for i, syn in post:
                self._on_post(j, i, syn, step, False)
            for i, syn in pre:
                self._on_pre(j, i, syn, t, step, d, True, False)
            for side, events in (("post", post), ("pre", pre)):
                for i, _ in events:
                    self._count(side, j, i)

    def _traces(self, side, j, i, step, taus):
        """Row of neuron i's traces (side "pre" or "post") of projection j, decayed to
        ``step`` from the step they were last read at."""
        ps, pc = self.pstate, self.plan.plastic
        tr, last = (ps.pre_tr, ps.pre_last) if side == "pre" else (ps.post_tr, ps.post_last)
        r = int((pc.pre_base if side == "pre" else pc.post_base)[j]) + i
        gap = step - int(last[r])
        if gap:
            for c, tau in enumerate(taus):
                tr[r, c] *= math.exp(-(gap * self.plan.dt) / tau)
            last[r] = step
        return tr[r]

    def _count(self, side, j, i):
        """Neuron i's spike counted in its traces (already decayed to now)."""
        pc, ps = self.plan.plastic, self.pstate
        tr = ps.pre_tr if side == "pre" else ps.post_tr
        r = int((pc.pre_base if side == "pre" else pc.post_base)[j]) + i
        if pc.rule[j] == 2:
            tr[r] += 1.0
        else:
            tr[r, 0] = 1.0 if pc.par[j, 7] else tr[r, 0] + 1.0

    def _on_pre(self, j, i, syn, t, step, d, dendritic, inc):
        pc, ps = self.plan.plastic, self.pstate
        p, sgn, inh = pc.par[j], (-1.0 if pc.inh[j] else 1.0), bool(pc.inh[j])
        ps.updates[j] += syn.size
        if pc.rule[j] == 3:                      # Tsodyks-Markram, per presynaptic neuron
            r = int(pc.pre_base[j]) + i
            U, tau_rec, tau_f = p[0], p[1], p[2]
            gap = (step - int(ps.pre_last[r])) * self.plan.dt
            ps.pre_last[r] = step
            u = ps.pre_tr[r, 0] * math.exp(-gap / tau_f) if tau_f > 0 else 0.0
            x = 1.0 + (ps.pre_tr[r, 1] - 1.0) * math.exp(-gap / tau_rec)
            u = u + U * (1.0 - u)
            ps.pre_tr[r] = (u, x - u * x)
            for k in syn:
                self._input(int(pc.target[k]), ps.w[k] * (u * x), inh)
            return
        triplet = pc.rule[j] == 2
        pre = self._traces("pre", j, i, step, (p[5], p[7]) if triplet else (p[3],))
        for k in syn:
            tgt = int(pc.target[k])
            if not dendritic:                   # Brian2: deliver, then learn
                self._input(tgt, ps.w[k], inh)
            m, w_max = sgn * ps.w[k], p[0]
            if triplet:
                post = self._traces("post", j, tgt - int(pc.post_lo[j]), step, (p[6], p[8]))
                m = min(max(m - post[0] * (p[3] + p[4] * pre[1]), 0.0), w_max)
            else:
                post = self._traces("post", j, tgt - int(pc.post_lo[j]), step, (p[4],))
                m = max(m / w_max - p[2] * p[1] * (m / w_max) ** p[6] * post[0], 0.0) * w_max
            ps.w[k] = sgn * m
            if dendritic and d == 0:            # NEST: learn, then send the new weight
                self._input(tgt, ps.w[k], inh)
            elif dendritic:
                self.pending.setdefault(step + d, []).append((tgt, ps.w[k], inh))
        if inc:
            self._count("pre", j, i)

    def _on_post(self, j, i, syn, step, inc):
        pc, ps = self.plan.plastic, self.pstate
        p, sgn = pc.par[j], (-1.0 if pc.inh[j] else 1.0)
        ps.updates[j] += syn.size
        triplet = pc.rule[j] == 2
        post = self._traces("post", j, i, step, (p[6], p[8]) if triplet else (p[4],))
        for k in syn:
            m, w_max = sgn * ps.w[k], p[0]
            src = int(pc.source[k] - pc.pre_lo[j])
            if triplet:
                pre = self._traces("pre", j, src, step, (p[5], p[7]))
                m = min(max(m + pre[0] * (p[1] + p[2] * post[1]), 0.0), w_max)
            else:
                pre = self._traces("pre", j, src, step, (p[3],))
                m = min(m / w_max + p[1] * (1.0 - m / w_max) ** p[5] * pre[0], 1.0) * w_max
            ps.w[k] = sgn * m
        if inc:
            self._count("post", j, i)

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
                if dv.arrivals[d]:          # sparse: the next non-zero count's step
                    if ds.next[s] != step:
                        continue
                    k = int(arrival_count(ds.rng, s, dv.lam[s], dv.exp_neg_lam[s]))
                    ds.next[s] = int(next_arrival(ds.rng, s, dv.lam[s], step + 1))
                else:
                    k = int(poisson_count(ds.rng, s, dv.lam[s], dv.exp_neg_lam[s]))
                if k == 0:
                    continue
                tgt, w = int(dv.start[d]) + j, k * dv.weight[d]
                ds.events[0, d] += k
                if dv.delay[d] == 0:
                    self._input(tgt, w, w < 0)
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
                    self._input(tgt, w, w < 0)
                else:
                    self.pending.setdefault(step + d, []).append((tgt, w, w < 0))
