"""The event-driven engine: a neuron is advanced only when an input reaches it.

For the current-based LIF with exponential synapses (the fast path of :mod:`.lif`), the
state between inputs has a closed form. Over k steps without input, of which the first h
are refractory (v held, currents decaying) and the other f = k - h free::

    I_exc(k) = e_e**k I_exc,         I_inh(k) = e_i**k I_inh
    v(k)     = v_inf + e_m**f (v - v_inf) + c_e I_exc' G_e(f) + c_i I_inh' G_i(f)

with v_inf = v_rest + I_bias, I' the currents after the h held steps and
G_x(f) = sum_{j<f} e_m**(f-1-j) e_x**j (tabulated below :data:`TABLE` steps, beyond it
e_m**(f-1) expm1(f ln r) / expm1(ln r), r = e_x / e_m, which does not cancel when the
two time constants are close). One free step (f = 1) uses the clock-driven engine's own
expression and grouping, so a neuron that receives input at every step follows the
clock-driven trajectory bit for bit; over longer gaps the two differ by rounding only
(a few ulp of v per advance).

Threshold crossings are predicted. After every change of a neuron (an input, a reset), the
largest v it can reach without further input is bounded by
``v_inf + max(v - v_inf, 0) + max(c_e I_exc', 0) max_f G_e + max(c_i I_inh', 0) max_f G_i``;
below v_th (the common case in sparse activity) nothing is scheduled. Otherwise the neuron
is stepped forward with the clock-driven update until it crosses (its step goes into a
calendar queue), the bound rules a crossing out, or :data:`HORIZON` steps pass (a wake-up
goes into the calendar then). A prediction is checked when its step comes: the neuron is
advanced by the closed form and spikes if v > v_th then; an input that arrives first makes
the entry stale (each neuron keeps the step of its one valid entry).

Order of operations within step n, as the clock-driven engine's (Brian2's schedule):

1. start: recorded neurons are advanced to the end of step n-1 and sampled;
2. groups: inputs arriving at n (sent earlier with a delay) are added to the currents of
   their targets, each target advanced to n first: those the clock-driven state's delay
   ring holds (sent before the rows were loaded), then those of the queue;
3. thresholds: the calendar's entries of step n are checked (ascending neuron order);
   spike sources and Poisson sources emit their spikes of step n (the same streams as the
   clock-driven engine);
4. synapses: delay 0 goes straight into the targets (advanced to n); a spike sent with a
   delay is queued once per (neuron, block) at its arrival step, or once per synapse for
   blocks of per-synapse delays (linked lists in a pool, one list per arrival step modulo
   the ring length, first in first out so that a target's inputs add in the clock-driven
   order);
5. resets, counters and recording; then every neuron changed in this step is predicted
   again.

Each neuron's state is one row of 8 float64 (v, I_exc, I_inh, last step, ref_until,
predicted step, I_bias, population): one cache line, so an input costs about one random
memory access.
"""

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from .._config import INNER_JIT_OPTIONS, JIT_OPTIONS, STEP_JIT_OPTIONS
from .lif import _emit_sources, count_spike

__all__ = ["EventTables", "tables", "event_advance", "queue_to_ring", "predict_all", "load_rows", "store_rows", "TABLE",
           "HORIZON", "V", "IE", "II", "LAST", "UNTIL", "PRED", "BIAS", "POP"]

#: Columns of a neuron's row.
V, IE, II, LAST, UNTIL, PRED, BIAS, POP = range(8)
#: Steps of the tabulated powers and G sums per population.
TABLE = 4096
#: Calendar slots: a crossing is predicted at most this many steps ahead (beyond it the
#: neuron is woken up and predicted again).
HORIZON = 1024
#: Margin of the bound (volts, relative to |v_th| + |v_inf|): rounding of the closed form.
_TOL = 1e-12


#: Columns of EventTables.par: the propagator, the thresholds and resets, log e_*, and
#: the maxima over k of G_e(k), G_i(k) (upper bounds).
(E_M, E_E, E_I, C_E, C_I, V_REST, V_TH, V_RESET, REF, SUB, LG_M, LG_E, LG_I, GMAX_E,
 GMAX_I) = range(15)


class EventTables(NamedTuple):
    """Per-population constants (index p; k < TABLE), few arrays so that the calls of
    the event loop pass few arguments."""
    pw: np.ndarray       # float64[P, 3, TABLE]: e_m**k, e_e**k, e_i**k
    g: np.ndarray        # float64[P, 2, TABLE]: G_e(k), G_i(k)
    par: np.ndarray      # float64[P, 15]: the columns above
    ring: int            # slots of the delivery queue (the delay ring's length)


def _g_max(e_m, e_x):
    """The maximum over real t >= 0 of G(t) = (e_m**t - e_x**t) / (e_m - e_x) (or
    t e_m**(t-1) when they are equal), an upper bound of its values at integers."""
    if e_m <= 0.0 or e_x <= 0.0:
        return 1.0
    lm, lx = math.log(e_m), math.log(e_x)
    if abs(lm - lx) < 1e-12 * max(abs(lm), 1e-300):
        t = -1.0 / lm
        return max(1.0, t * e_m ** (t - 1.0)) * (1 + 1e-9)
    t = math.log(lx / lm) / (lm - lx)
    t = max(t, 1.0)
    return max(1.0, (e_m ** t - e_x ** t) / (e_m - e_x)) * (1 + 1e-9)


def tables(prm, ring):
    """The :class:`EventTables` of a plan's LIF populations (LIFParams ``prm``)."""
    n_pops = prm.e_m.shape[0]
    pw = np.empty((n_pops, 3, TABLE))
    g = np.zeros((n_pops, 2, TABLE))
    par = np.zeros((n_pops, 15))
    for p in range(n_pops):
        es = (float(prm.e_m[p]), float(prm.e_e[p]), float(prm.e_i[p]))
        par[p, :SUB + 1] = (*es, prm.c_e[p], prm.c_i[p], prm.v_rest[p], prm.v_th[p],
                            prm.v_reset[p], prm.ref_steps[p], prm.reset_subtract[p])
        for j, e in enumerate(es):
            pw[p, j] = e ** np.arange(TABLE, dtype=np.float64)
            par[p, LG_M + j] = math.log(e) if e > 0 else -np.inf
        for j in (0, 1):                  # G(k+1) = e_m G(k) + e_x**k
            e_x = es[1 + j]
            for k in range(1, TABLE):
                g[p, j, k] = es[0] * g[p, j, k - 1] + pw[p, 1 + j, k - 1]
            par[p, GMAX_E + j] = max(_g_max(es[0], e_x), g[p, j].max())
    return EventTables(pw, g, par, int(ring))


@njit(**STEP_JIT_OPTIONS)
def _power(tb, p, j, k):
    """e_j**k (k >= 0 steps)."""
    if k < TABLE:
        return tb.pw[p, j, k]
    return math.exp(k * tb.par[p, LG_M + j])


@njit(**STEP_JIT_OPTIONS)
def _gsum(tb, p, j, f):
    """G_e (j = 0) or G_i (j = 1) over f free steps."""
    if f < TABLE:
        return tb.g[p, j, f]
    lm = tb.par[p, LG_M]
    lx = tb.par[p, LG_E + j]
    lr = lx - lm
    if lr == 0.0:
        return f * math.exp((f - 1) * lm)
    if abs(f * lr) > 600.0:               # far apart: no cancellation
        return (math.exp(f * lm) - math.exp(f * lx)) / (math.exp(lm) - math.exp(lx))
    return math.exp((f - 1) * lm) * (math.expm1(f * lr) / math.expm1(lr))


@njit(**STEP_JIT_OPTIONS)
def _step_v(v, ie, ii, b, e_m, c_e, c_i, v_rest):
    """One free step of v: the clock-driven engine's expression (same grouping)."""
    return v_rest + ((((b + c_e * ie) + c_i * ii) + e_m * v) + e_m * (-v_rest - b))


@njit(**STEP_JIT_OPTIONS)
def _advance_to(E, tb, n, a):
    """Neuron n from the end of its last step to the end of step a (no input between)."""
    u = np.int64(E[n, LAST])
    k = a - u
    if k <= 0:
        return
    p = np.int64(E[n, POP])
    until = np.int64(E[n, UNTIL])
    h = min(max(until - 1 - u, 0), k)     # steps u+1 .. until-1 are refractory
    ie = E[n, IE]
    ii = E[n, II]
    if h > 0:
        ie *= _power(tb, p, 1, h)
        ii *= _power(tb, p, 2, h)
    f = k - h
    pp = tb.par[p]
    if f == 1:
        E[n, V] = _step_v(E[n, V], ie, ii, E[n, BIAS], pp[E_M], pp[C_E], pp[C_I],
                          pp[V_REST])
        ie *= pp[E_E]
        ii *= pp[E_I]
    elif f > 1:
        v_inf = pp[V_REST] + E[n, BIAS]
        x = pp[C_E] * ie * _gsum(tb, p, 0, f) if ie != 0.0 else 0.0
        if ii != 0.0:
            x += pp[C_I] * ii * _gsum(tb, p, 1, f)
        E[n, V] = v_inf + (_power(tb, p, 0, f) * (E[n, V] - v_inf) + x)
        ie *= _power(tb, p, 1, f)
        ii *= _power(tb, p, 2, f)
    E[n, IE] = ie
    E[n, II] = ii
    E[n, LAST] = a


@njit(**STEP_JIT_OPTIONS)
def _bound(tb, p, v, ie, ii, b):
    """The largest v reachable without input from a free state (v, ie, ii)."""
    pp = tb.par[p]
    v_inf = pp[V_REST] + b
    top = v_inf + max(v - v_inf, 0.0) + max(pp[C_E] * ie, 0.0) * pp[GMAX_E] \
        + max(pp[C_I] * ii, 0.0) * pp[GMAX_I]
    return top + _TOL * (abs(pp[V_TH]) + abs(v_inf))


@njit(**STEP_JIT_OPTIONS)
def _crossing(E, tb, n, s):
    """The first step after s at which neuron n (at the end of step s) crosses threshold
    without further input: a step within HORIZON, -1 if it never does, or s + HORIZON - 1
    to be looked at again then (a wake-up)."""
    p = np.int64(E[n, POP])
    until = np.int64(E[n, UNTIL])
    v = E[n, V]
    ie = E[n, IE]
    ii = E[n, II]
    b = E[n, BIAS]
    pp = tb.par[p]
    v_th = pp[V_TH]
    hh = max(until - 1 - s, 0)
    if hh > 0:
        x_e = ie * _power(tb, p, 1, hh)
        x_i = ii * _power(tb, p, 2, hh)
    else:
        x_e = ie
        x_i = ii
    if _bound(tb, p, v, x_e, x_i, b) <= v_th:
        return np.int64(-1)
    e_m, e_e, e_i = pp[E_M], pp[E_E], pp[E_I]
    c_e, c_i, v_rest = pp[C_E], pp[C_I], pp[V_REST]
    for t in range(s + 1, s + HORIZON):
        if t >= until:
            v = _step_v(v, ie, ii, b, e_m, c_e, c_i, v_rest)
            if v > v_th:
                return np.int64(t)
        ie *= e_e
        ii *= e_i
        if (t - s) % 16 == 0 and t >= until and _bound(tb, p, v, ie, ii, b) <= v_th:
            return np.int64(-1)
    return np.int64(s + HORIZON - 1)


# ------------------------------------------------------------- queues (linked lists)
@njit(**INNER_JIT_OPTIONS)
def _grow(nxt, fa, fb, free):
    """Twice the pool, the new entries on the free list."""
    cap = nxt.shape[0]
    new = max(2 * cap, 1024)
    n2 = np.empty(new, np.int64)
    a2 = np.empty(new, np.int64)
    b2 = np.empty(new, np.int64)
    n2[:cap] = nxt
    a2[:cap] = fa
    b2[:cap] = fb
    for e in range(cap, new - 1):
        n2[e] = e + 1
    n2[new - 1] = free[0]
    free[0] = cap
    return n2, a2, b2


@njit(**INNER_JIT_OPTIONS)
def _push(head, tail, nxt, fa, fb, free, bucket, x, y):
    """Append (x, y) to the list ``bucket``; returns the pool (grown if it was full)."""
    if free[0] < 0:
        nxt, fa, fb = _grow(nxt, fa, fb, free)
    e = free[0]
    free[0] = nxt[e]
    fa[e] = x
    fb[e] = y
    nxt[e] = -1
    if tail[bucket] < 0:
        head[bucket] = e
    else:
        nxt[tail[bucket]] = e
    tail[bucket] = e
    return nxt, fa, fb




# ------------------------------------------------------------------------- the loop
@njit(**STEP_JIT_OPTIONS)
def _row_now(E, tb, conn, b, lo, hi, s, changed, nc, sink):
    """Synapses lo..hi-1 of block b delivered at step s. A neuron first reached in this
    step (its row still at an earlier step) is advanced and joins ``changed``: every path
    that brings a row to step s does so, so ``E[n, LAST] == s`` means "in the list"."""
    col = II if conn.block_inh[b] != 0 else IE
    w0 = conn.block_w[b]
    if hi - lo >= 16:                 # the rows read first, loads independent of each
        acc = 0.0                     # other: their cache misses overlap (the update loop
        for k in range(lo, hi):       # below would meet them one after the other)
            acc += E[np.int64(conn.target[k]), LAST]
        sink[0] = np.int64(acc)
    for k in range(lo, hi):           # the input, written out (a call per event costs)
        n = np.int64(conn.target[k])
        if E[n, LAST] < s:
            _advance_to(E, tb, n, s)
            changed[nc] = n
            nc += 1
        E[n, col] += w0 if w0 == w0 else conn.weight[k]
    return nc


@njit(**STEP_JIT_OPTIONS)
def _ring_now(E, tb, st, slot, s, changed, nc):
    """The inputs in ring slot ``slot`` delivered at step s (a scan of every neuron: only
    for the slots that were pending when the rows were loaded)."""
    re = st.ring_exc[slot]
    ri = st.ring_inh[slot]
    for n in range(E.shape[0]):
        if re[n] != 0.0 or ri[n] != 0.0:
            if E[n, LAST] < s:
                _advance_to(E, tb, n, s)
                changed[nc] = n
                nc += 1
            E[n, IE] += re[n]
            E[n, II] += ri[n]
            re[n] = 0.0
            ri[n] = 0.0
    st.ring_used[slot] = 0
    return nc


@njit(**JIT_OPTIONS)
def queue_to_ring(conn, st, q):
    """Every queued delivery added to the ring slot of its arrival step (in the order
    they were sent, as the clock-driven engine sums them) and taken off the queue."""
    dh, dtl, dn, da, db, dfree = q[:6]
    n_blocks = conn.block_delay.shape[0]
    for c in range(dh.shape[0]):
        e = dh[c]
        while e >= 0:
            pre = da[e]
            y = db[e]
            if y < 0:
                b = -1 - y
                lo = conn.indptr[0, b, pre]
                hi = conn.indptr[0, b, pre + 1]
            else:
                b = y % n_blocks
                lo = y // n_blocks
                hi = lo + 1
            ring = st.ring_inh if conn.block_inh[b] != 0 else st.ring_exc
            w0 = conn.block_w[b]
            for k in range(lo, hi):
                ring[c, np.int64(conn.target[k])] += w0 if w0 == w0 else conn.weight[k]
            st.ring_used[c] = 1
            nx = dn[e]
            dn[e] = dfree[0]
            dfree[0] = e
            e = nx
        dh[c] = -1
        dtl[c] = -1


@njit(**JIT_OPTIONS)
def event_advance(conn, src, rec, st, E, tb, q, changed, step0, n_steps,
                  max_rec_per_step, spk_step, spk_node, rec_buf):
    """Run steps ``step0 .. step0+n_steps-1``; as :func:`neurosim.engine.lif.advance`
    (same spikes, counters and samples up to rounding), on the lazily updated rows ``E``.

    ``q``: (delivery heads, tails, pool next/a/b, free head, calendar heads, tails, pool
    next/a/b, free head) -- the calendar's entries must be those of ``E[:, PRED]``.
    Returns ``(steps_done, spikes_written, q)`` (the pools may have grown)."""
    dh, dtl, dn, da, db, dfree, ch, ctl, cn, ca, cb, cfree = q
    n_blocks = conn.block_delay.shape[0]
    n_lif = E.shape[0]
    D = tb.ring
    fired = st.fired
    n_spk = np.int64(0)
    for k in range(n_steps):
        if spk_step.shape[0] - n_spk < max_rec_per_step:
            return k, n_spk, (dh, dtl, dn, da, db, dfree, ch, ctl, cn, ca, cb, cfree)
        s = step0 + k
        # 1. start: samples at the start of the step (the end of the last one)
        for r in range(rec.var_code.shape[0]):
            i = rec.var_index[r]
            _advance_to(E, tb, i, s - 1)
            c = rec.var_code[r]
            rec_buf[k, r] = E[i, V] if c == 0 else E[i, IE] if c == 1 else E[i, II]
        nc = np.int64(0)
        # 2. arrivals of this step, in the order they were sent: first those in the ring
        # (sent before the rows were loaded: by the clock-driven engine, or written there
        # when the state was read), then the queue's
        slot = s % D
        if st.ring_used[slot]:
            nc = _ring_now(E, tb, st, slot, s, changed, nc)
        e = dh[slot]
        while e >= 0:
            pre = da[e]
            y = db[e]
            if y < 0:
                b = -1 - y
                nc = _row_now(E, tb, conn, b, conn.indptr[0, b, pre],
                              conn.indptr[0, b, pre + 1], s, changed, nc, st.sink)
            else:
                b = y % n_blocks
                syn = y // n_blocks
                nc = _row_now(E, tb, conn, b, syn, syn + 1, s, changed, nc, st.sink)
            nx = dn[e]
            dn[e] = dfree[0]
            dfree[0] = e
            e = nx
        dh[slot] = -1
        dtl[slot] = -1
        # 3. thresholds: the calendar's entries of this step
        nf = np.int64(0)
        cs = s % HORIZON
        e = ch[cs]
        while e >= 0:
            n = ca[e]
            if cb[e] == s and np.int64(E[n, PRED]) == s:
                E[n, PRED] = -1.0
                if E[n, LAST] < s:       # predicted again at the end of the step (fired
                    _advance_to(E, tb, n, s)     # or not: a wake-up, or a tie the
                    changed[nc] = n              # closed form rounded the other way)
                    nc += 1
                p = np.int64(E[n, POP])
                if E[n, V] > tb.par[p, V_TH] and s >= np.int64(E[n, UNTIL]):
                    fired[nf] = n
                    nf += 1
            nx = cn[e]
            cn[e] = cfree[0]
            cfree[0] = e
            e = nx
        ch[cs] = -1
        ctl[cs] = -1
        if nf > 1:
            fired[:nf].sort()
        nf = _emit_sources(src, st, s, fired, nf)
        # 4. synapses
        for f in range(nf):
            pre = fired[f]
            for b in range(n_blocks):
                lo = conn.indptr[0, b, pre]
                hi = conn.indptr[0, b, pre + 1]
                if lo == hi:
                    continue
                d = conn.block_delay[b]
                if d == 0:
                    nc = _row_now(E, tb, conn, b, lo, hi, s, changed, nc, st.sink)
                elif d > 0:
                    dn, da, db = _push(dh, dtl, dn, da, db, dfree, (s + d) % D, pre, -1 - b)
                else:
                    for syn in range(lo, hi):
                        ds = conn.syn_delay[syn]
                        if ds == 0:
                            nc = _row_now(E, tb, conn, b, syn, syn + 1, s, changed,
                                          nc, st.sink)
                        else:
                            dn, da, db = _push(dh, dtl, dn, da, db, dfree, (s + ds) % D,
                                               pre, syn * n_blocks + b)
        # 5. resets, counters, recording
        for f in range(nf):
            node = fired[f]
            st.spike_count[node] += 1
            count_spike(rec, node, s)
            if node < n_lif:
                p = np.int64(E[node, POP])
                pp = tb.par[p]
                if pp[SUB] != 0.0:
                    E[node, V] -= pp[V_TH] - pp[V_RESET]
                else:
                    E[node, V] = pp[V_RESET]
                E[node, UNTIL] = s + np.int64(pp[REF])      # (in ``changed`` already)
            if rec.spike_mask[node]:
                spk_step[n_spk] = s
                spk_node[n_spk] = node
                n_spk += 1
        for j in range(nc):          # predicted again (a call with reference counting,
            n = changed[j]           # which costs a microsecond, only for an entry)
            t = _crossing(E, tb, n, s)
            E[n, PRED] = t
            if t >= 0:
                cn, ca, cb = _push(ch, ctl, cn, ca, cb, cfree, t % HORIZON, n, t)
    return n_steps, n_spk, (dh, dtl, dn, da, db, dfree, ch, ctl, cn, ca, cb, cfree)


@njit(**JIT_OPTIONS)
def load_rows(E, v, ie, ii, until, bias, pop_start, step, q):
    """Rows from the clock-driven state at the end of step ``step``; every neuron predicted
    again (the calendar emptied first). Returns the calendar's pool (it may grow)."""
    dh, dtl, dn, da, db, dfree, ch, ctl, cn, ca, cb, cfree = q
    for p in range(pop_start.shape[0] - 1):
        for n in range(pop_start[p], pop_start[p + 1]):
            E[n, V] = v[n]
            E[n, IE] = ie[n]
            E[n, II] = ii[n]
            E[n, LAST] = step
            E[n, UNTIL] = until[n]
            E[n, PRED] = -1.0
            E[n, BIAS] = bias[n]
            E[n, POP] = p
    # the calendar: every entry back on the free list
    for c in range(ch.shape[0]):
        e = ch[c]
        while e >= 0:
            nx = cn[e]
            cn[e] = cfree[0]
            cfree[0] = e
            e = nx
        ch[c] = -1
        ctl[c] = -1
    return cn, ca, cb


@njit(**JIT_OPTIONS)
def predict_all(E, tb, q, step):
    """Every neuron (at the end of ``step``) predicted; returns the calendar's pool."""
    dh, dtl, dn, da, db, dfree, ch, ctl, cn, ca, cb, cfree = q
    for n in range(E.shape[0]):
        t = _crossing(E, tb, n, step)
        E[n, PRED] = t
        if t >= 0:
            cn, ca, cb = _push(ch, ctl, cn, ca, cb, cfree, t % HORIZON, n, t)
    return cn, ca, cb


@njit(**JIT_OPTIONS)
def store_rows(E, tb, step, v, ie, ii, until):
    """Every neuron advanced to the end of ``step`` and written to the clock-driven
    state arrays."""
    for n in range(E.shape[0]):
        _advance_to(E, tb, n, step)
        v[n] = E[n, V]
        ie[n] = E[n, IE]
        ii[n] = E[n, II]
        until[n] = np.int64(E[n, UNTIL])
