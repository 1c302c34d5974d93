"""Population handles returned by ``Network.lif``, ``spike_source`` and ``poisson``."""

import numpy as np

from .validation import per_neuron

__all__ = ["Population", "LIFPopulation", "LoihiLIFPopulation", "SpikeSourcePopulation",
           "PoissonPopulation"]


class Population:
    """A group of neurons of one kind in a :class:`~neurosim.Network`.

    Attributes
    ----------
    net : Network
    spec : dataclass
        The validated specification (see :mod:`neurosim.models`).
    name : str
    n : int
    """
    kind = "population"
    variables = ()

    def __init__(self, net, spec, name):
        self.net = net
        self.spec = spec
        self.name = name
        self.n = spec.n

    def __len__(self):
        return self.n

    def __repr__(self):
        return f"{type(self).__name__}(name={self.name!r}, n={self.n})"


class LIFPopulation(Population):
    """LIF neurons (see :mod:`neurosim.models.lif` for the equations)."""
    kind = "lif"
    variables = ("v", "I_exc", "I_inh")

    def _state(self, var):
        return self.net._read_state(self, var)

    @property
    def v(self):
        """Membrane potential now (V), a copy."""
        return self._state("v")

    @property
    def I_exc(self):
        """Excitatory synaptic current now (V), a copy."""
        return self._state("I_exc")

    @property
    def I_inh(self):
        """Inhibitory synaptic current now (V), a copy."""
        return self._state("I_inh")

    @property
    def bias(self):
        """Constant input I_bias per neuron (V); settable between runs."""
        return self._state("bias")

    @bias.setter
    def bias(self, value):
        self.net._write_bias(self, per_neuron("bias", value, self.n, "V"))


class LoihiLIFPopulation(Population):
    """Fixed-point LIF neurons as Lava's Loihi models (see :mod:`neurosim.models.loihi`)."""
    kind = "loihi_lif"
    variables = ("u", "v")

    @property
    def u(self):
        """Synaptic current register now (int64 copy)."""
        return self.net._read_state(self, "u")

    @property
    def v(self):
        """Membrane voltage register now (int64 copy)."""
        return self.net._read_state(self, "v")

    @property
    def bias_mant(self):
        """Bias mantissa per neuron (int64); settable between runs (takes effect next step)."""
        return self.net._read_state(self, "bias_mant")

    @bias_mant.setter
    def bias_mant(self, value):
        from .validation import int_per_neuron
        self.net._write_bias_mant(self, int_per_neuron("bias_mant", value, self.n,
                                                       -2**15, 2**15 - 1))


class SpikeSourcePopulation(Population):
    """Neurons that spike at given times."""
    kind = "spike_source"


class PoissonPopulation(Population):
    """Independent Poisson spike trains."""
    kind = "poisson"

    @property
    def rate(self):
        return np.array(self.spec.rate)
