"""Loihi: quantization of float networks, mapping onto neurocores, export to Lava.

The fixed-point neurons themselves are ``Network.loihi_lif`` (see
:mod:`neurosim.models.loihi`); the Lava exporter is :mod:`neurosim.export.lava`.
"""

from .mapping import CoreMapping, load_chip, map_to_cores
from .quantize import QuantizationReport, Quantized, freeze_inputs, quantize

__all__ = ["quantize", "freeze_inputs", "Quantized", "QuantizationReport", "map_to_cores", "CoreMapping",
           "load_chip"]
