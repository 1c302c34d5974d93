"""The user API: a Network of populations, projections and monitors.

``Network.run`` lowers the network once (``build``) to a frozen :class:`~neurosim.compile.Plan`
and hands it to a backend, which runs the step loop in compiled code, chunk by chunk: between
chunks the progress bar moves, monitors receive what was recorded, and Ctrl-C stops the run at
the chunk boundary without losing anything (a second Ctrl-C interrupts at once).
"""

import copy
import os
import shutil
import signal
import sys
import threading
import time
import warnings

import numpy as np
from tqdm.auto import tqdm

from .backends import BACKENDS, FIXED_BACKENDS
from .compile import build_plan, build_record
from .compile.fixed_plan import build_fixed_plan
from .models import LIFSpec, PoissonSpec, SpikeSourceSpec
from .models.loihi import LoihiLIFSpec
from .counters import CountMonitor, collect
from .monitors import SpikeMonitor, StateMonitor
from .populations import (
    NEVER, LIFPopulation, LoihiLIFPopulation, PoissonPopulation, SpikeSourcePopulation,
    check_thresholds, lif_param, tau_syn_pair,
)
from .projections import MAX_DELAY_STEPS, Projection, check_same_network
from .compile.plan import MAX_DELAY_BLOCKS, target_dtype
from .units import ms
from . import memory, rules
from .random import Distribution
from .validation import (
    InsufficientDiskError, InsufficientMemoryError, NetworkError, ParameterError, Sealed, check_choice, check_dimension, check_int,
    check_nonnegative, check_positive, fail, per_neuron, steps_on_grid,
    check_finite_array, int_per_neuron, warn_implausible, _user_stacklevel,
)

__all__ = ["Network", "NetworkError", "InsufficientMemoryError", "POISSON_MAX_P"]

_STREAMS = {"projection": 1, "poisson": 2, "crossbar": 3, "population": 4, "drive": 5}

#: Above this spike probability per step (p = rate * dt) a Bernoulli source is no longer a
#: good Poisson process: it spikes at most once a step, its count per step has Fano factor
#: 1 - p instead of 1, and its ISI CV is sqrt(1 - p) instead of 1 (at p = 1 it is a clock).
#: Network.poisson and PoissonPopulation.rate warn above it.
POISSON_MAX_P = 0.1


class Network(Sealed):
    """A spiking network simulated on a fixed time grid.

    Parameters
    ----------
    dt : float
        Time step (s), > 0. Default 0.1 ms.
    seed : int or None
        Seed of every random draw (connectivity, Poisson sources). None draws fresh entropy,
        kept in ``net.seed`` so the run can be repeated.
    dtype : {"float64", "float32"}
        Floating-point type of state and weights. float64 matches Brian2 spike for spike.
    backend : {"numba", "reference", "event", "auto"}
        Engine that runs the step loop (see :mod:`neurosim.backends`): "event" advances a
        neuron only when an input reaches it (current-based LIF: exp, alpha or delta
        synapses, adaptation current and threshold, one value per parameter; same spikes
        as "numba" up to rounding, faster when activity is sparse); "auto"
        runs "numba" for the first 1,000 steps, then continues on "event" if the network
        is one it runs and the measured activity makes it the faster (said on stderr,
        kept in ``net.backend_choice``).
    threads : int
        Partitions of the numba backend, 1 to 256, run on up to that many threads (at most the
        cores Numba sees). Each partition owns a contiguous range of target neurons and the
        synapses into it; results are identical for every value.
    mpi : "auto", False or an mpi4py communicator
        Split the network over the processes of an MPI job (:mod:`neurosim.mpi`): "auto"
        (default) does when the script was started by ``mpiexec -n K`` or ``srun`` with
        K > 1, else runs in this process; False never does. Each rank stores only the
        synapses into its own neurons; results are identical for every number of ranks.
    mpi_balance : {"memory", "time", "both"}
        How the ranks' contiguous ranges of neurons are chosen (results are the same for
        all): "memory" (default) gives each rank about the same number of synapses, so the
        largest rank's memory is near 1/K of one process's; "time" gives each about the
        same work per step (neuron updates, Poisson drives and expected synaptic events),
        so no rank waits for another at the exchange; "both" the same sum of the two
        shares (a rank's fraction of the synapses plus its fraction of the work), a split
        between the two. They differ when in-degrees differ between populations (the full
        microcircuit at K = 2, where "time" needs 0.49x the memory of one process and
        spends 10 % in the exchange: README, benchmarks/mpi_balance/mpi_results.md).
    """

    def __init__(self, dt=0.1 * ms, seed=None, dtype="float64", backend="numba", threads=1,
                 mpi="auto", mpi_balance="memory"):
        self.dt = check_positive("dt", dt, "s")
        if seed is None:
            seed = int(np.random.SeedSequence().entropy % (1 << 63))
        self.seed = check_int("seed", seed, 0)
        self.dtype = check_choice("dtype", dtype, ("float64", "float32"))
        self._engine = check_choice("backend", backend, tuple(BACKENDS) + ("auto",))
        #: backend="auto": the clock-driven engine until the first _AUTO_STEPS steps have
        #: been measured, then the engine :meth:`_choose_backend` picks (once); its reasons
        #: in ``backend_choice``.
        self._auto = self._engine == "auto"
        self._backend_choice = None
        if self._auto:
            self._engine = "numba"
        self.threads = check_int("threads", threads, 1, 256)
        self.mpi_balance = check_choice("mpi_balance", mpi_balance, ("memory", "time", "both"))
        from .mpi import resolve
        self._ranks = resolve(mpi)
        if self._ranks is not None and backend not in ("numba", "auto"):
            fail("backend", "'numba' when the network is split over MPI ranks "
                 f"(this is rank {self._ranks.rank} of {self._ranks.size})", backend)
        self.populations = []
        self.projections = []
        self.drives = []
        self._exchange_cap = 2 ** 31
        self.current_sources = []
        self.spike_monitors = []
        self.state_monitors = []
        self.count_monitors = []
        self.weight_monitors = []
        self._interrupted = False
        self._step = 0
        self._t_end = 0.0          # the end time the runs so far asked for (s, not rounded)
        self._plan = None
        self._runner = None
        self._record = None
        self._record_cols = None
        self._active = None          # (pop_last, pop_active) kept across record rebuilds
        self._fan_outs = {}
        self._bins = None            # binned counts (count monitors), at the gcd of their bins
        self._seal()

    @property
    def rank(self):
        """This process's MPI rank (0 in one process)."""
        return 0 if self._ranks is None else self._ranks.rank

    @property
    def n_ranks(self):
        """Processes the network is split over (1 without MPI)."""
        return 1 if self._ranks is None else self._ranks.size

    @property
    def exchange_interval(self):
        """Steps between two spike exchanges of the MPI ranks (:mod:`neurosim.mpi`): the
        shortest delay of any synapse or Poisson drive, in steps, when the network has
        neither crossbar nor plastic projections; else 1
        (every step). A spike cannot reach a neuron sooner, so the ranks integrate that
        many steps between exchanges with the same results. Nothing is exchanged in one
        process. Setting it caps it (``net.exchange_interval = 1`` swaps at every step)."""
        from .compile.plan import static_projections
        static = static_projections(self)
        if len(static) != len(self.projections) or not (static or self.drives):
            return 1
        shortest = min([p._delay_range()[0] for p in static]
                       + [d.delay_steps for d in self.drives])
        return max(1, min(int(shortest), self._exchange_cap))

    @exchange_interval.setter
    def exchange_interval(self, steps):
        """At most ``steps`` steps between exchanges (1: every step, as to compare)."""
        self._exchange_cap = check_int("exchange_interval", steps, 1, 2 ** 31)

    @property
    def interrupted(self):
        """True when the last run was stopped by Ctrl-C or SIGTERM."""
        return self._interrupted

    # ------------------------------------------------------------------ populations
    def _name(self, name, prefix):
        if name is None:
            name = f"{prefix}{len(self.populations)}"
        if any(p.name == name for p in self.populations):
            fail("name", "unique within the network", name)
        return name

    def _add(self, pop):
        self._check_not_built("add a population")
        self.populations.append(pop)
        return pop

    def lif(self, n, tau_m, tau_syn=None, v_rest=None, v_th=None, v_reset=None, t_ref=0.0,
            v_init=None, bias=0.0, reset="value", synapse="exp", e_exc=None, e_inh=None,
            c_m=None, tau_w=None, b_w=0.0, tau_a=None, beta=0.0, convention="brian2",
            name=None):
        """Add LIF neurons (see :mod:`neurosim.models.lif` for the equations).

        Every neuron parameter (tau_m, tau_syn, v_rest, v_th, v_reset, t_ref, e_exc, e_inh,
        c_m, tau_w, b_w, tau_a, beta) is one value, an array of ``n`` values or a
        distribution (:mod:`neurosim.random`, drawn from the network seed).

        Parameters
        ----------
        n : int
            Number of neurons (>= 1).
        tau_m : float
            Membrane time constant (s), > 0.
        tau_syn : float or (float, float)
            Synaptic time constant (s), one for both channels or (tau_exc, tau_inh); not
            given for ``synapse="delta"``.
        v_rest, v_th, v_reset : float
            Rest, threshold, reset potentials (V); v_th > v_reset. Required.
        t_ref : float
            Refractory period (s), >= 0.
        v_init : float, array or distribution, optional
            Initial membrane potential (V), default v_rest.
        bias : float, array or distribution
            Constant input I_bias (V) per neuron.
        reset : {"value", "subtract"}
            v = v_reset after a spike, or v -= (v_th + a) - v_reset.
        synapse : {"exp", "alpha", "delta", "cond_exp"}
            Synapse kernel: exponential or alpha currents (weights in V), delta (a spike
            moves v by its weight in V), exponential conductances (weights in S).
        e_exc, e_inh : float
            Reversal potentials (V) of ``synapse="cond_exp"``.
        c_m : float
            Membrane capacitance (F) of ``synapse="cond_exp"`` (g_L = c_m / tau_m).
        tau_w, b_w : float
            Adaptation current: time constant (s) and increment per spike (V); off unless
            tau_w is given.
        tau_a, beta : float
            Adaptive threshold: time constant (s) and increment per spike (V) of the offset
            a (spike when v > v_th + a); off unless tau_a is given.
        convention : {"brian2", "nest"}
            Where Brian2 and NEST differ (refractory release one step later in NEST; delta
            inputs during refractoriness and within the step; threshold > or >=); see
            :mod:`neurosim.models.lif`.
        """
        from .models.lif import SYNAPSES
        n = check_int("n", n, 1)
        synapse = check_choice("synapse", synapse, tuple(SYNAPSES))
        reset = check_choice("reset", reset, ("value", "subtract"))
        convention = check_choice("convention", convention, ("brian2", "nest"))
        for key, val in (("v_rest", v_rest), ("v_th", v_th), ("v_reset", v_reset)):
            if val is None:
                fail(key, "given (a potential in V)", val)
        cond = synapse == "cond_exp"
        for key, val in (("e_exc", e_exc), ("e_inh", e_inh), ("c_m", c_m)):
            if cond and val is None:
                fail(key, "given for synapse='cond_exp'", val)
            if not cond and val is not None:
                fail(key, "None unless synapse='cond_exp'", val)
        if synapse == "delta" and tau_syn is not None:
            fail("tau_syn", "None for synapse='delta' (inputs move v at once)", tau_syn)
        if synapse != "delta" and tau_syn is None:
            fail("tau_syn", f"given for synapse={synapse!r} (s, > 0)", tau_syn)
        if tau_w is None and b_w is not None and np.any(np.asarray(b_w, dtype=object) != 0):
            fail("b_w", "0 unless tau_w is given (adaptation current off)", b_w)
        if tau_a is None and beta is not None and np.any(np.asarray(beta, dtype=object) != 0):
            fail("beta", "0 unless tau_a is given (adaptive threshold off)", beta)
        per_bytes = 40 + 8 * (2 * (synapse == "alpha") + (tau_w is not None)
                              + (tau_a is not None))
        self._require_neurons(n, per_bytes)
        k = iter(range(2, 100))

        def param(key, value, unit, lo=None, strict=False):
            """A parameter: a float, or an array when the neurons differ (drawn from this
            population's next stream when a distribution)."""
            stream = next(k)
            return lif_param(key, value, n, unit, lo, strict,
                             lambda key, value: self._per_neuron(key, value, n, unit, stream))

        tau_m = param("tau_m", tau_m, "s", 0.0, True)
        tau_e = tau_i = None
        if tau_syn is not None:
            tau_e, tau_i = tau_syn_pair(tau_syn, param)
        v_rest = param("v_rest", v_rest, "V")
        v_th = param("v_th", v_th, "V")
        v_reset = param("v_reset", v_reset, "V")
        check_thresholds(v_th, v_reset, n)
        t_ref = param("t_ref", t_ref, "s", 0.0)
        extra = {}
        if cond:
            extra.update(e_exc=param("e_exc", e_exc, "V"), e_inh=param("e_inh", e_inh, "V"),
                         c_m=param("c_m", c_m, "F", 0.0, True))
        if tau_w is not None:
            extra.update(tau_w=param("tau_w", tau_w, "s", 0.0, True),
                         b_w=param("b_w", b_w, "V"))
        if tau_a is not None:
            extra.update(tau_a=param("tau_a", tau_a, "s", 0.0, True),
                         beta=param("beta", beta, "V", 0.0))
        v0 = self._per_neuron("v_init", v_rest if v_init is None else v_init, n, "V", 0)
        b = self._per_neuron("bias", bias, n, "V", 1)
        for key, val in (("v_init", v0 if v_init is not None else 0.0), ("bias", b)):
            warn_implausible(key, val, "V")
        spec = LIFSpec(n=n, tau_m=tau_m, tau_exc=tau_e, tau_inh=tau_i, v_rest=v_rest,
                       v_th=v_th, v_reset=v_reset, t_ref=t_ref, reset=reset, v_init=v0, bias=b,
                       synapse=synapse, convention=convention, **extra)
        return self._add(LIFPopulation(self, spec, self._name(name, "lif")))

    def loihi_lif(self, n, du, dv, vth, bias_mant=0, bias_exp=0, u_init=0, v_init=0,
                  name=None):
        """Add fixed-point LIF neurons, bit-exact with Lava's Loihi model (PyLifModelBitAcc).

        Integer state and arithmetic (see :mod:`neurosim.models.loihi`): a network that has
        loihi_lif populations runs in the fixed-point engine, and may hold only loihi_lif
        populations and sources. Time is counted in steps of ``dt``.

        Parameters
        ----------
        n : int
            Number of neurons (>= 1).
        du, dv : int
            Current and voltage decay, 0..4095 (12 bits, per 4096 per step; Lava adds 1 to du).
        vth : int
            Threshold mantissa, 0..131071 (17 bits); v spikes when v > vth * 64.
        bias_mant : int or array
            Bias mantissa per neuron (Lava stores it as int16: -32768..32767; Loihi's
            register is 13-bit signed).
        bias_exp : int or array
            Bias exponent per neuron, -16..16 (negative values shift right, rounding down).
        u_init, v_init : int or array
            Initial u and v per neuron (24-bit registers: -2**23..2**23).
        """
        n = check_int("n", n, 1)
        self._require_neurons(n, 56)
        du = check_int("du", du, 0, 4095)
        dv = check_int("dv", dv, 0, 4095)
        vth = check_int("vth", vth, 0, 2**17 - 1)
        spec = LoihiLIFSpec(
            n=n, du=du, dv=dv, vth=vth,
            bias_mant=int_per_neuron("bias_mant", bias_mant, n, -2**15, 2**15 - 1),
            bias_exp=int_per_neuron("bias_exp", bias_exp, n, -16, 16),
            u_init=int_per_neuron("u_init", u_init, n, -2**23, 2**23),
            v_init=int_per_neuron("v_init", v_init, n, -2**23, 2**23))
        return self._add(LoihiLIFPopulation(self, spec, self._name(name, "loihi")))

    def spike_source(self, n, times, indices, name=None):
        """Add neurons that spike at given times (s, on the dt grid, >= 0); neuron
        ``indices[k]`` spikes at ``times[k]``. ``pop.set_spikes(times, indices)`` replaces
        the list between runs."""
        n = check_int("n", n, 1)
        self._require_neurons(n, 16)
        spec = SpikeSourceSpec(n=n, **self._spike_list(n, times, indices))
        return self._add(SpikeSourcePopulation(self, spec, self._name(name, "source")))

    def _spike_list(self, n, times, indices):
        """Validated spikes of a spike source of ``n`` neurons: dict(steps, indices)."""
        idx = check_finite_array("indices", indices, dtype=np.float64).ravel()
        check_dimension("times", times, "s")
        steps = steps_on_grid("times", np.asarray(times, dtype=float).ravel(), self.dt)
        if idx.shape != steps.shape:
            fail("indices.shape", f"{steps.shape} (same as times)", idx.shape)
        if idx.size and (idx.min() < 0 or idx.max() >= n or np.any(idx != np.round(idx))):
            bad = idx[(idx < 0) | (idx >= n) | (idx != np.round(idx))][0]
            fail("indices", f"integers in [0, {n - 1}]", float(bad))
        idx = idx.astype(np.int64)
        key = steps * n + idx
        if np.unique(key).size != key.size:
            u, c = np.unique(key, return_counts=True)
            d = u[c > 1][0]
            fail("times", "at most one spike per neuron per time step",
                 float((d // n) * self.dt), f"neuron {int(d % n)} spikes twice")
        return dict(steps=steps, indices=idx)

    def _set_spikes(self, pop, times, indices):
        """A spike source's new spike list (``pop.set_spikes``); once built, the plan's
        spike table is rebuilt (spikes at steps already run are never reached)."""
        object.__setattr__(pop, "spec", SpikeSourceSpec(n=pop.n,
                                                        **self._spike_list(pop.n, times,
                                                                           indices)))
        if self._plan is not None:
            from .compile.plan import spike_table
            ptr, node = spike_table([p for p in self.populations
                                     if p.kind == "spike_source"], self._plan.pop_node_start)
            self._replace_sources(gen_ptr=ptr, gen_node=node)

    def _replace_sources(self, **arrays):
        """New source arrays in the plan (and the runner's view of it)."""
        self._plan = self._plan._replace(sources=self._plan.sources._replace(**arrays))
        self._runner.plan = self._plan

    def poisson(self, n, rate, start=0.0, stop=None, name=None):
        """Add independent Poisson spike trains; ``rate`` (Hz) scalar or per neuron.

        Each step a neuron spikes with probability p = rate*dt (a Bernoulli trial), which
        must be <= 1. This approximates a Poisson process only while p is small: a source
        spikes at most once a step, so its count per step has Fano factor 1 - p and its
        inter-spike intervals CV sqrt(1 - p) (a clock at p = 1). Above
        :data:`POISSON_MAX_P` (0.1) a warning says so; drive a target with several sources
        whose rates add up (or use a smaller dt) instead. ``pop.rate`` can be changed
        between runs.

        ``start`` and ``stop`` (s, scalars or one per neuron, on the dt grid as spike times
        are; ``stop=None``: never) limit the spikes to the steps with start <= step*dt <
        stop; ``pop.start`` and ``pop.stop`` can be changed between runs. A neuron draws
        its trial at every step all the same, so its random stream, and the spikes inside
        its window, do not depend on the window.
        """
        n = check_int("n", n, 1)
        self._require_neurons(n, 16)
        spec = PoissonSpec(n=n, rate=self._poisson_rates(rate, n))
        pop = PoissonPopulation(self, spec, self._name(name, "poisson"))
        pop._window = self._poisson_window(pop, start, stop)
        return self._add(pop)

    def _poisson_window(self, pop, start, stop):
        """(lo, hi) steps of each neuron's window, or None when it is always on."""
        lo = steps_on_grid("start", per_neuron("start", start, pop.n, "s"), self.dt)
        if stop is None:
            hi = np.full(pop.n, NEVER, np.int64)
        else:
            check_dimension("stop", stop, "s")
            try:
                x = np.array(stop, dtype=float)
            except (TypeError, ValueError):
                fail("stop", "a time (s), an array of n times or None", type(stop).__name__)
            if np.any(np.isnan(x)):
                fail("stop", "a time (s) or inf (never)", float(x[np.isnan(x)].ravel()[0]))
            never = x >= NEVER * self.dt
            hi = steps_on_grid("stop", per_neuron("stop", np.where(never, 0.0, x), pop.n,
                                                  "s"), self.dt)
            hi[np.broadcast_to(never, (pop.n,))] = NEVER
        if not lo.any() and np.all(hi == NEVER):
            return None
        return lo, hi

    def _write_window(self, pop, start=None, stop=None):
        """A new start or stop of a Poisson population (``pop.start``, ``pop.stop``)."""
        pop._window = self._poisson_window(pop, pop.start if start is None else start,
                                           pop.stop if stop is None else stop)
        if self._plan is not None:
            from .compile.plan import poisson_windows
            off, lo, hi = poisson_windows([p for p in self.populations if p.kind == "poisson"])
            self._replace_sources(pois_win_off=off, pois_win_lo=lo, pois_win_hi=hi)

    def poisson_input(self, target, rate, weight, delay=0.0, name=None):
        """Drive every neuron of ``target`` with its own Poisson train (see
        :mod:`neurosim.drives`): NEST's poisson_generator connected all-to-all, Brian2's
        PoissonInput.

        Parameters
        ----------
        target : LIFPopulation
        rate : float or array
            Rate per target neuron (Hz), >= 0, any value (several input spikes may arrive in
            one step: the count per step is Poisson(rate*dt)); settable between runs
            (``drive.rate = ...``).
        weight : float
            Added per input spike (V): >= 0 into I_exc, < 0 into I_inh.
        delay : float
            Delay (s) on the dt grid, >= 0.

        Returns
        -------
        PoissonInput
        """
        from .drives import PoissonInput
        self._check_not_built("add a Poisson drive")
        check_same_network(self, target, "target")
        if target.kind != "lif":
            fail("target", "a LIF population", f"{target.name} ({target.kind})")
        name = name or f"poisson_input->{target.name}#{len(self.drives)}"
        if any(d.name == name for d in self.drives) or \
                any(p.name == name for p in self.projections):
            fail("name", "unique among the network's projections and drives", name)
        drive = PoissonInput(self, target, rate, weight, delay, name)
        self.drives.append(drive)
        return drive

    def current_source(self, target, times, amplitudes, indices=None, name=None):
        """Inject a piecewise-constant current into LIF neurons (see
        :mod:`neurosim.currents`): amplitude ``amplitudes[k]`` (V, the units of the bias
        I_bias) from step round(times[k]/dt) on, 0 before the first time.

        Parameters
        ----------
        target : LIFPopulation
        times : array
            Times of the changes (s), strictly increasing, on the dt grid.
        amplitudes : array
            Shape (len(times),) (the same for every target) or (len(times), len(indices)).
        indices : array of int, optional
            Target neurons (distinct positions in ``target``), default every neuron.
        name : str, optional

        Returns
        -------
        CurrentSource
            ``src.times`` and ``src.amplitudes`` (or ``src.set(times, amplitudes)``) can be
            replaced between runs. Sources may also be added between runs.
        """
        from .currents import CurrentSource
        check_same_network(self, target, "target")
        if target.kind != "lif":
            fail("target", "a LIF population", f"{target.name} ({target.kind})")
        name = name or f"current->{target.name}#{len(self.current_sources)}"
        if any(c.name == name for c in self.current_sources):
            fail("name", "unique among the network's current sources", name)
        src = CurrentSource(self, target, times, amplitudes, indices, name)
        self._require_currents(src, src._steps.size, src._amps.size)
        self.current_sources.append(src)
        self._currents_changed()
        return src

    def _require_currents(self, src, n_changes, n_amplitudes):
        """Refuse a current source whose part of the engine's table would not fit."""
        from .currents import table_bytes
        memory.require(table_bytes(n_changes, n_amplitudes, src.n),
                       f"current source {src.name!r}", f"{n_changes:,} changes")

    def _currents_changed(self):
        """Current sources (or the bias of their targets) changed: once built, the engine's
        table again, its state at the next step to run and the targets' bias."""
        if self._plan is None or self.fixed_point or any(
                c._amps.shape[0] != c._steps.size for c in self.current_sources):
            return                   # (a pair being replaced: refused by run() if left so)
        from .currents import CurrentState, effective_bias, lower_currents
        plan = self._plan
        lifs = [p for p in self.populations if p.kind == "lif"]
        cc, cs = lower_currents(self.current_sources, plan.pop_node_start, lifs, plan.dtype,
                                self._step)
        init = None if cc is None else CurrentState(np.zeros(1, np.int64),
                                                    np.zeros_like(cs.cur))
        self._plan = plan._replace(currents=cc, currents_init=init)
        self._runner.plan = self._plan
        self._runner.cstate = cs
        if cc is not None:
            self._runner.state.bias[cc.nrn] = effective_bias(cc, cs)

    def _lif_params_changed(self, pop, spec, bias):
        """New parameters of a LIF population (``pop.set``): its spec, and once built the
        plan's coefficients (the state is kept)."""
        if self._plan is not None:
            size = np.dtype(self.dtype).itemsize
            memory.require(memory.model_bytes(spec, size) - memory.model_bytes(pop.spec, size),
                           f"new parameters of {pop.name!r}", "coefficient table")
        object.__setattr__(pop, "spec", spec)
        if bias is not None:
            self._write_state(pop, "bias", bias)
        if self._plan is None:
            return
        from .compile.plan import relower_lif
        self._plan = relower_lif(self._plan, [p for p in self.populations if p.kind == "lif"])
        self._runner.plan = self._plan
        changed = getattr(self._runner, "plan_changed", None)
        if changed is not None:
            changed()

    def _drive_rates_changed(self, drive):
        """New rates of ``drive`` into the plan (between runs)."""
        if self._plan is None:
            return
        from .drives import lambdas
        dv = self._plan.drives
        k = self.drives.index(drive)
        lam, e = lambdas(drive, self.dt)
        off = int(dv.off[k])
        dv.lam[off:off + drive.n] = lam
        dv.exp_neg_lam[off:off + drive.n] = e
        from .drives import set_arrivals, set_table
        set_table(dv, k, dv.lam[off:off + drive.n], dv.exp_neg_lam[off:off + drive.n])
        self._runner.state                 # (the event-driven engine: rows written back,
        set_arrivals(dv, self._runner.dstate, k, self._step)    # calendar read again)

    def _poisson_rates(self, rate, n):
        r = per_neuron("rate", rate, n, "Hz")
        if r.min() < 0 or r.max() * self.dt > 1.0:
            bad = r.min() if r.min() < 0 else r.max()
            fail("rate", f"in [0, 1/dt = {1.0 / self.dt:g}] Hz", float(bad),
                 "a Poisson population spikes at most once a step; for a Poisson input of "
                 "any rate into a population, use net.poisson_input(target, rate, weight)")
        p = float(r.max()) * self.dt
        if p > POISSON_MAX_P:
            warnings.warn(
                f"poisson rate {r.max():g} Hz at dt = {self.dt:g} s is p = rate*dt = {p:.3g} "
                f"per step, above {POISSON_MAX_P:g}: a Bernoulli source spikes at most once "
                f"a step, so this is no longer a Poisson process (ISI CV {np.sqrt(1 - p):.3f} "
                "instead of 1). As an input to a population, use net.poisson_input(target, "
                "rate, weight) (a Poisson count per step, any rate); else use a smaller dt.",
                UserWarning, stacklevel=_user_stacklevel())
        return r

    def _per_neuron(self, name, value, n, unit, k):
        """A per-neuron value: scalar, array or distribution (drawn from this population's
        stream ``k`` of the network seed)."""
        if isinstance(value, Distribution):
            check_dimension(name, value, unit)
            rng = np.random.default_rng(np.random.SeedSequence(
                self.seed, spawn_key=(_STREAMS["population"], len(self.populations), k)))
            value = value.sample(rng, n, name)
        return per_neuron(name, value, n, unit)

    def _require_neurons(self, n, bytes_per_neuron):
        """Refuse a population whose arrays would not fit (before they are allocated)."""
        memory.require(n * bytes_per_neuron, f"a population of {n:,} neurons",
                       f"{bytes_per_neuron} bytes per neuron")

    # ------------------------------------------------------------------ connections
    def connect(self, pre, post, weight, delay=0.0, p=None, indegree=None, autapses=True,
                multapses=False, name=None, weight_exp=None, num_weight_bits=None,
                sign_mode=None, synapse=None, plasticity=None, outdegree=None, total=None,
                one_to_one=False, pairs=None):
        """Connect ``pre`` to ``post`` (see :mod:`neurosim.projections` for the forms).

        Parameters
        ----------
        pre, post : Population
            Source (any population) and target (a LIF population) of this network.
        weight : float, distribution, array or scipy.sparse matrix
            Synaptic weight (V): w >= 0 feeds I_exc, w < 0 feeds I_inh. A dense
            (n_pre, n_post) array or a sparse matrix gives the synapses itself (no rule);
            with a rule, a scalar, a distribution (:mod:`neurosim.random`) or one value per
            synapse (1-D, for rules whose count is known: ``one_to_one``, ``pairs``).
        delay : float, distribution or array
            Delay (s), >= 0; scalar or one per synapse on the dt grid, or a distribution
            (drawn, then rounded to the grid).
        p, indegree, outdegree, total, one_to_one, pairs
            The connection rule, at most one (none: all-to-all); see :mod:`neurosim.rules`.
            ``p``: probability per pair; ``indegree``/``outdegree``: exact number of sources
            per target / targets per source; ``total``: number of synapses in all (NEST's
            fixed_total_number); ``one_to_one=True``: i -> i; ``pairs=(pre_idx, post_idx)``:
            an explicit synapse list.
        autapses : bool
            Allow i -> i when pre is post (random and all-to-all rules).
        multapses : bool
            Allow the same pair twice (indegree, outdegree, total).
        weight_exp, num_weight_bits, sign_mode
            Only for a loihi_lif target, as Lava's Dense: integer weights keep
            ``num_weight_bits`` (1..8, default 8) bits, each step's summed input is shifted by
            ``weight_exp`` (-24..24, default 0), and ``sign_mode`` ("excitatory",
            "inhibitory", "mixed"; inferred from the weights when None) sets the clipping.
            Delays are Lava's synaptic delays (0..63 steps); every connection into a
            loihi_lif population adds one step of latency, as in Lava.
        synapse : neurosim.crossbar.Crossbar, optional
            Memristor crossbar synapses: the connection's dense weight matrix (zeros
            included) is programmed into arrays like this one (its settings, a seed derived
            from its seed and the network's); a programmed Crossbar is used as it is (pass
            ``weight=None``: its W are the weights), so several networks can share one
            chip. Each step the rows of the presynaptic
            neurons that spiked are read; the net column currents go to the targets
            (net >= 0 into I_exc, < 0 into I_inh). The delay must be one scalar. The
            programmed crossbar is ``projection.crossbar``.
        plasticity : neurosim.crossbar.STDP, optional
            On-chip learning of crossbar synapses as device pulses (see
            :mod:`neurosim.crossbar.plasticity`); needs ``synapse`` and a device with an
            update law.
        """
        self._check_not_built("add a connection")
        check_same_network(self, pre, "pre")
        check_same_network(self, post, "post")
        if post.kind not in ("lif", "loihi_lif"):
            fail("post", "a LIF or loihi_lif population (sources cannot receive spikes)",
                 post.name)
        fixed = post.kind == "loihi_lif"
        if pre.kind in ("lif", "loihi_lif") and (pre.kind == "loihi_lif") != fixed:
            fail("pre", f"a source or a {post.kind} population (float and fixed-point neurons "
                 "cannot be connected)", pre.name)
        loihi = None
        if fixed:
            loihi = dict(weight_exp=0 if weight_exp is None else weight_exp,
                         num_weight_bits=8 if num_weight_bits is None else num_weight_bits,
                         sign_mode=sign_mode)
        else:
            for key, val in (("weight_exp", weight_exp), ("num_weight_bits", num_weight_bits),
                             ("sign_mode", sign_mode)):
                if val is not None:
                    fail(key, "None for a float LIF target (it applies to loihi_lif targets)",
                         val)
        self._check_crossbar(pre, post, synapse, plasticity, delay)
        if synapse is not None and synapse.programmed:
            if weight is not None:
                fail("weight", "None with a programmed Crossbar (its W are the weights)",
                     type(weight).__name__)
            weight = synapse.W
        name = name or f"{pre.name}->{post.name}#{len(self.projections)}"
        if any(p.name == name for p in self.projections):
            fail("name", "unique among the network's projections", name)
        rule, value = rules.rule_of(p=p, indegree=indegree, outdegree=outdegree, total=total,
                                    one_to_one=bool(one_to_one) or None, pairs=pairs)
        proj = Projection(self, pre, post, weight, delay, rule, value, bool(autapses),
                          bool(multapses), name, self._stream_seed("projection",
                                                                  len(self.projections)),
                          loihi, eager=synapse is not None)
        self._require_plan(extra=proj)
        if synapse is not None:
            if synapse.programmed:
                proj.crossbar = synapse
            else:
                seed = int(np.random.SeedSequence([synapse.seed, self.seed,
                                                   len(self.projections)]).generate_state(1)[0])
                proj.crossbar = synapse.program(proj.to_dense(), seed=seed)
        proj.plasticity = plasticity
        if plasticity is not None and synapse is None and proj._weight_range() is not None:
            self._check_plastic_weights(proj)    # scalar weights: now (others at the build)
        proj._seal()
        self.projections.append(proj)
        return proj

    def _check_crossbar(self, pre, post, synapse, plasticity, delay):
        from .crossbar import STDP, Crossbar
        if synapse is None:
            if plasticity is not None:
                self._check_plasticity(pre, post, plasticity, delay)
            return
        if not isinstance(synapse, Crossbar):
            fail("synapse", "None or a neurosim.crossbar.Crossbar", type(synapse).__name__)
        if synapse.programmed and synapse.W.shape != (pre.n, post.n):
            fail("synapse.W.shape", f"({pre.n}, {post.n}) (n_pre, n_post) for a programmed "
                 "Crossbar", synapse.W.shape)
        if post.kind != "lif":
            fail("post", "a float LIF population for crossbar synapses", post.name)
        if np.ndim(delay) != 0:
            fail("delay", "one scalar for crossbar synapses (an array reads all its columns "
                 "at once)", np.shape(delay), "shape")
        if plasticity is not None:
            if not isinstance(plasticity, STDP):
                fail("plasticity", "None or a neurosim.crossbar.STDP",
                     type(plasticity).__name__)
            if self.backend != "numba":   # the NumPy oracle covers reads, not learning
                fail("plasticity", "None on the reference backend (crossbar learning runs "
                     "on backend='numba')", type(plasticity).__name__)
            synapse.device.update_law()

    def _check_plasticity(self, pre, post, rule, delay):
        """A plasticity rule of ordinary synapses (neurosim.plasticity)."""
        from .crossbar import STDP as CrossbarSTDP
        from .plasticity import Rule
        if isinstance(rule, CrossbarSTDP):
            fail("plasticity", "a neurosim.plasticity rule for ordinary synapses "
                 "(neurosim.crossbar.STDP needs synapse=Crossbar(...))", "crossbar STDP")
        if not isinstance(rule, Rule):
            fail("plasticity", "None, neurosim.plasticity.STDP, TripletSTDP or TsodyksMarkram",
                 type(rule).__name__)
        if post.kind != "lif":
            fail("post", "a float LIF population for plastic synapses", post.name)
        if np.ndim(delay) != 0 or isinstance(delay, Distribution):
            fail("delay", "one scalar for plastic synapses (per-synapse delays are not "
                 "supported with plasticity yet)", type(delay).__name__)
        if post.spec.synapse == "delta" and post.spec.convention == "nest":
            fail("plasticity", "None into a delta population with convention='nest' (its "
                 "inputs would arrive a step late)", type(rule).__name__)

    def _check_plastic_weights(self, proj):
        """Weights of a plastic projection: one sign, magnitudes within [0, w_max]."""
        rule = proj.plasticity
        w = proj._weights()
        if not np.all(np.isfinite(w)):
            fail(f"{proj.name}: weight", "finite", w[~np.isfinite(w)][0])
        if w.size and w.min() < 0 < w.max():
            fail(f"{proj.name}: weight", "of one sign for a plastic projection (>= 0 into "
                 "the excitatory channel or <= 0 into the inhibitory one)",
                 float(w.min()))
        w_max = getattr(rule, "w_max", None)
        if w_max is not None and w.size and np.abs(w).max() > w_max:
            fail(f"{proj.name}: weight", f"within [0, w_max = {w_max:g}] in magnitude",
                 float(np.abs(w).max()))

    # ------------------------------------------------------------------ monitors
    def weight_monitor(self, proj, indices=None, interval=None):
        """Record the weights of synapses ``indices`` of plastic projection ``proj`` (all by
        default; indices in the order of ``proj.weight``) every ``interval`` (s, default
        one step), from the next run on."""
        if not isinstance(proj, Projection) or proj.net is not self:
            fail("proj", "a projection of this network", type(proj).__name__)
        if proj.plasticity is None or proj.crossbar is not None:
            fail("proj", "a projection with a neurosim.plasticity rule", proj.name)
        idx = np.arange(proj.n_synapses) if indices is None else np.unique(
            np.asarray(indices, dtype=np.int64).ravel())
        if idx.size and (idx.min() < 0 or idx.max() >= proj.n_synapses):
            fail("indices", f"in [0, {proj.n_synapses - 1}] (synapses of {proj.name})",
                 int(idx.min() if idx.min() < 0 else idx.max()))
        every = 1 if interval is None else int(steps_on_grid("interval", interval, self.dt))
        if every < 1:
            fail("interval", f"at least one step ({self.dt:g} s)", interval)
        from .monitors import WeightMonitor
        mon = WeightMonitor(proj, idx, every)
        self.weight_monitors.append(mon)
        return mon

    def _plastic_views(self):
        """After a build: each plastic projection's weight array is a view of the plan's
        live plastic weights (the engine learns in it), and weight monitors know where
        their synapses are."""
        from .compile.plastic_plan import plastic_projections
        s0 = 0
        for proj in plastic_projections(self):
            n = proj.n_synapses
            proj._w = self._plan.plastic_w[s0:s0 + n]
            proj._plastic_offset = s0
            s0 += n

    def _sync_weight_monitors(self):
        """Tell the plan which weights to sample (weight monitors may be added any time)."""
        plan = self._plan
        if getattr(plan, "plastic", None) is None:
            return
        from .compile.plastic_plan import weight_sampling
        for m in self.weight_monitors:
            m._flat = m.indices + m.proj._plastic_offset
        idx, every = weight_sampling(self.weight_monitors, self.dt)
        pc = plan.plastic
        if not np.array_equal(pc.mon_idx, idx) or int(pc.mon_every[0]) != every:
            self._plan = plan._replace(plastic=pc._replace(
                mon_idx=idx, mon_every=np.array([every], np.int64)))
            self._runner.plan = self._plan

    def _dispatch_weights(self, step0, n_steps):
        ps = getattr(self._runner, "pstate", None)
        if ps is None or not self.weight_monitors:
            return
        every = int(self._plan.plastic.mon_every[0])
        rows = ps.mon_buf[:int(ps.mon_row[0])]
        steps = np.arange(-(-step0 // every) * every, step0 + n_steps, every)[:rows.shape[0]]
        col = 0
        for m in self.weight_monitors:
            k = len(m.indices)
            m._add_rows(steps, rows[:, col:col + k])
            col += k

    def _indices(self, pop, indices):
        if indices is None:
            return None
        idx = np.unique(np.asarray(indices).ravel())
        if idx.size and (not np.issubdtype(idx.dtype, np.integer) or idx.min() < 0
                         or idx.max() >= pop.n):
            fail("indices", f"integers in [0, {pop.n - 1}]", idx)
        return idx.astype(np.int64)

    def spike_monitor(self, pop, indices=None):
        """Record the spikes of ``pop`` (all neurons, or ``indices``) from now on."""
        check_same_network(self, pop, "pop")
        mon = SpikeMonitor(pop, self._indices(pop, indices))
        self.spike_monitors.append(mon)
        self._record = None
        return mon

    def state_monitor(self, pop, var, indices=None, to=None):
        """Record ``var`` of ``pop`` at every step from now on.

        ``var`` is one of the population's variables: ``"v"``, ``"I_exc"``, ``"I_inh"`` for
        LIF (sampled at the start of each step), ``"u"``, ``"v"`` for loihi_lif (integers,
        sampled after the step's reset, as Lava's Monitor). ``indices`` defaults to every
        neuron. ``to``: a ``.npy`` file path to stream the samples to instead of keeping
        them in memory (:mod:`neurosim.stream`; ``values`` is then a memory map of the
        file, valid after every chunk, so a killed run leaves a readable file; under MPI
        rank 0 writes it). A run whose in-memory recordings would not fit in memory, or
        whose streamed ones on disk, is refused before it starts, with the estimate.
        """
        check_same_network(self, pop, "pop")
        if var not in pop.variables:
            fail("var", "one of " + (", ".join(repr(v) for v in pop.variables) or
                                     "(no state variables)") + f" for {pop.kind}", var)
        idx = self._indices(pop, indices)
        mon = StateMonitor(pop, var, np.arange(pop.n) if idx is None else idx, to=to)
        self.state_monitors.append(mon)
        self._record = None
        return mon

    def count_monitor(self, bin):
        """Count spikes, neuron updates and synaptic events per time bin of width ``bin``
        (s, a whole number of steps); see :mod:`neurosim.counters`. Add it before the first
        run: bins start at t = 0."""
        bin_steps = steps_on_grid("bin", bin, self.dt)
        if bin_steps < 1:
            fail("bin", f"at least one step ({self.dt:g} s)", bin)
        if self._step:
            raise NetworkError("add count monitors before the first run (bins start at t = 0)"
                               "; call net.reset() first")
        mon = CountMonitor(self, int(bin_steps))
        self.count_monitors.append(mon)
        return mon

    def counts(self):
        """Operation counts since t = 0 (:class:`neurosim.counters.Counts`): per population
        neuron updates, spikes and active steps, per projection synaptic events."""
        if self._plan is None:
            return collect(self, None, None, 0)
        return collect(self, self._runner.state.spike_count, self._active[1], self._step)

    def _fan_out(self, proj):
        if proj not in self._fan_outs:
            self._fan_outs[proj] = proj.fan_out()
        return self._fan_outs[proj]

    def population(self, name):
        """The population called ``name``."""
        for p in self.populations:
            if p.name == name:
                return p
        fail("name", "one of " + ", ".join(repr(p.name) for p in self.populations), name)

    def copy(self):
        """A fresh, unbuilt network with the same populations and synapses (no monitors).

        Same dt, seed, dtype, backend and threads, so it runs exactly as this network did
        from t = 0. Populations keep their names (``copy.population(name)``).
        """
        new = Network(dt=self.dt, seed=self.seed, dtype=self.dtype,
                      backend="auto" if self._auto else self.backend, threads=self.threads)
        pops = {}
        for p in self.populations:
            pops[p] = new._add(type(p)(new, copy.deepcopy(p.spec), p.name))
        for proj in self.projections:
            new.projections.append(proj._clone(new, pops[proj.pre], pops[proj.post]))
        for d in self.drives:
            new.poisson_input(pops[d.post], d._rate.copy(), d.weight, d.delay_steps * self.dt,
                              name=d.name)
        for p in self.populations:
            if p.kind == "poisson" and p._window is not None:
                pops[p]._window = (p._window[0].copy(), p._window[1].copy())
        for c in self.current_sources:
            new.current_source(pops[c.target], c._times, c._amps, c._indices, name=c.name)
        return new

    # ------------------------------------------------------------------ build and run
    @property
    def t(self):
        """Simulated time so far (s)."""
        return self._step * self.dt

    @property
    def built(self):
        return self._plan is not None

    def _check_not_built(self, what):
        if self._plan is not None:
            raise NetworkError(f"cannot {what}: the network was already built/run and its "
                               f"structure is frozen; build a new Network")

    def _stream_seed(self, kind, k):
        ss = np.random.SeedSequence(self.seed, spawn_key=(_STREAMS[kind], k))
        return int(ss.generate_state(1, np.uint64)[0])

    def build(self):
        """Lower the network to its Plan (done by the first ``run``).

        Weights edited in place before the build are checked here. The memory the plan
        needs is estimated first: a network that will not fit is refused
        (:class:`InsufficientMemoryError`) before anything is allocated. Ctrl-C while
        building stops with the network unbuilt, as before the call.
        """
        if self._plan is None and self._ranks is not None:
            return self._ranks.collective("building the network", self._build)
        return self._build()

    def _build(self):
        if self._plan is None:
            if not self.populations:
                raise NetworkError("the network has no populations")
            if self._ranks is not None and self.fixed_point:
                raise NetworkError(f"fixed-point (loihi_lif) networks run in one process; "
                                   f"this script was launched with {self.n_ranks} MPI ranks "
                                   f"(run it without mpiexec, or pass mpi=False)")
            for proj in self.projections:
                proj._check_edits()
            for src in self.current_sources:
                src._check()
            runner_cls = self._backends().get(self.backend)
            if runner_cls is None:
                fail("backend", f"one of {', '.join(self._backends())} for a network of "
                     "fixed-point (loihi_lif) populations", self.backend)
            if hasattr(runner_cls, "check_network"):
                runner_cls.check_network(self)
            self._require_plan()
            for proj in self.projections:
                if proj.plasticity is not None and proj.crossbar is None:
                    self._check_plastic_weights(proj)
            plan = self._lower()
            runner = self._backends()[self.backend](plan)
            self._plan, self._runner = plan, runner
            self._plastic_views()
            for proj in self.projections:
                proj._lowered()
            self._new_active()
        return self._plan

    def _require_plan(self, extra_synapses=0, extra_blocks=0, extra=None):
        """Refuse to build a plan that will not fit (``extra_*``: connections not made yet,
        counted by the network-file loader before it connects anything, with varying
        weights and delays assumed; ``extra``: a projection being connected). Nothing is
        drawn: a rule's count is known (``p``: mean + 8 sd)."""
        projs = list(self.projections) + ([extra] if extra is not None else [])
        share = self._rank_share()
        n_syn = sum(p._max_synapses() * share(p.post) for p in projs) + extra_synapses
        n_lif = sum(p.n for p in self.populations if p.kind in ("lif", "loihi_lif"))
        n_nodes = sum(p.n for p in self.populations)
        slots, keys, shared = 2, set(), {}
        varying = hetero = bool(extra_synapses)
        for p in projs:                      # the (delay, channel) blocks and their weights
            sign, rng = p._sign(), p._weight_range()
            lo, hi = p._delay_range()
            hetero = hetero or p.hetero_delays
            slots = max(slots, hi + 2)
            for ch in ((0,) if sign > 0 else (1,) if sign < 0 else (0, 1)):
                keys.update((d, ch) for d in range(lo, min(hi, lo + MAX_DELAY_BLOCKS) + 1))
                shared.setdefault((lo, hi, ch), set()).add(rng[0] if rng else np.nan)
        varying = varying or any(len(v) > 1 or any(x != x for x in v)
                                 for v in shared.values())
        blocks = min(len(keys), 2 * MAX_DELAY_BLOCKS) + 2 * extra_blocks or 1
        mine = None if self._ranks is None else self._rank_edges()[[self.rank, self.rank + 1]]
        need = memory.plan_bytes(n_syn, n_lif, n_nodes, slots, blocks, self.threads,
                                 np.dtype(self.dtype).itemsize, varying,
                                 bool(extra_synapses) or (hetero and
                                                          len(keys) > MAX_DELAY_BLOCKS),
                                 np.dtype(target_dtype(mine, n_lif)).itemsize)
        need += sum(memory.model_bytes(p.spec, np.dtype(self.dtype).itemsize)
                    for p in self.populations if p.kind == "lif")
        need += memory.currents_bytes(self.current_sources)
        where = "" if self._ranks is None else f" on rank {self.rank} of {self.n_ranks}"
        memory.require(need, f"building this network ({n_syn:,.0f} synapses{where}, "
                       f"{n_nodes:,} neurons)", "plan and lowering temporaries")

    #: A neuron's weight in the memory split over MPI ranks, in synapses (its state is
    #: small and on every rank anyway; its update costs about as much as a few events).
    _NEURON_WEIGHT = 4.0
    #: The time split's costs per step, in neuron updates: a Poisson drive's draw for one
    #: target (a uniform and a table search) and one synaptic event; and the rate assumed for
    #: every presynaptic neuron (measured on the full microcircuit, where a neuron update
    #: with its drive took about 20 ns and a synaptic event about 3 ns).
    _DRIVE_COST, _EVENT_COST, _ASSUMED_RATE = 1.0, 0.3, 5.0

    def _rank_edges(self):
        """The LIF ranges of the MPI ranks (K + 1 edges), contiguous, with about equal
        shares of ``mpi_balance``'s cost: "memory", the expected synapses into them (a
        rule's synapses spread evenly over its targets, static projections) plus
        _NEURON_WEIGHT per neuron; "time", per neuron and step one update, a draw per
        Poisson drive and the expected synaptic events; "both", the sum of the two, each
        as a fraction of the network's total. Any contiguous split gives the same
        results."""
        lifs = [p for p in self.populations if p.kind == "lif"]
        if not lifs:
            return np.zeros(self._ranks.size + 1, np.int64)
        synapses = np.array([sum(
            q._max_synapses() for q in self.projections
            if q.post is pop and q.crossbar is None and q.plasticity is None) / pop.n
            for pop in lifs])
        sizes = np.array([p.n for p in lifs], np.int64)
        mem = self._NEURON_WEIGHT + synapses
        drives = np.array([sum(d.post is pop for d in self.drives) for pop in lifs])
        work = (1.0 + self._DRIVE_COST * drives
                + self._EVENT_COST * synapses * self._ASSUMED_RATE * self.dt)
        per = {"memory": mem, "time": work,
               "both": mem / (mem @ sizes) + work / (work @ sizes)}[self.mpi_balance]
        cum = np.concatenate([[0.0], np.cumsum(per * sizes)])   # at population starts
        first = np.concatenate([[0], np.cumsum(sizes)])
        goal = cum[-1] * np.arange(1, self._ranks.size) / self._ranks.size
        p = np.clip(np.searchsorted(cum, goal, side="right") - 1, 0, len(lifs) - 1)
        inner = np.ceil((goal - cum[p]) / per[p]).astype(np.int64)
        cut = np.minimum(first[p] + inner, first[p + 1])
        return np.concatenate([[0], np.maximum.accumulate(cut), [first[-1]]]).astype(np.int64)

    def _rank_share(self):
        """share(pop): the fraction of ``pop``'s neurons this rank owns (1 in one
        process): a rule's synapses into them are that share of its count, expected."""
        if self._ranks is None:
            return lambda pop: 1.0
        lifs = [p for p in self.populations if p.kind == "lif"]
        edges = self._rank_edges()
        lo, hi = edges[self.rank], edges[self.rank + 1]
        first, pos = {}, 0
        for p in lifs:
            first[p], pos = pos, pos + p.n
        return lambda pop: (max(0, min(hi, first[pop] + pop.n) - max(lo, first[pop])) / pop.n
                            if pop in first else 1.0)

    def _new_active(self):
        n = len(self._plan.pop_node_start)
        self._active = (np.full(n, -1, np.int64), np.zeros(n, np.int64))

    @property
    def fixed_point(self):
        """True when the network holds loihi_lif populations (the fixed-point engine runs it)."""
        return any(p.kind == "loihi_lif" for p in self.populations)

    def _backends(self):
        return FIXED_BACKENDS if self.fixed_point else BACKENDS

    def _lower(self):
        if not self.fixed_point:
            return build_plan(self)
        if any(p.kind == "lif" for p in self.populations):
            raise NetworkError("a network cannot mix float LIF and loihi_lif populations; "
                               "build the fixed-point part in its own Network")
        if self.threads != 1:
            raise NetworkError(f"fixed-point (loihi_lif) networks run on one thread; "
                               f"got threads={self.threads}")
        return build_fixed_plan(self)

    @property
    def plan(self):
        """The frozen Plan (builds the network if needed)."""
        return self.build()

    def run(self, duration, progress=None, chunk_steps=None, checkpoint=None,
            checkpoint_every=None):
        """Advance the simulation by ``duration`` (s); may be called again to continue.

        Parameters
        ----------
        duration : float
            Time to simulate (s), >= 0. The run ends at the step nearest to the sum of every
            duration asked for since t = 0 (as Brian2 rounds its end time), so
            ``run(T/3); run(T - T/3)`` simulates the steps of ``run(T)`` even when T/3 is off
            the dt grid.
        progress : bool, optional
            Show a tqdm progress bar (default: when stderr is a terminal).
        chunk_steps : int, optional
            Steps per compiled call. Default adapts so a chunk takes about 0.2 s.
        checkpoint : str or path, optional
            Checkpoint file (:mod:`neurosim.checkpoint`): written when the run is stopped by
            Ctrl-C or SIGTERM, and every ``checkpoint_every`` seconds at a chunk boundary.
        checkpoint_every : float, optional
            Wall-clock seconds between checkpoints (needs ``checkpoint``).

        Returns
        -------
        bool
            True when the run finished, False when it was stopped by Ctrl-C or SIGTERM (then
            ``net.interrupted`` is True and everything recorded so far is kept).
        """
        duration = check_nonnegative("duration", duration, "s")
        ckpt = None
        if checkpoint is not None or checkpoint_every is not None:
            from .checkpoint import Periodic
            ckpt = Periodic.check(self, checkpoint, checkpoint_every)
        t_end = self._t_end + duration
        n_steps = max(int(round(t_end / self.dt)) - self._step, 0)
        if chunk_steps is not None:
            chunk_steps = check_int("chunk_steps", chunk_steps, 1)
        self._check_recordings(n_steps)
        for src in self.current_sources:
            src._check()
        if self._plan is not None:
            self._apply_edits()
            for proj in self.projections:
                if proj.plasticity is not None and proj.crossbar is None:
                    self._check_plastic_weights(proj)
        self.build()
        self._sync_weight_monitors()
        if self._record is None:
            self._record, self._record_cols = build_record(self._plan, self.spike_monitors,
                                                           self.state_monitors,
                                                           self.projections, self._fan_out)
            self._record = self._record._replace(pop_last=self._active[0],
                                                 pop_active=self._active[1])
        self._open_bins(n_steps)
        prepare = getattr(self._runner, "prepare", None)
        if prepare is not None and n_steps:    # compile before the progress bar (honest ETA)
            prepare(self._record)
        show = sys.stderr.isatty() if progress is None else bool(progress)
        show = show and self.rank == 0
        ranks = self._ranks
        if ranks is not None:
            self._runner.exchange_every(self.exchange_interval)
        self._interrupted = halt = False
        chunk = chunk_steps or min(max(n_steps // 100, 1), 100)
        done = 0
        if self._auto and self._backend_choice is None and self._ranks is None and \
                self._auto_base is None:
            self._auto_base = self._measure()
        with _GracefulInterrupt() as stop, tqdm(total=n_steps, disable=not show, unit="step",
                                                desc="simulating", leave=False) as bar:
            while done < n_steps:
                k = min(chunk, n_steps - done)
                halt = stop.requested
                if ranks is not None:      # the same chunks and the same stop on every rank
                    k, halt = ranks.agree(k, halt)
                if halt:
                    break
                t0 = time.perf_counter()
                out = self._runner.advance(self._step, k, self._record)
                elapsed = time.perf_counter() - t0
                self._dispatch(out)
                self._dispatch_weights(self._step, out.steps)
                self._step += out.steps
                done += out.steps
                bar.update(out.steps)
                if ckpt is not None and done < n_steps and ckpt.due():
                    ckpt.write(started=True)
                if chunk_steps is None:
                    chunk = int(min(max(k * 0.2 / max(elapsed, 1e-6), 1), 2 * k + 100))
                if self._auto_base is not None and \
                        self._step - self._auto_base[0] >= self._AUTO_STEPS:
                    self._choose_backend()
        self._t_end = t_end if done == n_steps else self._step * self.dt
        self._close_bins()
        self._sync_crossbars()
        if halt:
            self._interrupted = True
            saved = "" if ckpt is None else f"; checkpoint written to {ckpt.write(False)}"
            by = stop.by or "stopped on another rank"
            warnings.warn(f"run interrupted ({by}) at t = {self.t:g} s; recordings kept{saved}",
                          stacklevel=2)
        return not self.interrupted

    #: backend="auto": steps measured on the clock-driven engine before the choice, and
    #: the cost model (ns): per neuron and step and per synaptic event on the clock-driven
    #: engine; per synaptic event, per LIF spike (its crossing found by stepping) and per
    #: step on the event-driven one (benchmarks/sparse_results.md, one thread). The event
    #: engine is chosen when it is estimated at least 1/_AUTO_MARGIN times faster.
    _AUTO_STEPS = 1000
    _COST_NEURON_STEP, _COST_EVENT_CLOCK = 1.2, 3.0
    _COST_EVENT, _COST_SPIKE, _COST_STEP = 30.0, 300.0, 1000.0
    _AUTO_MARGIN = 0.7
    _auto_base = None

    @property
    def backend(self):
        """The engine that runs the network ("numba", "reference", "event"; with
        backend="auto", the one chosen so far)."""
        return self._engine

    @property
    def backend_choice(self):
        """backend="auto": what was chosen and why (None before the choice): backend,
        from_t (s), rate_hz, events_per_neuron_step, estimated_speedup of the event-driven
        engine, not_supported (why it cannot run the network, or None)."""
        return self._backend_choice

    def _measure(self):
        """(step, synaptic events, LIF spikes) now."""
        st = self._runner.state
        return (self._step, self.synaptic_events(),
                int(st.spike_count[:self._plan.n_lif].sum()))

    def _choose_backend(self):
        """backend="auto": from the rates measured since ``_auto_base``, keep the
        clock-driven engine or continue on the event-driven one (its state is the same:
        results differ by rounding only); said on stderr and kept in ``backend_choice``."""
        step0, ev0, sp0 = self._auto_base
        self._auto_base = None
        step, ev1, sp1 = self._measure()
        steps, events, spikes = step - step0, ev1 - ev0, sp1 - sp0
        n_lif = self._plan.n_lif
        clock = steps * (n_lif * self._COST_NEURON_STEP) + events * self._COST_EVENT_CLOCK
        event = events * self._COST_EVENT + spikes * self._COST_SPIKE + \
            steps * self._COST_STEP
        why = None
        try:
            BACKENDS["event"].check_network(self)
        except ParameterError as e:
            why = str(e)
        pick = "event" if why is None and event < self._AUTO_MARGIN * clock else "numba"
        rate = spikes / max(n_lif * steps * self.dt, 1e-300)
        self._backend_choice = choice = dict(
            backend=pick, from_t=float(self._step * self.dt), rate_hz=float(rate),
            events_per_neuron_step=float(events / max(n_lif * steps, 1)),
            estimated_speedup=float(clock / max(event, 1e-300)), not_supported=why)
        if self.rank == 0:
            what = ("the event-driven engine" if pick == "event" else
                    "the clock-driven engine")
            reason = (f"the event-driven engine does not run this network ({why})" if why
                      else f"mean rate {rate:.3g} Hz, "
                      f"{choice['events_per_neuron_step']:.3g} synaptic events "
                      f"per neuron and step: event-driven estimated "
                      f"{choice['estimated_speedup']:.2g}x as fast")
            print(f"neurosim: backend='auto' runs {what} from t = {self.t:g} s ({reason})",
                  file=sys.stderr, flush=True)
        if pick == "event":
            runner = BACKENDS["event"](self._plan)
            runner.state = self._runner.state
            runner.dstate = self._runner.dstate       # the drives' streams, where they are
            runner.prepare(self._record)
            self._runner, self._engine = runner, "event"

    def _check_recordings(self, n_steps):
        """Refuse a run whose state and weight recordings would not fit: in memory (8
        bytes per sample, twice: the chunks and their concatenation, and the step
        numbers) or, for monitors that stream (``to``), on the file system of their file."""
        mem, disk = 0, {}
        for m in self.state_monitors + self.weight_monitors:
            rows = m._rows(n_steps, self._step)
            per_mem, per_disk = m._bytes_per_row()
            mem += rows * per_mem
            if per_disk and self.rank == 0:
                folder = os.path.dirname(os.path.abspath(m.to))
                disk[folder] = disk.get(folder, 0) + rows * per_disk
        n = len(self.state_monitors) + len(self.weight_monitors)
        if mem:
            memory.require(mem, f"recording {n} state/weight monitor(s) for {n_steps:,} "
                           "steps", "8 bytes per sample; pass to='file.npy' to "
                           "net.state_monitor to stream a long recording to disk, or record "
                           "fewer neurons or a shorter run")
        for folder, need in disk.items():
            free = shutil.disk_usage(folder).free
            if need > free:
                raise InsufficientDiskError(
                    f"the recordings streamed to {folder} for {n_steps:,} steps need about "
                    f"{memory.format_bytes(need)}, but the file system has "
                    f"{memory.format_bytes(free)} free; nothing was run. Record fewer "
                    "neurons, a shorter run, or stream to another disk")

    def save_checkpoint(self, path):
        """Write the whole state of the simulation to ``path`` (.npz), atomically, to
        continue it later with :meth:`restore_checkpoint` on a network built again by the
        same script (:mod:`neurosim.checkpoint`). Returns the path."""
        from .checkpoint import save
        return save(self, path)

    def restore_checkpoint(self, path):
        """Continue from the checkpoint ``path``: this network, built by the same script
        as the one that wrote it (same parameters and seed), takes its state, recordings
        and time; a network that differs is refused (:mod:`neurosim.checkpoint`)."""
        from .checkpoint import restore
        restore(self, path)
        return self

    def _dispatch(self, out):
        plan = self._plan
        if out.spike_node.size:
            for m in self.spike_monitors:
                s = plan.pop_node_start[m.pop]
                sel = (out.spike_node >= s) & (out.spike_node < s + m.pop.n)
                m._add(out.spike_step[sel], out.spike_node[sel] - s)
        samples = out.samples[:out.steps]
        if self._ranks is not None and samples.shape[1]:    # each column from its owner
            lo, hi = plan.conn.part_start[0], plan.conn.part_start[-1]
            neuron = np.concatenate([plan.pop_node_start[m.pop] + m.indices
                                     for m in self.state_monitors])
            samples = self._ranks.merge_columns(samples, (neuron >= lo) & (neuron < hi))
        for m, cols in zip(self.state_monitors, self._record_cols):
            m._add(self._step, samples[:, cols])

    def _open_bins(self, n_steps):
        """Bin buffers of the engine for this run (count monitors share the gcd of their
        bins)."""
        if not self.count_monitors or n_steps == 0:
            return
        g = int(np.gcd.reduce([m.bin_steps for m in self.count_monitors]))
        base = self._step // g
        nb = (self._step + n_steps - 1) // g - base + 1
        rec = self._record
        z = lambda cols: np.zeros((nb, cols), np.int64)  # noqa: E731
        self._record = rec._replace(
            bin_steps=np.array([g], np.int64), bin_base=np.array([base], np.int64),
            bin_spikes=z(rec.pop_active.shape[0]), bin_active=z(rec.pop_active.shape[0]),
            bin_events=z(len(self.projections)))

    def _close_bins(self):
        rec = self._record
        g = int(rec.bin_steps[0])
        if not g:
            return
        if self._bins is None:
            self._bins = dict(steps=g, spikes=np.zeros((0, rec.bin_spikes.shape[1]), np.int64),
                              active=np.zeros((0, rec.bin_active.shape[1]), np.int64),
                              events=np.zeros((0, rec.bin_events.shape[1]), np.int64))
        base = int(rec.bin_base[0])
        for key, buf in (("spikes", rec.bin_spikes), ("active", rec.bin_active),
                         ("events", rec.bin_events)):
            acc = self._bins[key]
            need = base + buf.shape[0]
            if acc.shape[0] < need:
                acc = np.concatenate([acc, np.zeros((need - acc.shape[0], acc.shape[1]),
                                                    np.int64)])
            acc[base:need] += buf
            self._bins[key] = acc
        self._record = rec._replace(bin_steps=np.zeros(1, np.int64))

    def reset(self):
        """Back to t = 0 with the initial state (same connectivity and seed); monitors and
        counters cleared."""
        if self._plan is not None:
            if getattr(self._plan, "plastic_w", None) is not None:   # learned weights
                self._plan.plastic_w[:] = self._plan.plastic_init.w
            self._runner = self._backends()[self.backend](self._plan)
            self._new_active()
            self._record = None
        self._step = 0
        self._t_end = 0.0
        self._bins = None
        for m in self.spike_monitors + self.state_monitors + self.weight_monitors:
            m._clear()
        self._sync_crossbars()

    def _sync_crossbars(self):
        """Learned conductances back into the plastic crossbars (``proj.crossbar``)."""
        xs = getattr(self._runner, "xstate", None)
        if xs is None:
            return
        xc = self._plan.xbar
        for x, proj in enumerate(p for p in self.projections if p.crossbar is not None):
            if xc.plastic[x]:
                xb = proj.crossbar
                n = xb.n_in * xb.n_phys
                xb._g[...] = xs.g[xc.g_off[x]:xc.g_off[x] + n].reshape(xb.n_in, xb.n_phys)

    def crossbar_stats(self):
        """Per crossbar projection (by name), what its arrays did since t = 0: row drives
        (active rows x column tiles), array reads, ADC conversions, cell read energy (J),
        write pulses and their energy (J), IR-drop solves that did not converge."""
        from .counters import crossbar_stats
        return crossbar_stats(self)

    # ------------------------------------------------------------------ state access
    def _lif_slice(self, pop):
        s = self._plan.pop_node_start[pop]
        return slice(s, s + pop.n)

    def _read_state(self, pop, var):
        if pop.kind == "loihi_lif":
            if var == "bias_mant":
                return np.array(pop.spec.bias_mant if self._plan is None
                                else self._runner.bias_mant[self._lif_slice(pop)])
            if self._plan is None:
                return np.array(pop.spec.u_init if var == "u" else pop.spec.v_init)
            return np.array(getattr(self._runner.state, var)[self._lif_slice(pop)])
        if self._plan is None:
            return np.array({"v": pop.spec.v_init, "bias": pop.spec.bias}.get(
                var, np.zeros(pop.n)), dtype=float)
        st = self._runner.state
        if var == "bias":          # the neurons' own (st.bias adds the injected currents)
            if any(c.target is pop for c in self.current_sources):
                return np.array(pop.spec.bias.astype(self._plan.dtype), dtype=float)
            return np.array(st.bias[self._lif_slice(pop)], dtype=float)
        code, s = self._plan.var_loc[pop, var]
        arr = (st.v, st.i_exc, st.i_inh, st.x, st.i_inh, st.v)[code][s:s + pop.n]
        if code == 5:        # delta inputs of the last synapses slot, if not refractory then
            keep = self._step - 1 >= st.ref_until[s:s + pop.n]
            arr = arr + (st.i_exc[s:s + pop.n] + st.i_inh[s:s + pop.n]) * keep
        arr = np.array(-arr if code == 4 else arr, dtype=float)
        if self._ranks is not None:      # collective: each neuron's value from its owner
            arr = self._ranks.merge_range(arr, self._plan.pop_node_start[pop])
        return arr

    def spike_counts(self, pop):
        """Spikes of each neuron of ``pop`` since t = 0 (int64), monitored or not."""
        check_same_network(self, pop, "pop")
        if self._plan is None:
            return np.zeros(pop.n, np.int64)
        s = self._plan.pop_node_start[pop]
        return self._runner.state.spike_count[s:s + pop.n].copy()

    def synaptic_events(self):
        """Synaptic events delivered or scheduled since t = 0: spikes x fan-out, summed."""
        return self.counts().synaptic_events

    def _write_state(self, pop, var, values):
        """Set ``v`` (state: until the next reset) or ``bias`` (a parameter: also after a
        reset) of a LIF population; before the build, their initial values."""
        if var not in ("v", "bias"):      # currents, conductances, w, a
            if self._plan is None:
                pop._initial[var] = values
                return
            code, s = self._plan.var_loc[pop, var]
            st = self._runner.state
            (st.v, st.i_exc, st.i_inh, st.x, st.i_inh)[code][s:s + pop.n] = \
                -values if code == 4 else values
            return
        spec_field = {"v": "v_init", "bias": "bias"}[var]
        if self._plan is None or var == "bias":
            getattr(pop.spec, spec_field)[:] = values
        if self._plan is not None:
            sl = self._lif_slice(pop)
            getattr(self._runner.state, var)[sl] = values
            if var == "v" and self._plan.var_loc[pop, "v"][0] == 5:
                self._runner.state.i_exc[sl] = 0.0       # pending delta inputs: now in v
                self._runner.state.i_inh[sl] = 0.0
            if var == "bias":
                self._plan.init.bias[sl] = values
                self._currents_changed()      # their targets: own bias + currents

    def _write_bias_mant(self, pop, mant):
        pop.spec.bias_mant[:] = mant
        if self._plan is not None:
            sl = self._lif_slice(pop)
            self._runner.bias_mant[sl] = mant
            self._runner.state.bias[sl] = pop.spec.bias(mant)
            self._plan.init.bias[sl] = pop.spec.bias(mant)

    def _write_rate(self, pop, rate):
        """New rates of a Poisson population: in its spec and, once built, in the plan's
        source arrays; a homogeneous population's next spike is redrawn from now on (the
        Bernoulli trials are memoryless, so this is exact) and its initial stream too, so
        that reset() starts from the new rate."""
        r = self._poisson_rates(rate, pop.n)
        pop.spec.rate[:] = r
        if self._plan is None:
            return
        from .engine.rng import geometric
        src = self._plan.sources
        k = int(np.flatnonzero(src.pois_start == self._plan.pop_node_start[pop])[0])
        p_step = np.clip(r * self.dt, 0.0, 1.0)
        off = int(src.pois_p_start[k])
        src.pois_p[off:off + pop.n] = p_step
        lp = np.nan
        if pop.spec.homogeneous:
            lp = np.log1p(-p_step[0]) if p_step[0] < 1.0 else -np.inf
        src.pois_log1m_p[k] = lp
        init, st = self._plan.init, self._runner.state
        init.pois_rng[k] = self._stream_seed("poisson", k)
        init.pois_next[k] = geometric(init.pois_rng, k, lp) if lp == lp else 0
        if lp == lp:
            st.pois_next[k] = self._step * pop.n + geometric(st.pois_rng, k, lp)

    def _apply_edits(self):
        """Lower weights and delays edited since the last run into the plan (fresh CSR, the
        delay ring grown when a delay got longer, pending inputs kept)."""
        edited = [p for p in self.projections if p._edited()]
        if not edited:
            return
        for proj in edited:
            proj._check_edits()
        self._require_plan()
        plan, runner = self._plan, self._runner
        if self.fixed_point:
            from .compile.fixed_plan import _connectivity as fixed_connectivity
            conn, max_delay, max_neg = fixed_connectivity(self.projections, plan.pop_node_start,
                                                          plan.n_nodes)
            rings, scratch = {"ring": max_delay + 2}, max_neg + 1
        else:
            from .compile.plan import RANK_DRAW_CHUNK, _connectivity, static_projections
            with rules.draw_chunk(rules.DRAW_CHUNK if self._ranks is None
                                  else RANK_DRAW_CHUNK):
                conn, n_slots = _connectivity(
                    static_projections(self), plan.pop_node_start, plan.n_nodes, plan.n_lif,
                    plan.dtype, self.threads, plan.conn.part_start[[0, -1]].tolist()
                    if self._ranks is not None else None)
            if getattr(plan, "plastic", None) is not None:
                n_slots = max(n_slots, int(plan.plastic.delay.max()) + 1)
            rings, scratch = {"ring_exc": n_slots, "ring_inh": n_slots, "ring_used": n_slots}, 0
        grow = {}
        for key, size in rings.items():
            old = getattr(runner.state, key)
            if size > old.shape[0]:
                grow[key] = _regrow(old, self._step, size)
        if self.fixed_point and scratch > runner.state.acc.shape[0]:
            n = plan.n_lif
            grow.update(acc=np.zeros((scratch, n), np.int64), mark=np.zeros((scratch, n), np.int64),
                        touched=np.zeros(scratch * n, np.int64))
        init = plan.init._replace(**{k: np.zeros_like(v) for k, v in grow.items()})
        self._plan = plan._replace(conn=conn, init=init)
        runner.plan = self._plan
        runner.state = runner.state._replace(**grow)
        changed = getattr(runner, "plan_changed", None)
        if changed is not None:
            changed()
        for proj in self.projections:
            proj._lowered()

    def __repr__(self):
        return (f"Network(dt={self.dt:g}, {len(self.populations)} populations, "
                f"{len(self.projections)} projections, t={self.t:g})")


def _regrow(ring, step, size):
    """A ring buffer (slot = arrival step mod length, along axis 0) of ``size`` slots with
    the pending arrivals of ``ring`` (at steps step .. step + len - 1) in their new slots."""
    out = np.zeros((size,) + ring.shape[1:], ring.dtype)
    old = ring.shape[0]
    for a in range(step, step + old):
        out[a % size] = ring[a % old]
    return out


class _GracefulInterrupt:
    """First Ctrl-C or SIGTERM (what Slurm sends before it kills a job): finish the current
    chunk, then stop. A second one: KeyboardInterrupt."""

    _SIGNALS = {signal.SIGINT: "Ctrl-C", signal.SIGTERM: "SIGTERM"}

    def __init__(self):
        self.requested = False
        self.by = None
        self._old = {}

    def _handler(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        self.by = self._SIGNALS.get(signum, f"signal {signum}")

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for sig in self._SIGNALS:
                self._old[sig] = signal.signal(sig, self._handler)
        return self

    def __exit__(self, *exc):
        for sig, old in self._old.items():
            signal.signal(sig, old)
        return False
