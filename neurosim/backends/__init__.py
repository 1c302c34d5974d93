"""Backends: registry name -> class with ``Runner(plan)``.

Every backend runs the same Plan with the same semantics and exposes
``runner.advance(step0, n_steps, record) -> Chunk``:

* ``"numba"``: the compiled event-driven engine (default);
* ``"reference"``: a slow, obviously correct NumPy implementation used by tests as oracle
  (propagator from the matrix exponential, explicit queue of pending deliveries).
"""

from .base import Chunk
from .numba_backend import NumbaRunner
from .reference import ReferenceRunner

BACKENDS = {
    "numba": NumbaRunner,
    "reference": ReferenceRunner,
}

__all__ = ["BACKENDS", "Chunk", "NumbaRunner", "ReferenceRunner"]
