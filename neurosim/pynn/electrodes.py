"""Current sources of neurosim.pynn: DCSource, StepCurrentSource, ACSource and
NoisyCurrentSource as neurosim current sources (``Network.current_source``).

Each source is a piecewise-constant current on the time grid, as in pyNN.brian2: the value
of step s (time s*dt) applies over that step. DC and step sources change at their (rounded)
times; an AC source is sampled at every step of [start, stop); a noisy source draws a new
value every ``dt`` of its own (rounded to whole steps) from a seeded stream (the setup's
``rng_seed``). The waveform is laid out up to the end of the next run before each run.
neurosim adds currents to the LIF bias in volts: I[V] = I[nA] x 1e-9 x R_m of the target
(R_m = tau_m / cm).
"""

import numpy as np

from pyNN.parameters import ParameterSpace, Sequence
from pyNN.standardmodels import electrodes, build_translations, StandardCurrentSource

from . import simulator

__all__ = ["DCSource", "StepCurrentSource", "ACSource", "NoisyCurrentSource"]


class NeurosimCurrentSource(StandardCurrentSource):
    """Base class of the current sources (parameters kept in PyNN units)."""

    def __init__(self, **parameters):
        object.__setattr__(self, "_params", {})
        object.__setattr__(self, "_targets", [])        # (population, local indices)
        object.__setattr__(self, "_ns_sources", [])     # (neurosim source, pop, R)
        object.__setattr__(self, "_covered", -1)        # steps laid out in neurosim
        object.__setattr__(self, "_dirty", False)
        object.__setattr__(self, "recording", False)
        state = simulator.state
        object.__setattr__(self, "_index", len(state.current_sources))
        super().__init__(**parameters)
        ps = ParameterSpace(self.default_parameters, self.get_schema(), shape=(1,))
        ps.update(**parameters)
        self.set_native_parameters(self.translate(ps))
        state.current_sources.append(self)

    def get_native_parameters(self):
        return ParameterSpace(dict(self._params))

    def set_native_parameters(self, parameters):
        parameters.evaluate(simplify=True)
        for name, value in parameters.items():
            if isinstance(value, Sequence):
                value = value.value
            self._params[name] = value
        self._check()
        object.__setattr__(self, "_dirty", True)

    def _check(self):
        pass

    def inject_into(self, cells):
        state = simulator.state
        by_pop = {}
        for cell in cells:
            pop = cell.parent
            if not pop.celltype.injectable or not hasattr(pop.celltype, "ns_synapse"):
                raise TypeError("Can't inject current into a spike source.")
            by_pop.setdefault(pop, []).append(pop.id_to_index(cell))
        for pop, idx in by_pop.items():
            target = (pop, np.asarray(idx, dtype=np.int64))
            self._targets.append(target)
            if self not in pop._sources:
                pop._sources.append(self)
            if state.net is not None and pop._ns is not None:   # neurosim adds sources
                self._add_source(state.net, target)             # between runs

    # ------------------------------------------------------------------ waveform
    def _steps(self, t):
        return int(np.rint(float(t) / simulator.state.dt))

    def _values(self, n):
        """The current (nA) at steps 0..n-1: each source class (DCSource, StepCurrentSource,
        ACSource, NoisyCurrentSource below) defines its waveform here."""
        raise TypeError(f"{type(self).__name__} defines no waveform (_values): only the "
                        "current sources of neurosim.pynn can be injected")

    def _schedule(self, pop, idx):
        """neurosim's (times in s, amplitudes in V) for targets ``idx`` of ``pop``, up to the
        horizon: the change points of the waveform, scaled by R_m (one column per target
        where R_m differs between them)."""
        state = simulator.state
        n = max(getattr(state, "horizon", 0), state.step + 1)
        if n > self._covered >= 0:      # runs that go on: twice as far, so that many short
            n = max(n, 2 * self._covered)   # runs lay the schedule out O(log) times
        vals = self._values(n)
        change = np.flatnonzero(np.diff(vals, prepend=np.nan) != 0)
        R = pop._R()[idx]
        amps = vals[change] * 1e-9
        amps = amps * R[0] if np.all(R == R[0]) else amps[:, None] * R[None, :]
        return change * (state.dt * 1e-3), amps, n

    def _add_source(self, net, target):
        pop, idx = target
        times, amps, n = self._schedule(pop, idx)
        src = net.current_source(pop._ns, times, amps, indices=idx,
                                 name=f"{type(self).__name__}#{self._index}/"
                                      f"{len(self._ns_sources)}")
        self._ns_sources.append((src, pop, idx))
        object.__setattr__(self, "_covered", n)

    def _build(self, net):
        self._ns_sources.clear()
        for target in self._targets:
            self._add_source(net, target)
        object.__setattr__(self, "_dirty", False)

    def _sync(self):
        """Before a run: the schedule laid out up to the run's end (and any change of the
        parameters, or of R_m of the targets, since the last run)."""
        state = simulator.state
        if not self._ns_sources:
            return
        if self._dirty or state.horizon > self._covered:
            if self._dirty:
                object.__setattr__(self, "_covered", -1)
            for src, pop, idx in self._ns_sources:
                times, amps, n = self._schedule(pop, idx)
                src.set(times=times, amplitudes=amps)
            object.__setattr__(self, "_covered", n)
            object.__setattr__(self, "_dirty", False)

    def _reset(self):
        pass

    def record(self):
        object.__setattr__(self, "recording", True)

    def _get_data(self):
        n = simulator.state.step + 1
        vals = self._values(n)
        return np.arange(n) * simulator.state.dt, vals


class DCSource(NeurosimCurrentSource, electrodes.DCSource):
    __doc__ = electrodes.DCSource.__doc__
    translations = build_translations(("amplitude", "amplitude"), ("start", "start"),
                                      ("stop", "stop"))

    def _values(self, n):
        p = self._params
        s = np.arange(n)
        on = (s >= self._steps(p["start"])) & (s < self._steps(min(p["stop"], 1e15)))
        return np.where(on, float(p["amplitude"]), 0.0)


class StepCurrentSource(NeurosimCurrentSource, electrodes.StepCurrentSource):
    __doc__ = electrodes.StepCurrentSource.__doc__
    translations = build_translations(("amplitudes", "amplitudes"), ("times", "times"))

    def _check(self):
        times = np.asarray(self._params.get("times", []), dtype=float)
        amps = np.asarray(self._params.get("amplitudes", []), dtype=float)
        if times.shape != amps.shape:
            raise ValueError("StepCurrentSource: times and amplitudes must have the same "
                             f"length ({times.size} != {amps.size})")
        if times.size and times.min() < 0:
            raise ValueError("Step current cannot accept negative timestamps.")
        if times.size > 1 and not np.all(np.diff(times) > 0):
            raise ValueError("Step current timestamps should be monotonically increasing.")
        # times on the grid, the last amplitude given for a step kept (as pyNN.brian2)
        dt = simulator.state.dt
        steps = np.rint(times / dt).astype(np.int64)
        keep = np.append(steps[1:] != steps[:-1], True) if steps.size else steps.astype(bool)
        self._params["times"] = steps[keep] * dt
        self._params["amplitudes"] = amps[keep]

    def _values(self, n):
        times = np.asarray(self._params["times"], dtype=float)
        amps = np.asarray(self._params["amplitudes"], dtype=float)
        steps = np.rint(times / simulator.state.dt).astype(np.int64)
        k = np.searchsorted(steps, np.arange(n), side="right") - 1
        return np.where(k >= 0, amps[np.maximum(k, 0)] if amps.size else 0.0, 0.0)


class ACSource(NeurosimCurrentSource, electrodes.ACSource):
    __doc__ = electrodes.ACSource.__doc__
    translations = build_translations(("amplitude", "amplitude"), ("start", "start"),
                                      ("stop", "stop"), ("frequency", "frequency"),
                                      ("offset", "offset"), ("phase", "phase"))

    def _values(self, n):
        p = self._params
        dt = simulator.state.dt
        s = np.arange(n)
        s0, s1 = self._steps(p["start"]), self._steps(min(p["stop"], 1e15))
        t = (s * dt - p["start"]) * 1e-3
        wave = p["offset"] + p["amplitude"] * np.sin(
            t * 2 * np.pi * p["frequency"] + 2 * np.pi * p["phase"] / 360)
        return np.where((s >= s0) & (s < s1), wave, 0.0)


class NoisyCurrentSource(NeurosimCurrentSource, electrodes.NoisyCurrentSource):
    __doc__ = electrodes.NoisyCurrentSource.__doc__
    translations = build_translations(("mean", "mean"), ("start", "start"),
                                      ("stop", "stop"), ("stdev", "stdev"), ("dt", "dt"))

    def _check(self):
        if self._params.get("dt", 1.0) <= 0:
            raise ValueError(f"NoisyCurrentSource: dt must be > 0 ms, got {self._params['dt']}")

    def _values(self, n):
        p = self._params
        s = np.arange(n)
        s0, s1 = self._steps(p["start"]), self._steps(min(p["stop"], 1e15))
        every = max(1, int(round(p["dt"] / simulator.state.dt)))
        k = np.maximum(s - s0, 0) // every
        m = int(k.max()) + 1 if n else 0
        rng = np.random.default_rng(np.random.SeedSequence(
            [simulator.state.seed, 7, self._index]))
        z = rng.standard_normal(m)
        return np.where((s >= s0) & (s < s1), p["mean"] + p["stdev"] * z[k], 0.0)
