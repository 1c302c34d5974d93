"""Neuron and source specifications (frozen dataclasses, SI units), declared once.

Backends implement them: the NumPy reference (``backends.reference``) and the Numba engine
(``engine``). ``MODELS`` maps a spec class to its kind name used by the plan builder.
"""

from .lif import LIFSpec, lif_propagator
from .sources import PoissonSpec, SpikeSourceSpec

__all__ = ["LIFSpec", "SpikeSourceSpec", "PoissonSpec", "lif_propagator"]
