"""Projection of neurosim.pynn.

Connectors run PyNN's own code, with the connections arriving in bulk (see
:mod:`neurosim.pynn.connect`). The projection keeps its synapses as arrays (indices within
``pre``/``post``, parameters in PyNN units) and makes its neurosim projections at the first
run: one per pair of underlying populations (Assemblies and views are resolved to their
populations), and for plastic synapses one per set of rule parameters and delay (neurosim's
plasticity has one rule and one delay per projection), each with an explicit synapse list.

Weights: nA for current-based targets (neurosim: x 1e-9 x R_m of the target, R_m =
tau_m/cm), uS for conductance targets (x 1e-6, negative into the inhibitory channel), mV for
IF_curr_delta (x 1e-3). Delays are rounded to the time step (as pyNN.brian2).
"""

import functools
import itertools

import numpy as np

from pyNN import common, errors
from pyNN.connectors import (MapConnector, FromListConnector, FromFileConnector,
                             FixedTotalNumberConnector)
from pyNN.random import NumpyRNG
from pyNN.space import Space
from pyNN.standardmodels.base import inhibitory_receptor_types

from . import simulator
from .connect import bulk_standard_connect, bulk_from_list, fixed_total_connect
from .synapses import StaticSynapse

__all__ = ["Projection", "Connection"]

_names = itertools.count()


class Connection(common.Connection):
    """One connection of a projection: its indices and parameters (PyNN units)."""

    def __init__(self, projection, index):
        self.projection = projection
        self.index = index

    @property
    def presynaptic_index(self):
        return int(self.projection._pre[self.index])

    @property
    def postsynaptic_index(self):
        return int(self.projection._post[self.index])

    def _get(self, name):
        return self.projection._values(name)[self.index]

    def _set(self, name, value):
        self.projection._values(name)[self.index] = value
        self.projection._changed(name)

    weight = property(lambda self: self._get("weight"), lambda self, w: self._set("weight", w))
    delay = property(lambda self: self._get("delay"), lambda self, d: self._set("delay", d))

    def __getattr__(self, name):
        if name.startswith("_") or name in ("projection", "index"):
            raise AttributeError(name)
        if name in self.projection._params:
            return self._get(name)
        raise AttributeError(name)

    def as_tuple(self, *attribute_names):
        return tuple(getattr(self, name) for name in attribute_names)


class Projection(common.Projection):
    __doc__ = common.Projection.__doc__
    _simulator = simulator
    _static_synapse_class = StaticSynapse

    def __init__(self, presynaptic_population, postsynaptic_population, connector,
                 synapse_type=None, source=None, receptor_type=None, space=Space(),
                 label=None):
        state = simulator.state
        post = postsynaptic_population
        if isinstance(post, (common.BasePopulation, common.Assembly)) and any(
                not hasattr(p.celltype, "ns_synapse") for p in _grandparents(post)):
            raise errors.ConnectionError(
                f"cannot connect to {post.label}: a projection's targets must be neurons "
                "(IF_curr_exp, IF_curr_alpha, IF_curr_delta, IF_cond_exp), not spike sources")
        state.structure_changed(f"a projection ({label or 'unlabelled'})")
        common.Projection.__init__(self, presynaptic_population, postsynaptic_population,
                                   connector, synapse_type, source, receptor_type, space,
                                   label)
        self._chunks = []
        self._pre = np.zeros(0, np.int64)
        self._post = np.zeros(0, np.int64)
        self._params = {}
        self._ns_groups = []            # (neurosim projection, synapse indices, factors)
        self._weights_dirty = False
        self._delays_dirty = False
        self._connect(connector)
        state.projections.append(self)
        for p in _grandparents(self.post):
            p._incoming.append(self)

    # ------------------------------------------------------------------ connecting
    def _connect(self, connector):
        if type(connector).connect in (FromListConnector.connect, FromFileConnector.connect):
            if isinstance(connector, FromFileConnector):     # as FromFileConnector.connect
                if connector.distributed:
                    connector.file.rename("%s.%d" % (connector.file.name, 0))
                connector.column_names = connector.file.get_metadata().get(
                    "columns", ("weight", "delay"))
                for ignore in "ij":
                    if ignore in connector.column_names:
                        connector.column_names.remove(ignore)
                connector.conn_list = connector.file.read()
            if not bulk_from_list(connector, self):
                FromListConnector.connect(connector, self)   # per-target functions: PyNN's
        elif isinstance(connector, MapConnector):
            connector._standard_connect = functools.partial(bulk_standard_connect, connector)
            try:
                if type(connector).connect is FixedTotalNumberConnector.connect and \
                        type(connector.rng) is NumpyRNG:
                    fixed_total_connect(connector, self)
                else:
                    connector.connect(self)
            finally:
                del connector.__dict__["_standard_connect"]
        else:
            connector.connect(self)
        self._collect()

    def _convergent_connect(self, presynaptic_indices, postsynaptic_index,
                            location_selector=None, **connection_parameters):
        if location_selector is not None:
            raise NotImplementedError("neurosim.pynn has point neurons only "
                                      "(location_selector)")
        pre = np.asarray(presynaptic_indices, dtype=np.int64).ravel()
        post = np.full(pre.size, int(postsynaptic_index), np.int64)
        self._add_chunk(pre, post, connection_parameters)

    def _add_chunk(self, pre, post, params):
        n = pre.size
        if n == 0:
            return
        vals = {}
        for name, value in params.items():
            v = np.asarray(value, dtype=float)
            vals[name] = np.array(np.broadcast_to(v, (n,)), dtype=float) if v.ndim <= 1 \
                else v.ravel()
        self._chunks.append((pre, post, vals))

    def _collect(self):
        defaults = {}
        names = set().union(*(c[2].keys() for c in self._chunks)) if self._chunks else set()
        if not self._chunks or any(set(c[2]) != names for c in self._chunks):
            ps = self.synapse_type.native_parameters
            ps.shape = (1,)
            for name, value in ps.items():
                try:
                    defaults[name] = float(value.evaluate(simplify=True))
                except (TypeError, ValueError):
                    pass
            names |= set(defaults)
        chunks = self._chunks
        self._pre = np.concatenate([self._pre] + [c[0] for c in chunks])
        self._post = np.concatenate([self._post] + [c[1] for c in chunks])
        for name in names:
            parts = [c[2][name] if name in c[2] else np.full(c[0].size, defaults[name])
                     for c in chunks]
            old = self._params.get(name, np.zeros(0))
            self._params[name] = np.concatenate([old] + parts)
        self._chunks = []

    def __len__(self):
        return int(self._pre.size)

    def __getitem__(self, i):
        if isinstance(i, (int, np.integer)):
            if not -len(self) <= i < len(self):
                raise IndexError(f"connection {i} out of range ({len(self)} connections)")
            return Connection(self, int(i) % len(self))
        return [Connection(self, k) for k in np.arange(len(self))[i]]

    @property
    def connections(self):
        return (Connection(self, k) for k in range(len(self)))

    # ------------------------------------------------------------------ neurosim side
    def _plastic(self):
        return getattr(self.synapse_type, "rule_parameters", ())

    def _values(self, name):
        self._pull()
        if name not in self._params:
            raise errors.NonExistentParameterError(
                name, type(self.synapse_type).__name__, sorted(self._params))
        return self._params[name]

    def _factors(self, post_pops, post_key, post_local):
        """PyNN weight -> neurosim weight, per synapse (by its target)."""
        f = np.empty(post_local.size)
        for k, p in enumerate(post_pops):
            sel = post_key == k
            ct = p.celltype
            x = ct.weight_scale
            if ct.current_based:
                x = x * p._R()[post_local[sel]]
            elif ct.ns_synapse == "cond_exp" and self.receptor_type in inhibitory_receptor_types:
                x = -x
            f[sel] = x
        return f

    def _build(self, net):
        self._ns_groups = []
        n = len(self)
        if n == 0:
            return
        pre_pops, pre_key, pre_local = _resolve(self.pre, self._pre)
        post_pops, post_key, post_local = _resolve(self.post, self._post)
        factors = self._factors(post_pops, post_key, post_local)
        dt = simulator.state.dt
        dsteps = np.rint(self._params["delay"] / dt)
        if dsteps.size and dsteps.min() < 0:
            raise errors.ConnectionError(f"{self.label}: delays must be >= 0 ms")
        rule_names = tuple(self._plastic())
        if rule_names:            # one neurosim projection per rule and delay
            columns = [pre_key, post_key, dsteps, factors] + [self._params[k]
                                                              for k in rule_names]
            keys = np.column_stack([np.asarray(c, dtype=float) for c in columns])
            inv = np.unique(keys, axis=0, return_inverse=True)[1].ravel()
        else:                     # one per pair of populations
            inv = pre_key * len(post_pops) + post_key
        if inv.max() == 0:        # one group: slices (views), not copies
            groups = [slice(None)]
        else:
            order = np.argsort(inv, kind="stable")
            bounds = np.searchsorted(inv[order], np.arange(inv.max() + 2))
            groups = [order[a:b] for a, b in zip(bounds[:-1], bounds[1:]) if b > a]
        dt_s = dt * 1e-3
        for sel in groups:
            k0 = 0 if isinstance(sel, slice) else sel[0]
            post_ns = post_pops[post_key[k0]]._ns
            rule = None
            delay = dsteps[sel] * dt_s
            if rule_names:
                rule = self.synapse_type.ns_rule(
                    **{k: self._params[k][k0] for k in rule_names},
                    w_scale=abs(factors[k0]))
                delay = float(dsteps[k0] * dt_s)
            pre_pop = pre_pops[pre_key[k0]]
            layers = pre_pop._ns_layers or [pre_pop._ns]
            if rule is not None and len(layers) > 1:
                raise NotImplementedError(
                    f"{self.label}: {pre_pop.label} spikes more than once within a time step, "
                    "which neurosim.pynn sends through extra sources: plastic synapses from it "
                    "are not supported")
            for pre_ns in layers:
                proj = net.connect(pre_ns, post_ns,
                                   weight=self._params["weight"][sel] * factors[sel],
                                   delay=delay, pairs=(pre_local[sel], post_local[sel]),
                                   plasticity=rule, name=f"{self.label}#{next(_names)}")
                self._ns_groups.append((proj, sel, factors[sel]))
        self._weights_dirty = self._delays_dirty = False

    def _pull(self):
        """Learned weights (plastic synapses) back into the PyNN-side arrays."""
        if not self._plastic() or not self._ns_groups:
            return
        w = self._params["weight"]
        for proj, sel, f in self._ns_groups:
            w[sel] = np.asarray(proj.weight) / f

    def _sync(self):
        """Edits since the last run into the neurosim projections (before a run)."""
        if not (self._weights_dirty or self._delays_dirty) or not self._ns_groups:
            return
        if self._weights_dirty:
            post_pops, post_key, post_local = _resolve(self.post, self._post)
            factors = self._factors(post_pops, post_key, post_local)
            groups = []
            for proj, sel, _ in self._ns_groups:
                proj.weight = self._params["weight"][sel] * factors[sel]
                groups.append((proj, sel, factors[sel]))
            self._ns_groups = groups
        if self._delays_dirty:
            dt = simulator.state.dt
            for proj, sel, _ in self._ns_groups:
                proj.delay = np.rint(self._params["delay"][sel] / dt) * dt * 1e-3
        self._weights_dirty = self._delays_dirty = False

    def _changed(self, name):
        if name == "weight":
            self._weights_dirty = True
        elif name == "delay" and not self._plastic():
            self._delays_dirty = True
        else:                    # a rule parameter, or a plastic delay: new projections
            simulator.state.structure_changed(
                f"a change of {name} of the plastic projection {self.label} (neurosim fixes "
                "a plastic projection's rule and delay at the build)")

    # ------------------------------------------------------------------ attributes
    def _set_attributes(self, parameter_space):
        self._pull()
        for name, lazy in parameter_space.items():
            if name not in self._params:
                raise errors.NonExistentParameterError(
                    name, type(self.synapse_type).__name__, sorted(self._params))
            if lazy.is_homogeneous:
                value = float(lazy.evaluate(simplify=True))
            else:
                full = np.asarray(lazy.evaluate(simplify=False), dtype=float)
                value = full[self._pre, self._post]
            if name == "delay":
                bad = np.asarray(value) < 0
                if np.any(bad):
                    raise errors.ConnectionError(f"{self.label}: delays must be >= 0 ms")
            self._params[name][:] = value
            self._changed(name)

    def _get_attributes_as_list(self, names):
        cols = []
        for name in names:
            if name == "presynaptic_index":
                cols.append(self._pre)
            elif name == "postsynaptic_index":
                cols.append(self._post)
            else:
                cols.append(self._values(name))
        if not len(self):
            return []
        a = np.column_stack([np.asarray(c, dtype=float) for c in cols])
        return [tuple(row) for row in a]

    def _get_attributes_as_arrays(self, names, multiple_synapses="sum"):
        out = []
        shape = (self.pre.size, self.post.size)
        for name in names:
            v = self._values(name)
            if multiple_synapses in ("last", "first"):
                arr = np.full(shape, np.nan)
                if multiple_synapses == "last":
                    arr[self._pre, self._post] = v
                else:
                    arr[self._pre[::-1], self._post[::-1]] = v[::-1]
            else:
                func, init = {"sum": (np.add.at, 0.0), "min": (np.minimum.at, np.inf),
                              "max": (np.maximum.at, -np.inf)}[multiple_synapses]
                arr = np.full(shape, init)
                func(arr, (self._pre, self._post), v)
                mask = np.ones(shape, bool)
                mask[self._pre, self._post] = False
                arr[mask] = np.nan
            out.append(arr)
        return out

    def _set_initial_value_array(self, variable, value):
        raise NotImplementedError(
            f"neurosim.pynn: Projection.initialize({variable}=...) is not supported (the "
            "state of neurosim's plastic synapses starts from the rule's initial values)")


# ---------------------------------------------------------------------- helpers
def _grandparents(obj):
    if isinstance(obj, common.Assembly):
        out = []
        for p in obj.populations:
            for g in _grandparents(p):
                if g not in out:
                    out.append(g)
        return out
    return [obj.grandparent if isinstance(obj, common.PopulationView) else obj]


def _resolve(obj, idx):
    """Indices within a Population, view or Assembly -> (populations, which population per
    index, index within it)."""
    idx = np.asarray(idx, dtype=np.int64)
    if isinstance(obj, common.Assembly):
        bounds = np.cumsum([0] + [p.size for p in obj.populations])
        comp = np.searchsorted(bounds, idx, side="right") - 1
        pops, key, local = [], np.zeros(idx.size, np.int64), np.zeros(idx.size, np.int64)
        for k, p in enumerate(obj.populations):
            sel = comp == k
            gp, loc = _resolve_one(p, idx[sel] - bounds[k])
            if gp not in pops:
                pops.append(gp)
            key[sel] = pops.index(gp)
            local[sel] = loc
        return pops, key, local
    gp, loc = _resolve_one(obj, idx)
    return [gp], np.zeros(idx.size, np.int64), loc


def _resolve_one(p, idx):
    if isinstance(p, common.PopulationView):
        return p.grandparent, np.asarray(p.index_in_grandparent(idx), dtype=np.int64)
    return p, idx
