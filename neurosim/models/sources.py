"""Input populations: spike sources with given times and Poisson sources."""

from dataclasses import dataclass

import numpy as np

__all__ = ["SpikeSourceSpec", "PoissonSpec"]


@dataclass(frozen=True, eq=False)
class SpikeSourceSpec:
    """Neurons that spike at given steps.

    Attributes
    ----------
    n : int
        Number of source neurons.
    steps : numpy.ndarray
        int64 step of each spike (time / dt, on the grid).
    indices : numpy.ndarray
        int64 neuron of each spike, in [0, n).
    """
    n: int
    steps: np.ndarray
    indices: np.ndarray


@dataclass(frozen=True, eq=False)
class PoissonSpec:
    """Independent Poisson (Bernoulli per step, p = rate*dt) spike trains.

    Attributes
    ----------
    n : int
        Number of neurons.
    rate : numpy.ndarray
        Rate per neuron (Hz), shape (n,).
    """
    n: int
    rate: np.ndarray

    @property
    def homogeneous(self):
        return bool(np.all(self.rate == self.rate[0])) if self.n else True
