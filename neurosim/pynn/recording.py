"""Recording for neurosim.pynn: neurosim spike and state monitors behind PyNN's Recorder.

Timing follows pyNN.brian2: a spike at step s is recorded at s*dt; a state variable is
sampled every ``sampling_interval`` from t = 0 (or the last ``clear``) up to and including
the current time, the value at time t being the state after the steps before t (neurosim's
monitors sample at the start of each step, which is Brian2's ``when='end'`` of the step
before; the last sample is the state now).
"""

import numpy as np

from pyNN import recording, errors

from . import simulator

__all__ = ["Recorder"]


class Recorder(recording.Recorder):
    """Encapsulates data and functions related to recording model variables."""
    _simulator = simulator

    def __init__(self, population, file=None):
        recording.Recorder.__init__(self, population, file)
        self._monitors = {}        # variable name -> (neurosim monitor, sorted local indices)
        self._clear_step = 0

    # ------------------------------------------------------------------ set-up
    def _record(self, variable, new_ids, sampling_interval=None):
        state = self._simulator.state
        if sampling_interval is not None:
            k = sampling_interval / state.dt
            if k < 1 - 1e-9 or abs(k - round(k)) > 1e-6:
                raise errors.InvalidParameterValueError(
                    f"sampling_interval ({sampling_interval} ms) must be a multiple of the "
                    f"time step ({state.dt} ms)")
            self.sampling_interval = sampling_interval
        if variable.name != "spikes":
            units = getattr(self.population.celltype, "state_units", {})
            if variable.name not in units:
                raise errors.RecordingError(variable.name, self.population.celltype)
        if state.net is not None:
            self._build(state.net)

    def _build(self, net):
        pop = self.population
        if getattr(pop, "_ns", None) is None:
            return
        first = int(pop.first_id)
        for variable, ids in self.recorded.items():
            if not ids:
                continue
            idx = np.sort(np.fromiter((int(i) - first for i in ids), dtype=np.int64))
            have = self._monitors.get(variable.name)
            if have is not None and np.isin(idx, have[1]).all():
                continue
            if variable.name == "spikes":        # every layer of a spike array
                mon = [net.spike_monitor(ns) for ns in (pop._ns_layers or [pop._ns])]
                idx = np.arange(pop.size)
            else:
                ns_name = pop.celltype.state_units[variable.name][0]
                mon = net.state_monitor(pop._ns, ns_name, idx)
            self._monitors[variable.name] = (mon, idx)

    def _reset(self):
        """Stop recording (the list of recorded cells is emptied by the caller)."""
        self._monitors = {}

    def _clear_simulator(self):
        """Forget the data recorded so far (keep recording)."""
        self._clear_step = self._simulator.state.step

    # ------------------------------------------------------------------ data
    def _spikes(self):
        mon = self._monitors.get("spikes")
        if mon is None:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        steps = np.concatenate([m.steps for m in mon[0]])
        local = np.concatenate([m.indices for m in mon[0]])
        keep = steps >= self._clear_step
        order = np.argsort(steps[keep], kind="stable")
        return steps[keep][order], local[keep][order]

    def _get_spiketimes(self, requested_ids, clear=False):
        steps, local = self._spikes()
        ids = local + int(self.population.first_id)
        mask = np.isin(ids, np.asarray(list(requested_ids), dtype=np.int64))
        # step x dt in seconds, then in ms: the same floats as pyNN.brian2's spike times
        return ids[mask], steps[mask] * (self._simulator.state.dt * 1e-3) / 1e-3

    def _get_all_signals(self, variable, ids, clear=False):
        """Samples at every sampling point from the recording's start (t = 0 or the last
        clear) to now inclusive; NaN where the variable was not recorded (recording asked
        for after some time had run)."""
        state = self._simulator.state
        pop = self.population
        ns_name, kind = pop.celltype.state_units[variable.name]
        local = np.asarray([int(i) for i in ids], dtype=np.int64) - int(pop.first_id)
        every = int(round(self.sampling_interval / state.dt))
        first = -(-self._clear_step // every) * every
        now = state.step
        n = max((now - first) // every + 1, 0)
        vals = np.full((n, local.size), np.nan)
        have = self._monitors.get(variable.name)
        if have is not None:
            mon, idx = have
            steps, allvals = mon._arrays()
            cols = np.searchsorted(idx, local)
            if not np.array_equal(idx[np.minimum(cols, idx.size - 1)], local):
                raise errors.RecordingError(variable.name, pop.celltype)
            sel = (steps >= first) & (steps % every == 0) & (steps <= now)
            vals[(steps[sel] - first) // every] = allvals[sel][:, cols]
        if n and now % every == 0 and pop._ns is not None and have is not None:
            vals[-1] = np.asarray(getattr(pop._ns, ns_name), dtype=float)[local]   # now
        from .populations import _convert
        R = pop._R()[local] if kind == "I" else None
        return _convert(kind, vals, R, back=True), None

    def _local_count(self, variable, filter_ids=None):
        steps, local = self._spikes()
        counts = np.bincount(local, minlength=self.population.size)
        first = int(self.population.first_id)
        return {int(id): int(counts[int(id) - first])
                for id in self.filter_recorded(variable, filter_ids)}
