"""The event-driven engine behind the backend interface (``backend="event"``).

Runs :func:`neurosim.engine.event.event_advance` on rows of lazily updated neurons. The
clock-driven :class:`State` stays the public face of the run: reading ``runner.state``
(what ``pop.v``, ``net.get_state`` and checkpoints do) first advances every neuron to the
end of the last step run and writes it there, and moves the queued spikes in transit into
the state's delay ring, so that the state is complete (checkpoints, a switch of engine);
the next run reads it back (so edits made between runs are taken), predicts every neuron
again and delivers what the ring holds. A run that nobody looks at between its chunks
pays neither. Reading the state is therefore a rounding-level change of the run (the
neurons are advanced at that step; ring sums add as the clock-driven engine's).
"""

import numpy as np

from ..engine import event as _ev
from ..engine.poisson import ARRIVALS_BELOW
from ..validation import fail
from .numba_backend import NumbaRunner

__all__ = ["EventRunner"]


def _pool():
    return (np.full(1024, -1, np.int64), np.zeros(1024, np.int64), np.zeros(1024, np.int64))


def _calendar(buckets):
    """Heads and tails of ``buckets`` empty lists, a pool and its free head (every entry
    on the free list)."""
    nxt = np.arange(1, 1025, dtype=np.int64)
    nxt[-1] = -1
    return (np.full(buckets, -1, np.int64), np.full(buckets, -1, np.int64), nxt,
            np.zeros(1024, np.int64), np.zeros(1024, np.int64), np.zeros(1, np.int64))


class EventRunner(NumbaRunner):
    """Runs a Plan of current-based LIF populations event by event (one thread)."""

    name = "event"

    @staticmethod
    def check_network(net):
        """Refuse, before anything is built, what the event-driven engine does not run."""
        if net.fixed_point:
            fail("backend", "'numba' or 'reference' for fixed-point (loihi_lif) networks",
                 "event")
        if net.threads != 1:
            fail("threads", "1 with backend='event' (the event-driven engine runs on one "
                 "thread)", net.threads)
        if np.dtype(net.dtype) != np.float64:
            fail("dtype", "'float64' with backend='event'", net.dtype)
        for pop in net.populations:
            if pop.kind == "lif" and not pop.spec.fast:
                sp = pop.spec
                why = [f"synapse={sp.synapse!r}"] if sp.synapse == "cond_exp" else []
                why += ["per-neuron parameters"] if sp.heterogeneous else []
                why += [f"convention={sp.convention!r}"] if sp.convention != "brian2" else []
                if why:
                    fail(f"{pop.name}: model", "a current-based LIF (synapse 'exp', "
                         "'alpha' or 'delta', adaptation current and threshold allowed) "
                         "with one value per parameter and convention='brian2' with "
                         "backend='event' (use backend='numba' for the other models)",
                         " and ".join(why))
        for d in net.drives:
            lam = float(d._rate.max(initial=0.0)) * net.dt
            if lam >= ARRIVALS_BELOW:
                fail("backend", f"'numba' for a network with a dense Poisson drive (drive "
                     f"{d.name!r}: rate * dt = {lam:.3g} per step at some target; the "
                     f"event-driven engine runs drives below {ARRIVALS_BELOW:g}, whose "
                     "inputs it draws as arrivals)", "event")
        what = [("current sources", net.current_sources),
                ("plastic projections", [p for p in net.projections if p.plasticity]),
                ("crossbar projections", [p for p in net.projections if p.crossbar])]
        for name, items in what:
            if items:
                fail("backend", f"'numba' for a network with {name} (the event-driven "
                     "engine does not run them yet)", "event")

    def __init__(self, plan):
        self._st = None
        super().__init__(plan)
        st = self._st
        n = st.v.shape[0]
        self.E = np.zeros((n, _ev.row_width(plan.params)))
        self.changed = np.zeros(max(n, 1), np.int64)
        self._due = np.zeros(max(int(plan.drives.n.sum()) if plan.drives is not None else 0,
                                 1), np.int64)
        self._queues(st)
        self._end = -1            # the last step run (rows are at its end)
        self._reload = True       # the rows must be read from the state
        self._synced = True       # the state holds the rows' values

    def _queues(self, st):
        """The tables and empty queues for the delay ring of ``st`` (its length is the
        delivery queue's number of buckets)."""
        D = st.ring_exc.shape[0]
        self.tb = _ev.tables(self.plan.params, D)
        # None for plain models only: their kernel is compiled without the general code
        self.xmap = (_ev.x_map(self.plan.params, st.x.shape[0])
                     if self.E.shape[1] == _ev.WIDE else None)
        self.q = self._freed((np.full(D, -1, np.int64), np.full(D, -1, np.int64), *_pool(),
                              np.array([-1], np.int64), *_calendar(_ev.HORIZON),
                              *_calendar(_ev.HORIZON)))

    @staticmethod
    def _freed(q):
        """The pools' entries on their free lists."""
        q = list(q)
        for nxt_i, free_i in ((2, 5), (8, 11), (14, 17)):
            cap = q[nxt_i].shape[0]
            q[nxt_i][:] = np.arange(1, cap + 1)
            q[nxt_i][-1] = -1
            q[free_i][0] = 0
        return tuple(q)

    @property
    def state(self):
        """The clock-driven state at the end of the last step run (every neuron advanced
        to it first)."""
        if not self._synced:
            st = self._st
            _ev.store_rows(self.E, self.tb, self.xmap, self._end, st)
            _ev.queue_to_ring(self.plan.conn, st, self.q, self.plan.drives)
            self._synced = True
        self._reload = True       # whoever reads it may change it
        return self._st

    @state.setter
    def state(self, value):
        old = self._st
        self._st = value
        self._reload = True
        self._synced = True
        if old is not None and value.ring_exc.shape[0] != old.ring_exc.shape[0]:
            self._queues(value)        # another ring length (a checkpoint's): new buckets

    @staticmethod
    def _configure(plan):
        return 1, _ev.event_advance, np.float64

    def _extra(self):
        return ()

    def _args(self, record, step0, n_steps, max_per_step, samples):
        plan = self.plan
        return (plan.conn, plan.sources, record, self._st, self.E, self.tb, self.xmap,
                self.q, self.changed, step0, n_steps, max_per_step,
                self._spk_step, self._spk_node, samples, plan.drives, self.dstate,
                self._due)

    def _call(self, args):
        k, n_spk, self.q = self._kernel(*args)
        return k, n_spk

    def _load(self, step):
        st = self._st
        q = self.q
        cn, ca, cb = _ev.load_rows(self.E, st, self.plan.params, self.xmap, step, q)
        q = q[:8] + (cn, ca, cb) + q[11:]
        cn, ca, cb = _ev.predict_all(self.E, self.tb, q, step, self.xmap)
        q = q[:8] + (cn, ca, cb) + q[11:]
        if self.dstate is not None:
            H = _ev.drive_buckets(self.plan.drives)     # (the rates may have changed)
            if q[12].shape[0] != H:
                q = q[:12] + _calendar(H)
            wn, wa, wb = _ev.load_drives(self.dstate, q[12:])
            q = q[:14] + (wn, wa, wb) + q[17:]
        self.q = q

    def advance(self, step0, n_steps, record):
        if self._reload or step0 - 1 != self._end:
            self._load(step0 - 1)
            self._reload = False
        out = super().advance(step0, n_steps, record)     # the same chunk loop
        self._end = step0 + n_steps - 1
        self._synced = n_steps == 0 and self._synced
        return out
