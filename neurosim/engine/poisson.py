"""Poisson counts for the Poisson drive (``Network.poisson_input``).

Each target neuron of a drive has its own random stream (one splitmix64 word), so the
counts do not depend on how targets are split over threads. The number of input spikes of a
target in one step is Poisson(lam) with lam = rate * dt, drawn

* by inversion (sequential search from 0) when lam < 10: about 1 + lam uniform-free
  iterations after one uniform draw;
* by Hoermann's transformed rejection with squeeze (PTRS, 1993; numpy's method for lam >= 10)
  otherwise: about 1.15 pairs of uniforms whatever lam,

so the cost per target and step is bounded whatever the rate. With lam < 1e-12 the
drive is off (no draw).

A drive whose every target has lam < :data:`ARRIVALS_BELOW` (sparse input) is drawn as
arrivals instead: each target keeps the step of its next non-zero count
(``DriveState.next``), the number of empty steps before it drawn at once (geometric with
p = 1 - exp(-lam), :func:`neurosim.engine.rng.step_geometric`) and the count at it from
the zero-truncated Poisson(lam) (:func:`arrival_count`). Step by step these are the same
Poisson(lam) counts in distribution (a step's count is 0 with probability exp(-lam), else
zero-truncated Poisson, independently of every other step), at a cost in proportion to the
input spikes: the clock-driven engine compares one integer per target and step, the
event-driven engine (:mod:`.event`) keeps the arrivals in a calendar and touches a target
only when one comes. Each target's stream is drawn in the same order by both engines
(count, then the gap to the next arrival), so they see the same inputs.

A drive whose targets share one lam < 10 (the common case) searches a precomputed table
instead (:func:`cdf_table`): the same cumulative sums, computed by the same recurrence, with
a guide table (Chen & Asau 1974) that starts the search at the right count for the drawn
uniform, so no division is left in the step loop and the counts are those of the inversion
bit for bit.
"""

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from .._config import JIT_OPTIONS, STEP_JIT_OPTIONS
from .rng import step_geometric, step_uniform as uniform

__all__ = ["poisson_count", "PTRS_ABOVE", "ARRIVALS_BELOW", "NEVER", "Drives", "DriveState",
           "deliver_drives", "arrival_count", "first_arrivals"]

#: Mean count from which PTRS is used instead of inversion.
PTRS_ABOVE = 10.0
#: Entries of a drive's guide table (:func:`cdf_table`).
GUIDE = 64
#: A drive whose targets all have lam = rate * dt below this is drawn as arrivals (above
#: it the per-step draw is cheaper than a geometric gap per input spike).
ARRIVALS_BELOW = 0.1
#: ``DriveState.next`` of a target that never receives input (lam < 1e-12).
NEVER = np.int64(2 ** 62)


def cdf_table(lam, exp_neg_lam):
    """(F, G) for drawing Poisson(lam) counts by inversion from a table: F[n] = P(count <=
    n) by the recurrence of :func:`_inversion` (float64, same order of operations), up to
    its cap, then +inf; G[i] = the least n with F[n] >= i/GUIDE, so that the count of a
    uniform u is the first n >= G[floor(u*GUIDE)] with u <= F[n]."""
    cap = 60 + 10.0 * lam
    f = p = float(exp_neg_lam)
    cdf = [f]
    n = 0
    while n < cap:
        n += 1
        p *= lam / n
        f += p
        cdf.append(f)
    cdf[-1] = np.inf                  # the loop of _inversion stops at the cap
    cdf = np.array(cdf)
    guide = np.searchsorted(cdf, np.arange(GUIDE + 1) / GUIDE, side="left").astype(np.int64)
    return cdf, guide


@njit(**STEP_JIT_OPTIONS)
def _inversion(state, k, lam, exp_neg_lam):
    u = uniform(state, k)
    n = 0
    p = exp_neg_lam
    f = p
    cap = 60 + 10.0 * lam          # F reaches 1 - 1e-16 long before; guards rounding
    while u > f and n < cap:
        n += 1
        p *= lam / n
        f += p
    return n


@njit(**STEP_JIT_OPTIONS)
def _ptrs(state, k, lam):
    slam = math.sqrt(lam)
    loglam = math.log(lam)
    b = 0.931 + 2.53 * slam
    a = -0.059 + 0.02483 * b
    invalpha = 1.1239 + 1.1328 / (b - 3.4)
    vr = 0.9277 - 3.6224 / (b - 2.0)
    while True:
        u = uniform(state, k) - 0.5
        v = uniform(state, k)
        us = 0.5 - abs(u)
        if us <= 0.0:
            continue
        n = math.floor((2.0 * a / us + b) * u + lam + 0.43)
        if us >= 0.07 and v <= vr:
            return np.int64(n)
        if n < 0 or (us < 0.013 and v > us):
            continue
        if (math.log(v) + math.log(invalpha) - math.log(a / (us * us) + b)
                <= -lam + n * loglam - math.lgamma(n + 1.0)):
            return np.int64(n)


@njit(**STEP_JIT_OPTIONS)
def _count(state, k, lam, exp_neg_lam):
    """:func:`poisson_count` for the step loop, without reference counting."""
    if lam < 1e-12:
        return np.int64(0)
    if lam < PTRS_ABOVE:
        return np.int64(_inversion(state, k, lam, exp_neg_lam))
    return _ptrs(state, k, lam)


@njit(**JIT_OPTIONS)
def poisson_count(state, k, lam, exp_neg_lam):
    """A Poisson(lam) count from stream ``k`` of ``state`` (``exp_neg_lam`` = exp(-lam))."""
    return _count(state, k, lam, exp_neg_lam)


@njit(**STEP_JIT_OPTIONS)
def _arrival_count(state, k, lam, exp_neg_lam):
    """A zero-truncated Poisson(lam) count (lam < ARRIVALS_BELOW): inversion of a uniform
    on (exp(-lam), 1], searched from 1 with the recurrence of :func:`_inversion`."""
    u = exp_neg_lam - math.expm1(-lam) * uniform(state, k)
    n = 1
    p = lam * exp_neg_lam
    f = exp_neg_lam + p
    while u > f and n < 60:
        n += 1
        p *= lam / n
        f += p
    return np.int64(n)


@njit(**STEP_JIT_OPTIONS)
def _next_arrival(state, k, lam, step):
    """The step of stream k's next non-zero count, from ``step`` on."""
    if lam < 1e-12:
        return NEVER
    g = step_geometric(state, k, -lam)
    return min(step + g, NEVER)


@njit(**JIT_OPTIONS)
def arrival_count(state, k, lam, exp_neg_lam):
    """:func:`_arrival_count`, callable from Python (the reference backend)."""
    return _arrival_count(state, k, lam, exp_neg_lam)


@njit(**JIT_OPTIONS)
def next_arrival(state, k, lam, step):
    """:func:`_next_arrival`, callable from Python (the reference backend)."""
    return _next_arrival(state, k, lam, step)


@njit(**JIT_OPTIONS)
def first_arrivals(dv, ds, d, step):
    """Drive d's targets' next arrivals drawn afresh from ``step`` on (at the build, and
    when its rates change between runs: a Poisson train has no memory), or none when it
    is drawn per step."""
    for s in range(dv.off[d], dv.off[d] + dv.n[d]):
        ds.next[s] = _next_arrival(ds.rng, s, dv.lam[s], step) if dv.arrivals[d] else NEVER


class Drives(NamedTuple):
    """The Poisson drives of a plan (``Network.poisson_input``), one entry per drive d."""
    start: np.ndarray          # int64[D]: first target (LIF index)
    n: np.ndarray              # int64[D]: number of targets
    off: np.ndarray            # int64[D]: offset of drive d's targets in lam / exp_neg_lam
    lam: np.ndarray            # float64[S]: mean count per target and step (rate * dt)
    exp_neg_lam: np.ndarray    # float64[S]: exp(-lam)
    weight: np.ndarray         # float64[D]: added per input spike (V); sign picks the channel
    delay: np.ndarray          # int64[D]: steps from the draw to the arrival
    cdf_off: np.ndarray        # int64[D]: drive d's table in cdf (-1: none, draw by _count)
    cdf: np.ndarray            # float64[.]: cdf_table's F of each drive with a table
    guide_off: np.ndarray      # int64[D]: ... and its G in guide
    guide: np.ndarray          # int64[.]
    arrivals: np.ndarray       # uint8[D]: 1 = drawn as arrivals (every lam < ARRIVALS_BELOW)


class DriveState(NamedTuple):
    """What the drives change while running."""
    rng: np.ndarray            # uint64[S]: one random stream per target of each drive
    events: np.ndarray         # int64[Q, D]: input spikes delivered, per partition
    next: np.ndarray           # int64[S]: step of the next non-zero count (arrival drives)


@njit(**STEP_JIT_OPTIONS)
def deliver_drives(dv, ds, q, lo, hi, i_exc, i_inh, ring_exc, ring_inh, ring_used, step):
    """Input spikes of every drive at ``step`` for the targets ``lo .. hi-1`` (partition
    ``q``): k ~ Poisson(lam) per target, k * weight into its current (delay 0) or into the
    ring slot of step + delay."""
    n_slots = ring_exc.shape[0]
    for d in range(dv.start.shape[0]):
        a = max(dv.start[d], lo)
        b = min(dv.start[d] + dv.n[d], hi)
        if a >= b:
            continue
        w = dv.weight[d]
        delay = dv.delay[d]
        base = dv.off[d] - dv.start[d]
        total = np.int64(0)
        slot = np.int64(0)
        if delay == 0:
            dest = i_exc if w >= 0 else i_inh
        else:
            slot = (step + delay) % n_slots
            dest = ring_exc[slot] if w >= 0 else ring_inh[slot]
        co = dv.cdf_off[d]
        if dv.arrivals[d]:               # sparse: one integer compared per target
            for i in range(a, b):
                s = base + i
                if ds.next[s] == step:
                    k = _arrival_count(ds.rng, s, dv.lam[s], dv.exp_neg_lam[s])
                    dest[i] += k * w
                    total += k
                    ds.next[s] = _next_arrival(ds.rng, s, dv.lam[s], step + 1)
        elif co >= 0:                    # one lam for all: the table (same counts)
            go = dv.guide_off[d]
            for i in range(a, b):
                u = uniform(ds.rng, base + i)
                k = dv.guide[go + np.int64(u * GUIDE)]
                while u > dv.cdf[co + k]:
                    k += 1
                dest[i] += k * w          # k = 0 adds 0.0: no branch to mispredict
                total += k
        else:
            for i in range(a, b):
                s = base + i
                k = _count(ds.rng, s, dv.lam[s], dv.exp_neg_lam[s])
                if k:
                    dest[i] += k * w
                    total += k
        if delay != 0 and total:
            ring_used[slot] = 1
        ds.events[q, d] += total
