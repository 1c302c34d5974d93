"""Memristor crossbars (in progress): device presets of ``hardware/memristor/`` and their
laws. ``load_device(name)`` (or ``neurosim.hardware.load(name, kind="memristor")``)."""

from .devices import Device, load_device

__all__ = ["Device", "load_device"]
