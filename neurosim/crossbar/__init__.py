"""Memristor crossbars: device presets (``hardware/memristor/``), arrays holding weight
matrices with their non-idealities (:class:`Crossbar`), IR-drop solvers, and crossbar
synapses with on-chip learning in networks (``Network.connect(..., synapse=Crossbar(...),
plasticity=STDP(...))``)."""

from .array import Crossbar, Tile
from .devices import Device, load_device
from .irdrop import IRDropError, IRDropWarning, solve_exact, solve_iterative
from .plasticity import STDP

__all__ = ["Crossbar", "Tile", "Device", "load_device", "STDP", "solve_exact",
           "solve_iterative", "IRDropError", "IRDropWarning"]
