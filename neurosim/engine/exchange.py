"""The spike exchange between processes (MPI ranks), called from inside the step loop.

Under MPI every rank integrates only its own range of LIF neurons; at each step, between the
thresholds and the synapses slot, the ranks swap their spikes so that every rank delivers
and counts the step's whole fired list (:mod:`neurosim.mpi`). The compiled loop calls
:func:`exchange_spikes`, which leaves compiled code for the Python function that the
process has installed in ``HOOK[0]`` (one collective per step, about 2 us of boxing on top
of it, measured). The hook receives ``(fired, offset, n)`` -- this rank's spikes are
``fired[offset:offset + n]``, ascending -- writes the global list, ranks in rank order, to
``fired[0:total]`` and returns ``total``.

With an exchange interval of L > 1 steps (every delay at least L steps), the loop calls
:func:`exchange_block` once per interval instead: the hook in ``BLOCK_HOOK[0]`` receives
``(own, counts)`` -- this rank's spikes of the interval's steps, step after step, and how
many of them belong to each step -- and returns ``(every, ptr)``: every rank's spikes,
step after step (within a step, ranks in rank order), those of step j at
``every[ptr[j]:ptr[j + 1]]``.

This module imports nothing from MPI: a network that runs in one process passes ``None``
for the kernel's exchange argument and the call is compiled away.
"""

import numba
from numba import njit

from .._config import INNER_JIT_OPTIONS

__all__ = ["HOOK", "BLOCK_HOOK", "exchange_spikes", "exchange_block"]

#: The exchange function of this process (set by neurosim.mpi before a distributed run).
HOOK = [None]
#: Its exchange of a whole interval of steps (likewise).
BLOCK_HOOK = [None]


def _call_hook(fired, offset, n):
    return int(HOOK[0](fired, offset, n))


@njit(**dict(INNER_JIT_OPTIONS, cache=False))
def exchange_spikes(fired, offset, n):
    """This rank's ``n`` spikes at ``fired[offset:]`` -> every rank's, at ``fired[0:]``;
    returns their number."""
    with numba.objmode(total="int64"):
        total = _call_hook(fired, offset, n)
    return total


def _call_block_hook(own, counts):
    every, ptr = BLOCK_HOOK[0](own, counts)
    return every, ptr


@njit(**dict(INNER_JIT_OPTIONS, cache=False))
def exchange_block(own, counts):
    """This rank's spikes of an interval (``counts[j]`` of them at step j, in order) ->
    ``(every, ptr)``: every rank's, step j's at ``every[ptr[j]:ptr[j + 1]]``."""
    with numba.objmode(every="int32[::1]", ptr="int64[::1]"):
        every, ptr = _call_block_hook(own, counts)
    return every, ptr
