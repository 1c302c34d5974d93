"""Fuzz every file parser of neurosim with malformed and random inputs.

    python benchmarks/fuzz.py [--n 100000] [--quick] [--jobs 2] [--seed 0] [--parsers ...]
                              [--out benchmarks]

Parsers and what each input is:

- ``netfile``: a network file (:func:`neurosim.netfile.load_network`): a copy of
  examples/networks/*.toml or of a small network that uses every section (spike sources,
  Loihi populations, crossbar synapses, plasticity, distributions, .npy/.npz side data),
  with 1-4 random edits of its parsed tree (a value replaced by one of another type or out
  of range, a key deleted, added or renamed, a list wrapped or unwrapped), written back as
  TOML; one input in eight also has its text cut, or a byte changed, inserted or removed.
- ``results``: a results file (:func:`neurosim.results.load_results`) saved from a small run,
  with its entries edited (key deleted or renamed, dtype, shape or length changed, object
  arrays, the ``meta`` JSON edited or replaced) and/or its bytes truncated or flipped.
- ``hardware``: a copy of a profile of hardware/ (energy, chips, memristor) edited as the
  network files, loaded through a search path (:func:`neurosim.hardware.load`).
- ``nir``: a copy of a graph of tests/data/nir/reference/graphs edited in its HDF5 tree
  (datasets replaced by values of other types, shapes or ranges, node types changed, nodes,
  fields and edges deleted or added) and/or its bytes truncated or flipped
  (:func:`neurosim.nir.read`).
- ``checkpoint``: a checkpoint (:meth:`neurosim.Network.restore_checkpoint`) of a small
  network (LIF with exponential and delta synapses, adaptation, Poisson sources and drive,
  STDP, stored delays, spike, state, weight and count monitors) at t = 0, mid-run and after
  learning, on the numba and reference backends, with its JSON header edited as the network
  files are, its entries edited as the results files are, and/or its bytes flipped; an
  input that restores must also run 1 ms (a state that restores but makes the engine index
  out of range is a crash).

Every input must either load or raise the parser's own error class (NetworkFileError, or
InsufficientMemoryError for a network too large to build; ResultsFileError;
HardwareProfileError; NIRError; CheckpointError) with a message naming the file, and must leave no file
behind. Anything else is a crash: its traceback is kept (the first of each kind) and the
run exits with status 1. A worker process that dies (a segmentation fault in a C extension,
killed for memory) does not end the run: the input it was trying is tried alone in a fresh
process and, if that dies too, counted as a crash of that input (with its --replay seeds);
the chunks the dead pool took down are run again.

Prints JSON (per parser: inputs, accepted, refused, crashes, seconds) and writes
fuzz_results.json and fuzz_results.md to --out. ``--quick`` runs 300 inputs per parser.
"""

import argparse
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
import datetime
import io
import json
import math
import multiprocessing
import os
import platform
import shutil
import sys
import tempfile
import time
import traceback
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
NETWORKS = os.path.join(ROOT, "examples", "networks")
HARDWARE = os.path.join(ROOT, "hardware")
GRAPHS = os.path.join(ROOT, "tests", "data", "nir", "reference", "graphs")
PARSERS = ("netfile", "results", "hardware", "nir", "checkpoint")

#: a small network that uses every part of the file format
KITCHEN_SINK = """
[network]
dt = "0.5 ms"
duration = "20 ms"
seed = 5
threads = 1

[populations.src]
model = "spike_source"
n = 3
times = ["1 ms", "2 ms", "5 ms"]
indices = [0, 1, 2]

[populations.noise]
model = "poisson"
n = 5
rate = {normal = ["20 Hz", "2 Hz"]}

[populations.hid]
model = "lif"
n = 6
tau_m = "10 ms"
tau_syn = "3 ms"
v_rest = "-65 mV"
v_th = "-50 mV"
v_reset = "-65 mV"
t_ref = "2 ms"
v_init = [-0.065, -0.064, -0.063, -0.062, -0.061, -0.06]
bias = {file = "bias.npz", key = "b", scale = "1 mV"}

[populations.chip]
model = "loihi_lif"
n = 4
du = 1024
dv = 512
vth = 100

[[connections]]
name = "src->hid"
pre = "src"
post = "hid"
weight = {normal = ["2 mV", "0.5 mV"], low = "0 mV"}
delay = "1 ms"
indegree = 2
plasticity = {rule = "stdp", w_max = "5 mV", lam = 0.01}

[[connections]]
pre = "noise"
post = "hid"
weight = "1 mV"
p = 0.5
synapse = {crossbar = {device = "rram_hfox_1t1r", adc_bits = 8}}

[[connections]]
pre = "hid"
post = "hid"
weight = {file = "w.npy", scale = "0.1 mV"}
delay = {uniform = ["1 ms", "2 ms"]}

[[connections]]
pre = "src"
post = "chip"
weight = 10
total = 6
num_weight_bits = 8

[monitors]
spikes = ["hid", "chip"]
state = [{population = "hid", var = "v", indices = [0, 1]}]
"""

# ------------------------------------------------------------------ random values
KEYS = ("dt", "duration", "seed", "dtype", "backend", "threads", "model", "n", "tau_m",
        "tau_syn", "v_rest", "v_th", "v_reset", "t_ref", "v_init", "bias", "rate", "times",
        "indices", "du", "dv", "vth", "pre", "post", "weight", "delay", "p", "indegree",
        "outdegree", "total", "one_to_one", "pairs", "autapses", "multapses", "name",
        "num_weight_bits", "sign_mode", "synapse", "plasticity", "crossbar", "device",
        "adc_bits", "rule", "w_max", "lam", "file", "key", "scale", "uniform", "normal",
        "lognormal", "low", "high", "bounds", "spikes", "state", "population", "var",
        "value", "unit", "status", "source", "per", "bits", "execution", "technology",
        "coefficients", "sigma", "t0", "nu_mean", "nu_std", "type", "nodes", "edges",
        "network", "populations", "connections", "monitors", "x", "", " ", "a.b", "é")
STRINGS = ("", " ", "abc", "20 ms", "-65 mV", "0 s", "1e999 ms", "-1e999 mV", "1e-400 s",
           "nan", "inf ms", "-inf Hz", "nan mV", "5 Hz", "1 kg", "1 mA", "1.5 nS", "3 uS",
           "1 pJ", "1..2 ms", "mV", "lif", "poisson", "spike_source", "loihi_lif", "all",
           "stdp", "triplet", "tsodyks_markram", "rram_hfox_1t1r", "pcm_gst", "exc", "inh",
           "input", "hidden", "output", "hid", "src", "v", "u", "float32", "float64",
           "reference", "numba", "redraw", "clip", "published", "estimate", "J", "S", "V",
           "spike", "mac", "crossbar", "spiking", "polynomial_g", "relative", "power_law",
           "none", "LIF", "Affine", "Input", "Output", "NIRGraph", "x" * 300, "\u00e9\u00df",
           "w.npy", "w.npz", "bad.npy", "obj.npz", "str.npy", "w3.npy", "empty.npy",
           "missing.npy", "..", "/", "bias.npz")
INTS = (0, 1, -1, 2, 3, 4, 7, 50, 100, -100, 4096, 2**31 - 1, 2**31, 2**53, 2**63 - 1,
        -2**63, 10**12)
FLOATS = (0.0, -0.0, 1e-300, 1e308, -1e308, math.nan, math.inf, -math.inf, 0.5, -0.5, 1e-3,
          2e-2, -65e-3, 1.5, 1e6)
DATES = (datetime.date(1979, 5, 27), datetime.datetime(1979, 5, 27, 7, 32),
         datetime.time(7, 32))


def random_scalar(rng):
    kind = rng.integers(6)
    if kind == 0:
        return int(INTS[rng.integers(len(INTS))])
    if kind == 1:
        return float(FLOATS[rng.integers(len(FLOATS))])
    if kind == 2:
        return float(rng.normal() * 10.0 ** rng.integers(-12, 13))
    if kind == 3:
        return bool(rng.integers(2))
    if kind == 4 and rng.random() < 0.1:
        return DATES[rng.integers(len(DATES))]
    return STRINGS[rng.integers(len(STRINGS))]


def random_value(rng, depth=0, dates=True):
    """A random TOML/JSON value: scalars, lists (ragged, mixed, nested) and tables."""
    r = rng.random()
    if depth > 2 or r < 0.6:
        v = random_scalar(rng)
        return v if dates or not isinstance(v, (datetime.date, datetime.time)) else "x"
    if r < 0.85:
        n = int(rng.integers(0, 5))
        if rng.random() < 0.5:            # homogeneous
            item = random_value(rng, depth + 1, dates)
            return [item] * n
        return [random_value(rng, depth + 1, dates) for _ in range(n)]
    return {KEYS[rng.integers(len(KEYS))]: random_value(rng, depth + 1, dates)
            for _ in range(int(rng.integers(0, 4)))}


# ------------------------------------------------------------------ tree edits
def _containers(tree, path=()):
    """(path, container) of every dict and list in ``tree``."""
    out = [(path, tree)]
    items = tree.items() if isinstance(tree, dict) else enumerate(tree)
    for k, v in items:
        if isinstance(v, (dict, list)):
            out += _containers(v, path + (k,))
    return out


def mutate_tree(tree, rng, value=random_value, n=None):
    """Apply 1-4 random edits to the nested dict/list ``tree`` in place."""
    for _ in range(int(rng.integers(1, 5)) if n is None else n):
        conts = _containers(tree)
        _, c = conts[rng.integers(len(conts))]
        keys = list(c) if isinstance(c, dict) else list(range(len(c)))
        op = rng.integers(8)
        if not keys or op == 0:                       # add
            if isinstance(c, dict):
                c[KEYS[rng.integers(len(KEYS))]] = value(rng)
            else:
                c.insert(int(rng.integers(len(c) + 1)), value(rng))
            continue
        k = keys[rng.integers(len(keys))]
        old = c[k]
        if op == 1:                                   # delete
            del c[k]
        elif op == 2 and isinstance(c, dict):         # rename
            c[KEYS[rng.integers(len(KEYS))]] = c.pop(k)
        elif op == 3:                                 # wrap in a list or a table
            c[k] = [old] if rng.random() < 0.7 else {KEYS[rng.integers(len(KEYS))]: old}
        elif op == 4 and isinstance(old, list) and old:   # unwrap / duplicate an item
            c[k] = old[0] if rng.random() < 0.5 else old + [old[-1]]
        elif op == 5 and isinstance(old, (int, float)) and not isinstance(old, bool):
            c[k] = [-old, old * 10 ** int(rng.integers(1, 12)), 0, old + 1, old - 1,
                    float(old) * 1.5, math.nan][rng.integers(7)]
        elif op == 6 and isinstance(old, str):        # the number of a quantity changed
            c[k] = [old.replace(" ", ""), "-" + old, old + " ms", old.split(" ")[-1],
                    "1e400 " + old.split(" ")[-1]][rng.integers(5)]
        else:                                         # replace
            c[k] = value(rng)
    return tree


def mutate_bytes(data, rng):
    """Cut, or change, insert or remove a few bytes of ``data``."""
    data = bytearray(data)
    op = rng.integers(4)
    if op == 0 or not data:
        return bytes(data[:int(rng.integers(0, len(data) + 1))])
    for _ in range(int(rng.integers(1, 4))):
        i = int(rng.integers(len(data)))
        if op == 1:
            data[i] = int(rng.integers(256))
        elif op == 2:
            data.insert(i, int(rng.integers(256)))
        elif len(data) > 1:
            del data[i]
    return bytes(data)


# ------------------------------------------------------------------ TOML writer
def _toml_key(k):
    k = str(k)
    return k if k and all(ch.isascii() and (ch.isalnum() or ch in "_-") for ch in k) \
        else json.dumps(k)


def toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) \
            else repr(v)
    if isinstance(v, (datetime.date, datetime.time)):
        return v.isoformat()
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(type(v))


def toml_dumps(doc):
    """A TOML document (top-level keys, each value inline) for the tree ``doc``."""
    return "".join(f"{_toml_key(k)} = {toml_value(v)}\n" for k, v in doc.items())


def _toml_loads(text):
    if sys.version_info >= (3, 11):
        import tomllib
    else:                                 # pragma: no cover - Python 3.10
        import tomli as tomllib
    return tomllib.loads(text)


def mutated_toml(doc, rng):
    """The TOML text of a mutated copy of ``doc`` (bytes); one in eight also cut or
    changed as bytes."""
    data = toml_dumps(mutate_tree(json_copy(doc), rng)).encode("utf-8")
    return mutate_bytes(data, rng) if rng.random() < 0.125 else data


def json_copy(tree):
    if isinstance(tree, dict):
        return {k: json_copy(v) for k, v in tree.items()}
    if isinstance(tree, list):
        return [json_copy(v) for v in tree]
    return tree


# ------------------------------------------------------------------ the parsers
class Refusal(Exception):
    """What a fuzz case was expected to raise, for the record."""


class Marker:
    """An object whose unpickling creates ``path`` (a file that must never appear)."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def pickled_npz(path, marker, key="x", **arrays):
    """A .npz whose entry ``key`` is an object array holding a :class:`Marker` (and
    ``arrays``)."""
    arr = np.empty(1, dtype=object)
    arr[0] = Marker(marker)
    np.savez(path, **arrays, **{key: arr})


def side_files(folder, marker):
    """The .npy / .npz files network-file inputs may name."""
    rng = np.random.default_rng(0)
    np.save(os.path.join(folder, "w.npy"), rng.normal(0, 1, (6, 6)))
    np.save(os.path.join(folder, "feedforward_w1.npy"),
            np.load(os.path.join(NETWORKS, "feedforward_w1.npy")))
    np.savez(os.path.join(folder, "w.npz"), W=np.ones((6, 6)), V=np.zeros(3))
    np.savez(os.path.join(folder, "bias.npz"), b=np.linspace(0, 5, 6))
    np.save(os.path.join(folder, "str.npy"), np.array(["a", "b"]))
    np.save(os.path.join(folder, "w3.npy"), np.ones((2, 3, 4)))
    np.save(os.path.join(folder, "empty.npy"), np.zeros(0))
    with open(os.path.join(folder, "w.npy"), "rb") as f:
        good = f.read()
    with open(os.path.join(folder, "bad.npy"), "wb") as f:
        f.write(good[:90])
    pickled_npz(os.path.join(folder, "obj.npz"), marker)


#: the examples' populations are cut to this size as seeds (a 4,000-neuron CUBA network
#: draws its synapses in 0.1 s; the file format is the same at any size)
SEED_MAX_N = 200


def _seed_docs():
    docs = []
    for f in sorted(os.listdir(NETWORKS)):
        if f.endswith(".toml"):
            with open(os.path.join(NETWORKS, f), "rb") as fh:
                doc = _toml_loads(fh.read().decode())
            for pop in doc.get("populations", {}).values():
                pop["n"] = min(pop["n"], SEED_MAX_N)
            docs.append((f, doc))
    docs.append(("sink.toml", _toml_loads(KITCHEN_SINK)))
    return docs


def _small_run(folder):
    """Results files of a small run (spikes, state, per-neuron params, weights)."""
    import neurosim as ns
    from neurosim.netfile import load_network
    from neurosim.results import save_results
    side_files(folder, os.path.join(folder, "MARKER"))
    doc = _toml_loads(KITCHEN_SINK)           # without its Loihi part, which cannot run
    del doc["populations"]["chip"]             # in a float network
    doc["connections"] = [c for c in doc["connections"] if c["post"] != "chip"]
    doc["monitors"]["spikes"] = ["hid", "src"]
    doc["network"]["backend"] = "reference"     # no compilation in a fuzz worker
    path = os.path.join(folder, "sink.toml")
    with open(path, "w") as f:
        f.write(toml_dumps(doc))
    nf = load_network(path)
    nf.net.run(nf.duration)
    out = [save_results(os.path.join(folder, "a.npz"), nf.net, weights=True,
                        extra={"note": "fuzz"})]
    net = ns.Network(dt=1e-3, seed=2, backend="reference")
    p = net.poisson(4, rate=np.linspace(10, 80, 4))
    net.spike_monitor(p)
    net.run(0.02)
    out.append(save_results(os.path.join(folder, "b.npz"), net, interrupted=True))
    return out


RESULT_KEYS = ("meta", "spikes/hid/steps", "spikes/hid/indices", "spikes/x/steps",
               "spikes//steps", "spikes/steps", "state/hid/v/values", "state/hid/v/steps",
               "state/hid/values", "state/a/b/c/values", "param/hid", "param/hid/bias",
               "param/a/b/c", "weights/x/weight", "weights/weight", "weights/x/pre",
               "other", "", "/", "spikes", "state")
DTYPES = ("float32", "int8", "uint64", "bool", "complex128", "U3", "S2", "M8[s]",
          "float16", "i4,f8", "object", "V8")


def _mutate_array(a, rng):
    with warnings.catch_warnings(), np.errstate(all="ignore"):     # casts that overflow
        warnings.simplefilter("ignore")
        return _mutate_array_(a, rng)


def _mutate_array_(a, rng):
    op = rng.integers(7)
    if op == 0:
        dt = DTYPES[rng.integers(len(DTYPES))]
        try:
            return a.astype(dt) if dt != "object" else np.array([a, 1], dtype=object)
        except (TypeError, ValueError, RuntimeError):     # (strings to datetimes)
            return np.zeros(a.shape, dtype=dt)
    if op == 1:
        return a.reshape(-1)[: int(rng.integers(0, a.size + 1))]
    if op == 2:
        return np.concatenate([a.reshape(-1), a.reshape(-1)[:2]]) if a.ndim else a
    if op == 3:
        return a.reshape((1,) + a.shape) if rng.random() < 0.5 else np.asarray(
            a.reshape(-1)[0] if a.size else 0)
    if op == 4 and a.size and a.dtype.kind in "iuf":
        b = a.copy()
        v = [-1, 2**31, 0][rng.integers(3)] if a.dtype.kind in "iu" else \
            [math.nan, math.inf, -1.0][rng.integers(3)]
        b.flat[int(rng.integers(a.size))] = np.array(v).astype(a.dtype)   # may wrap around
        return b
    if op == 5:
        return np.array(random_scalar(rng) if rng.random() < 0.5 else "x")
    return np.zeros((2, 3))


def mutated_results(seed_arrays, rng):
    """Bytes of an .npz: a results file with its entries edited."""
    arrays = dict(seed_arrays)
    if rng.random() < 0.5:
        meta = json.loads(str(arrays["meta"]))
        r = rng.random()
        if r < 0.7:
            mutate_tree(meta, rng, value=lambda g: random_value(g, dates=False))
            arrays["meta"] = np.array(json.dumps(meta))
        elif r < 0.8:
            arrays["meta"] = np.array(json.dumps(random_value(rng, dates=False)))
        elif r < 0.9:
            arrays["meta"] = np.array(str(arrays["meta"])[:int(rng.integers(60))])
        else:
            arrays["meta"] = _mutate_array(arrays["meta"], rng)
    return npz_edited(arrays, rng, RESULT_KEYS)


def npz_edited(arrays, rng, names, keep=()):
    """Bytes of an .npz of ``arrays`` with 0-3 entries (not those in ``keep``) deleted,
    renamed to one of ``names`` or edited (:func:`_mutate_array`), compressed or not, and
    one file in four with its bytes mutated."""
    for _ in range(int(rng.integers(0, 4))):
        keys = [k for k in arrays if k not in keep]
        if not keys:
            break
        k = keys[rng.integers(len(keys))]
        op = rng.integers(4)
        if op == 0:
            del arrays[k]
        elif op == 1:
            arrays[names[rng.integers(len(names))]] = arrays.pop(k)
        else:
            arrays[k] = _mutate_array(arrays[k], rng)
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (np.savez_compressed if rng.random() < 0.5 else np.savez)(buf, **arrays)
    data = buf.getvalue()
    return mutate_bytes(data, rng) if rng.random() < 0.25 else data


# ---- NIR: the HDF5 tree as nested dicts of arrays
def h5_tree(path):
    import h5py

    def walk(g):
        return {k: walk(v) if isinstance(v, h5py.Group) else v[()] for k, v in g.items()}
    with h5py.File(path, "r") as f:
        return walk(f)


def write_h5(tree, file):
    import h5py

    def put(g, t):
        for k, v in t.items():
            if isinstance(v, dict):
                put(g.create_group(str(k) or "_"), v)
            else:
                try:
                    g.create_dataset(str(k) or "_", data=v)
                except (TypeError, ValueError):
                    g.create_dataset(str(k) or "_", data=str(v))
    with h5py.File(file, "w") as f:
        put(f, tree)


NIR_TYPES = (b"LIF", b"CubaLIF", b"LI", b"IF", b"I", b"Affine", b"Linear", b"Scale",
             b"Conv2d", b"SumPool2d", b"Flatten", b"Delay", b"Input", b"Output", b"NIRGraph",
             b"Threshold", b"Unknown", b"NIRNode", b"")


def _nir_value(rng):
    r = rng.random()
    if r < 0.3:
        return NIR_TYPES[rng.integers(len(NIR_TYPES))]
    if r < 0.55:
        shape = tuple(int(s) for s in rng.integers(0, 4, int(rng.integers(0, 4))))
        return np.full(shape, FLOATS[rng.integers(len(FLOATS))])
    if r < 0.7:
        return np.array([[b"input", b"lif"], [b"lif", b"nope"]][: int(rng.integers(3))])
    if r < 0.8:
        return {}
    v = random_value(rng, depth=3, dates=False)
    return np.asarray(v) if not isinstance(v, str) else v.encode()


def _nir_edit(a, rng):
    """A dataset of a NIR file edited in place of a whole-value replacement."""
    if isinstance(a, np.ndarray) and a.dtype.kind in "iuf" and a.size:
        return _mutate_array(a, rng)
    return _nir_value(rng)


def mutated_nir(tree, rng):
    tree = json_copy(tree)
    for _ in range(int(rng.integers(1, 4))):
        conts = _containers(tree)
        _, c = conts[rng.integers(len(conts))]
        if not c or rng.random() < 0.15:
            c[KEYS[rng.integers(len(KEYS))] or "x"] = _nir_value(rng)
            continue
        k = list(c)[rng.integers(len(c))]
        r = rng.random()
        if r < 0.2:
            del c[k]
        elif r < 0.3:
            c[KEYS[rng.integers(len(KEYS))] or "x"] = c.pop(k)
        elif isinstance(c[k], dict):
            c[k] = _nir_value(rng) if rng.random() < 0.3 else c[k]
        else:
            c[k] = _nir_edit(c[k], rng)
    return tree

#: the small network whose checkpoints are fuzzed (every model, drives, plasticity,
#: monitors of every kind): built once per worker, restored into for every input
def _checkpoint_net(backend):
    import neurosim as ns
    from neurosim.plasticity import STDP
    from neurosim.units import mV, ms
    net = ns.Network(seed=5, backend=backend)
    base = dict(v_rest=-65 * mV, v_th=-50 * mV, v_reset=-65 * mV)
    a = net.lif(6, tau_m=20 * ms, tau_syn=5 * ms, bias=16 * mV, name="a", **base)
    b = net.lif(5, tau_m=10 * ms, synapse="delta", tau_a=50 * ms, beta=1 * mV,
                bias=15.5 * mV, name="b", **base)
    src = net.poisson(8, rate=40.0, name="src")
    net.connect(src, a, weight=1.5 * mV, p=0.5, delay=1 * ms)
    proj = net.connect(a, b, weight=1 * mV, p=0.5, plasticity=STDP(w_max=3 * mV))
    net.poisson_input(b, rate=500.0, weight=0.3 * mV, delay=0.5 * ms)
    net.spike_monitor(a)
    net.state_monitor(b, "v", indices=[0, 4])
    net.weight_monitor(proj, indices=[0])
    net.count_monitor(2 * ms)
    return net


def mutated_checkpoint(seed_arrays, rng):
    """Bytes of an .npz: a checkpoint with its entries and/or its JSON header edited."""
    arrays = dict(seed_arrays)
    if rng.random() < 0.5:
        header = json.loads(bytes(arrays["header"]).decode())
        r = rng.random()
        if r < 0.8:
            mutate_tree(header, rng, value=lambda g: random_value(g, dates=False))
            text = json.dumps(header)
        elif r < 0.9:
            text = json.dumps(random_value(rng, dates=False))
        elif r < 0.95:
            text = bytes(arrays["header"]).decode()[:int(rng.integers(80))]
        else:
            text = None
        arrays["header"] = _mutate_array(arrays["header"], rng) if text is None else \
            np.frombuffer(text.encode(), np.uint8)
    names = [k for k in seed_arrays if k != "header"]
    return npz_edited(arrays, rng, names, keep=("header",))


class Fuzzer:
    """One parser's inputs and its loader; :meth:`case` writes one input and tries it."""

    def __init__(self, parser, folder):
        self.parser = parser
        self.folder = folder
        self.marker = os.path.join(folder, "MARKER")
        import neurosim.nir  # noqa: F401  (import cost outside the timing of cases)
        from neurosim.checkpoint import CheckpointError
        from neurosim.hardware import HardwareProfileError
        from neurosim.netfile import NetworkFileError
        from neurosim.nir import NIRError
        from neurosim.results import ResultsFileError
        from neurosim.validation import InsufficientMemoryError
        self.errors = {"netfile": (NetworkFileError, InsufficientMemoryError),
                       "results": (ResultsFileError,), "hardware": (HardwareProfileError,),
                       "nir": (NIRError, InsufficientMemoryError),
                       "checkpoint": (CheckpointError,)}[parser]
        getattr(self, "setup_" + parser)()
        self.before = set(os.listdir(folder))

    # -- setups
    def setup_netfile(self):
        side_files(self.folder, self.marker)
        self.seeds = _seed_docs()

    def setup_results(self):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            files = _small_run(tempfile.mkdtemp(dir=self.folder))
        self.seeds = []
        for f in files:
            with np.load(f) as z:
                self.seeds.append({k: z[k] for k in z.files})

    def setup_hardware(self):
        self.seeds = []
        for kind in ("energy", "chips", "memristor"):
            for f in sorted(os.listdir(os.path.join(HARDWARE, kind))):
                if f.endswith(".toml"):
                    with open(os.path.join(HARDWARE, kind, f), "rb") as fh:
                        self.seeds.append((kind, f[:-5], _toml_loads(fh.read().decode())))
        self.profiles = os.path.join(self.folder, "profiles")
        for kind in ("energy", "chips", "memristor"):
            os.makedirs(os.path.join(self.profiles, kind), exist_ok=True)

    def setup_nir(self):
        names = sorted(f for f in os.listdir(GRAPHS) if f.endswith(".nir"))
        self.seeds = [(n, h5_tree(os.path.join(GRAPHS, n))) for n in names]
        self.raw = {n: open(os.path.join(GRAPHS, n), "rb").read() for n in names}

    def setup_checkpoint(self):
        """Checkpoints of the small network on both backends at t = 0, mid-run and after
        the plastic weights changed; every input is restored into its seed's network."""
        self.seeds = []
        for backend in ("numba", "reference"):
            net = _checkpoint_net(backend)
            for t in (0.0, 4.3e-3, 20e-3):
                net.run(t - net.t) if t > net.t else net.build()
                f = net.save_checkpoint(os.path.join(self.folder, "seed.npz"))
                with np.load(f) as z:
                    self.seeds.append((net, {k: z[k] for k in z.files}))
                os.unlink(f)

    # -- one input
    def make(self, rng):
        """Write one input; return (path, loader)."""
        return getattr(self, "make_" + self.parser)(rng)

    def make_netfile(self, rng):
        from neurosim.netfile import load_network
        name, doc = self.seeds[rng.integers(len(self.seeds))]
        path = os.path.join(self.folder, "case-" + name)
        with open(path, "wb") as f:
            f.write(mutated_toml(doc, rng))
        return path, load_network

    def make_results(self, rng):
        from neurosim.results import load_results
        path = os.path.join(self.folder, "case.npz")
        with open(path, "wb") as f:
            f.write(mutated_results(self.seeds[rng.integers(len(self.seeds))], rng))

        def load(p):
            res = load_results(p)
            if res.meta.get("counts") is not None:
                res.counts                                    # noqa: B018
            return res
        return path, load

    def make_hardware(self, rng):
        from neurosim import hardware
        kind, name, doc = self.seeds[rng.integers(len(self.seeds))]
        path = os.path.join(self.profiles, kind, name + ".toml")
        with open(path, "wb") as f:
            f.write(mutated_toml(doc, rng))
        return path, lambda p: hardware.load(name, kind, path=self.profiles)

    def make_nir(self, rng):
        import neurosim as ns
        path = os.path.join(self.folder, "case.nir")
        # the CNN takes 0.1 s to build: one input in 50
        seeds = self.seeds if rng.random() < 0.02 else [s for s in self.seeds
                                                          if not s[0].startswith("cnn")]
        name, tree = seeds[rng.integers(len(seeds))]
        if rng.random() < 0.2:
            with open(path, "wb") as f:
                f.write(mutate_bytes(self.raw[name], rng))
        else:
            write_h5(mutated_nir(tree, rng), path)
        return path, lambda p: ns.nir.read(p, dt=1e-3)

    def make_checkpoint(self, rng):
        net, arrays = self.seeds[rng.integers(len(self.seeds))]
        path = os.path.join(self.folder, "case.npz")
        with open(path, "wb") as f:
            f.write(mutated_checkpoint(arrays, rng))

        def load(p):             # a restored state must also run (no out-of-range index)
            net.restore_checkpoint(p)
            net.run(1e-3)
        return path, load

    def case(self, rng):
        """Try one input: ("accepted" | "refused" | "crash", detail)."""
        path, load = self.make(rng)
        try:
            outcome = self.attempt(path, load)
        finally:
            os.unlink(path)
        return outcome

    def attempt(self, path, load):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                load(path)
            outcome = ("accepted", None)
        except self.errors as e:
            outcome = ("refused", None) if path in str(e) else (
                "crash", f"{type(e).__name__} does not name the file: {e}")
        except Exception:
            outcome = ("crash", traceback.format_exc(limit=-6))
        if os.path.exists(self.marker):
            os.unlink(self.marker)
            outcome = ("crash", "an unpickled object ran code (the marker file appeared)")
        left = set(os.listdir(self.folder)) - self.before - {os.path.basename(path)}
        if left:
            for f in left:
                p = os.path.join(self.folder, f)
                shutil.rmtree(p) if os.path.isdir(p) else os.unlink(p)
            outcome = ("crash", f"left files behind: {sorted(left)}")
        return outcome


def _crash_kind(detail):
    """A short signature of a crash (its last line) to group them."""
    return detail.strip().splitlines()[-1][:200]


#: what neurosim's memory checks are told is available in a fuzz worker, and the address
#: space the worker may use: an input that allocates more than it was allowed fails with a
#: MemoryError (a crash) instead of taking the machine's memory
MEMORY_LIMIT = "1 GB"
ADDRESS_SPACE = 6 * 2**30


def limit_memory():
    os.environ["NEUROSIM_MEMORY_LIMIT"] = MEMORY_LIMIT
    try:
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))
    except (ImportError, ValueError, OSError):      # pragma: no cover - not Linux
        pass


def case_rng(seed):
    """The generator of one input (``seed``: [run seed, parser, chunk, index])."""
    return np.random.default_rng(seed)


_TMP = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
_FUZZERS = {}                 # one per parser and worker process (its setup runs once)


def _fuzzer(parser, base=None):
    """The process's fuzzer of ``parser``; its folder in ``base`` (removed by the run, if
    the process dies) or in /dev/shm."""
    if parser not in _FUZZERS:
        folder = tempfile.mkdtemp(prefix=f"fuzz-{parser}-", dir=base or _TMP)
        import atexit
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        _FUZZERS[parser] = Fuzzer(parser, folder)
    return _FUZZERS[parser]


def _record(crashes, parser, seed, detail):
    """Count the crash ``detail`` of input ``seed`` in ``crashes`` ({kind: [count, first
    example]})."""
    kind = _crash_kind(detail)
    detail = f"input {seed} (--replay {parser}:" + ",".join(map(str, seed)) + ")\n" + detail
    crashes.setdefault(kind, [0, detail])[0] += 1


def _die_with_parent():
    """A worker ends when the fuzz run does (Linux: the kernel sends it SIGKILL then);
    workers of a run killed from outside used to keep running, and skewed timings."""
    import ctypes
    import signal
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):                                 # not Linux
        return
    if os.getppid() == 1:                 # the parent died before the call above
        os._exit(1)


def run_chunk(args):
    """Fuzz ``parser`` with ``n`` inputs from ``seed`` (one worker process).

    ``progress``: a file where the index of the input being tried is kept (-1 during the
    setup), to tell which input a worker that died was trying; ``dead``: {index: detail} of
    inputs that killed a worker before, counted as crashes without being tried again."""
    parser, seed, n, progress, dead = args
    fd = os.open(progress, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600) if progress else None
    if fd is not None:
        os.pwrite(fd, b"%20d" % -1, 0)
    limit_memory()
    fz = _fuzzer(parser, os.path.dirname(progress) if progress else None)
    counts = {"accepted": 0, "refused": 0, "crash": 0}
    crashes = {}
    t0 = time.process_time()
    for i in range(n):
        if i in dead:
            outcome, detail = "crash", dead[i]
        else:
            if fd is not None:
                os.pwrite(fd, b"%20d" % i, 0)
            outcome, detail = fz.case(case_rng(seed + [i]))
        counts[outcome] += 1
        if detail is not None:
            _record(crashes, parser, seed + [i], detail)
    if fd is not None:
        os.close(fd)
    return parser, counts, crashes, time.process_time() - t0


def _merge(r, crashes):
    """Add a chunk's ``crashes`` to a parser's ``crash_kinds`` (count, first example)."""
    for kind, (c, detail) in crashes.items():
        r["crash_kinds"].setdefault(kind, dict(count=0, example=detail))["count"] += c


def _run_one(parser, seed, base=None):
    """Try one input (a process of its own: :func:`_dies_alone`; None: the setup only)."""
    _die_with_parent()
    limit_memory()
    fz = _fuzzer(parser, base)
    if seed is not None:
        fz.case(case_rng(seed))


def _signal_name(code):
    import signal
    try:
        return f"killed by signal {-code} ({signal.Signals(-code).name})"
    except ValueError:
        return f"exit status {code}" if code >= 0 else f"killed by signal {-code}"


def _dies_alone(parser, seed, ctx, base=None):
    """The exit code of a fresh process that tries input ``seed`` alone (0: it survives;
    None: the parser's setup only)."""
    proc = ctx.Process(target=_run_one, args=(parser, seed, base))
    proc.start()
    proc.join()
    return proc.exitcode


def _in_progress(path):
    """The index a chunk's worker was trying (-1: in its setup; None: not started)."""
    try:
        with open(path, "rb") as f:
            return int(f.read() or b"-1")
    except (OSError, ValueError):
        return None


def fuzz(parsers, n, jobs, seed, chunk=2000, progress=None):
    """Run ``n`` inputs per parser over ``jobs`` processes; a dict per parser.

    A worker process that dies (a segmentation fault in a C extension, killed for memory)
    does not end the run: every chunk it took down with the pool is run again in a new pool,
    and the input each was trying is tried alone in a fresh process; an input that kills
    that one too (or kills its chunk's worker twice) is a crash of that input, counted
    without being tried again."""
    tasks = {}                    # the parsers in turn, so a partial run covers each
    for j, start in enumerate(range(0, n, chunk)):
        for p in parsers:
            tasks[len(tasks)] = (p, [seed, PARSERS.index(p), j], min(chunk, n - start))
    out = {p: dict(inputs=0, accepted=0, refused=0, crashes=0, cpu_s=0.0, wall_s=0.0,
                   crash_kinds={}, chunks_rerun=0) for p in parsers}
    t0 = {p: None for p in parsers}
    start = time.perf_counter()
    ctx = multiprocessing.get_context("spawn")
    folder = tempfile.mkdtemp(prefix="fuzz-progress-", dir=_TMP)
    dead = {k: {} for k in tasks}         # chunk: {index: crash detail}
    deaths = {}                           # chunk: the indices its worker died at
    try:
        while tasks:
            broken = []
            with ProcessPoolExecutor(jobs, mp_context=ctx,
                                     initializer=_die_with_parent) as pool:
                futs = {pool.submit(run_chunk, (p, s, m, os.path.join(folder, str(k)),
                                                dead[k])): k
                        for k, (p, s, m) in tasks.items()}
                for fut in as_completed(futs):
                    k = futs[fut]
                    try:
                        parser, counts, crashes, secs = fut.result()
                    except BrokenProcessPool:
                        broken.append(k)
                        continue
                    del tasks[k]
                    r = out[parser]
                    r["inputs"] += sum(counts.values())
                    r["accepted"] += counts["accepted"]
                    r["refused"] += counts["refused"]
                    r["crashes"] += counts["crash"]
                    r["cpu_s"] += secs
                    _merge(r, crashes)
                    t0[parser] = time.perf_counter() - start
                    if progress is not None:
                        progress(out, time.perf_counter() - start)
            for k in broken:
                _after_death(k, tasks, folder, dead, deaths, out, ctx)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    for p in parsers:
        out[p]["cpu_s"] = round(out[p]["cpu_s"], 1)
        out[p]["wall_s"] = round(t0[p] or 0.0, 1)     # when its last chunk finished
    return out, time.perf_counter() - start


#: a chunk whose worker dies this often (at inputs that do not kill alone) is given up
MAX_DEATHS = 10


def _after_death(k, tasks, folder, dead, deaths, out, ctx):
    """Chunk ``k`` was in the pool when a worker died: find out whether the input it was
    trying is the one that kills (tried alone) and mark it so the chunk skips it."""
    path = os.path.join(folder, str(k))
    i = _in_progress(path)
    if i is None:                          # not started: it just runs again
        return
    os.unlink(path)
    parser, seed, _ = tasks[k]
    out[parser]["chunks_rerun"] += 1
    before, deaths[k] = deaths.get(k, []), deaths.get(k, []) + [i]
    code = _dies_alone(parser, seed + [i] if i >= 0 else None, ctx, folder)
    if i >= 0 and (code != 0 or i in before):
        dead[k][i] = (f"the worker process died trying it: {_signal_name(code)} (alone, in "
                      "a fresh process)" if code != 0 else "the worker process died trying "
                      "it, twice in its chunk (not alone, in a fresh process)")
    elif code != 0 or i in before or len(before) >= MAX_DEATHS:
        del tasks[k]
        out[parser]["crashes"] += 1
        crashes = {}
        _record(crashes, parser, seed, f"worker processes died in this chunk at inputs "
                f"{deaths[k]} (-1: in the fuzzer's setup; alone: {_signal_name(code)}); "
                "the chunk was given up")
        _merge(out[parser], crashes)


def markdown(res, total, args, done=True):
    rows = ["# Fuzzing the file parsers", "",
            "" if done else "**In progress** (the tables so far; rewritten after every "
            "chunk of inputs).", "",
            f"`python benchmarks/fuzz.py --n {args.n} --jobs {args.jobs} --seed {args.seed}` "
            f"on {platform.node() or 'this machine'} ({os.cpu_count()} CPUs, Python "
            f"{platform.python_version()}), {datetime.date.today().isoformat()}: "
            f"{total:.0f} s wall clock in all.", "",
            "Every input either loads or is refused with the parser's own error naming the "
            "file; a crash is any other exception, a message without the file's name, a "
            "file left behind, an unpickled object, or a worker process that dies trying "
            "it (none may happen). Chunks of inputs run again after a worker process "
            "died: " + (", ".join(f"{p} {r['chunks_rerun']}" for p, r in res.items()
                                  if r.get("chunks_rerun")) or "none") + ".", "",
            "| parser | inputs | accepted | refused (package error) | crashes | CPU s | "
            "inputs/CPU s |", "|---|---|---|---|---|---|---|"]
    for p, r in res.items():
        rows.append(f"| {p} | {r['inputs']:,} | {r['accepted']:,} | {r['refused']:,} | "
                    f"{r['crashes']} | {r['cpu_s']:.0f} | "
                    f"{r['inputs'] / max(r['cpu_s'], 1e-9):.0f} |")
    for p, r in res.items():
        for kind, ent in r["crash_kinds"].items():
            rows += ["", f"## {p}: {ent['count']} x {kind}", "", "```", ent["example"], "```"]
    return "\n".join(rows) + "\n"


def replay(spec):
    """Re-create one input from its seeds, keep a copy and show what loading it does."""
    parser, seeds = spec.split(":")
    limit_memory()
    folder = tempfile.mkdtemp(prefix="fuzz-replay-", dir=_TMP)
    fz = Fuzzer(parser, folder)
    path, load = fz.make(case_rng([int(x) for x in seeds.split(",")]))
    keep = "fuzz-replay" + os.path.splitext(path)[1]
    shutil.copy(path, keep)
    print(f"input written to {keep} (side files in {folder})")
    load(path)
    print("loaded")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000, help="inputs per parser")
    ap.add_argument("--quick", action="store_true", help="300 inputs per parser")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--parsers", default=",".join(PARSERS))
    ap.add_argument("--out", default=HERE)
    ap.add_argument("--replay", help="PARSER:SEEDS of one input (as a crash report gives "
                    "it): write it to ./fuzz-replay.* and try it here")
    args = ap.parse_args()
    if args.replay:
        return replay(args.replay)
    if args.quick:
        args.n = 300
    parsers = [p for p in args.parsers.split(",") if p]
    for p in parsers:
        if p not in PARSERS:
            ap.error(f"--parsers: one of {', '.join(PARSERS)}; got {p!r}")
    def summarize(res, total, done):
        return dict(n=args.n, jobs=args.jobs, seed=args.seed, wall_s=round(total, 1),
                    complete=done, python=platform.python_version(), cpus=os.cpu_count(),
                    parsers={p: {k: (round(v, 1) if isinstance(v, float) else v)
                                 for k, v in r.items() if k != "crash_kinds"}
                             | {"crash_kinds": {k: e["count"] for k, e in
                                                r["crash_kinds"].items()}}
                             for p, r in res.items()})

    def write(res, total, done=False):
        """The tables so far (rewritten after every chunk: a long run can be read early)."""
        if args.quick:
            return
        with open(os.path.join(args.out, "fuzz_results.json"), "w") as f:
            json.dump(summarize(res, total, done), f, indent=1)
        with open(os.path.join(args.out, "fuzz_results.md"), "w") as f:
            f.write(markdown(res, total, args, done))

    res, total = fuzz(parsers, args.n, args.jobs, args.seed,
                      chunk=max(1, min(2000, args.n // max(args.jobs, 1))), progress=write)
    print(json.dumps(summarize(res, total, True), indent=1))
    write(res, total, done=True)
    if args.quick:
        for p, r in res.items():
            for kind, ent in r["crash_kinds"].items():
                print(f"--- {p}: {ent['count']} x {kind}\n{ent['example']}", file=sys.stderr)
    sys.exit(1 if any(r["crashes"] for r in res.values()) else 0)


if __name__ == "__main__":
    main()
