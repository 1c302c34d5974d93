"""Current sources: piecewise-constant currents injected into LIF neurons.

``net.current_source(target, times, amplitudes, indices=None)`` injects into neurons
``indices`` of the LIF population ``target`` (all by default) a current in the units of
the bias I_bias (V: currents multiplied by R_m, as every current of
:mod:`neurosim.models.lif`; the same for ``cond_exp`` populations, whose bias enters
v_inf as g_L (v_rest + I_bias)). Times (s) are strictly increasing and on the dt grid;
``amplitudes`` holds one amplitude per time, shape ``(len(times),)`` (the same for every
target) or ``(len(times), len(indices))``. The amplitude given at time t_k applies from
step ``round(t_k/dt)`` on, until the next time: it is added to I_bias in the integration of
that step (a step current of amplitude A from t_k moves v at the end of step k by
(1 - exp(-dt/tau_m)) A, exactly). Before the first time the source adds 0; after the last
one its last amplitude stays. Several sources on one neuron add.

Between runs ``src.times`` and ``src.amplitudes`` can be replaced (or both at once with
``src.set(times=..., amplitudes=...)``), validated as at creation: the new schedule acts
from the next step to run on (the amplitude in effect then is the one of the last time
<= now; earlier steps are not run again). Sources can also be added after a run.

In the engine (:mod:`neurosim.engine.currents`) the changes of every source are one table
sorted by step, applied at the start of each step to the bias of the targets: a source with
few changes (DC, steps) costs one comparison a step, one that changes every step (an AC
current sampled per step) a pass over its targets, and a chunked run is the same as one
long run. A population with targets reads its bias per neuron in the update (the kernel's
shared-bias shortcut does not apply to it). ``pop.bias`` stays the neuron's own bias,
without the injected currents. Operation counts and energy estimates are unchanged (the
update of a neuron costs the same with or without a current).
"""

import numpy as np

from .engine.currents import CurrentState, Currents
from .populations import _frozen
from .validation import Sealed, check_finite_array, fail, steps_on_grid, warn_implausible

__all__ = ["CurrentSource", "lower_currents", "effective_bias", "table_bytes"]


class CurrentSource(Sealed):
    """A piecewise-constant current into LIF neurons (create with
    ``Network.current_source``; see :mod:`neurosim.currents`).

    ``times`` and ``amplitudes`` can be replaced between runs; other attributes are fixed.
    """
    kind = "current_source"

    def __init__(self, net, target, times, amplitudes, indices, name):
        self.net = net
        self.target = target
        self.name = name
        self._indices = _indices(indices, target.n)
        self._steps, self._times, self._amps = _schedule(times, amplitudes,
                                                         self._indices.size, net.dt)
        self._seal()

    @property
    def n(self):
        """Number of target neurons."""
        return int(self._indices.size)

    @property
    def indices(self):
        """Target neurons (int64, positions in ``target``), a read-only copy."""
        return _frozen(self._indices.copy())

    @property
    def times(self):
        """Times of the changes (s), a read-only copy; assign to replace them between runs.
        Assigning times and amplitudes one after the other may pass through a pair of
        different lengths: each is checked on its own when assigned, the pair at the next
        run (or use :meth:`set` to replace both at once)."""
        return _frozen(self._times.copy())

    @times.setter
    def times(self, value):
        self._steps, self._times = _times(value, self.net.dt)
        self._changed()

    @property
    def amplitudes(self):
        """Amplitudes (V), shape (len(times),) or (len(times), n), a read-only copy;
        assign to replace them between runs (see ``times``)."""
        return _frozen(self._amps.copy())

    @amplitudes.setter
    def amplitudes(self, value):
        self._amps = _amplitudes(value, self.n)
        self._changed()

    def set(self, times=None, amplitudes=None):
        """Replace the times, the amplitudes or both, validated together as at creation;
        the new schedule acts from the next step to run on."""
        steps, t, a = _schedule(self._times if times is None else times,
                                self._amps if amplitudes is None else amplitudes,
                                self.n, self.net.dt)
        self._steps, self._times, self._amps = steps, t, a
        self._changed()

    def _changed(self):
        if self._amps.shape[0] == self._steps.size:
            self.net._require_currents(self, self._steps.size, self._amps.size)
            self.net._currents_changed()

    def _check(self):
        """Times and amplitudes of the same length (checked before a run)."""
        _pair(self._steps, self._amps, self.n, f"{self.name}: amplitudes.shape")

    def __repr__(self):
        return (f"CurrentSource({self.name!r} -> {self.target.name}, n={self.n}, "
                f"{self._steps.size} changes)")


def _indices(indices, n):
    """Target positions: every neuron, or distinct integers in [0, n-1] (order kept: it is
    the order of the amplitude columns)."""
    if indices is None:
        return np.arange(n, dtype=np.int64)
    arr = check_finite_array("indices", indices)
    if arr.ndim != 1 or arr.size == 0:
        fail("indices", "a non-empty 1-D list of neuron indices", arr)
    if np.any(arr != np.round(arr)) or arr.min() < 0 or arr.max() >= n:
        bad = arr[(arr != np.round(arr)) | (arr < 0) | (arr >= n)][0]
        fail("indices", f"integers in [0, {n - 1}]", float(bad))
    idx = arr.astype(np.int64)
    u, c = np.unique(idx, return_counts=True)
    if np.any(c > 1):
        fail("indices", "distinct (one amplitude column per neuron)", int(u[c > 1][0]),
             "listed twice")
    return idx


def _times(times, dt):
    """(steps, times) of a source: 1-D, on the dt grid, strictly increasing."""
    t = check_finite_array("times", times, unit="s")
    if t.ndim != 1:
        fail("times", "a 1-D array of times (s)", t.shape, "shape")
    steps = steps_on_grid("times", t, dt)
    if steps.size > 1 and np.any(np.diff(steps) <= 0):
        i = int(np.flatnonzero(np.diff(steps) <= 0)[0])
        fail("times", "strictly increasing (sorted, at most one amplitude per step)",
             float(t[i + 1]), f"after {t[i]:g} s")
    return steps, t.astype(np.float64, copy=True)


def _amplitudes(amplitudes, m):
    """Amplitudes (V) of a source with ``m`` targets: one per time, or one per time and
    target."""
    a = check_finite_array("amplitudes", amplitudes, unit="V")
    if a.ndim not in (1, 2) or (a.ndim == 2 and a.shape[1] != m):
        fail("amplitudes.shape", f"(k,) (one amplitude per time, for every target) or "
             f"(k, {m}) (per time and target)", a.shape)
    warn_implausible("amplitudes", a, "V")
    return np.ascontiguousarray(a, np.float64).copy()


def _pair(steps, a, m, name="amplitudes.shape"):
    if a.shape[0] != steps.size:
        fail(name, f"({steps.size},) or ({steps.size}, {m}) (one row per time)", a.shape)


def _schedule(times, amplitudes, m, dt):
    """(steps, times, amplitudes) of a source with ``m`` targets, validated."""
    steps, t = _times(times, dt)
    a = _amplitudes(amplitudes, m)
    _pair(steps, a, m)
    return steps, t, a


def table_bytes(n_changes, n_amplitudes, n_targets):
    """Bytes of a source's part of the engine's table: 24 per change (step, source,
    offset), 8 per amplitude, 72 per target (slot and neuron indices, current, bias)."""
    return 24 * n_changes + 8 * n_amplitudes + 72 * n_targets


def lower_currents(sources, start, lifs, dtype, step):
    """The engine's table of ``sources`` (:class:`~neurosim.engine.currents.Currents`) and
    its state at ``step`` (the changes before it applied), or (None, None) without sources.
    ``start`` maps populations to their first LIF index, ``lifs`` are the plan's LIF
    populations in order (their ``spec.bias`` is the neurons' own bias)."""
    if not sources:
        return None, None
    i64 = lambda x: np.asarray(x, dtype=np.int64)  # noqa: E731
    sizes = [s.n for s in sources]
    tgt_off = i64(np.concatenate([[0], np.cumsum(sizes)]))
    lif_of = [start[s.target] + s._indices for s in sources]
    slot_lif = np.concatenate(lif_of)
    nrn, slot_nrn = np.unique(slot_lif, return_inverse=True)
    nrn_ptr = np.zeros(nrn.size + 1, np.int64)
    nrn_ptr[1:] = np.cumsum(np.bincount(slot_nrn, minlength=nrn.size))
    widths = [s.n if s._amps.ndim == 2 else 1 for s in sources]
    amp_base = np.concatenate([[0], np.cumsum([s._amps.size for s in sources])])
    ev_step = np.concatenate([s._steps for s in sources])
    ev_src = np.concatenate([np.full(s._steps.size, k) for k, s in enumerate(sources)])
    ev_amp = np.concatenate([amp_base[k] + np.arange(s._steps.size) * widths[k]
                             for k, s in enumerate(sources)])
    order = np.lexsort((ev_src, ev_step))
    bias = np.concatenate([p.spec.bias for p in lifs]).astype(np.float64)
    shared = np.bincount(slot_nrn)[slot_nrn] > 1          # slots of neurons with 2+ sources
    contig = [int(x[0]) if np.all(np.diff(x) == 1) else -1 for x in lif_of]
    cc = Currents(ev_step=i64(ev_step[order]), ev_src=i64(ev_src[order]),
                  ev_amp=i64(ev_amp[order]),
                  amp=np.concatenate([s._amps.ravel() for s in sources]),
                  per=np.array([s._amps.ndim == 2 for s in sources], np.uint8),
                  tgt_off=tgt_off, slot_nrn=i64(slot_nrn), nrn=i64(nrn),
                  nrn_base=bias[nrn], nrn_ptr=nrn_ptr,
                  nrn_slot=i64(np.argsort(slot_nrn, kind="stable")),
                  src_pop=i64([lifs.index(s.target) for s in sources]),
                  solo=np.array([not shared[tgt_off[k]:tgt_off[k + 1]].any()
                                 for k in range(len(sources))], np.uint8),
                  contig=i64(contig), slot_lif=i64(slot_lif), slot_base=bias[slot_lif])
    cur = np.zeros(slot_lif.size)
    for k, s in enumerate(sources):
        r = int(np.searchsorted(s._steps, step, side="left")) - 1
        if r >= 0:
            cur[tgt_off[k]:tgt_off[k + 1]] = s._amps[r]
    nxt = np.array([np.searchsorted(cc.ev_step, step, side="left")], np.int64)
    return cc, CurrentState(next=nxt, cur=cur)


def effective_bias(cc, cs):
    """Bias of each targeted neuron (float64, ``cc.nrn`` order) with the currents of
    ``cs``: its own bias plus its sources' currents in source order, as the engine sums
    them."""
    total = cc.nrn_base.copy()
    for k in range(cc.per.shape[0]):
        lo, hi = cc.tgt_off[k], cc.tgt_off[k + 1]
        total[cc.slot_nrn[lo:hi]] += cs.cur[lo:hi]
    return total
