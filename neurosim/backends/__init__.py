"""Backends: registry name -> class with ``Runner(plan)``.

Every backend runs the same Plan with the same semantics and exposes
``runner.advance(step0, n_steps, record) -> Chunk``:

* ``"numba"``: the compiled event-driven engine (default);
* ``"event"``: the event-driven engine (:mod:`neurosim.engine.event`): a neuron is
  advanced only when an input reaches it, its threshold crossings predicted; for the
  current-based LIF models (exp, alpha, delta synapses, adaptation), one thread;
* ``"reference"``: a slow, obviously correct NumPy implementation used by tests as oracle
  (propagator from the matrix exponential, explicit queue of pending deliveries).
"""

from .base import Chunk
from .event_backend import EventRunner
from .loihi_reference import FixedReferenceRunner
from .numba_backend import FixedNumbaRunner, NumbaRunner
from .reference import ReferenceRunner

BACKENDS = {
    "numba": NumbaRunner,
    "reference": ReferenceRunner,
    "event": EventRunner,
}

#: The same backends for networks of fixed-point (loihi_lif) populations.
FIXED_BACKENDS = {
    "numba": FixedNumbaRunner,
    "reference": FixedReferenceRunner,
}

__all__ = ["BACKENDS", "FIXED_BACKENDS", "Chunk", "NumbaRunner", "ReferenceRunner",
           "FixedNumbaRunner", "FixedReferenceRunner", "EventRunner"]
