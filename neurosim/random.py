"""Random parameter values: weights, delays and per-neuron values drawn from distributions.

Named as NEST's ``nest.random`` (``normal(mean, std)``, ``uniform(min, max)``,
``lognormal(mean, std)`` of the underlying normal). Values are SI, like every parameter::

    net.connect(exc, inh, weight=ns.random.normal(87.8*pA*R, 8.78*pA*R),
                delay=ns.random.normal(1.5*ms, 0.75*ms, low=0.1*ms), p=0.1)

Bounds: ``low``/``high`` with ``bounds="redraw"`` (NEST's redraw: values outside are drawn
again, which gives the truncated distribution) or ``bounds="clip"`` (values outside are set to
the bound). Draws come from the network's seed, one stream per projection and parameter, so
the same seed gives the same values for any thread count and any chunking of runs. Delays
drawn from a distribution are rounded to the time grid after the draw, as NEST does.
"""

import dataclasses
from dataclasses import dataclass

import numpy as np

from .validation import ParameterError, check_choice, check_finite, check_positive, fail

__all__ = ["Distribution", "Sampler", "normal", "uniform", "lognormal", "with_unit"]

#: Redraw rounds before a bounded draw is refused (the bounds hold almost no probability).
MAX_REDRAW_ROUNDS = 1000
#: Largest block of values drawn at once (see :class:`Sampler`).
SAMPLE_BLOCK = 1 << 20


@dataclass(frozen=True)
class Distribution:
    """A validated distribution (make one with :func:`normal`, :func:`uniform`,
    :func:`lognormal`)."""
    kind: str
    a: float
    b: float
    low: float = -np.inf
    high: float = np.inf
    bounds: str = "redraw"

    def _raw(self, rng, n):
        if self.kind == "normal":
            return rng.normal(self.a, self.b, n)
        if self.kind == "uniform":
            return rng.uniform(self.a, self.b, n)
        return rng.lognormal(self.a, self.b, n)

    si: object = None          # dimension of the quantities it was written with (files)
    text: str = ""

    def sample(self, rng, n, name="value"):
        """``n`` values (float64) from ``rng`` (a numpy Generator): the first ``n`` of its
        :class:`Sampler`."""
        return Sampler(self, rng, name).take(n)

    def _block(self, rng, n, name):
        x = self._raw(rng, n)
        if self.bounds == "clip":
            return np.clip(x, self.low, self.high)
        bad = np.flatnonzero((x < self.low) | (x > self.high))
        for _ in range(MAX_REDRAW_ROUNDS):
            if not bad.size:
                return x
            x[bad] = self._raw(rng, bad.size)
            bad = bad[(x[bad] < self.low) | (x[bad] > self.high)]
        raise ParameterError(
            f"{name}: {bad.size} values still outside [{self.low:g}, {self.high:g}] after "
            f"{MAX_REDRAW_ROUNDS} redraws of {self}; the bounds hold almost no probability")

    def lowest(self):
        """The smallest value a draw can give."""
        floor = {"normal": -np.inf, "uniform": self.a, "lognormal": 0.0}[self.kind]
        return max(floor, self.low)

    def highest(self):
        """The largest value a draw can give."""
        top = {"normal": np.inf, "uniform": self.b, "lognormal": np.inf}[self.kind]
        return min(top, self.high)

    def typical(self):
        """Representative values (for plausibility warnings before anything is drawn)."""
        if self.kind == "uniform":
            return np.array([self.a, self.b])
        x = self.a if self.kind == "normal" else np.exp(self.a)
        return np.array([min(max(x, self.low), self.high)])

    def __str__(self):
        names = {"normal": ("mean", "std"), "uniform": ("min", "max"),
                 "lognormal": ("mean", "std")}[self.kind]
        s = f"{self.kind}({names[0]}={self.a:g}, {names[1]}={self.b:g}"
        if np.isfinite(self.low) or np.isfinite(self.high):
            s += f", low={self.low:g}, high={self.high:g}, bounds={self.bounds!r}"
        return s + ")"


class Sampler:
    """Values of ``dist`` from ``rng`` taken in any pieces: drawn in blocks of fixed sizes
    (4096, doubling up to SAMPLE_BLOCK; bounds are applied within a block), so the values do
    not depend on how they are requested (chunks of a build, thread count)."""

    def __init__(self, dist, rng, name="value"):
        self.dist, self.rng, self.name = dist, rng, name
        self.buf = np.zeros(0)
        self.pos = 0
        self.size = 4096

    def take(self, n, keep=None):
        """The next ``n`` values; with ``keep`` (bool[n]) only those it marks, still
        consuming all ``n`` (no array of ``n`` values is made)."""
        out = np.empty(n if keep is None else int(np.count_nonzero(keep)))
        k = o = 0
        while k < n:
            if self.pos == self.buf.shape[0]:
                self.buf = self.dist._block(self.rng, self.size, self.name)
                self.pos = 0
                self.size = min(2 * self.size, SAMPLE_BLOCK)
            m = min(n - k, self.buf.shape[0] - self.pos)
            part = self.buf[self.pos:self.pos + m]
            if keep is not None:
                part = part[keep[k:k + m]]
            out[o:o + part.shape[0]] = part
            o += part.shape[0]
            self.pos += m
            k += m
        return out


def _bounds(low, high, bounds):
    low = -np.inf if low is None else check_finite("low", low)
    high = np.inf if high is None else check_finite("high", high)
    if not low < high:
        fail("high", f"> low = {low:g}", high)
    return low, high, check_choice("bounds", bounds, ("redraw", "clip"))


def normal(mean, std, low=None, high=None, bounds="redraw"):
    """Normal distribution (SI values), optionally bounded (see the module docstring)."""
    return Distribution("normal", check_finite("mean", mean), check_positive("std", std),
                        *_bounds(low, high, bounds))


def uniform(min, max, low=None, high=None, bounds="redraw"):  # noqa: A002 (NEST's names)
    """Uniform distribution on [min, max)."""
    lo, hi = check_finite("min", min), check_finite("max", max)
    if not lo < hi:
        fail("max", f"> min = {lo:g}", hi)
    return Distribution("uniform", lo, hi, *_bounds(low, high, bounds))


def lognormal(mean, std, low=None, high=None, bounds="redraw"):
    """Log-normal distribution: exp of a normal of ``mean`` and ``std`` (NEST's and numpy's
    parameters, those of the underlying normal)."""
    return Distribution("lognormal", check_finite("mean", mean), check_positive("std", std),
                        *_bounds(low, high, bounds))


def with_unit(dist, si, text):
    """``dist`` remembering the dimension its values were written with (network files), so
    that validation refuses a current where a voltage is meant."""
    return dataclasses.replace(dist, si=si, text=text)
