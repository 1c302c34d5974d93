"""Population handles returned by ``Network.lif``, ``loihi_lif``, ``spike_source`` and
``poisson``.

State read from a population (``pop.v``) is a read-only copy: change it by assignment
(``pop.v = ...``), which validates the value and takes effect in the next run. Parameters
that can change between runs are the settable properties (``pop.bias``, ``pop.rate``,
``pop.bias_mant``); they keep their new value across ``net.reset()``. Assigning anything
else raises ``AttributeError`` naming what can be set.
"""

import numpy as np

from .models.lif import variables as lif_variables
from .random import Distribution
from .validation import Sealed, check_finite, fail, int_per_neuron, per_neuron, \
    warn_implausible

__all__ = ["Population", "LIFPopulation", "LoihiLIFPopulation", "SpikeSourcePopulation",
           "PoissonPopulation"]


#: The stop step of a Poisson neuron that never stops.
NEVER = 1 << 62


def _frozen(arr):
    arr.flags.writeable = False
    return arr


def lif_param(key, value, n, unit, lo=None, strict=False, sample=None):
    """A LIF parameter checked as ``net.lif`` checks it: finite, > lo (``strict``) or >= lo,
    warned about when implausible; returned as a float when every neuron has the same
    value, else as a float64 array of ``n`` values. ``sample(key, value)`` gives the
    ``n`` values of an array or a distribution (default: arrays only)."""
    if isinstance(value, Distribution) or np.ndim(value) > 0:
        if sample is not None:
            arr = sample(key, value)
        elif isinstance(value, Distribution):
            fail(key, f"a value or an array of {n} values (distributions are drawn only "
                 "when the population is made)", type(value).__name__)
        else:
            arr = per_neuron(key, value, n, unit)
    else:
        arr = np.array([check_finite(key, value, unit)])
    if lo is not None:
        bad = (arr <= lo) if strict else (arr < lo)
        if np.any(bad):
            fail(key, f"{'>' if strict else '>='} {lo:g} {unit}",
                 float(arr[np.flatnonzero(bad)[0]]))
    warn_implausible(key.split("[")[0], arr if arr.size > 1 else float(arr[0]), unit)
    return float(arr[0]) if np.all(arr == arr[0]) else arr


def tau_syn_pair(tau_syn, param):
    """(tau_exc, tau_inh) of ``tau_syn`` (one value for both channels, or a pair), each
    checked by ``param(key, value, unit, lo, strict)``."""
    if isinstance(tau_syn, (list, tuple)):
        if len(tau_syn) != 2:
            fail("tau_syn", "a scalar or a pair (tau_exc, tau_inh)", tau_syn)
        return (param("tau_syn[0]", tau_syn[0], "s", 0.0, True),
                param("tau_syn[1]", tau_syn[1], "s", 0.0, True))
    if np.ndim(tau_syn) == 1 and np.shape(tau_syn) == (2,):
        return (param("tau_syn[0]", float(np.asarray(tau_syn)[0]), "s", 0.0, True),
                param("tau_syn[1]", float(np.asarray(tau_syn)[1]), "s", 0.0, True))
    tau = param("tau_syn", tau_syn, "s", 0.0, True)
    return tau, tau


def check_thresholds(v_th, v_reset, n):
    """v_th > v_reset for every neuron (each a float or an array of ``n``)."""
    if np.any(np.asarray(v_reset) >= np.asarray(v_th)):
        bad = np.broadcast_to(np.asarray(v_reset) >= np.asarray(v_th), (n,))
        i = int(np.flatnonzero(bad)[0])
        fail("v_th", f"> v_reset = {np.broadcast_to(v_reset, (n,))[i]:g} V",
             float(np.broadcast_to(v_th, (n,))[i]),
             f"neuron {i}" if np.ndim(v_th) or np.ndim(v_reset) else "")


class Population(Sealed):
    """A group of neurons of one kind in a :class:`~neurosim.Network`.

    Attributes
    ----------
    net : Network
    spec : dataclass
        The validated specification (see :mod:`neurosim.models`).
    name : str
    n : int
    """
    kind = "population"
    variables = ()

    def __init__(self, net, spec, name):
        self.net = net
        self.spec = spec
        self.name = name
        self.n = spec.n
        self._initial = {}        # state variable -> initial values set before the build
        self._seal()

    def __len__(self):
        return self.n

    def __repr__(self):
        return f"{type(self).__name__}(name={self.name!r}, n={self.n})"


class LIFPopulation(Population):
    """LIF neurons (see :mod:`neurosim.models.lif` for the equations)."""
    kind = "lif"

    @property
    def variables(self):
        """The recordable state variables of this population's model."""
        return tuple(lif_variables(self.spec))

    def _state(self, var):
        if var not in self.variables:
            raise AttributeError(f"{var} is not a variable of this population (synapse="
                                 f"{self.spec.synapse!r}); its variables are "
                                 + ", ".join(self.variables))
        return _frozen(self.net._read_state(self, var))

    def _set(self, var, value):
        """Set a state variable: before the build its initial value (also after a reset),
        after it the state now (until the next reset)."""
        self._state(var)                       # AttributeError if not this model's
        unit = lif_variables(self.spec)[var]
        x = per_neuron(var, value, self.n, unit)
        warn_implausible(var, x, unit)
        if var == "g_exc" or var == "g_inh":
            bad = x < 0
            if bad.any():
                fail(var, f">= 0 {unit}", float(x[bad][0]))
        self.net._write_state(self, var, x)

    I_exc = property(lambda self: self._state("I_exc"), lambda self, v: self._set("I_exc", v),
                     doc="Excitatory synaptic current now (V): a read-only copy; assign to "
                         "set it (before the build: its initial value).")
    I_inh = property(lambda self: self._state("I_inh"), lambda self, v: self._set("I_inh", v),
                     doc="Inhibitory synaptic current now (V, <= 0), as I_exc.")
    g_exc = property(lambda self: self._state("g_exc"), lambda self, v: self._set("g_exc", v),
                     doc="Excitatory conductance now (S; synapse='cond_exp'), as I_exc.")
    g_inh = property(lambda self: self._state("g_inh"), lambda self, v: self._set("g_inh", v),
                     doc="Inhibitory conductance now (S, >= 0; synapse='cond_exp'), as "
                         "I_exc.")
    w = property(lambda self: self._state("w"), lambda self, v: self._set("w", v),
                 doc="Adaptation current now (V; with tau_w), as I_exc.")
    a = property(lambda self: self._state("a"), lambda self, v: self._set("a", v),
                 doc="Threshold offset now (V; with tau_a), as I_exc.")

    def set(self, **params):
        """Change neuron parameters between runs (or before the first), validated as in
        ``net.lif``: any of tau_m, tau_syn, v_rest, v_th, v_reset, t_ref, bias, e_exc,
        e_inh, c_m, tau_w, b_w, tau_a, beta, each one value or an array of n values.

        The next run integrates with the new parameters; the state (v, currents,
        refractory counters: a refractory neuron is released when its old period ends,
        inputs in flight) is kept, and so are the new values across ``net.reset()``.
        The synapse kernel, the convention and the reset mode cannot change, and an
        adaptation current or threshold (tau_w, tau_a) can be changed only where the
        population was made with one. Nothing changes when a value is refused.
        """
        spec, updates = lif_updates(self.spec, params)
        self.net._lif_params_changed(self, spec, updates.get("bias"))

    def get(self, name):
        """The value of parameter ``name`` (a name :meth:`set` takes): a float when every
        neuron has the same value, else a read-only array of n values (``tau_syn``: a
        pair (tau_exc, tau_inh) where the channels differ; None for a part the population
        does not have, such as ``tau_w`` without adaptation)."""
        if name not in SETTABLE:
            fail("name", "one of " + ", ".join(SETTABLE), name)
        spec = self.spec
        if name == "tau_syn":
            if spec.tau_exc is None:
                return None
            e, i = _value(spec.tau_exc), _value(spec.tau_inh)
            same = np.shape(e) == np.shape(i) and np.all(np.asarray(e) == np.asarray(i))
            return e if same else (e, i)
        if name == "bias":
            return _value(np.array(spec.bias))
        val = getattr(spec, name)
        if (name == "b_w" and spec.tau_w is None) or (name == "beta" and spec.tau_a is None):
            return None
        return None if val is None else _value(val)

    @property
    def v(self):
        """Membrane potential now (V): a read-only copy; assign to set it (between runs)."""
        return self._state("v")

    @v.setter
    def v(self, value):
        v = per_neuron("v", value, self.n, "V")
        warn_implausible("v", v, "V")
        self.net._write_state(self, "v", v)

    @property
    def bias(self):
        """Constant input I_bias per neuron (V): a read-only copy; assign to change it
        between runs."""
        return _frozen(self.net._read_state(self, "bias"))

    @bias.setter
    def bias(self, value):
        b = per_neuron("bias", value, self.n, "V")
        warn_implausible("bias", b, "V")
        self.net._write_state(self, "bias", b)


#: Parameters of a LIF population that ``pop.set`` changes (those ``net.lif`` takes).
SETTABLE = ("tau_m", "tau_syn", "v_rest", "v_th", "v_reset", "t_ref", "bias", "e_exc",
            "e_inh", "c_m", "tau_w", "b_w", "tau_a", "beta")
#: Choices fixed when a LIF population is made.
FIXED = ("synapse", "convention", "reset")
_UNITS = {"v_rest": "V", "v_th": "V", "v_reset": "V", "e_exc": "V", "e_inh": "V",
          "b_w": "V", "beta": "V", "tau_m": "s", "t_ref": "s", "tau_w": "s", "tau_a": "s",
          "c_m": "F"}
_LOWER = {"tau_m": (0.0, True), "t_ref": (0.0, False), "c_m": (0.0, True),
          "tau_w": (0.0, True), "tau_a": (0.0, True), "beta": (0.0, False)}


def _value(x):
    """A parameter as ``get`` returns it: a float, or a read-only array."""
    if isinstance(x, np.ndarray):
        return float(x[0]) if x.size and np.all(x == x[0]) else _frozen(x.copy())
    return float(x)


def lif_updates(spec, params):
    """(new spec, validated values) of ``pop.set(**params)`` on a population of ``spec``,
    checked as ``net.lif`` checks them; nothing is changed here."""
    import dataclasses
    n, new = spec.n, {}
    cond = spec.synapse == "cond_exp"
    for key, value in params.items():
        if key in FIXED:
            if value != getattr(spec, key):
                fail(key, f"{getattr(spec, key)!r} (fixed when the population was made; "
                     "build a new network to change it)", value)
            continue
        if key not in SETTABLE:
            fail("parameter", "one of " + ", ".join(SETTABLE), key)
        if key in ("e_exc", "e_inh", "c_m") and not cond:
            fail(key, "None unless synapse='cond_exp'", value)
        if key == "tau_syn" and spec.synapse == "delta":
            fail("tau_syn", "None for synapse='delta' (inputs move v at once)", value)
        for on, keys, what in ((spec.tau_w, ("tau_w", "b_w"), "an adaptation current "
                                "(tau_w)"), (spec.tau_a, ("tau_a", "beta"),
                                             "an adaptive threshold (tau_a)")):
            if on is None and key == keys[0]:
                fail(key, f"None: the population was made without {what}, which cannot "
                     "be added between runs", value)
            if on is None and key == keys[1] and np.any(np.asarray(value, dtype=object) != 0):
                fail(key, f"0 unless {keys[0]} is given ({what} off)", value)
        if key == "bias":
            new[key] = per_neuron("bias", value, n, "V")
            warn_implausible("bias", new[key], "V")
        elif key == "tau_syn":
            new["tau_exc"], new["tau_inh"] = tau_syn_pair(
                value, lambda k, v, unit, lo, strict: lif_param(k, v, n, unit, lo, strict))
        else:
            lo, strict = _LOWER.get(key, (None, False))
            new[key] = lif_param(key, value, n, _UNITS[key], lo, strict)
    fields = {k: v for k, v in new.items() if k != "bias"}
    out = dataclasses.replace(spec, **fields)
    check_thresholds(out.v_th, out.v_reset, n)
    return out, new


class LoihiLIFPopulation(Population):
    """Fixed-point LIF neurons as Lava's Loihi models (see :mod:`neurosim.models.loihi`)."""
    kind = "loihi_lif"
    variables = ("u", "v")

    @property
    def u(self):
        """Synaptic current register now (int64, read-only copy)."""
        return _frozen(self.net._read_state(self, "u"))

    @property
    def v(self):
        """Membrane voltage register now (int64, read-only copy)."""
        return _frozen(self.net._read_state(self, "v"))

    @property
    def bias_mant(self):
        """Bias mantissa per neuron (int64, read-only copy); assign to change it between
        runs (takes effect next step)."""
        return _frozen(self.net._read_state(self, "bias_mant"))

    @bias_mant.setter
    def bias_mant(self, value):
        self.net._write_bias_mant(self, int_per_neuron("bias_mant", value, self.n,
                                                       -2**15, 2**15 - 1))


class SpikeSourcePopulation(Population):
    """Neurons that spike at given times."""
    kind = "spike_source"

    def set_spikes(self, times, indices):
        """Replace the spike list (validated as in ``net.spike_source``): neuron
        ``indices[k]`` spikes at ``times[k]``. The next run sends the new spikes from the
        network's time ``net.t`` on; spikes before it are kept in the list but not sent
        (those steps were run: as NEST's spike_generator, the past is not replayed), and
        after ``net.reset()`` the whole list runs from t = 0."""
        self.net._set_spikes(self, times, indices)

    @property
    def times(self):
        """Spike times (s) of the current list, a read-only copy (with ``indices``)."""
        return _frozen(self.spec.steps * self.net.dt)

    @property
    def indices(self):
        """Neuron of each spike of ``times``, a read-only copy."""
        return _frozen(self.spec.indices.copy())


class PoissonPopulation(Population):
    """Independent Poisson spike trains: each step a neuron spikes with probability
    p = rate*dt (a Bernoulli trial; see :meth:`neurosim.Network.poisson` for the range of p
    where this is a Poisson process), within its window start <= t < stop."""
    kind = "poisson"

    def __init__(self, net, spec, name):
        self._window = None        # (lo, hi) steps per neuron, None: always on
        super().__init__(net, spec, name)

    @property
    def start(self):
        """Start of each neuron's window (s), a read-only copy; assign (a time or one per
        neuron, on the dt grid) to change it between runs."""
        lo = np.zeros(self.n, np.int64) if self._window is None else self._window[0]
        return _frozen(lo * self.net.dt)

    @start.setter
    def start(self, value):
        self.net._write_window(self, start=value)

    @property
    def stop(self):
        """End of each neuron's window (s; inf: never), a read-only copy; assign (a time,
        one per neuron, or None: never) to change it between runs."""
        if self._window is None:
            return _frozen(np.full(self.n, np.inf))
        hi = self._window[1]
        return _frozen(np.where(hi >= NEVER, np.inf, hi * self.net.dt))

    @stop.setter
    def stop(self, value):
        self.net._write_window(self, stop=np.inf if value is None else value)

    @property
    def rate(self):
        """Rate per neuron (Hz): a read-only copy; assign to change it between runs."""
        return _frozen(np.array(self.spec.rate))

    @rate.setter
    def rate(self, value):
        self.net._write_rate(self, value)
