"""Numba compilation flags, in one place.

``cache=True`` keeps compiled kernels on disk (``__pycache__`` next to the module, or
``NUMBA_CACHE_DIR``) so a second process does not compile again. ``fastmath`` stays off:
results must be reproducible bit for bit and match Brian2's IEEE arithmetic.
"""

__all__ = ["JIT_OPTIONS", "PARALLEL_JIT_OPTIONS"]

JIT_OPTIONS = dict(cache=True, fastmath=False, nogil=True)
PARALLEL_JIT_OPTIONS = dict(JIT_OPTIONS, parallel=True)
