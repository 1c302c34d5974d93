"""Population, PopulationView and Assembly of neurosim.pynn.

A Population keeps its native parameters (SI, see :mod:`neurosim.pynn.cells`) and PyNN's
initial values; its neurosim population is made at the first run (``_build``), and later
changes are pushed to it (``_push``: ``pop.set`` for LIF parameters, the bias for i_offset,
``set_spikes`` for spike arrays, rates and start/stop of Poisson sources).
"""

import contextlib
import copy
import inspect
import re

import numpy as np

from pyNN import common, errors
from pyNN.standardmodels import StandardCellType
from pyNN.parameters import ParameterSpace, simplify, LazyArray

from ..validation import ParameterError
from . import simulator
from .cells import SpikeSourceArray, SpikeSourcePoisson
from .recording import Recorder

__all__ = ["Population", "PopulationView", "Assembly"]


class Assembly(common.Assembly):
    _simulator = simulator


def _convert(kind, values, R=None, back=False):
    """PyNN units <-> neurosim units of a state variable of kind V, S or I."""
    if kind == "V":
        return values * 1e3 if back else values * 1e-3
    if kind == "S":
        return values * 1e6 if back else values * 1e-6
    return values / R * 1e9 if back else values * 1e-9 * R


class PopulationMixin:

    def _get_parameters(self, *names):
        """A ParameterSpace of PyNN parameters (PyNN names and units)."""
        if isinstance(self.celltype, StandardCellType):
            if any(name in self.celltype.computed_parameters() for name in names):
                native_names = self.celltype.get_native_names()
            else:
                native_names = self.celltype.get_native_names(*names)
            native = self._get_native_parameters(*native_names)
            return self.celltype.reverse_translate(native)
        return self._get_native_parameters(*names)

    def _get_view(self, selector, label=None):
        return PopulationView(self, selector, label)


class PopulationView(PopulationMixin, common.PopulationView):
    _assembly_class = Assembly
    _simulator = simulator

    def _get_native_parameters(self, *names):
        parameter_dict = {}
        gp = self.grandparent
        idx = self.index_in_grandparent(np.arange(self.size))
        for name in names:
            value = gp._parameters[name]
            if isinstance(value, np.ndarray):
                value = value[idx]
            parameter_dict[name] = simplify(value)
        return ParameterSpace(parameter_dict, shape=(self.size,))

    def _set_parameters(self, parameter_space):
        """parameter_space holds native parameters."""
        gp = self.grandparent
        idx = self.index_in_grandparent(np.arange(self.size))
        parameter_space.evaluate(simplify=False)
        new = {}
        for name, value in parameter_space.items():
            new[name] = np.array(gp._parameters[name], copy=True)
            new[name][idx] = value
        gp._update(new)

    @property
    def initial_values(self):
        gp = self.grandparent
        idx = self.index_in_grandparent(np.arange(self.size))
        return {k: LazyArray(np.asarray(v.evaluate(simplify=False))[idx], shape=(self.size,))
                for k, v in gp.initial_values.items()}

    def _set_initial_value_array(self, variable, initial_values):
        gp = self.grandparent
        idx = self.index_in_grandparent(np.arange(self.size))
        gp._check_state_variable(variable)
        if variable in gp.initial_values:
            full = np.array(gp.initial_values[variable].evaluate(simplify=False), dtype=float)
        else:
            full = np.zeros(gp.size)
        full[idx] = _evaluated(initial_values, self.size)
        gp.initial_values[variable] = LazyArray(full, shape=(gp.size,), dtype=float)
        gp._write_state_now(variable, full, idx)


class Population(PopulationMixin, common.Population):
    __doc__ = common.Population.__doc__
    _simulator = simulator
    _recorder_class = Recorder
    _assembly_class = Assembly

    def __init__(self, size, cellclass, cellparams=None, structure=None, initial_values={},
                 label=None):
        simulator.state.structure_changed(f"a population ({label or 'unlabelled'})")
        try:
            common.Population.__init__(self, size, cellclass, cellparams, structure,
                                       initial_values, label)
        except BaseException:           # no half-made population left behind
            recorder = getattr(self, "recorder", None)
            simulator.state.recorders.discard(recorder)
            if self in simulator.state.populations:
                simulator.state.populations.remove(self)
            raise

    def _create_cells(self):
        state = simulator.state
        id_range = np.arange(state.id_counter, state.id_counter + self.size)
        self.all_cells = np.array([simulator.ID(id) for id in id_range], dtype=simulator.ID)
        self._mask_local = np.ones((self.size,), bool)
        if not isinstance(self.celltype, StandardCellType):
            raise NotImplementedError(
                f"neurosim.pynn runs PyNN's standard cell types only, not "
                f"{type(self.celltype).__name__}")
        parameter_space = self.celltype.native_parameters
        parameter_space.shape = (self.size,)
        parameter_space.evaluate(simplify=False)
        self._parameters = parameter_space.as_dict()
        for name, value in self._parameters.items():
            if isinstance(value, np.ndarray) and value.dtype != object:
                self._parameters[name] = value.astype(float)
        if isinstance(self.celltype, SpikeSourceArray):
            self._spike_array()           # checks the spike times now
        for id in self.all_cells:
            id.parent = self
        state.id_counter += self.size
        self._ns = None
        self._ns_layers = []         # SpikeSourceArray: one neurosim source per spike layer
        self._incoming = []          # projections into this population
        self._sources = []           # current sources injected into it
        state.populations.append(self)

    # ------------------------------------------------------------------ parameters
    def _get_native_parameters(self, *names):
        parameter_dict = {}
        for name in names:
            value = self._parameters[name]
            if isinstance(value, np.ndarray) and value.dtype != object:
                value = value.copy()
            parameter_dict[name] = value
        return ParameterSpace(parameter_dict, shape=(self.size,))

    def _set_parameters(self, parameter_space):
        """parameter_space holds native parameters."""
        parameter_space.evaluate(simplify=False)
        new = {}
        for name, value in parameter_space.items():
            if isinstance(value, np.ndarray) and value.dtype != object:
                value = value.astype(float)
            new[name] = value
        self._update(new)

    def _update(self, new):
        """New native parameter values, pushed to neurosim; all or nothing."""
        old = {name: self._parameters[name] for name in new}
        self._parameters.update(new)
        try:
            self._push(list(new))
        except BaseException:
            self._parameters.update(old)
            raise

    @property
    def _lif(self):
        return hasattr(self.celltype, "ns_synapse")

    def _R(self):
        """Membrane resistance per neuron (ohm), tau_m / cm."""
        return self._parameters["tau_m"] / self._parameters["c_m"]

    def _bias(self):
        """neurosim's bias (V): i_offset x R_m."""
        return self._parameters["i_offset"] * self._R()

    def _lif_args(self):
        P = self._parameters
        syn = self.celltype.ns_synapse
        kw = dict(tau_m=P["tau_m"], v_rest=P["v_rest"], v_th=P["v_th"], v_reset=P["v_reset"],
                  t_ref=P["t_ref"], synapse=syn)
        if syn != "delta":
            kw["tau_syn"] = (P["tau_exc"], P["tau_inh"])
        if syn == "cond_exp":
            kw.update(e_exc=P["e_exc"], e_inh=P["e_inh"], c_m=P["c_m"])
        return kw

    # ------------------------------------------------------------------ neurosim side
    def _spike_array(self):
        """Spike layers of a SpikeSourceArray: [(times in s on the dt grid, indices)], each
        time binned as Brian2's SpikeGeneratorGroup does (floor(t/dt + 1e-3)). A neuron
        spikes at most once a step in a neurosim source, so the k-th spike of a neuron
        within one step goes to layer k (a source of its own with the same synapses: NEST
        delivers every spike of a step, Brian2 refuses more than one)."""
        dt = simulator.state.dt
        seqs = self._parameters["spike_times"]
        times, idx = [], []
        for i, seq in enumerate(np.broadcast_to(seqs, (self.size,))):
            t = np.asarray(seq.value if hasattr(seq, "value") else seq, dtype=float).ravel()
            if np.any(t[1:] < t[:-1]):
                raise errors.InvalidParameterValueError(
                    f"SpikeSourceArray spike_times must be in increasing order (neuron {i} of "
                    f"{self.label}: {t.tolist()})")
            if t.size:
                times.append(t)
                idx.append(np.full(t.size, i, np.int64))
        if not times:
            return [(np.zeros(0), np.zeros(0, np.int64))]
        t = np.concatenate(times)
        i = np.concatenate(idx)
        if t.min() < 0:
            raise errors.InvalidParameterValueError(
                f"SpikeSourceArray spike_times must be >= 0 ms ({self.label}: {t.min()})")
        steps = np.floor(t / dt + 1e-3).astype(np.int64)
        key = steps * self.size + i                 # sorted within each neuron
        order = np.argsort(key, kind="stable")
        ks = key[order]
        first = np.searchsorted(ks, ks, side="left")
        layer = np.empty(key.size, np.int64)
        layer[order] = np.arange(key.size) - first
        return [(steps[layer == k] * dt * 1e-3, i[layer == k])
                for k in range(int(layer.max()) + 1)]

    def _poisson_args(self):
        P = self._parameters
        rate = np.broadcast_to(np.asarray(P["rate"], float), (self.size,))
        start = np.broadcast_to(np.asarray(P["start"], float), (self.size,)) * 1e-3
        stop = start + np.broadcast_to(np.asarray(P["duration"], float), (self.size,)) * 1e-3
        return rate, start, stop

    @contextlib.contextmanager
    def _pynn_errors(self):
        """neurosim's ParameterError as PyNN's, naming this population and PyNN's names."""
        try:
            yield
        except ParameterError as err:
            raise errors.InvalidParameterValueError(
                f"{type(self.celltype).__name__} population {self.label!r}: "
                f"{_pynn_names(str(err))} (in neurosim's SI units)") from err

    def _build(self, net):
        with self._pynn_errors():
            self._build_ns(net)

    def _build_ns(self, net):
        name = f"{self.label}#{len(net.populations)}"
        ct = self.celltype
        if isinstance(ct, SpikeSourceArray):
            self._ns_layers = [net.spike_source(self.size, times, idx, name=f"{name}/{k}")
                               for k, (times, idx) in enumerate(self._spike_array())]
            self._ns = self._ns_layers[0]
        elif isinstance(ct, SpikeSourcePoisson):
            rate, start, stop = self._poisson_args()
            if "start" in inspect.signature(net.poisson).parameters:
                self._ns = net.poisson(self.size, rate, start=_scalar(start),
                                       stop=_stop(stop), name=name)
            else:               # neurosim without start/stop: only always-on sources
                if np.any(start > 0) or _stop(stop) is not None:
                    raise NotImplementedError(
                        "SpikeSourcePoisson start/duration need a neurosim whose "
                        "Network.poisson takes start/stop")
                self._ns = net.poisson(self.size, rate, name=name)
        else:
            v0 = self.initial_values["v"].evaluate(simplify=False) * 1e-3 \
                if "v" in self.initial_values else None
            self._ns = net.lif(self.size, v_init=v0, bias=self._bias(), name=name,
                               **self._lif_args())
            for var in self.initial_values:
                if var != "v":
                    self._write_state_now(var, self._initial(var))

    def _initial(self, variable):
        return np.broadcast_to(np.asarray(
            self.initial_values[variable].evaluate(simplify=False), dtype=float),
            (self.size,))

    def _check_state_variable(self, variable):
        units = getattr(self.celltype, "state_units", {})
        if variable not in units:
            raise errors.InvalidParameterValueError(
                f"{type(self.celltype).__name__} has no state variable {variable!r} to "
                "initialize" + (f"; its state variables are {', '.join(units)}" if units
                                else ""))

    def _write_state_now(self, variable, values, idx=None):
        """Values (PyNN units, whole population) of a state variable into the neurosim
        population (before its build: the initial state); ``idx``: only these neurons."""
        if self._ns is None:
            return
        ns_name, kind = self.celltype.state_units[variable]
        x = _convert(kind, np.asarray(values, float),
                     self._R() if kind == "I" else None)
        if idx is not None:
            cur = np.array(getattr(self._ns, ns_name), dtype=float)
            cur[idx] = x[idx]
            x = cur
        setattr(self._ns, ns_name, x)

    def _set_initial_value_array(self, variable, value):
        """Evaluated now, once (random values are drawn here, in the order of the script, as
        pyNN.brian2 and pyNN.nest do), and kept: a reset returns to these values."""
        self._check_state_variable(variable)
        values = _evaluated(value, self.size)
        if self._ns is not None:
            self._write_state_now(variable, values)

    def _apply_initial_values(self):
        """After a reset: PyNN's initial values (which may have changed since the build)."""
        if self._ns is None or not self._lif:
            return
        for var in self.initial_values:
            self._write_state_now(var, self._initial(var))

    def _push(self, names):
        """Parameters changed (native names): into the built neurosim population."""
        names = set(names)
        if self._lif and names & {"tau_m", "c_m"} and self.celltype.current_based:
            for prj in self._incoming:          # weights in V are nA x R_m
                prj._weights_dirty = True
                if prj._plastic():              # so is the w_max of an STDP rule
                    prj._changed(f"tau_m/cm of its targets ({self.label}: R_m scales w_max)")
        if self._lif and names & {"tau_m", "c_m"}:
            for src in self._sources:
                src._dirty = True
        if self._ns is None:
            return
        with self._pynn_errors():
            self._push_ns(names)

    def _push_ns(self, names):
        ct = self.celltype
        if isinstance(ct, SpikeSourceArray):
            layers = self._spike_array()
            if len(layers) > len(self._ns_layers):
                simulator.state.structure_changed(
                    f"spikes of {self.label}: {len(layers)} spikes of a neuron within one time "
                    f"step, more than the {len(self._ns_layers)} of the build (each is a "
                    "neurosim source)")
                return
            for k, ns in enumerate(self._ns_layers):
                ns.set_spikes(*(layers[k] if k < len(layers) else (np.zeros(0), [])))
        elif isinstance(ct, SpikeSourcePoisson):
            rate, start, stop = self._poisson_args()
            if "rate" in names:
                self._ns.rate = rate
            if names & {"start", "duration"}:
                self._ns.start = _scalar(start)
                self._ns.stop = _stop(stop)
        else:
            kw = {}
            for k, v in self._lif_args().items():
                if k == "synapse":
                    continue
                native = {"tau_syn": ("tau_exc", "tau_inh")}.get(k, (k,))
                if names & set(native):
                    kw[k] = v
            if kw:
                self._ns.set(**kw)
            if names & {"i_offset", "tau_m", "c_m"}:
                self._ns.bias = self._bias()
            if "c_m" in names and "c_m" not in kw and ct.ns_synapse != "cond_exp":
                pass        # cm of a current-based cell acts through R_m (bias, weights)

    def _reset(self):
        pass


def _scalar(x):
    """One value when all are equal (neurosim's fast path), else the array."""
    x = np.asarray(x, dtype=float)
    return float(x.flat[0]) if x.size and np.all(x == x.flat[0]) else x


def _stop(stop):
    """A Poisson source's stop (s): None for PyNN's "forever" (duration 1e10 ms)."""
    stop = np.asarray(stop, dtype=float)
    if np.all(stop >= 1e6):
        return None
    return _scalar(np.minimum(stop, 1e6))


_PYNN_NAMES = {"v_th": "v_thresh", "t_ref": "tau_refrac", "tau_syn[0]": "tau_syn_E",
               "tau_syn[1]": "tau_syn_I", "e_exc": "e_rev_E", "e_inh": "e_rev_I", "c_m": "cm",
               "bias": "i_offset x R_m", "v_init": "initial v"}


def _pynn_names(message):
    """A neurosim error message with PyNN's parameter names."""
    for ns_name, pynn_name in _PYNN_NAMES.items():
        message = re.sub(r"(?<![\w\[])" + re.escape(ns_name) + r"(?![\w\[])", pynn_name,
                         message)
    return message.replace("net.poisson_input(target, rate, weight)",
                           "several sources whose rates add up, or a smaller timestep")


def _evaluated(lazy, size):
    """The values of a LazyArray of initial values, evaluated once: its base becomes the
    array, so that later reads (the build, a reset) see the same numbers. Evaluated on a
    copy, as pyNN.brian2 does (its unit conversion copies the array, random generator
    included): the script's generator does not advance, and the numbers drawn next from it
    (a connector's) are the ones they are on pyNN.brian2."""
    lazy.shape = (size,)
    if lazy.is_homogeneous:                 # one value: nothing drawn, kept as it is
        return np.full(size, float(lazy.evaluate(simplify=True)))
    values = np.array(np.broadcast_to(np.asarray(
        copy.deepcopy(lazy).evaluate(simplify=False), dtype=float), (size,)))
    lazy.base_value = values
    lazy.operations = []
    return values
