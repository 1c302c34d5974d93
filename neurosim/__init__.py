"""neurosim: an event-driven spiking neural network simulator for neuromorphic hardware.

Quick start::

    import neurosim as ns
    from neurosim.units import ms, mV
    net = ns.Network(dt=0.1*ms, seed=1)
    exc = net.lif(n=100, tau_m=20*ms, tau_syn=5*ms, v_rest=-49*mV, v_th=-50*mV,
                  v_reset=-60*mV, t_ref=2*ms)
    sp = net.spike_monitor(exc)
    net.run(200*ms)
"""

from . import convert, energy, hardware, loihi, nets, random, rules, units
from .layered import LayerNetwork
from .counters import Counts, CountMonitor
from .monitors import SpikeMonitor, StateMonitor
from .network import InsufficientMemoryError, Network, NetworkError
from .populations import (
    LIFPopulation, LoihiLIFPopulation, PoissonPopulation, Population, SpikeSourcePopulation,
)
from .projections import Projection
from .results import Results, load_results, save_results
from .netfile import NetworkFileError, load_network
from .sweep import sweep
from .validation import InsufficientDiskError, ParameterError, UnitWarning, abstract_units

__version__ = "0.1.0"

__all__ = [
    "Network", "NetworkError", "InsufficientMemoryError", "InsufficientDiskError", "ParameterError", "Population", "LIFPopulation",
    "LoihiLIFPopulation",
    "SpikeSourcePopulation", "PoissonPopulation", "Projection", "SpikeMonitor",
    "StateMonitor", "CountMonitor", "Counts", "units", "loihi", "energy", "convert",
    "hardware", "__version__", "load_results", "save_results", "Results", "load_network",
    "NetworkFileError", "UnitWarning", "abstract_units", "random", "rules", "nets",
    "LayerNetwork", "nir", "export", "sweep",
]


def __getattr__(name):
    """``ns.nir`` (needs the optional ``nir`` package) and ``ns.export`` are imported on
    first use."""
    if name in ("nir", "export"):
        import importlib
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'neurosim' has no attribute {name!r}")
