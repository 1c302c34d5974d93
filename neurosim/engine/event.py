"""The event-driven engine: a neuron is advanced only when an input reaches it.

For the current-based LIF models (exponential, alpha and delta synapses, adaptation
current, adaptive threshold; one value per parameter, Brian2's convention) the state
between inputs has a closed form. The plain exponential model (the fast path of
:mod:`.lif`) is written out below; the others (:func:`_advance_general`) add, over f free
steps, c_w G_w(f) w for the adaptation current, A_x(f) z_x for an alpha channel z_x
(A_x tabulated: v's response to a unit z_x, applied in pieces of TABLE - 1 steps beyond
the table) and, for delta synapses, the inputs of the last synapses slot to v first
(lost if the neuron was refractory in that step); the threshold offset decays as e_a**k.
One step uses :func:`_step_general`, the expressions of :mod:`.neurons`. For the plain
model: Over k steps without input, of which the first h
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
   order); then the sparse Poisson drives (:mod:`.poisson`, drawn as arrivals): the drive
   calendar's entries of step n, in stream order, each count * weight into its target now
   (delay 0) or queued as above, and the target's next arrival drawn into the calendar;
5. resets, counters and recording; then every neuron changed in this step is predicted
   again.

Each neuron's state is one row of 8 float64 (v, I_exc, I_inh, last step, ref_until,
predicted step, I_bias, population): one cache line, so an input costs about one random
memory access; 16 when a population has alpha currents, w or a (columns CE, CI, W, A).
"""

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from .._config import INNER_JIT_OPTIONS, JIT_OPTIONS, STEP_JIT_OPTIONS
from .lif import _emit_sources, count_spike
from .poisson import NEVER, _arrival_count, _next_arrival

__all__ = ["EventTables", "tables", "row_width", "event_advance", "queue_to_ring",
           "drive_buckets", "load_drives",
           "predict_all", "x_map", "load_rows", "store_rows", "TABLE", "HORIZON", "V", "IE", "II",
           "LAST", "UNTIL", "PRED", "BIAS", "POP", "CE", "CI", "W", "A"]

#: Columns of a neuron's row; models beyond the plain exponential one use a row of
#: :data:`WIDE` columns: CE, CI (the alpha currents; IE, II then hold the channels that
#: spikes feed), W (adaptation current), A (threshold offset). Delta synapses keep the
#: inputs delivered in the synapses slot of step LAST in IE + II until the next update.
V, IE, II, LAST, UNTIL, PRED, BIAS, POP, CE, CI, W, A = range(12)
NARROW, WIDE = 8, 16
#: Steps of the tabulated powers and G sums per population.
TABLE = 4096
#: Calendar slots: a crossing is predicted at most this many steps ahead (beyond it the
#: neuron is woken up and predicted again).
HORIZON = 1024
#: Margin of the bound (volts, relative to |v_th| + |v_inf|): rounding of the closed form.
_TOL = 1e-12


#: Columns of EventTables.par: the propagator, the thresholds and resets, log e_*, the
#: maxima over k of the responses G_e, G_i, A_e, A_i, G_w (upper bounds), then the model
#: (MODEL: 0 plain exp, 1 exp with adaptation, 2 alpha, 3 delta) and its coefficients.
(E_M, E_E, E_I, C_E, C_I, V_REST, V_TH, V_RESET, REF, SUB, LG_M, LG_E, LG_I, LG_W, LG_A,
 GMAX_E, GMAX_I, GMAX_W, AMAX_E, AMAX_I, MODEL, K_E, K_I, H_E, H_I, C_W, E_W, B_W, E_A,
 BETA, HAS_W, HAS_A) = range(32)
PLAIN, EXP, ALPHA, DELTA = 0, 1, 2, 3


class EventTables(NamedTuple):
    """Per-population constants (index p; k < TABLE), few arrays so that the calls of
    the event loop pass few arguments."""
    pw: np.ndarray       # float64[P, 5, TABLE]: e_m**k, e_e**k, e_i**k, e_w**k, e_a**k
    g: np.ndarray        # float64[P, 5, TABLE]: G_e(k), G_i(k), G_w(k), A_e(k), A_i(k)
    par: np.ndarray      # float64[P, 32]: the columns above
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


@njit(**JIT_OPTIONS)
def _alpha_response(e_m, e_x, c, k, h, out):
    """A(f) = sum_{j<f} e_m**(f-1-j) (k e_x**j + c h j e_x**(j-1)): v's response to a unit
    alpha channel z after f free steps, into out[:TABLE]; returns its maximum over all f
    (the recurrence run until both modes have decayed by e**-60)."""
    a = 0.0
    top = 0.0
    ex_j = 1.0            # e_x**j
    jex = 0.0             # j e_x**(j-1)
    lm = -math.log(e_m) if e_m > 0.0 else 1.0
    lx = -math.log(e_x) if e_x > 0.0 else 1.0
    stop = max(TABLE, int(60.0 / min(lm, lx)) + 2)
    for f in range(stop):
        if f < TABLE:
            out[f] = a
        top = max(top, a)
        a = e_m * a + (k * ex_j + c * h * jex)
        jex = e_x * jex + ex_j
        ex_j *= e_x
    return top * (1 + 1e-9)


def tables(prm, ring):
    """The :class:`EventTables` of a plan's LIF populations (LIFParams ``prm``; models
    beyond the fast path read their homogeneous coefficient column)."""
    from .neurons import COEF
    n_pops = prm.e_m.shape[0]
    pw = np.ones((n_pops, 5, TABLE))
    g = np.zeros((n_pops, 5, TABLE))
    par = np.zeros((n_pops, 32))
    ci = {k: j for j, k in enumerate(COEF)}
    for p in range(n_pops):
        code = int(prm.code[p])
        if code == 0:
            c = dict(e_m=prm.e_m[p], e_e=prm.e_e[p], e_i=prm.e_i[p], c_e=prm.c_e[p],
                     c_i=prm.c_i[p], v_rest=prm.v_rest[p], v_th=prm.v_th[p],
                     v_reset=prm.v_reset[p], ref=prm.ref_steps[p])
        else:
            col = prm.coef[:, int(prm.coef_start[p])]
            c = {k: float(col[ci[k]]) for k in COEF}
        has_w, has_a = prm.x_w[p] >= 0, prm.x_a[p] >= 0
        model = PLAIN if code == 0 else {1: EXP, 2: ALPHA, 3: DELTA}[code]
        if model == EXP and not has_w and not has_a:
            model = PLAIN
        e = [float(c.get(k, 0.0)) for k in ("e_m", "e_e", "e_i", "e_w", "e_a")]
        if model == DELTA:
            e[1] = e[2] = 0.0
        par[p, :SUB + 1] = (e[0], e[1], e[2], c.get("c_e", 0.0), c.get("c_i", 0.0),
                            c["v_rest"], c["v_th"], c["v_reset"], c["ref"],
                            prm.reset_subtract[p])
        par[p, MODEL:] = (model, c.get("k_e", 0.0), c.get("k_i", 0.0), c.get("h_e", 0.0),
                          c.get("h_i", 0.0), c.get("c_w", 0.0), e[3], c.get("b_w", 0.0),
                          e[4], c.get("beta", 0.0), has_w, has_a)
        for j, ej in enumerate(e):
            pw[p, j] = ej ** np.arange(TABLE, dtype=np.float64)
            par[p, LG_M + j] = math.log(ej) if ej > 0 else -np.inf
        for j in (0, 1, 2):                  # G(k+1) = e_m G(k) + e_x**k
            for k in range(1, TABLE):
                g[p, j, k] = e[0] * g[p, j, k - 1] + pw[p, 1 + j, k - 1]
            par[p, GMAX_E + j] = max(_g_max(e[0], e[1 + j]), g[p, j].max())
        if model == ALPHA:
            for j in (0, 1):
                par[p, AMAX_E + j] = _alpha_response(
                    e[0], e[1 + j], par[p, C_E + j], par[p, K_E + j], par[p, H_E + j],
                    g[p, 3 + j])
    return EventTables(pw, g, par, int(ring))


def x_map(prm, x_size):
    """(row, column) of each entry of State.x (alpha currents, w, a) in the rows: two
    int64 arrays of x_size (-1 for none)."""
    xrow = np.full(x_size, -1, np.int64)
    xcol = np.full(x_size, -1, np.int64)
    for p in range(prm.e_m.shape[0]):
        start, npop = int(prm.pop_start[p]), int(prm.pop_start[p + 1] - prm.pop_start[p])
        for off, rows, cols in ((prm.x_cur[p], 2, (CE, CI)), (prm.x_w[p], 1, (W,)),
                                (prm.x_a[p], 1, (A,))):
            if off >= 0:                  # (the fast path's populations have none)
                for r in range(rows):
                    xrow[off + r * npop: off + (r + 1) * npop] = np.arange(start, start + npop)
                    xcol[off + r * npop: off + (r + 1) * npop] = cols[r]
    return xrow, xcol


def row_width(prm):
    """Columns of the rows: NARROW when every population has the plain exp model."""
    plain = all(int(prm.code[p]) == 0 for p in range(prm.e_m.shape[0]))
    return NARROW if plain else WIDE


@njit(**STEP_JIT_OPTIONS)
def _power(tb, p, j, k):
    """e_j**k (k >= 0 steps; j: 0 m, 1 e, 2 i, 3 w, 4 a)."""
    if k < TABLE:
        return tb.pw[p, j, k]
    return math.exp(k * tb.par[p, LG_M + j])


@njit(**STEP_JIT_OPTIONS)
def _gsum(tb, p, j, f):
    """G_e (j = 0), G_i (j = 1) or G_w (j = 2) over f free steps."""
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
def _step_general(pp, model, free, v, ie, ii, ce, ci, w, b):
    """One step of the models beyond the plain one, as engine.neurons writes it (same
    grouping): (v, ie, ii, ce, ci, w) after it; ``free``: not refractory in this step
    (v held otherwise). Delta: ie + ii are the inputs to add (already zero when lost)."""
    e_m, v_rest = pp[E_M], pp[V_REST]
    if model == DELTA:
        vn = v_rest + (b + e_m * (((v + (ie + ii)) - v_rest) - b))
        ie = 0.0
        ii = 0.0
    elif model == ALPHA:
        vn = v_rest + ((((((b + pp[C_E] * ce) + pp[K_E] * ie) + pp[C_I] * ci) +
                         pp[K_I] * ii) + e_m * v) + e_m * (-v_rest - b))
        ce = pp[E_E] * ce + pp[H_E] * ie
        ci = pp[E_I] * ci + pp[H_I] * ii
        ie *= pp[E_E]
        ii *= pp[E_I]
    else:
        vn = _step_v(v, ie, ii, b, e_m, pp[C_E], pp[C_I], v_rest)
        ie *= pp[E_E]
        ii *= pp[E_I]
    if free:
        v = vn
        if pp[HAS_W] != 0.0:
            v += pp[C_W] * w
    if pp[HAS_W] != 0.0:
        w *= pp[E_W]
    return v, ie, ii, ce, ci, w


@njit(**STEP_JIT_OPTIONS)
def _held(tb, p, model, h, ie, ii, ce, ci):
    """The channels after h steps without input (closed form): (ie, ii, ce, ci)."""
    if h <= 0:
        return ie, ii, ce, ci
    if model == DELTA:
        return 0.0, 0.0, ce, ci
    pe = _power(tb, p, 1, h)
    pi = _power(tb, p, 2, h)
    if model == ALPHA:            # I(h) = e**h I + h h_x e**(h-1) z
        pp = tb.par[p]
        ce = pe * ce + (h * pp[H_E] * _power(tb, p, 1, h - 1)) * ie
        ci = pi * ci + (h * pp[H_I] * _power(tb, p, 2, h - 1)) * ii
    return ie * pe, ii * pi, ce, ci


@njit(**STEP_JIT_OPTIONS)
def _advance_general(E, tb, n, p, u, k):
    """As :func:`_advance_to` for the models beyond the plain one (k > 0 steps)."""
    pp = tb.par[p]
    model = np.int64(pp[MODEL])
    until = np.int64(E[n, UNTIL])
    h = min(max(until - 1 - u, 0), k)
    ie, ii = E[n, IE], E[n, II]
    ce, ci = (E[n, CE], E[n, CI]) if model == ALPHA else (0.0, 0.0)
    has_w = pp[HAS_W] != 0.0
    w = E[n, W] if has_w else 0.0
    b = E[n, BIAS]
    v = E[n, V]
    if model == DELTA and u < until:      # lost: refractory in the step they arrived
        ie = 0.0
        ii = 0.0
    if h > 0:
        ie, ii, ce, ci = _held(tb, p, model, h, ie, ii, ce, ci)
        if has_w:
            w *= _power(tb, p, 3, h)
    f = k - h
    while f > 0:
        if f == 1:
            v, ie, ii, ce, ci, w = _step_general(pp, model, True, v, ie, ii, ce, ci, w, b)
            break
        g = min(f, TABLE - 1) if model == ALPHA else f
        v_inf = pp[V_REST] + b
        if model == DELTA:
            v += ie + ii
            ie = 0.0
            ii = 0.0
        x = 0.0
        if model == ALPHA:
            x = pp[C_E] * ce * _gsum(tb, p, 0, g) + tb.g[p, 3, g] * ie \
                + pp[C_I] * ci * _gsum(tb, p, 1, g) + tb.g[p, 4, g] * ii
        elif model == EXP:
            x = pp[C_E] * ie * _gsum(tb, p, 0, g) + pp[C_I] * ii * _gsum(tb, p, 1, g)
        if has_w:
            x += pp[C_W] * w * _gsum(tb, p, 2, g)
            w *= _power(tb, p, 3, g)
        v = v_inf + (_power(tb, p, 0, g) * (v - v_inf) + x)
        if model != DELTA:
            ie, ii, ce, ci = _held(tb, p, model, g, ie, ii, ce, ci)
        f -= g
    E[n, V] = v
    E[n, IE] = ie
    E[n, II] = ii
    if model == ALPHA:
        E[n, CE] = ce
        E[n, CI] = ci
    if has_w:
        E[n, W] = w
    if pp[HAS_A] != 0.0:
        E[n, A] *= _power(tb, p, 4, k)
    E[n, LAST] = u + k


@njit(inline="always", **STEP_JIT_OPTIONS)
def _advance_plain(E, tb, n, a):
    """:func:`_advance_to` for the plain model (inlined where it is called: a call passes
    the tables, dozens of words, which costs as much as the update)."""
    u = np.int64(E[n, LAST])
    k = a - u
    if k <= 0:
        return
    p = np.int64(E[n, POP])
    pp = tb.par[p]
    until = np.int64(E[n, UNTIL])
    h = min(max(until - 1 - u, 0), k)     # steps u+1 .. until-1 are refractory
    ie = E[n, IE]
    ii = E[n, II]
    if h > 0:
        ie *= _power(tb, p, 1, h)
        ii *= _power(tb, p, 2, h)
    f = k - h
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
def _advance_to(E, tb, n, a, gen):
    """Neuron n from the end of its last step to the end of step a (no input between).
    ``gen``: None when every population has the plain model (the general code is then
    pruned at compile time), else the State.x map (:func:`x_map`)."""
    if gen is not None:
        u = np.int64(E[n, LAST])
        k = a - u
        if k <= 0:
            return
        p = np.int64(E[n, POP])
        if tb.par[p, MODEL] != PLAIN:
            _advance_general(E, tb, n, p, u, k)
            return
    _advance_plain(E, tb, n, a)


@njit(inline="always", **STEP_JIT_OPTIONS)
def _bound(tb, p, v, ie, ii, b):
    """The largest v reachable without input from a free state (v, ie, ii) of the plain
    model."""
    pp = tb.par[p]
    v_inf = pp[V_REST] + b
    top = v_inf + max(v - v_inf, 0.0) + max(pp[C_E] * ie, 0.0) * pp[GMAX_E] \
        + max(pp[C_I] * ii, 0.0) * pp[GMAX_I]
    return top + _TOL * (abs(pp[V_TH]) + abs(v_inf))


@njit(**STEP_JIT_OPTIONS)
def _bound_general(pp, model, v, ie, ii, ce, ci, w, b):
    """As :func:`_bound` for the other models: v's free response is a sum of modes
    (v - v_inf, the currents, the alpha channels, w), each bounded by its maximum."""
    v_inf = pp[V_REST] + b
    top = v_inf + max(v - v_inf, 0.0)
    if model == ALPHA:
        top += max(pp[C_E] * ce, 0.0) * pp[GMAX_E] + max(pp[C_I] * ci, 0.0) * pp[GMAX_I] \
            + max(ie, 0.0) * pp[AMAX_E] + max(ii, 0.0) * pp[AMAX_I]
    elif model == EXP:
        top += max(pp[C_E] * ie, 0.0) * pp[GMAX_E] + max(pp[C_I] * ii, 0.0) * pp[GMAX_I]
    if pp[HAS_W] != 0.0:
        top += max(pp[C_W] * w, 0.0) * pp[GMAX_W]
    return top + _TOL * (abs(pp[V_TH]) + abs(v_inf))


@njit(**STEP_JIT_OPTIONS)
def _crossing_general(E, tb, n, s, p):
    """:func:`_crossing` for the models beyond the plain one (delta inputs pending, alpha
    channels, adaptation current, threshold offset)."""
    pp = tb.par[p]
    model = np.int64(pp[MODEL])
    until = np.int64(E[n, UNTIL])
    v, ie, ii, b = E[n, V], E[n, IE], E[n, II], E[n, BIAS]
    ce, ci = (E[n, CE], E[n, CI]) if model == ALPHA else (0.0, 0.0)
    has_w = pp[HAS_W] != 0.0
    has_a = pp[HAS_A] != 0.0
    w = E[n, W] if has_w else 0.0
    a = E[n, A] if has_a else 0.0
    if model == DELTA and s < until:
        ie = 0.0
        ii = 0.0
    hh = max(until - 1 - s, 0)
    x_e, x_i, x_ce, x_ci = _held(tb, p, model, hh, ie, ii, ce, ci)
    v_b = v + (ie + ii) if model == DELTA else v
    if _bound_general(pp, model, v_b, x_e, x_i, x_ce, x_ci, w, b) <= \
            pp[V_TH] + min(a, 0.0):
        return np.int64(-1)
    v_th = pp[V_TH]
    e_a = pp[E_A]
    for t in range(s + 1, s + HORIZON):
        free = t >= until
        v, ie, ii, ce, ci, w = _step_general(pp, model, free, v, ie, ii, ce, ci, w, b)
        a *= e_a
        if free and v > v_th + a:
            return np.int64(t)
        if (t - s) % 16 == 0 and free and _bound_general(pp, model, v, ie, ii, ce, ci, w,
                                                         b) <= v_th + min(a, 0.0):
            return np.int64(-1)
    return np.int64(s + HORIZON - 1)


@njit(**STEP_JIT_OPTIONS)
def _crossing(E, tb, n, s, gen):
    """The first step after s at which neuron n (at the end of step s) crosses threshold
    without further input: a step within HORIZON, -1 if it never does, or s + HORIZON - 1
    to be looked at again then (a wake-up)."""
    p = np.int64(E[n, POP])
    pp = tb.par[p]
    if gen is not None:
        if pp[MODEL] != PLAIN:
            return _crossing_general(E, tb, n, s, p)
    until = np.int64(E[n, UNTIL])
    v = E[n, V]
    ie = E[n, IE]
    ii = E[n, II]
    b = E[n, BIAS]
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
def _empty(head, tail, nxt, free):
    """Every list emptied, its entries back on the free list."""
    for c in range(head.shape[0]):
        e = head[c]
        while e >= 0:
            x = nxt[e]
            nxt[e] = free[0]
            free[0] = e
            e = x
        head[c] = -1
        tail[c] = -1


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
def _row_now(E, tb, conn, b, lo, hi, s, changed, nc, sink, gen):
    """Synapses lo..hi-1 of block b delivered at step s. A neuron first reached in this
    step (its row still at an earlier step) is advanced and joins ``changed``: every path
    that brings a row to step s does so, so ``E[n, LAST] == s`` means "in the list"."""
    col = II if conn.block_inh[b] != 0 else IE
    w0 = conn.block_w[b]
    if hi - lo >= 16:                 # the rows read first, loads independent of each
        acc = 0.0                     # other: their cache misses overlap (the update loop
        for k in range(lo, hi):       # below would meet them one after the other)
            acc += E[np.int64(conn.target[k]) + conn.target_base, LAST]
        sink[0] = np.int64(acc)
    for k in range(lo, hi):           # the input, written out (a call per event costs)
        n = np.int64(conn.target[k]) + conn.target_base
        if E[n, LAST] < s:
            if gen is None:
                _advance_plain(E, tb, n, s)
            else:
                _advance_to(E, tb, n, s, gen)
            changed[nc] = n
            nc += 1
        E[n, col] += w0 if w0 == w0 else conn.weight[k]
    return nc


@njit(**STEP_JIT_OPTIONS)
def _drive_value(dv, n_blocks, y):
    """(value, inhibitory) of a queued drive input (``y = -1 - n_blocks - code``, code =
    drive + D * (count - 1)): count * weight, as the clock-driven engine adds it."""
    code = -1 - n_blocks - y
    n_dr = dv.start.shape[0]
    d = code % n_dr
    w = dv.weight[d]
    return (code // n_dr + 1) * w, w < 0


@njit(**STEP_JIT_OPTIONS)
def _input_now(E, tb, n, col, x, s, changed, nc, gen):
    """Input x into column ``col`` of neuron n at step s (advanced to it first)."""
    if E[n, LAST] < s:
        if gen is None:
            _advance_plain(E, tb, n, s)
        else:
            _advance_to(E, tb, n, s, gen)
        changed[nc] = n
        nc += 1
    E[n, col] += x
    return nc


@njit(**INNER_JIT_OPTIONS)
def _drives_now(E, tb, dv, ds, wq, due, s, D, n_blocks, dq, changed, nc, gen):
    """The sparse Poisson drives' inputs of step s (after the synapses, as in the
    clock-driven engine): the drive calendar's entries of step s in stream order (drive,
    then target: the clock-driven order of additions), each count * weight into its
    target now (delay 0) or queued for its arrival step; the target's next arrival drawn
    and put in the calendar. Entries of a later lap stay in their bucket (the calendar has
    about two mean gaps of buckets, :func:`drive_buckets`, so an entry is seen about once
    before it is due)."""
    wh, wtl, wn, wa, wb, wfree = wq
    dh, dtl, dn, da, db, dfree = dq
    H = wh.shape[0]
    c = s % H
    e = wh[c]
    keep_h = np.int64(-1)
    keep_t = np.int64(-1)
    m = 0
    while e >= 0:
        nx = wn[e]
        if wb[e] == s:
            if ds.next[wa[e]] == s:       # (else stale: drawn again since)
                due[m] = wa[e]
                m += 1
            wn[e] = wfree[0]
            wfree[0] = e
        else:                             # a later lap of the calendar
            wn[e] = -1
            if keep_t < 0:
                keep_h = e
            else:
                wn[keep_t] = e
            keep_t = e
        e = nx
    wh[c] = keep_h
    wtl[c] = keep_t
    if m > 1:
        due[:m].sort()
    n_dr = dv.start.shape[0]
    d = 0
    for j in range(m):
        x = due[j]
        while d + 1 < n_dr and dv.off[d + 1] <= x:
            d += 1
        k = _arrival_count(ds.rng, x, dv.lam[x], dv.exp_neg_lam[x])
        nxt = _next_arrival(ds.rng, x, dv.lam[x], s + 1)
        ds.next[x] = nxt
        ds.events[0, d] += k
        n = dv.start[d] + (x - dv.off[d])
        w = dv.weight[d]
        if dv.delay[d] == 0:
            nc = _input_now(E, tb, n, II if w < 0 else IE, k * w, s, changed, nc, gen)
        else:
            dn, da, db = _push(dh, dtl, dn, da, db, dfree, (s + dv.delay[d]) % D, n,
                               -1 - n_blocks - (d + n_dr * (k - 1)))
        if nxt < NEVER:
            wn, wa, wb = _push(wh, wtl, wn, wa, wb, wfree, nxt % H, x, nxt)
    return nc, (dh, dtl, dn, da, db, dfree), (wh, wtl, wn, wa, wb, wfree)


@njit(**STEP_JIT_OPTIONS)
def _ring_now(E, tb, st, slot, s, changed, nc, gen):
    """The inputs in ring slot ``slot`` delivered at step s (a scan of every neuron: only
    for the slots that were pending when the rows were loaded)."""
    re = st.ring_exc[slot]
    ri = st.ring_inh[slot]
    for n in range(E.shape[0]):
        if re[n] != 0.0 or ri[n] != 0.0:
            if E[n, LAST] < s:
                _advance_to(E, tb, n, s, gen)
                changed[nc] = n
                nc += 1
            E[n, IE] += re[n]
            E[n, II] += ri[n]
            re[n] = 0.0
            ri[n] = 0.0
    st.ring_used[slot] = 0
    return nc


@njit(**JIT_OPTIONS)
def queue_to_ring(conn, st, q, dv):
    """Every queued delivery added to the ring slot of its arrival step (in the order
    they were sent, as the clock-driven engine sums them) and taken off the queue
    (``dv``: the plan's Drives, or None without)."""
    dh, dtl, dn, da, db, dfree = q[:6]
    n_blocks = conn.block_delay.shape[0]
    base = conn.target_base
    for c in range(dh.shape[0]):
        e = dh[c]
        while e >= 0:
            pre = da[e]
            y = db[e]
            if y < -n_blocks:                 # a drive's input into neuron ``pre``
                if dv is not None:
                    x, inh = _drive_value(dv, n_blocks, y)
                    (st.ring_inh if inh else st.ring_exc)[c, pre] += x
            else:
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
                    ring[c, np.int64(conn.target[k]) + base] += \
                        w0 if w0 == w0 else conn.weight[k]
            st.ring_used[c] = 1
            e = dn[e]
    _empty(dh, dtl, dn, dfree)


@njit(**STEP_JIT_OPTIONS)
def _sample(E, tb, gen, code, i, s):
    """A state monitor's sample (Record codes: 0 v, 1 I_exc, 2 I_inh, 3 State.x entry i,
    5 v of delta synapses with the inputs of the last synapses slot) at the end of step
    s (the neuron advanced to it)."""
    if gen is not None:
        if code == 3:
            n = gen[0][i]
            _advance_to(E, tb, n, s, gen)
            return E[n, gen[1][i]]
    _advance_to(E, tb, i, s, gen)
    if code == 0:
        return E[i, V]
    if code == 1:
        return E[i, IE]
    if code == 2:
        return E[i, II]
    keep = 1.0 if s >= np.int64(E[i, UNTIL]) else 0.0
    return E[i, V] + (E[i, IE] + E[i, II]) * keep


@njit(**JIT_OPTIONS)
def event_advance(conn, src, rec, st, E, tb, gen, q, changed, step0, n_steps,
                  max_rec_per_step, spk_step, spk_node, rec_buf, dv, dstate, due):
    """Run steps ``step0 .. step0+n_steps-1``; as :func:`neurosim.engine.lif.advance`
    (same spikes, counters and samples up to rounding), on the lazily updated rows ``E``.

    ``q``: (delivery heads, tails, pool next/a/b, free head, calendar heads, tails, pool
    next/a/b, free head, drive calendar heads, tails, pool next/a/b, free head) -- the
    calendar's entries must be those of ``E[:, PRED]``, the drive calendar's those of
    ``dstate.next``. ``dv``, ``dstate``: the sparse Poisson drives and their state, or None;
    ``due``: scratch of one entry per drive target.
    Returns ``(steps_done, spikes_written, q)`` (the pools may have grown)."""
    dh, dtl, dn, da, db, dfree, ch, ctl, cn, ca, cb, cfree, wh, wtl, wn, wa, wb, wfree = q
    n_blocks = conn.block_delay.shape[0]
    n_lif = E.shape[0]
    D = tb.ring
    fired = st.fired
    n_spk = np.int64(0)
    for k in range(n_steps):
        if spk_step.shape[0] - n_spk < max_rec_per_step:
            return k, n_spk, (dh, dtl, dn, da, db, dfree, ch, ctl, cn, ca, cb, cfree,
                              wh, wtl, wn, wa, wb, wfree)
        s = step0 + k
        # 1. start: samples at the start of the step (the end of the last one)
        for r in range(rec.var_code.shape[0]):
            i = rec.var_index[r]
            rec_buf[k, r] = _sample(E, tb, gen, rec.var_code[r], i, s - 1)
        nc = np.int64(0)
        # 2. arrivals of this step, in the order they were sent: first those in the ring
        # (sent before the rows were loaded: by the clock-driven engine, or written there
        # when the state was read), then the queue's
        slot = s % D
        if st.ring_used[slot]:
            nc = _ring_now(E, tb, st, slot, s, changed, nc, gen)
        e = dh[slot]
        while e >= 0:
            pre = da[e]
            y = db[e]
            if y < -n_blocks:                 # a sparse drive's input into neuron pre
                if dv is not None:
                    x, inh = _drive_value(dv, n_blocks, y)
                    nc = _input_now(E, tb, pre, II if inh else IE, x, s, changed, nc, gen)
            elif y < 0:
                b = -1 - y
                nc = _row_now(E, tb, conn, b, conn.indptr[0, b, pre],
                              conn.indptr[0, b, pre + 1], s, changed, nc, st.sink, gen)
            else:
                b = y % n_blocks
                syn = y // n_blocks
                nc = _row_now(E, tb, conn, b, syn, syn + 1, s, changed, nc, st.sink,
                              gen)
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
                    _advance_to(E, tb, n, s, gen)    # or not: a wake-up, or a tie the
                    changed[nc] = n              # closed form rounded the other way)
                    nc += 1
                p = np.int64(E[n, POP])
                th = tb.par[p, V_TH]
                if gen is not None:
                    if tb.par[p, HAS_A] != 0.0:
                        th += E[n, A]
                if E[n, V] > th and s >= np.int64(E[n, UNTIL]):
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
                    nc = _row_now(E, tb, conn, b, lo, hi, s, changed, nc, st.sink, gen)
                elif d > 0:
                    dn, da, db = _push(dh, dtl, dn, da, db, dfree, (s + d) % D, pre, -1 - b)
                else:
                    for syn in range(lo, hi):
                        ds = conn.syn_delay[syn]
                        if ds == 0:
                            nc = _row_now(E, tb, conn, b, syn, syn + 1, s, changed,
                                          nc, st.sink, gen)
                        else:
                            dn, da, db = _push(dh, dtl, dn, da, db, dfree, (s + ds) % D,
                                               pre, syn * n_blocks + b)
        if dv is not None:            # the sparse Poisson drives, after the synapses
            nc, dq, wq = _drives_now(E, tb, dv, dstate, (wh, wtl, wn, wa, wb, wfree), due, s, D,
                                     n_blocks, (dh, dtl, dn, da, db, dfree), changed, nc,
                                     gen)
            dh, dtl, dn, da, db, dfree = dq
            wh, wtl, wn, wa, wb, wfree = wq
        # 5. resets, counters, recording
        for f in range(nf):
            node = fired[f]
            st.spike_count[node] += 1
            count_spike(rec, node, s)
            if node < n_lif:
                p = np.int64(E[node, POP])
                pp = tb.par[p]
                th = pp[V_TH]
                if gen is not None:
                    if pp[HAS_A] != 0.0:
                        th += E[node, A]
                        E[node, A] += pp[BETA]
                    if pp[HAS_W] != 0.0:
                        E[node, W] += pp[B_W]
                    if pp[MODEL] == DELTA:   # Brian2: inputs of a neuron's spike step
                        E[node, IE] = 0.0    # are lost (not_refractory is False from
                        E[node, II] = 0.0    # then)
                if pp[SUB] != 0.0:
                    E[node, V] -= th - pp[V_RESET]
                else:
                    E[node, V] = pp[V_RESET]
                E[node, UNTIL] = s + np.int64(pp[REF])      # (in ``changed`` already)
            if rec.spike_mask[node]:
                spk_step[n_spk] = s
                spk_node[n_spk] = node
                n_spk += 1
        for j in range(nc):          # predicted again (a call with reference counting,
            n = changed[j]           # which costs a microsecond, only for an entry)
            if gen is None and np.int64(E[n, UNTIL]) <= s + 1:
                # the plain model, free from the next step: the common "no crossing"
                # without the call of _crossing (which passes the tables, dozens of
                # words: a third of the run's time when it was made for every neuron)
                p = np.int64(E[n, POP])
                if _bound(tb, p, E[n, V], E[n, IE], E[n, II], E[n, BIAS]) <= \
                        tb.par[p, V_TH]:
                    E[n, PRED] = -1.0
                    continue
            t = _crossing(E, tb, n, s, gen)
            E[n, PRED] = t
            if t >= 0:
                cn, ca, cb = _push(ch, ctl, cn, ca, cb, cfree, t % HORIZON, n, t)
    return n_steps, n_spk, (dh, dtl, dn, da, db, dfree, ch, ctl, cn, ca, cb, cfree,
                            wh, wtl, wn, wa, wb, wfree)


@njit(**JIT_OPTIONS)
def load_rows(E, st, prm, gen, step, q):
    """Rows from the clock-driven state ``st`` at the end of step ``step`` (State.x
    through ``gen``, :func:`x_map`); the calendar emptied (every neuron is predicted again
    next). Returns the calendar's pool."""
    ch, ctl, cn, ca, cb, cfree = q[6:12]
    pop_start = prm.pop_start
    for p in range(pop_start.shape[0] - 1):
        for n in range(pop_start[p], pop_start[p + 1]):
            E[n, V] = st.v[n]
            E[n, IE] = st.i_exc[n]
            E[n, II] = st.i_inh[n]
            E[n, LAST] = step
            E[n, UNTIL] = st.ref_until[n]
            E[n, PRED] = -1.0
            E[n, BIAS] = st.bias[n]
            E[n, POP] = p
    if gen is not None:
        xrow, xcol = gen
        for j in range(xrow.shape[0]):
            if xrow[j] >= 0:
                E[xrow[j], xcol[j]] = st.x[j]
    _empty(ch, ctl, cn, cfree)          # the calendar: every entry back on the free list
    return cn, ca, cb


def drive_buckets(dv):
    """Buckets of the drive calendar: a power of two near twice the mean gap between a
    target's inputs (1 / mean rate*dt), so that a bucket holds the entries of about one
    lap, at least HORIZON and at most 4 per target (and 2**22)."""
    lam = dv.lam[dv.lam >= 1e-12]
    if not lam.size:
        return HORIZON
    want = min(2.0 / float(lam.mean()), 4.0 * dv.lam.size, float(1 << 22))
    return max(HORIZON, 1 << int(math.ceil(math.log2(max(want, 1.0)))))


@njit(**JIT_OPTIONS)
def load_drives(ds, wq):
    """The drive calendar from ``ds.next`` (emptied first); returns its pool."""
    wh, wtl, wn, wa, wb, wfree = wq
    _empty(wh, wtl, wn, wfree)
    for x in range(ds.next.shape[0]):
        t = ds.next[x]
        if 0 <= t < NEVER:
            wn, wa, wb = _push(wh, wtl, wn, wa, wb, wfree, t % wh.shape[0], x, t)
    return wn, wa, wb


@njit(**JIT_OPTIONS)
def predict_all(E, tb, q, step, gen):
    """Every neuron (at the end of ``step``) predicted; returns the calendar's pool."""
    ch, ctl, cn, ca, cb, cfree = q[6:12]
    for n in range(E.shape[0]):
        t = _crossing(E, tb, n, step, gen)
        E[n, PRED] = t
        if t >= 0:
            cn, ca, cb = _push(ch, ctl, cn, ca, cb, cfree, t % HORIZON, n, t)
    return cn, ca, cb


@njit(**JIT_OPTIONS)
def store_rows(E, tb, gen, step, st):
    """Every neuron advanced to the end of ``step`` and written to the clock-driven
    state ``st`` (State.x through ``gen``, :func:`x_map`)."""
    for n in range(E.shape[0]):
        _advance_to(E, tb, n, step, gen)
        st.v[n] = E[n, V]
        st.i_exc[n] = E[n, IE]
        st.i_inh[n] = E[n, II]
        st.ref_until[n] = np.int64(E[n, UNTIL])
    if gen is not None:
        xrow, xcol = gen
        for j in range(xrow.shape[0]):
            if xrow[j] >= 0:
                st.x[j] = E[xrow[j], xcol[j]]
