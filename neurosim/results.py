"""Results files: spikes, state traces, counters and parameters of a run in one ``.npz``.

Format (NumPy ``.npz``, no pickled objects; read with :func:`load_results` or plain
``numpy.load``):

- ``meta``: JSON text with ``format`` ("neurosim-results"), ``format_version``,
  ``neurosim_version``, ``dt`` (s), ``steps``, ``t`` (s), ``seed``, ``dtype``, ``backend``,
  ``network`` (populations: name, kind, n and scalar parameters; projections: name, pre,
  post, synapses, crossbar settings), ``counts`` (:meth:`Counts.to_dict`), ``interrupted``
  and whatever the caller adds as ``extra``;
- ``spikes/<key>/steps`` and ``/indices`` (int64) per spike monitor;
- ``state/<name>/<var>/steps``, ``/indices`` and ``/values`` (steps x neurons) per
  state monitor;
- ``param/<population>/<name>``: per-neuron parameters (arrays);
- ``weights/<projection>/pre``, ``/post``, ``/weight`` (sparse triplets) when asked for,
  and always for plastic projections (their final, learned weights); weight monitors as
  ``state/<projection>/weight/...`` (indices: synapse indices).

Several monitors of one population (or of one variable) are all kept. The first spike
monitor of a population is stored under the population's name, so ``res.spikes["exc"]``
reads it as in files written before; a further one under ``"exc#1"``, ``"exc#2"``, ... in the
order the monitors were made (a number is skipped where that key is the name of another
population), and ``meta["monitors"]["spikes"]`` maps each such key to its population
(``{"exc#1": "exc"}``; absent when no population has two monitors). State monitors do the
same on the variable: ``res.state["exc", "v"]`` is the first monitor of ``v``,
``res.state["exc", "v#1"]`` the second (a variable's name never holds ``#``), and weight
monitors ``(projection, "weight#1")``. :meth:`Results.spikes_of` and
:meth:`Results.traces_of` list every monitor of a population (variable) in that order;
each :class:`SpikeData` and :class:`TraceData` names what it recorded (``population``,
``source`` and ``var``). Files written before (without ``meta["monitors"]``) load as they
did; neurosim versions before this read the further monitors as populations named
``"exc#1"``.

The file is written to a temporary file in the same folder and renamed over the target
(atomic on POSIX and Windows), so an interrupted run never leaves a half-written file. The
final file gets the permissions of any new file (0666 less the process's umask, e.g. 0644),
not the 0600 of the temporary file.
"""

import json
import math
import os
import tempfile
from dataclasses import dataclass, field, fields, is_dataclass

import numpy as np

from .counters import Counts

__all__ = ["save_results", "load_results", "Results", "SpikeData", "TraceData",
           "apply_umask", "ResultsFileError"]

FORMAT = "neurosim-results"
FORMAT_VERSION = 1


class ResultsFileError(ValueError):
    """A file that is not a readable neurosim results file; the message names the file and
    the entry."""


@dataclass
class SpikeData:
    """Spikes of one spike monitor: ``steps``, ``indices`` and ``times`` (s) of the
    population ``population``."""
    steps: np.ndarray
    indices: np.ndarray
    dt: float
    population: str = None

    @property
    def times(self):
        return self.steps * self.dt

    @property
    def num_spikes(self):
        return int(self.steps.size)


@dataclass
class TraceData:
    """A recorded state variable: ``values[k, j]`` of neuron ``indices[j]`` at ``t[k]``;
    ``source``: the population (or, for a weight monitor, the projection), ``var`` the
    variable."""
    steps: np.ndarray
    indices: np.ndarray
    values: np.ndarray
    dt: float
    source: str = None
    var: str = None

    @property
    def t(self):
        return self.steps * self.dt


@dataclass
class Results:
    """What :func:`load_results` returns."""
    path: str
    meta: dict
    spikes: dict = field(default_factory=dict)      # population ("pop#1"...) -> SpikeData
    state: dict = field(default_factory=dict)       # (population, var ("v#1"...)) -> TraceData
    params: dict = field(default_factory=dict)      # population -> {name: array}
    weights: dict = field(default_factory=dict)     # projection -> (pre, post, weight)

    def spikes_of(self, population):
        """Every spike monitor of ``population`` (:class:`SpikeData`), in the order they
        were made: ``spikes[population]``, then ``spikes[population + "#1"]``, ..."""
        return [s for s in self.spikes.values() if s.population == population]

    def traces_of(self, source, var):
        """Every state monitor of ``var`` of ``source`` (a population, or a projection for
        ``"weight"``) in the order they were made: ``state[source, var]``, then
        ``state[source, var + "#1"]``, ..."""
        return [t for t in self.state.values() if (t.source, t.var) == (source, var)]

    @property
    def counts(self):
        """The run's :class:`~neurosim.Counts` (for ``neurosim.energy.estimate``)."""
        return Counts.from_dict(self.meta["counts"])

    @property
    def version(self):
        return self.meta["neurosim_version"]

    @property
    def dt(self):
        return self.meta["dt"]

    @property
    def duration(self):
        return self.meta["t"]

    @property
    def network(self):
        return self.meta["network"]


def _scalar(v):
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v)
    return v


def _umask():
    """The process's umask (read by setting and restoring it; there is no getter)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def apply_umask(path, directory=False):
    """Give ``path`` the mode a new file (0666) or folder (0777) gets under the umask.

    ``tempfile.mkstemp`` / ``mkdtemp`` create 0600 / 0700 entries; what is renamed into place
    from them should look like anything else the user writes."""
    os.chmod(path, (0o777 if directory else 0o666) & ~_umask())


def describe(net):
    """The network's parameters: JSON-able scalars, and per-neuron arrays apart."""
    pops, arrays = [], {}
    for p in net.populations:
        entry = dict(name=p.name, kind=p.kind, n=int(p.n))
        spec = p.spec
        items = ({f.name: getattr(spec, f.name) for f in fields(spec)} if is_dataclass(spec)
                 else dict(vars(spec)))
        for k, v in items.items():
            if k == "n":
                continue
            a = np.asarray(v)
            if a.ndim == 0:
                entry[k] = _scalar(a.item())
            elif a.size and np.all(a == a.flat[0]) and a.dtype.kind in "biuf":
                entry[k] = _scalar(a.flat[0])          # uniform over the population
            elif a.dtype.kind in "biuf":
                arrays[f"param/{p.name}/{k}"] = a
                entry[k] = f"array[{a.size}] (param/{p.name}/{k})"
        pops.append(entry)
    projs = []
    for pr in net.projections:
        entry = dict(name=pr.name, pre=pr.pre.name, post=pr.post.name,
                     synapses=int(pr.n_synapses))
        if getattr(pr, "crossbar", None) is not None:
            entry["crossbar"] = {k: (v.key if hasattr(v, "key") else
                                     list(v) if isinstance(v, tuple) else v)
                                 for k, v in pr.crossbar.settings().items()}
        projs.append(entry)
    return dict(populations=pops, projections=projs), arrays


def _monitor_keys(labels, reserved=()):
    """One key per monitor, from what each records (``labels``, in order): the label for
    the first monitor of it, ``label#1``, ``label#2``, ... for further ones, skipping keys
    in ``reserved`` (other populations' names) or already given."""
    reserved, seen, out = set(reserved), set(), []
    for label in labels:
        key, k = label, 0
        while key in seen or (k and key in reserved):
            k += 1
            key = f"{label}#{k}"
        seen.add(key)
        out.append(key)
    return out


def save_results(path, net, spike_monitors=None, state_monitors=None, extra=None,
                 weights=False, interrupted=False):
    """Write what ``net`` recorded to ``path`` (``.npz``), atomically.

    ``spike_monitors`` / ``state_monitors`` default to every monitor of the network;
    ``extra`` (JSON-able) goes into ``meta["extra"]``; ``weights=True`` also stores every
    projection's synapses. Returns the path written.
    """
    from . import __version__
    path = os.fspath(path)
    if not path.endswith(".npz"):
        path += ".npz"
    spike_monitors = net.spike_monitors if spike_monitors is None else list(spike_monitors)
    state_monitors = net.state_monitors if state_monitors is None else list(state_monitors)
    desc, arrays = describe(net)
    counts = net.counts() if net.built and net._step > 0 else None
    meta = dict(format=FORMAT, format_version=FORMAT_VERSION, neurosim_version=__version__,
                dt=net.dt, steps=int(net._step), t=float(net.t), seed=net.seed,
                dtype=str(net.dtype), backend=net.backend, network=desc,
                counts=counts.to_dict() if counts is not None else None,
                interrupted=bool(interrupted), extra=extra)
    keys = _monitor_keys([m.pop.name for m in spike_monitors],
                         reserved=[p.name for p in net.populations])
    numbered = {k: m.pop.name for k, m in zip(keys, spike_monitors) if k != m.pop.name}
    if numbered:                       # a population with several monitors (module doc)
        meta["monitors"] = dict(spikes=numbered)
    for key, m in zip(keys, spike_monitors):
        arrays[f"spikes/{key}/steps"] = m.steps
        arrays[f"spikes/{key}/indices"] = m.indices
    traces = [(m.pop.name, m.var, m) for m in state_monitors] + [
        (m.proj.name, "weight", m) for m in getattr(net, "weight_monitors", [])]
    keys = _monitor_keys([f"{name}/{var}" for name, var, _ in traces])
    for key, (_, _, m) in zip(keys, traces):       # (weight monitors: sampled weights)
        key = f"state/{key}"
        steps, vals = m._arrays()
        arrays[key + "/steps"] = steps
        arrays[key + "/indices"] = np.asarray(m.indices, dtype=np.int64)
        arrays[key + "/values"] = vals
    for pr in net.projections:
        if weights or (pr.plasticity is not None and pr.crossbar is None):
            pre_i, post_i = pr._indices()     # plastic projections: their learned weights
            arrays[f"weights/{pr.name}/pre"] = np.asarray(pre_i, dtype=np.int64)
            arrays[f"weights/{pr.name}/post"] = np.asarray(post_i, dtype=np.int64)
            arrays[f"weights/{pr.name}/weight"] = np.array(pr._weights(), dtype=np.float64)
    arrays["meta"] = np.array(json.dumps(meta, default=_scalar))
    ranks = getattr(net, "_ranks", None)      # under MPI every rank holds the same data:
    if ranks is not None and ranks.rank != 0:  # rank 0 writes, the others wait for the file
        ranks.barrier()
        return path
    try:
        write_npz(path, arrays)
    finally:
        if ranks is not None:
            ranks.barrier()
    return path


def write_npz(path, arrays, compressed=True):
    """``arrays`` into ``path`` atomically (a temporary file renamed into place: readers
    see the old file or the new one, never a part)."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            (np.savez_compressed if compressed else np.savez)(f, **arrays)
        apply_umask(tmp)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


#: meta fields every results file has, and the JSON types each may take
META_FIELDS = {"format": (str,), "format_version": (int,), "neurosim_version": (str,),
               "dt": (int, float), "steps": (int,), "t": (int, float), "network": (dict,)}
#: the arrays of each kind of entry: (prefix, names after the prefix, what identifies one)
ENTRIES = {"spikes": ("steps", "indices"), "state": ("steps", "indices", "values"),
           "weights": ("pre", "post", "weight")}


def _check_meta(path, meta):
    """The meta JSON of a results file: a table with the fields of META_FIELDS."""
    if not isinstance(meta, dict):
        raise ResultsFileError(f"{path}: entry 'meta': must be a JSON object; got "
                               f"{type(meta).__name__}")
    if meta.get("format") != FORMAT:
        raise ResultsFileError(f"{path}: not a neurosim results file (format "
                               f"{meta.get('format')!r})")
    for k, types in META_FIELDS.items():
        v = meta.get(k)
        if isinstance(v, bool) or not isinstance(v, types):
            raise ResultsFileError(f"{path}: entry 'meta' field {k!r}: must be "
                                   + " or ".join(t.__name__ for t in types) + f"; got {v!r}")
    if meta["format_version"] > FORMAT_VERSION:
        raise ResultsFileError(f"{path}: format version {meta['format_version']} is newer "
                               f"than this neurosim reads ({FORMAT_VERSION}); upgrade neurosim")
    for k in ("dt", "t"):
        v = meta[k] if isinstance(meta[k], float) or abs(meta[k]) < 2**63 else math.inf
        if not ((v > 0 if k == "dt" else v >= 0) and math.isfinite(v)):
            raise ResultsFileError(f"{path}: entry 'meta' field {k!r}: must be a finite "
                                   f"number {'> 0' if k == 'dt' else '>= 0'} (s); "
                                   f"got {meta[k]!r}")
    if meta["steps"] < 0:
        raise ResultsFileError(f"{path}: entry 'meta' field 'steps': must be >= 0; got "
                               f"{meta['steps']!r}")
    monitors = meta.get("monitors", {})
    spikes = monitors.get("spikes", {}) if isinstance(monitors, dict) else None
    if not isinstance(spikes, dict) or set(monitors) - {"spikes"} or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in spikes.items()):
        raise ResultsFileError(f"{path}: entry 'meta' field 'monitors': must be "
                               '{"spikes": {key: population name}}; got ' f"{monitors!r}")
    if meta.get("counts") is not None:
        try:
            Counts.from_dict(meta["counts"])
        except Exception as e:                  # any malformed table: name the field
            raise ResultsFileError(f"{path}: entry 'meta' field 'counts': not the counts of a "
                                   f"run ({type(e).__name__}: {e})") from None


def _check_array(path, key, a, kinds, ndim, what):
    if a.dtype.kind not in kinds or a.ndim != ndim:
        raise ResultsFileError(f"{path}: entry {key!r}: must be a {ndim}-d array of {what}; "
                               f"got dtype {a.dtype}, shape {a.shape}")
    if kinds == "iu" and a.size and a.min() < 0:
        raise ResultsFileError(f"{path}: entry {key!r}: must be >= 0; got {a.min()}")
    return a


def _group(path, data, kind, name):
    """The arrays of one spike monitor, state monitor or weight table, checked."""
    base = f"{kind}/{name}"
    arrays = {}
    for part in ENTRIES[kind]:
        key = f"{base}/{part}"
        if key not in data:
            raise ResultsFileError(f"{path}: entry {key!r} is missing (a {kind} entry has "
                                   + ", ".join(ENTRIES[kind]) + ")")
        is_float = part in ("values", "weight")
        arrays[part] = _check_array(path, key, data[key], "fiu" if is_float else "iu",
                                    2 if part == "values" else 1,
                                    "numbers" if is_float else "integers >= 0")
    a = list(arrays.values())
    if kind == "state":
        want = (a[0].size, a[1].size)
        if a[2].shape != want:
            raise ResultsFileError(f"{path}: entry {base + '/values'!r}: must have shape "
                                   f"(steps, indices) = {want}; got {a[2].shape}")
    elif len({x.size for x in a}) != 1:
        raise ResultsFileError(f"{path}: entries {base}/" + ", ".join(ENTRIES[kind])
                               + " must have one length; got "
                               + ", ".join(str(x.size) for x in a))
    return a


def _read_all(path, data):
    """Every array of the file, read now (a damaged member is an error naming it)."""
    out = {}
    for key in data.files:
        try:
            out[key] = data[key]
        except ValueError as e:
            if "allow_pickle" in str(e):
                raise ResultsFileError(f"{path}: entry {key!r} holds Python objects, which "
                                       "neurosim never unpickles") from None
            raise ResultsFileError(f"{path}: entry {key!r} cannot be read ({e})") from None
        except Exception as e:                  # zlib, zipfile, truncated .npy members
            raise ResultsFileError(f"{path}: entry {key!r} cannot be read "
                                   f"({type(e).__name__}: {e})") from None
    return out


def load_results(path):
    """Read a results file written by :func:`save_results` (or ``neurosim run``).

    Raises :class:`ResultsFileError` (a ``ValueError``) naming the file and the entry when
    the file is not one (damaged, truncated, entries missing or of the wrong type, shape or
    length); nothing in it is unpickled or evaluated."""
    path = os.fspath(path)
    try:
        data = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such results file") from None
    except Exception as e:
        raise ResultsFileError(f"{path}: not a results file (.npz): {e}") from None
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise ResultsFileError(f"{path}: not a results file (.npz): a single .npy array")
    with data:
        if "meta" not in data.files:
            raise ResultsFileError(f"{path}: not a neurosim results file (no 'meta' entry)")
        arrays = _read_all(path, data)
    meta = arrays.pop("meta")
    if meta.dtype.kind != "U" or meta.ndim != 0:
        raise ResultsFileError(f"{path}: entry 'meta': must be one JSON string; got dtype "
                               f"{meta.dtype}, shape {meta.shape}")
    try:
        meta = json.loads(str(meta))
    except ValueError as e:
        raise ResultsFileError(f"{path}: entry 'meta': not valid JSON ({e})") from None
    _check_meta(path, meta)
    out = Results(path=path, meta=meta)
    dt = float(meta["dt"])
    groups = {}                         # (kind, name) -> its arrays, checked together
    for key in arrays:
        parts = key.split("/")
        kind = parts[0]
        if kind in ENTRIES and len(parts) >= (4 if kind == "state" else 3) and all(parts) \
                and parts[-1] in ENTRIES[kind]:
            name = "/".join(parts[1:-1])
            if (kind, name) not in groups:
                groups[kind, name] = _group(path, arrays, kind, name)
        elif kind == "param" and len(parts) >= 3 and all(parts):
            # param/<population>/<name>: a population's name may hold "/", a parameter's not
            out.params.setdefault("/".join(parts[1:-1]), {})[parts[-1]] = _check_array(
                path, key, arrays[key], "biuf", arrays[key].ndim, "numbers")
        else:
            raise ResultsFileError(f"{path}: entry {key!r} is not an entry of a results file "
                                   "(meta, spikes/POP/..., state/POP/VAR/..., param/POP/NAME, "
                                   "weights/PROJ/...)")
    numbered = meta.get("monitors", {}).get("spikes", {})
    for key in numbered:
        if ("spikes", key) not in groups:
            raise ResultsFileError(f"{path}: entry 'meta' field 'monitors' names spikes "
                                   f"{key!r}, which the file has no entries of")
    for (kind, name), group in groups.items():
        if kind == "spikes":
            out.spikes[name] = SpikeData(*group, dt, population=numbered.get(name, name))
        elif kind == "state":
            source, var = name.rsplit("/", 1)     # var "v#1": the second monitor of v
            out.state[(source, var)] = TraceData(*group, dt, source=source,
                                                 var=var.split("#", 1)[0])
        else:
            out.weights[name] = tuple(group)
    return out
