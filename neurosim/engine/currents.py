"""Current sources (``Network.current_source``): a schedule of bias changes in the step loop.

A source k injects a piecewise-constant current into its targets (LIF indices): from the
step of its change r on, target j receives ``amp[ev_amp[r]]`` (one amplitude for every
target) or ``amp[ev_amp[r] + j]`` (one per target), until its next change. The changes of
every source are one table sorted by step (ties in source order); a pointer in the state
marks the next change, so a step without one costs one comparison, whatever the number of
sources, and a chunked run reads the table exactly as one long run.

At the start of step s (before the groups slot) every change of step s sets its source's
current on each target (``cur``, one value per (source, target) pair, a *slot*) and
recomputes the bias of those targets::

    bias[t] = nrn_base[t] + cur[slot_1] + cur[slot_2] + ...     (float64, then the dtype)

over the slots of neuron t in source order, so several sources on one neuron add in a fixed
order and a neuron whose sources are back at 0 has exactly its own bias again (no running
sum of differences that would drift). A source none of whose targets has another source
(the common case) writes ``nrn_base[t] + amplitude`` straight into the bias of its targets
(a contiguous pass when they are consecutive neurons): about the cost of one more read and
write of the bias per target and change. The update then reads ``bias`` as any other bias: a
population that has a change within a call of the step loop reads it per neuron in that
call (not the shared value of ``engine.lif._shared_bias``, taken once per call).
"""

from typing import NamedTuple

import numpy as np
from numba import njit

from .._config import STEP_JIT_OPTIONS

__all__ = ["Currents", "CurrentState", "apply_currents", "unshare_bias"]


class Currents(NamedTuple):
    """The current sources of a plan (built by :func:`neurosim.currents.lower_currents`)."""
    ev_step: np.ndarray        # int64[R]: step of each change, ascending
    ev_src: np.ndarray         # int64[R]: its source
    ev_amp: np.ndarray         # int64[R]: offset of its amplitude(s) in amp
    amp: np.ndarray            # float64[A]: amplitudes (V)
    per: np.ndarray            # uint8[K]: 1 = one amplitude per target, 0 = one for all
    tgt_off: np.ndarray        # int64[K+1]: slots of source k are tgt_off[k] .. tgt_off[k+1]-1
    slot_nrn: np.ndarray       # int64[S]: targeted neuron (index into nrn) of each slot
    nrn: np.ndarray            # int64[U]: LIF index of each targeted neuron
    nrn_base: np.ndarray       # float64[U]: its own bias I_bias (V)
    nrn_ptr: np.ndarray        # int64[U+1]: slots of targeted neuron u ...
    nrn_slot: np.ndarray       # int64[S]: ... are nrn_slot[nrn_ptr[u]:nrn_ptr[u+1]]
    src_pop: np.ndarray        # int64[K]: LIF population of source k's targets
    solo: np.ndarray           # uint8[K]: 1 = no target of source k has another source
    contig: np.ndarray         # int64[K]: LIF index of the first target when the targets
                               # are consecutive ascending neurons, else -1
    slot_lif: np.ndarray       # int64[S]: LIF index of each slot's neuron
    slot_base: np.ndarray      # float64[S]: its own bias


class CurrentState(NamedTuple):
    """What the current sources change while running."""
    next: np.ndarray           # int64[1]: the first change not applied yet
    cur: np.ndarray            # float64[S]: current of each slot (V)


@njit(**STEP_JIT_OPTIONS)
def _rebias(cc, cs, bias, u):
    total = cc.nrn_base[u]
    for j in range(cc.nrn_ptr[u], cc.nrn_ptr[u + 1]):
        total += cs.cur[cc.nrn_slot[j]]
    bias[cc.nrn[u]] = total


@njit(**STEP_JIT_OPTIONS)
def apply_currents(cc, cs, bias, step):
    """The changes of ``step`` (and any earlier one not applied) into ``cur`` and ``bias``."""
    r = cs.next[0]
    n_ev = cc.ev_step.shape[0]
    while r < n_ev and cc.ev_step[r] <= step:
        k = cc.ev_src[r]
        a = cc.ev_amp[r]
        lo = cc.tgt_off[k]
        hi = cc.tgt_off[k + 1]
        if cc.solo[k]:
            _solo(cc, bias, k, a, lo, hi)
        else:
            if cc.per[k]:
                for s in range(lo, hi):
                    cs.cur[s] = cc.amp[a + s - lo]
            else:
                x = cc.amp[a]
                for s in range(lo, hi):
                    cs.cur[s] = x
            for s in range(lo, hi):
                _rebias(cc, cs, bias, cc.slot_nrn[s])
        r += 1
    cs.next[0] = r


@njit(**STEP_JIT_OPTIONS)
def _solo(cc, bias, k, a, lo, hi):
    """A change of a source whose targets have no other source: bias = own + amplitude
    (the sum of :func:`_rebias` with one term), a plain pass over its targets (``cur`` is
    not kept: no other source's change reads it)."""
    base = cc.slot_base[lo:hi]
    c = cc.contig[k]
    if c >= 0:
        dest = bias[c:c + hi - lo]
        if cc.per[k]:
            amp = cc.amp[a:a + hi - lo]
            for j in range(hi - lo):
                dest[j] = base[j] + amp[j]
        else:
            x = cc.amp[a]
            for j in range(hi - lo):
                dest[j] = base[j] + x
    else:
        lif = cc.slot_lif[lo:hi]
        if cc.per[k]:
            amp = cc.amp[a:a + hi - lo]
            for j in range(hi - lo):
                bias[lif[j]] = base[j] + amp[j]
        else:
            x = cc.amp[a]
            for j in range(hi - lo):
                bias[lif[j]] = base[j] + x


@njit(**STEP_JIT_OPTIONS)
def unshare_bias(cc, cs, b0, step0, n_steps):
    """The populations whose bias a change of steps step0 .. step0+n_steps-1 will set read
    their bias per neuron in this call of the step loop (``b0`` nan: the shared value of
    ``engine.lif._shared_bias``, taken at its start, would be stale); the others keep it (a
    DC source changes nothing after its first step)."""
    r = cs.next[0]
    while r < cc.ev_step.shape[0] and cc.ev_step[r] < step0 + n_steps:
        b0[cc.src_pop[cc.ev_src[r]]] = np.nan
        r += 1
