"""Energy estimates from hardware profiles (``hardware/energy/``) and exact engine counts.

- :func:`estimate` (SNN run -> report per profile; several profiles -> :class:`Comparison`),
- :func:`dense_ann` (dense ANN baseline from layer shapes: :class:`Dense`, :class:`Conv2D`,
  :class:`Pool2D`),
- :func:`load_energy_profile` (a checked profile; also ``neurosim.hardware.load(name)``).
"""

from .dense import Conv2D, Dense, Pool2D, dense_ann, layer_chain
from .estimate import Comparison, EnergyReport, compare, estimate, fmt_energy
from .profiles import EnergyProfile, load_energy_profile

__all__ = ["estimate", "compare", "dense_ann", "Dense", "Conv2D", "Pool2D", "layer_chain",
           "EnergyReport", "Comparison", "EnergyProfile", "load_energy_profile", "fmt_energy"]
