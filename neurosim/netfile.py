"""Networks described in TOML files (``neurosim run NETWORK.toml``).

Quantities are SI numbers or strings with a unit of :mod:`neurosim.units` (``"20 ms"``,
``"-65 mV"``, ``"5 Hz"``). A file has four parts::

    [network]                 # dt, duration, seed, dtype, backend, threads
    dt = "0.1 ms"
    duration = "1 s"
    seed = 1

    [populations.exc]         # one table per population; the key is its name
    model = "lif"             # lif | poisson | spike_source | loihi_lif
    n = 3200
    tau_m = "20 ms"           # the other keys are the arguments of Network.lif etc.
    v_init = {uniform = ["-60 mV", "-50 mV"]}   # per-neuron values: a list, uniform,
                                                # normal = [mean, sd], or {file = "v.npy"}

    [[connections]]           # one entry per projection
    pre = "exc"
    post = "exc"
    weight = "0.162 mV"       # a number with p / indegree (random) or alone (all-to-all),
    p = 0.02                  # an inline matrix [[...], ...], or {file = "w.npy"} /
                              # {file = "w.npz", key = "W"} (paths relative to the file)
    delay = "0 ms"
    synapse = {crossbar = {device = "rram_hfox", adc_bits = 8}}   # optional
    plasticity = {rule = "stdp", w_max = "1 mV", lam = 0.01}   # optional: "stdp",
                              # "triplet" or "tsodyks_markram" and the rule's arguments

    [monitors]
    spikes = ["exc", "inh"]   # or "all"
    state = [{population = "exc", var = "v", indices = [0, 1, 2]}]

Every error names the file, the entry (``[populations.exc] tau_m``) and what is wrong,
and is raised by :func:`load_network` before anything runs. A quantity written with a unit
must have the parameter's dimension (``weight = "1.62 mA"`` where a voltage is meant is an
error); a plain number is SI and warns when it is far outside the physiological range
(``tau_m = 20`` is 20 s). A file whose connections would not fit in memory once built is
refused (:class:`~neurosim.validation.InsufficientMemoryError`) before any synapse is drawn.
"""

import inspect
import os
import re
import sys
from dataclasses import dataclass, field

import numpy as np

from . import units
from .validation import InsufficientMemoryError, ParameterError, check_dimension, check_int

if sys.version_info >= (3, 11):
    import tomllib
else:                                    # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["NetworkFileError", "NetworkFile", "load_network", "parse_quantity"]

MODELS = {"lif": "lif", "poisson": "poisson", "spike_source": "spike_source",
          "loihi_lif": "loihi_lif"}
NETWORK_KEYS = {"dt": 1e-4, "duration": 1.0, "seed": None, "dtype": "float64",
                "backend": "numba", "threads": 1}
CONNECTION_KEYS = ("pre", "post", "weight", "delay", "p", "indegree", "outdegree", "total",
                   "one_to_one", "pairs", "autapses", "multapses", "name", "weight_exp",
                   "num_weight_bits", "sign_mode", "synapse", "plasticity")
_QUANTITY = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([A-Za-z]+)?\s*$")


class NetworkFileError(ValueError):
    """A network file that cannot be built; the message names the file and the entry."""


@dataclass
class NetworkFile:
    """What :func:`load_network` builds: the network, how long to run it, its monitors
    (``spike_monitors[name]``, ``state_monitors[(name, var)]``) and the file's text."""
    path: str
    net: object
    duration: float
    spike_monitors: dict = field(default_factory=dict)
    state_monitors: dict = field(default_factory=dict)
    source: str = ""


def parse_quantity(value, where="value"):
    """A number, or a string ``"<number> <unit>"`` with a unit of :mod:`neurosim.units`,
    as a float in SI units."""
    if isinstance(value, bool):
        raise NetworkFileError(f"{where}: expected a number or a quantity such as "
                               f"'20 ms', got {value!r}")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        m = _QUANTITY.match(value)
        if m:
            unit = m.group(2)
            if unit is None:
                return float(m.group(1))
            scale = getattr(units, unit, None)
            if isinstance(scale, float) and unit in units.SI_UNIT:
                return units.Quantity(float(m.group(1)) * scale, units.SI_UNIT[unit],
                                      value.strip())
            raise NetworkFileError(f"{where}: unknown unit {unit!r} in {value!r} (units: "
                                   + ", ".join(units.SI_UNIT)
                                   + ")")
    raise NetworkFileError(f"{where}: expected a number or a quantity such as '20 ms', "
                           f"got {value!r}")


def _load_array(spec, base, where):
    path = spec.get("file")
    if not isinstance(path, str):
        raise NetworkFileError(f"{where}: 'file' must be a path to a .npy or .npz file, "
                               f"got {path!r}")
    full = path if os.path.isabs(path) else os.path.join(base, path)
    if not os.path.isfile(full):
        raise NetworkFileError(f"{where}: no such file {full!r}")
    unknown = set(spec) - {"file", "key", "scale"}
    if unknown:
        raise NetworkFileError(f"{where}: unknown keys {sorted(unknown)} (allowed: file, "
                               "key, scale)")
    try:
        data = np.load(full, allow_pickle=False)
    except Exception as e:
        raise NetworkFileError(f"{where}: cannot read {full!r}: {e}") from None
    if isinstance(data, np.lib.npyio.NpzFile):
        with data:                    # members are read lazily: errors come from data[key]
            keys = list(data.files)
            key = spec.get("key", keys[0] if len(keys) == 1 else None)
            if not isinstance(key, str) or key not in keys:
                raise NetworkFileError(f"{where}: {full!r} holds {keys}; name one with key = "
                                       f"\"...\" (got {key!r})")
            try:
                arr = data[key]
            except Exception as e:    # pickled objects (refused), damaged members
                raise NetworkFileError(f"{where}: cannot read {key!r} of {full!r}: {e}") \
                    from None
    else:
        arr = data
    if not np.issubdtype(arr.dtype, np.number):
        raise NetworkFileError(f"{where}: {full!r} holds {arr.dtype} values, not numbers")
    scale = parse_quantity(spec.get("scale", 1.0), f"{where}.scale")
    return _tagged(np.asarray(arr, dtype=np.float64) * scale, [scale], where)


def _tagged(values, parts, where):
    """``values`` as a :class:`~neurosim.units.QuantityArray` when the quantities it was
    made of were written with units (all of one dimension), else a plain array."""
    dims = {getattr(q, "si", None) for q in parts} - {None}
    if len(dims) > 1:
        raise NetworkFileError(f"{where}: values of different dimensions in one array: "
                               + ", ".join(sorted(q.text for q in parts if hasattr(q, "si"))))
    if not dims:
        return np.asarray(values, dtype=np.float64)
    text = next(q.text for q in parts if hasattr(q, "si"))
    return units.QuantityArray(values, dims.pop(), text)


def _flat(v):
    return [y for x in v for y in (_flat(x) if isinstance(x, list) else [x])]


def _value(v, base, where, n=None, rng=None):
    """A parameter value: quantity, list (of quantities), random table or file."""
    if isinstance(v, dict):
        if "file" in v:
            return _load_array(v, base, where)
        if len(v) == 1 and next(iter(v)) in ("uniform", "normal"):
            kind, args = next(iter(v.items()))
            if not (isinstance(args, list) and len(args) == 2):
                raise NetworkFileError(f"{where}: {kind} takes [low, high]" if kind == "uniform"
                                       else f"{where}: normal takes [mean, sd]")
            a, b = (parse_quantity(x, where) for x in args)
            if n is None:
                raise NetworkFileError(f"{where}: random values need a population size")
            _check_draw(kind, a, b, n, where)
            lo, hi = float(a), float(b) + 0.0           # numpy refuses an sd of -0.0
            return _tagged(rng.uniform(lo, hi, n) if kind == "uniform" else rng.normal(lo, hi, n),
                           [a, b], where)
        raise NetworkFileError(f"{where}: a table must be {{file = ...}}, {{uniform = [a, b]}} "
                               f"or {{normal = [mean, sd]}}, got keys {sorted(v)}")
    if isinstance(v, list):
        try:
            nested = _nested(v, where)
            return _tagged(np.array(nested, dtype=np.float64), _flat(nested), where)
        except ValueError as e:
            raise NetworkFileError(f"{where}: {e}") from None
    if isinstance(v, str) and not _QUANTITY.match(v):
        return v                      # a choice such as reset = "subtract"
    if isinstance(v, bool):
        return v
    return parse_quantity(v, where)


def _check_draw(kind, a, b, n, where):
    """The arguments of ``uniform = [a, b]`` / ``normal = [mean, sd]`` and the size of the
    draw, checked before numpy draws anything."""
    from . import memory
    if kind == "uniform" and not (np.isfinite(a) and np.isfinite(b) and a <= b
                                  and np.isfinite(float(b) - float(a))):
        raise NetworkFileError(f"{where}: uniform = [low, high] needs finite low <= high; "
                               f"got [{a!r}, {b!r}]")
    if kind == "normal" and not (np.isfinite(a) and np.isfinite(b) and b >= 0):
        raise NetworkFileError(f"{where}: normal = [mean, sd] needs a finite mean and a "
                               f"finite sd >= 0; got [{a!r}, {b!r}]")
    memory.require(8.0 * n, f"{where}: {n} random values")


def _int_values(v, base, where):
    """A value given as integers ("n", "indices", loihi_lif parameters): a number, a
    rectangular (nested) list of numbers or ``{file = ...}``, else an error naming it."""
    if isinstance(v, dict):
        return _load_array(v, base, where)
    if isinstance(v, list):
        flat = _flat(v)
        if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in flat):
            bad = next(x for x in flat
                       if isinstance(x, bool) or not isinstance(x, (int, float)))
            raise NetworkFileError(f"{where}: a list of numbers, got an item {bad!r}")
        try:
            return np.asarray(v)
        except ValueError:
            raise NetworkFileError(f"{where}: nested lists of unequal lengths "
                                   f"(a rectangular array is needed), got {v!r}") from None
    return v


def _unit_string(v, where):
    """A string that is a number with a unit becomes a Quantity (checked against the
    parameter's dimension by the constructor); other values (names, choices) stay."""
    if isinstance(v, str):
        m = _QUANTITY.match(v)
        if m and m.group(2) is not None:
            return parse_quantity(v, where)
    return v


_DISTRIBUTIONS = ("normal", "uniform", "lognormal")


def _plasticity_rule(v, where):
    """``{rule = "stdp" | "triplet" | "tsodyks_markram", <the rule's arguments>}``."""
    from .plasticity import STDP, TripletSTDP, TsodyksMarkram
    rules = {"stdp": STDP, "triplet": TripletSTDP, "tsodyks_markram": TsodyksMarkram}
    if not isinstance(v, dict) or not isinstance(v.get("rule"), str) or v["rule"] not in rules:
        raise NetworkFileError(f"{where}: must be a table with rule = one of "
                               + ", ".join(repr(r) for r in rules) + f", got {v!r}")
    args = {k: _unit_string(x, f"{where} {k}") for k, x in v.items() if k != "rule"}
    return _call(rules[v["rule"]], args, where)


def _distribution(v, where):
    """``{normal = [mean, std], low = ..., high = ..., bounds = "redraw"}`` (or uniform =
    [min, max], lognormal = [mean, std] of the underlying normal) as a
    :class:`neurosim.random.Distribution` that keeps the dimension of its quantities."""
    from . import random
    kinds = [k for k in v if k in _DISTRIBUTIONS]
    bad = set(v) - set(_DISTRIBUTIONS) - {"low", "high", "bounds"}
    if len(kinds) != 1 or bad or not (isinstance(v[kinds[0]], list) and len(v[kinds[0]]) == 2):
        raise NetworkFileError(f"{where}: a distribution is {{normal = [mean, std]}}, "
                               "{uniform = [min, max]} or {lognormal = [mean, std]}, with "
                               f"optional low, high and bounds; got {v!r}")
    args = [parse_quantity(x, where) for x in v[kinds[0]]]
    bounds = {k: parse_quantity(v[k], f"{where} {k}") for k in ("low", "high") if k in v}
    parts = args if kinds[0] != "lognormal" else []
    parts += list(bounds.values())
    si = _tagged(np.zeros(0), parts, where)
    names = ("mean", "std") if kinds[0] != "uniform" else ("min", "max")
    plain = {k: float(x) for k, x in list(zip(names, args)) + list(bounds.items())}
    dist = _call(getattr(random, kinds[0]), dict(plain, bounds=v.get("bounds", "redraw")),
                 where)
    return random.with_unit(dist, getattr(si, "si", None), getattr(si, "text", ""))


def _nested(v, where):
    return [_nested(x, where) if isinstance(x, list) else parse_quantity(x, where) for x in v]


def _allowed(method):
    return [p for p in inspect.signature(method).parameters if p not in ("self", "name")]


def _call(func, kwargs, where):
    """Call ``func(**kwargs)``; its ParameterError gets the file's entry as a prefix."""
    try:
        return func(**kwargs)
    except InsufficientMemoryError as e:
        raise InsufficientMemoryError(f"{where}: {e}") from None
    except (ParameterError, ValueError, TypeError) as e:
        raise NetworkFileError(f"{where}: {e}") from None


def _require_connections(net, conns, path):
    """Refuse, before drawing any synapse, a file whose random connectivity would not fit
    once built (the estimate of Network.build, over every connection of the file)."""
    from . import memory
    total = 0.0
    for spec in conns:
        if not isinstance(spec, dict):
            return                              # the loop below says what is wrong
        try:
            pre, post = net.population(spec.get("pre")), net.population(spec.get("post"))
            weight = _value(spec.get("weight", 0.0), ".", "weight")
        except (ParameterError, NetworkFileError, TypeError, ValueError):
            return
        from .rules import RULES, rule_of
        try:
            rule, value = rule_of(**{k: spec.get(k) for k in RULES})
        except ParameterError:
            return
        n = memory.expected_synapses(pre.n, post.n, weight, rule, value)
        total += n or 0.0
    try:
        net._require_plan(extra_synapses=total, extra_blocks=len(conns))
    except InsufficientMemoryError as e:
        raise InsufficientMemoryError(f"{path}: {e}") from None


def load_network(path, **overrides):
    """Read a network file and build its :class:`~neurosim.Network` (nothing runs).

    ``overrides`` replace keys of ``[network]`` (e.g. ``duration``). Raises
    :class:`NetworkFileError` naming the file and the entry at the first problem.
    """
    from .crossbar import Crossbar
    from .network import Network
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            raw = f.read()
        doc = tomllib.loads(raw.decode("utf-8"))
    except FileNotFoundError:
        raise NetworkFileError(f"{path}: no such network file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise NetworkFileError(f"{path}: not valid TOML: {e}") from None
    base = os.path.dirname(os.path.abspath(path))
    err = lambda entry, msg: NetworkFileError(f"{path}: {entry}: {msg}")  # noqa: E731

    unknown = set(doc) - {"network", "populations", "connections", "monitors"}
    if unknown:
        raise err(sorted(unknown)[0], "unknown section (sections: network, populations, "
                  "connections, monitors)")
    for section, kind in (("network", dict), ("populations", dict), ("connections", list),
                          ("monitors", dict)):
        if section in doc and not isinstance(doc[section], kind):
            raise err(f"[{section}]" if kind is dict else f"[[{section}]]",
                      ("must be a table" if kind is dict else
                       "must be an array of tables ([[connections]])")
                      + f", got {doc[section]!r}")
    head = dict(doc.get("network", {}))
    head.update({k: v for k, v in overrides.items() if v is not None})
    bad = set(head) - set(NETWORK_KEYS)
    if bad:
        raise err(f"[network] {sorted(bad)[0]}", "unknown key (keys: "
                  + ", ".join(NETWORK_KEYS) + ")")
    cfg = {k: head.get(k, d) for k, d in NETWORK_KEYS.items()}
    for k in ("dt", "duration"):
        cfg[k] = parse_quantity(cfg[k], f"{path}: [network] {k}")
        _call(check_dimension, dict(name=k, value=cfg[k], unit="s"), f"{path}: [network]")
    net = _call(Network, dict(dt=cfg["dt"], seed=cfg["seed"], dtype=cfg["dtype"],
                              backend=cfg["backend"], threads=cfg["threads"]),
                f"{path}: [network]")
    if cfg["duration"] < 0:
        raise err("[network] duration", f"must be >= 0 s, got {cfg['duration']}")
    rng = np.random.default_rng(np.random.SeedSequence(net.seed, spawn_key=(17,)))

    pops = doc.get("populations", {})
    if not isinstance(pops, dict) or not pops:
        raise err("[populations]", "at least one population table ([populations.NAME]) "
                  "is needed")
    for name, spec in pops.items():
        where = f"{path}: [populations.{name}]"
        if not isinstance(spec, dict):
            raise NetworkFileError(f"{where}: must be a table")
        spec = dict(spec)
        model = spec.pop("model", None)
        if not isinstance(model, str) or model not in MODELS:
            raise NetworkFileError(f"{where} model: one of {', '.join(MODELS)}, got {model!r}")
        method = getattr(net, MODELS[model])
        allowed = _allowed(method)
        bad = [k for k in spec if k not in allowed]
        if bad:
            raise NetworkFileError(f"{where} {bad[0]}: unknown parameter for {model} "
                                   f"(parameters: {', '.join(allowed)})")
        n = spec.get("n")
        if "n" in spec:
            n = _call(check_int, dict(name="n", value=n, lo=1), where)
        kwargs = {}
        for k, v in spec.items():
            w = f"{where} {k}"
            if k == "n" or k == "indices" or model == "loihi_lif":     # integers, as given
                kwargs[k] = _int_values(v, base, w)
            elif k == "tau_syn" and isinstance(v, list):
                kwargs[k] = tuple(parse_quantity(x, w) for x in v)  # Quantities keep units
            else:
                kwargs[k] = _value(v, base, w, n, rng)
        _call(method, dict(kwargs, name=name), where)

    conns = doc.get("connections", [])
    if not isinstance(conns, list):
        raise err("[connections]", "must be an array of tables ([[connections]])")
    _require_connections(net, conns, path)
    for i, spec in enumerate(conns):
        where = f"{path}: [[connections]] #{i + 1}"
        if not isinstance(spec, dict):
            raise NetworkFileError(f"{where}: must be a table, got {spec!r}")
        spec = dict(spec)
        if "name" in spec:
            where += f" ({spec['name']})"
        bad = [k for k in spec if k not in CONNECTION_KEYS]
        if bad:
            raise NetworkFileError(f"{where} {bad[0]}: unknown key (keys: "
                                   + ", ".join(CONNECTION_KEYS) + ")")
        for k in ("pre", "post", "weight"):
            if k not in spec:
                raise NetworkFileError(f"{where}: '{k}' is required")
        kwargs = {}
        for k in ("pre", "post"):
            try:
                kwargs[k] = net.population(spec.pop(k))
            except Exception as e:
                raise NetworkFileError(f"{where} {k}: {e}") from None
        syn = spec.pop("synapse", None)
        if syn is not None:
            if not (isinstance(syn, dict) and set(syn) == {"crossbar"}
                    and isinstance(syn["crossbar"], dict)):
                raise NetworkFileError(f"{where} synapse: must be {{crossbar = {{...}}}} with "
                                       "the arguments of neurosim.crossbar.Crossbar")
            xkw = {k: (tuple(_unit_string(x, f"{where} synapse {k}") for x in v)
                       if isinstance(v, list) else _unit_string(v, f"{where} synapse {k}"))
                   for k, v in syn["crossbar"].items()}
            kwargs["synapse"] = _call(Crossbar, xkw, f"{where} synapse")
        rule = spec.pop("plasticity", None)
        if rule is not None:
            kwargs["plasticity"] = _plasticity_rule(rule, f"{where} plasticity")
        for k, v in spec.items():
            if k in ("weight", "delay") and isinstance(v, dict) and set(v) & set(_DISTRIBUTIONS):
                kwargs[k] = _distribution(v, f"{where} {k}")
            elif k in ("name", "sign_mode", "autapses", "multapses", "indegree", "outdegree",
                     "total", "one_to_one", "num_weight_bits", "weight_exp"):
                kwargs[k] = v
            else:
                kwargs[k] = _value(v, base, f"{where} {k}")
        _call(net.connect, kwargs, where)

    out = NetworkFile(path=path, net=net, duration=cfg["duration"],
                      source=raw.decode("utf-8"))
    mons = doc.get("monitors", {})
    bad = set(mons) - {"spikes", "state"}
    if bad:
        raise err(f"[monitors] {sorted(bad)[0]}", "unknown key (keys: spikes, state)")
    spikes = mons.get("spikes", "all")
    names = [p.name for p in net.populations] if spikes == "all" else spikes
    if not isinstance(names, list):
        raise err("[monitors] spikes", f"a list of population names or \"all\", got {spikes!r}")
    states = mons.get("state", [])
    if not isinstance(states, list):
        raise err("[monitors] state", f"an array of tables, got {states!r}")
    for name in names:
        try:
            out.spike_monitors[name] = net.spike_monitor(net.population(name))
        except Exception as e:
            raise err("[monitors] spikes", str(e)) from None
    for j, st in enumerate(states):
        where = f"{path}: [monitors] state #{j + 1}"
        if not isinstance(st, dict) or not {"population", "var"} <= set(st) \
                or set(st) - {"population", "var", "indices"}:
            raise NetworkFileError(f"{where}: a table with population, var and optional "
                                   f"indices, got {st!r}")
        try:
            pop = net.population(st["population"])
        except Exception as e:
            raise NetworkFileError(f"{where} population: {e}") from None
        out.state_monitors[(pop.name, st["var"])] = _call(
            net.state_monitor, dict(pop=pop, var=st["var"], indices=st.get("indices")), where)
    return out
