"""Numba kernels. This package imports nothing from the rest of neurosim except the
numba configuration: kernels take flat arrays and NamedTuples and never validate."""

__all__ = []
