"""Poisson drives: independent Poisson input per target neuron, not neurons.

``net.poisson_input(target, rate, weight, delay)`` gives every neuron of ``target`` its own
Poisson train of ``rate`` (Hz, scalar or per neuron, any value: several spikes may arrive
in one step); each input spike adds ``weight`` (V; w >= 0 into I_exc, w < 0 into I_inh) to
the neuron's synaptic input ``delay`` after the step it is drawn in. This is NEST's
``poisson_generator`` connected to every target with one weight and delay (each target
gets an independent train) and Brian2's ``PoissonInput`` (Brian2's ``N`` inputs of rate r
are one drive of rate N*r: a sum of independent Poisson trains is a Poisson train).

Within a step (the engine's schedule, :mod:`neurosim.engine.lif`): the counts of step n are
drawn in the synapse phase of step n, after the thresholds, like the spikes of a source
population connected with the same delay; with delay 0 they enter the currents at once and
act on v from step n + 1. The count of a target in a step is Poisson(rate * dt), drawn from
that target's own random stream (so results do not depend on the thread count), at a cost
per target and step that does not grow with the rate (:mod:`neurosim.engine.poisson`). A
sparse drive (rate * dt < 0.1 at every target: below 1 kHz at dt = 0.1 ms) is drawn as
arrivals, the step of each target's next input drawn at once: the same Poisson counts in
distribution, at a cost in proportion to its input spikes, which is what lets the
event-driven engine (``backend="event"``) run it.
Input spikes count as synaptic events of the drive (``net.counts().projections[name]``),
which the energy estimates charge as any other.
"""

import math

import numpy as np

from .engine.poisson import ARRIVALS_BELOW, GUIDE, PTRS_ABOVE, Drives, DriveState, cdf_table, \
    first_arrivals
from .validation import Sealed, check_dimension, check_finite, fail, per_neuron, \
    steps_on_grid, warn_implausible

__all__ = ["PoissonInput", "lower_drives", "start_drives", "set_arrivals"]


class PoissonInput(Sealed):
    """A Poisson drive into a LIF population (create with ``Network.poisson_input``).

    ``rate`` can be changed between runs (``drive.rate = ...``); other attributes are fixed.
    """
    kind = "poisson_input"

    def __init__(self, net, target, rate, weight, delay, name):
        self.net = net
        self.post = target
        self.name = name
        self._rate = _rates(rate, target.n)
        check_dimension("weight", weight, "V")
        self.weight = check_finite("weight", weight, "V")
        warn_implausible("weight", self.weight, "V")
        self.delay_steps = int(steps_on_grid("delay", delay, net.dt))
        self._seal()

    @property
    def n(self):
        return self.post.n

    @property
    def rate(self):
        """Rate per target neuron (Hz), a read-only copy; assign to change between runs."""
        r = self._rate.copy()
        r.flags.writeable = False
        return r

    @rate.setter
    def rate(self, value):
        rates = _rates(value, self.post.n)
        lam = float(rates.max(initial=0.0)) * self.net.dt
        if self.net.backend == "event" and lam >= ARRIVALS_BELOW:
            fail("rate", f"below {ARRIVALS_BELOW / self.net.dt:g} Hz (rate * dt < "
                 f"{ARRIVALS_BELOW:g}) at every target of drive {self.name!r} while the "
                 "event-driven engine runs the network", float(rates.max()))
        self._rate[:] = rates
        self.net._drive_rates_changed(self)

    def __repr__(self):
        return f"PoissonInput({self.name!r} -> {self.post.name}, n={self.n})"


def _rates(rate, n):
    r = per_neuron("rate", rate, n, "Hz")
    if r.size and r.min() < 0:
        fail("rate", ">= 0 Hz", float(r.min()))
    return r


def lambdas(drive, dt):
    """(lam, exp(-lam)) per target of ``drive``."""
    lam = drive._rate * dt
    return lam, np.exp(-lam)


def table_of(lam, exp_neg_lam):
    """The count table of a drive whose targets share one lam in [1e-12, PTRS_ABOVE)
    (:func:`neurosim.engine.poisson.cdf_table`), else None (each target draws by
    inversion or PTRS)."""
    if not lam.size or np.any(lam != lam[0]) or not 1e-12 <= lam[0] < PTRS_ABOVE:
        return None
    return cdf_table(float(lam[0]), float(exp_neg_lam[0]))


#: Room for one drive's count table: the longest (lam just below PTRS_ABOVE) and its +inf.
CDF_SLOT = int(math.ceil(60 + 10 * PTRS_ABOVE)) + 2


def set_table(dv, d, lam, exp_neg_lam):
    """Drive d's count table into its fixed slot of ``dv`` (at the build, and again when
    its rate changes between runs), or none when its targets' lam differ."""
    t = table_of(lam, exp_neg_lam)
    if t is None:
        dv.cdf_off[d] = -1
        return
    cdf, guide = t
    c0, g0 = d * CDF_SLOT, d * (GUIDE + 1)
    dv.cdf[c0:c0 + CDF_SLOT] = np.inf
    dv.cdf[c0:c0 + cdf.size] = cdf
    dv.guide[g0:g0 + guide.size] = guide
    dv.cdf_off[d], dv.guide_off[d] = c0, g0


def lower_drives(drives, start, n_parts, seed_of):
    """Drives and their fresh DriveState: ``start`` maps populations to their first LIF
    index, ``seed_of(k)`` is the random seed of drive k."""
    n = np.array([d.n for d in drives], np.int64)
    off = np.zeros(len(drives), np.int64)
    if len(drives):
        off[1:] = np.cumsum(n)[:-1]
    parts = [lambdas(d, d.net.dt) for d in drives]
    cat = lambda xs: np.concatenate(xs) if xs else np.zeros(0)  # noqa: E731
    k = len(drives)
    dv = Drives(start=np.array([start[d.post] for d in drives], np.int64), n=n, off=off,
                lam=cat([p[0] for p in parts]), exp_neg_lam=cat([p[1] for p in parts]),
                weight=np.array([d.weight for d in drives], np.float64),
                delay=np.array([d.delay_steps for d in drives], np.int64),
                cdf_off=np.full(k, -1, np.int64), cdf=np.full(k * CDF_SLOT, np.inf),
                guide_off=np.full(k, -1, np.int64),
                guide=np.zeros(k * (GUIDE + 1), np.int64),
                arrivals=np.zeros(k, np.uint8))
    for d, (lam, e) in enumerate(parts):
        set_table(dv, d, lam, e)
    rng = [np.random.SeedSequence(seed_of(k)).generate_state(d.n, np.uint64)
           for k, d in enumerate(drives)]
    ds = DriveState(rng=np.concatenate(rng) if rng else np.zeros(0, np.uint64),
                    events=np.zeros((n_parts, len(drives)), np.int64),
                    next=np.full(int(n.sum()), -1, np.int64))
    for d in range(k):
        _mode(dv, d)
    return dv, ds


def _mode(dv, d):
    """Whether drive d is drawn as arrivals: every target's lam below ARRIVALS_BELOW
    (sparse input, :mod:`neurosim.engine.poisson`)."""
    lam = dv.lam[dv.off[d]:dv.off[d] + dv.n[d]]
    dv.arrivals[d] = bool(lam.size) and float(lam.max()) < ARRIVALS_BELOW


def start_drives(dv, ds):
    """The first arrivals of a fresh DriveState (a copy of the plan's, whose streams have
    drawn nothing yet): every runner calls it when it is made, so a reset draws what a
    new build with the rates of now would."""
    for d in range(dv.start.shape[0]):
        first_arrivals(dv, ds, np.int64(d), np.int64(0))
    return ds


def set_arrivals(dv, ds, d, step):
    """Drive d's mode for its new rates, and its targets' next arrivals drawn from
    ``step`` on (its rates changed between runs; a Poisson train has no memory)."""
    _mode(dv, d)
    first_arrivals(dv, ds, np.int64(d), np.int64(step))
