"""The state of a neurosim.pynn simulation: one :class:`neurosim.Network`, built lazily.

PyNN scripts create populations, projections, current sources and recordings in any order
before the first ``run``; neurosim freezes a network's structure at its first run. So this
module keeps the PyNN objects (with their parameters in SI units) and builds the neurosim
network at the first ``run`` (``State.build``). Changes between runs (parameters, weights,
delays, spike times, current sources, initial values) go to the built network. Adding
structure after a run is possible only at t = 0 (after ``reset()``): the network is then
rebuilt at the next run.
"""

import warnings

import numpy as np

from .. import Network
from ..validation import abstract_units
from pyNN import common

__all__ = ["name", "ID", "State", "state"]

name = "neurosim"

#: Seed of the neurosim network when ``setup`` gets none (runs are reproducible, as NEST's).
DEFAULT_SEED = 143202461


class ID(int, common.IDMixin):

    def __init__(self, n):
        """Create an ID object with numerical value `n`."""
        int.__init__(n)
        common.IDMixin.__init__(self)


class State(common.control.BaseState):
    """Simulation state: time step (ms), current step, the neurosim network and the PyNN
    objects it is built from."""

    def __init__(self):
        common.control.BaseState.__init__(self)
        self.mpi_rank = 0
        self.num_processes = 1
        self.dt = 0.1
        self.seed = DEFAULT_SEED
        self.backend = "numba"
        self.threads = 1
        self._min_delay = "auto"
        self._max_delay = "auto"
        self.clear()

    # ------------------------------------------------------------------ set-up
    def clear(self):
        self.recorders = set([])
        self.id_counter = 0
        self.segment_counter = -1
        self.populations = []
        self.projections = []
        self.current_sources = []
        self.net = None
        self.step = 0
        self.horizon = 0
        self.running = False
        self.t_start = 0
        self.reset()

    @property
    def t(self):
        """Current time (ms)."""
        return self.step * self.dt

    def _get_min_delay(self):
        if self._min_delay == "auto":         # as pyNN.brian2: fixed at the first query,
            delays = [np.rint(p._params["delay"] / self.dt).min() * self.dt
                      for p in self.projections if len(p)]      # the shortest delay so far
            self._min_delay = round(float(min(delays)), 12) if delays else self.dt
        return self._min_delay

    def _set_min_delay(self, delay):
        self._min_delay = delay

    min_delay = property(_get_min_delay, _set_min_delay)

    def _get_max_delay(self):
        # neurosim's ring buffers hold up to 65535 steps
        return 65535 * self.dt if self._max_delay == "auto" else self._max_delay

    def _set_max_delay(self, delay):
        self._max_delay = delay

    max_delay = property(_get_max_delay, _set_max_delay)

    # ------------------------------------------------------------------ structure
    def structure_changed(self, what):
        """A population, projection or current source was added: the network is rebuilt
        at the next run, which is possible only at t = 0."""
        if self.net is None:
            return
        if self.step != 0:
            raise NotImplementedError(
                f"neurosim.pynn cannot add {what} after the simulation has run (t = "
                f"{self.t:g} ms): neurosim freezes a network's structure at its first run. "
                "Create it before the first run(), or call reset() first (the network is "
                "then rebuilt from t = 0).")
        self._discard()

    def _discard(self):
        self.net = None
        for pop in self.populations:
            pop._ns = None
            pop._ns_layers = []
        for prj in self.projections:
            prj._ns_groups = []
        for src in self.current_sources:
            src._ns_sources = []
        for rec in self.recorders:
            rec._monitors = {}

    def build(self):
        """Build the neurosim network from the PyNN objects (first run)."""
        if self.net is not None:
            return self.net
        with abstract_units(), warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            net = Network(dt=self.dt * 1e-3, seed=self.seed, backend=self.backend,
                          threads=self.threads)
            self.net = net
            try:
                for pop in self.populations:
                    pop._build(net)
                for prj in self.projections:
                    prj._build(net)
                for src in self.current_sources:
                    src._build(net)
                for rec in self.recorders:
                    rec._build(net)
            except BaseException:
                self._discard()
                raise
        return net

    # ------------------------------------------------------------------ running
    def run(self, simtime):
        self.run_until(self.t + simtime)

    def run_until(self, tstop):
        n_steps = int(round((tstop - self.t) / self.dt))
        if n_steps <= 0:
            self.running = True
            return
        self.horizon = self.step + n_steps + 1
        net = self.build()
        with abstract_units(), warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            for prj in self.projections:
                prj._sync()
            for src in self.current_sources:
                src._sync()
            for rec in self.recorders:
                rec._build(net)
            self.running = True
            net.run(n_steps * self.dt * 1e-3, progress=False)
        self.step += n_steps

    def reset(self):
        """Back to t = 0: the network's initial state, the PyNN initial values again."""
        self.running = False
        self.t_start = 0
        self.segment_counter += 1
        if self.net is not None and self.step != 0:
            self.net.reset()
            with abstract_units():
                for pop in self.populations:
                    pop._apply_initial_values()
            for src in self.current_sources:
                src._reset()
        for rec in self.recorders:
            rec._clear_step = 0
        self.step = 0


state = State()
