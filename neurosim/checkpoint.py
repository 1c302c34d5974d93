"""Checkpoints: the whole state of a running simulation in one file, to continue it later.

A :class:`~neurosim.Network` is built by the user's script, so a checkpoint holds the
*state* of a run, not the network (Brian2's store/restore, across processes)::

    net = build(seed=1)                  # the script builds the network ...
    net.run(10.0)
    net.save_checkpoint("run.ckpt.npz")

    net = build(seed=1)                  # ... and builds it again, identically
    net.restore_checkpoint("run.ckpt.npz")
    net.run(10.0)                        # bit for bit the steps of an uninterrupted run(20.0)

What is saved: the engine's state (membrane potentials, synaptic currents and the other
state rows, refractory counters, the delay ring buffers, spike counts, the random streams
of Poisson sources, Poisson drives and crossbar read noise, current-source pointers),
plastic weights and their traces, crossbar conductances and statistics, the step and end
time of the runs so far, everything the monitors recorded, the counters (active steps per
population, count-monitor bins) and the weight monitors; for the reference backend its
queue of pending inputs and recent spikes; and the weights and delays of static
projections that may have been edited (whose ``weight`` array was handed out, or whose
delays are stored), put back and lowered again on restore, so that a script that edited
weights between runs resumes without editing them again. Not saved: connectivity (drawn
again from the seed by the script) and the other parameters (a Poisson ``rate``, ``bias``
or a neuron parameter changed between runs is the script's to change again; a Poisson
drive's rates are compared, and must be set again before restoring: its random streams,
and a sparse drive's next inputs, were drawn for them).

The file is one ``.npz`` (uncompressed, so that writing and reading are fast), written to
a temporary file in the target folder and renamed into place (an interrupted write never
leaves a damaged checkpoint); its ``header`` entry is JSON in a uint8 array: the format,
its version, the neurosim version and a fingerprint of the network (populations and
sizes, projections and their synapse counts, drives, current sources, monitors, dt,
dtype, seed, backend). :func:`restore` refuses, with an error naming the file, a file of
another format version or neurosim version, a damaged or truncated file, a file holding
Python objects (nothing is ever unpickled or evaluated: ``allow_pickle=False``), and a
network whose fingerprint differs. The thread count may differ (results do not depend on
it); the backend may not (the reference backend's state has another form).

Under MPI (``net.n_ranks > 1``) every rank writes its own part (rank 0 ``path``, rank r
``path.rank<r>``: its neurons' state, delay rings and drive streams, and the state every
rank keeps), all marked with one token; a checkpoint is restored by a job of as many ranks
with the same ``mpi_balance``, and parts of different checkpoints are refused.
"""

import json
import os
import time

import numpy as np

from .validation import NetworkError, ParameterError

__all__ = ["CheckpointError", "FORMAT", "FORMAT_VERSION", "save", "restore", "read_header",
           "fingerprint", "Periodic"]

FORMAT = "neurosim-checkpoint"
FORMAT_VERSION = 2
#: Runner state tuples saved whole (attribute of the runner -> entry prefix).
_TUPLES = ("state", "xstate", "dstate", "pstate", "cstate")
#: Fields rebuilt by every ``advance`` (per-chunk buffers): not saved.
_SKIP = {("pstate", "mon_buf"), ("pstate", "mon_row")}
# the type of each queued weight of the reference backend (kept exactly: float32 + float64
# rounds differently from float32 + float32)
_WTYPES = (float, np.float64, np.float32)


class CheckpointError(NetworkError):
    """A checkpoint cannot be written, read or applied to this network."""


def rank_path(net, path):
    """The file of this rank: ``path`` in one process and on rank 0 of an MPI job,
    ``path.rank<r>`` on rank r > 0 (each rank writes and reads its own part of the state)."""
    path = os.fspath(path)
    return path if net.rank == 0 else f"{path}.rank{net.rank}"


def _everywhere(net, what, function, *args):
    """``function(*args)``; under MPI a collective vote after it, so that a failure on one
    rank raises on every rank instead of leaving the others waiting."""
    if net._ranks is None:
        return function(*args)
    return net._ranks.collective(what, function, *args)


def fingerprint(net, projections=True):
    """What must be equal between the network that wrote a checkpoint and the one that
    restores it (JSON-able). Synapse counts are those of the built network
    (``projections=False``: without the projections, which an unbuilt network may have to
    draw to count)."""
    from . import __version__
    out = dict(
        neurosim_version=__version__, dt=float(net.dt), dtype=net.dtype, seed=int(net.seed),
        backend="auto" if net._auto else net.backend, fixed_point=bool(net.fixed_point),
        populations=[[p.name, p.kind, int(p.n)] for p in net.populations],
        projections=[[pr.name, pr.pre.name, pr.post.name, int(pr.n_synapses),
                      pr.plasticity is not None, pr.crossbar is not None]
                     for pr in (net.projections if projections else ())],
        drives=[[d.name, d.post.name] for d in net.drives],
        current_sources=[[c.name, c.target.name] for c in net.current_sources],
        spike_monitors=[[m.pop.name, None if m.record_indices is None
                         else int(len(m.record_indices))] for m in net.spike_monitors],
        state_monitors=[[m.pop.name, m.var, int(len(m.indices))] for m in net.state_monitors],
        weight_monitors=[[m.proj.name, int(len(m.indices)), int(m.every)]
                         for m in net.weight_monitors],
        count_monitors=[int(m.bin_steps) for m in net.count_monitors],
        ranks=None if net._ranks is None else [int(net.n_ranks), net.mpi_balance],
    )
    if not projections:
        del out["projections"]
    return out


# ------------------------------------------------------------------------------ writing
def _bins_now(net):
    """The count-monitor bins up to now, open ones of a run in progress included (what
    ``Network._close_bins`` will add), without changing the network."""
    bins = net._bins
    rec = net._record
    g = 0 if rec is None else int(rec.bin_steps[0])
    if not g:
        return bins
    out = dict(steps=g) if bins is None else dict(bins)
    base = int(rec.bin_base[0])
    for key, buf in (("spikes", rec.bin_spikes), ("active", rec.bin_active),
                     ("events", rec.bin_events)):
        acc = bins[key] if bins is not None else np.zeros((0, buf.shape[1]), np.int64)
        need = max(acc.shape[0], base + buf.shape[0])
        acc = np.concatenate([acc, np.zeros((need - acc.shape[0], acc.shape[1]), np.int64)])
        acc[base:base + buf.shape[0]] += buf
        out[key] = acc[:max(-(-net._step // g), bins[key].shape[0] if bins else 0)]
    return out


def _reference_arrays(runner):
    """The reference backend's Python-object state as arrays."""
    out = {}
    if hasattr(runner, "pending"):            # float reference backend
        steps, tgt, w, wt, inh = [], [], [], [], []
        for step, items in runner.pending.items():
            for t, x, i in items:
                steps.append(step)
                tgt.append(int(t))
                w.append(float(x))
                wt.append(next((k for k, ty in enumerate(_WTYPES) if type(x) is ty), 1))
                inh.append(bool(i))
        out.update({"ref/last_spike": runner.last_spike,
                    "ref/pending_step": np.array(steps, np.int64),
                    "ref/pending_target": np.array(tgt, np.int64),
                    "ref/pending_w": np.array(w, np.float64),
                    "ref/pending_wtype": np.array(wt, np.uint8),
                    "ref/pending_inh": np.array(inh, np.uint8),
                    "ref/now_step": np.array([runner._now[0]], np.int64),
                    "ref/now_fired": np.array(sorted(int(n) for n in runner._now[1]),
                                              np.int64)})
        hs = sorted(runner.hist)
        out["ref/hist_step"] = np.array(hs, np.int64)
        out["ref/hist_ptr"] = np.cumsum([0] + [len(runner.hist[s]) for s in hs]).astype(
            np.int64)
        out["ref/hist_nodes"] = np.array([int(n) for s in hs for n in runner.hist[s]],
                                         np.int64)
    if hasattr(runner, "conns"):              # fixed-point reference backend
        for k, c in enumerate(runner.conns):
            out[f"fref/buf/{k}"] = c.buf
    return out


def _arrays(net):
    runner = net._runner
    out = {}
    for name in _TUPLES:
        tup = getattr(runner, name, None)
        if tup is None:
            continue
        for field, a in zip(tup._fields, tup):
            if (name, field) not in _SKIP:
                out[f"{name}/{field}"] = np.asarray(a)
    out.update(_reference_arrays(runner))
    out.update(_edit_arrays(net))
    if getattr(net._plan, "drives", None) is not None:
        out["drives/lam"] = net._plan.drives.lam.copy()
    out["net/pop_last"], out["net/pop_active"] = net._active
    bins = _bins_now(net)
    if bins is not None:
        for key in ("spikes", "active", "events"):
            out[f"bins/{key}"] = bins[key]
    for k, m in enumerate(net.spike_monitors):
        out[f"spikes/{k}/steps"], out[f"spikes/{k}/indices"] = m._arrays()
    for kind, mons in (("states", net.state_monitors), ("weights", net.weight_monitors)):
        for k, m in enumerate(mons):
            steps, values = m._arrays()
            out[f"{kind}/{k}/steps"] = steps
            if getattr(m, "_stream", None) is None:
                out[f"{kind}/{k}/values"] = values
            else:             # the samples stay in the monitor's file: how many, what type
                out[f"{kind}/{k}/streamed"] = np.frombuffer(
                    json.dumps([m._stream.rows, m._stream.dtype.str]).encode(), np.uint8)
    return out


def save(net, path):
    """Write the state of ``net`` to ``path`` (.npz) atomically; returns the path (under
    MPI every rank calls it and writes its own file, :func:`rank_path`, all marked with one
    token so that restoring refuses parts of different checkpoints).

    Builds the network first if it was not built (a checkpoint at t = 0)."""
    path = rank_path(net, path)
    net.build()
    job = None
    if net._ranks is not None:
        job = net._ranks.comm.bcast(os.urandom(8).hex() if net.rank == 0 else None, root=0)
    arrays = _arrays(net)
    bins = _bins_now(net)
    header = dict(format=FORMAT, format_version=FORMAT_VERSION, step=int(net._step),
                  t_end=float(net._t_end), bins_steps=None if bins is None
                  else int(bins["steps"]), network=fingerprint(net), entries=sorted(arrays),
                  written=time.strftime("%Y-%m-%dT%H:%M:%S%z"), job=job, rank=net.rank)
    arrays["header"] = np.frombuffer(json.dumps(header).encode(), np.uint8)
    from .results import write_npz
    _everywhere(net, "writing the checkpoint", write_npz, path, arrays, False)
    return path


# ------------------------------------------------------------------------------ reading
def _resume_stream(path, data, key, mon, n_steps):
    """A monitor that streams to a file continues after the rows the checkpoint counted
    (the file's later rows, written after the checkpoint, are dropped)."""
    try:
        rows, dtype = json.loads(bytes(data[key]).decode())
        rows, dtype = int(rows), np.dtype(dtype)
    except (KeyError, ValueError, TypeError) as e:
        raise CheckpointError(f"{path}: entry {key!r} is missing or unreadable "
                              f"(the monitor streams to {mon.to}; {e})") from None
    if rows != n_steps or dtype.kind not in "fi":
        raise CheckpointError(f"{path}: entry {key!r}: {rows} rows of {dtype} for "
                              f"{n_steps} steps")
    mon._cache = None
    if mon.pop.net.rank != 0:            # rank 0 wrote the file and continues it
        mon._stream.rows, mon._stream.dtype = rows, dtype
        return
    try:
        mon._stream.resume(rows, dtype)
    except ValueError as e:
        raise CheckpointError(f"{path}: {e}") from None


def _header(path, h):
    """The header of a checkpoint from its 'header' entry, checked."""
    try:
        if h.dtype != np.uint8 or h.ndim != 1:
            raise ValueError(f"dtype {h.dtype}, shape {h.shape}")
        header = json.loads(h.tobytes().decode())
        if not isinstance(header, dict):
            raise ValueError("not a JSON object")
    except ValueError as e:
        raise CheckpointError(f"{path}: entry 'header' is not the JSON header of a "
                              f"checkpoint ({e})") from None
    if header.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a neurosim checkpoint (format "
                              f"{header.get('format')!r})")
    if header.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(f"{path}: checkpoint format version "
                              f"{header.get('format_version')!r}; this neurosim reads version "
                              f"{FORMAT_VERSION} only")
    for k, types in (("step", int), ("t_end", (int, float)), ("network", dict),
                     ("entries", list)):
        if isinstance(header.get(k), bool) or not isinstance(header.get(k), types):
            raise CheckpointError(f"{path}: entry 'header' field {k!r} is missing or of the "
                                  f"wrong type ({header.get(k)!r})")
    if header["step"] < 0 or not 0 <= header["t_end"] < float("inf"):
        raise CheckpointError(f"{path}: entry 'header': step {header['step']} or t_end "
                              f"{header['t_end']} is negative or not finite")
    if not all(isinstance(e, str) for e in header["entries"]):
        raise CheckpointError(f"{path}: entry 'header' field 'entries': must list names")
    b = header.get("bins_steps")
    if b is not None and (isinstance(b, bool) or not isinstance(b, int) or b < 1):
        raise CheckpointError(f"{path}: entry 'header' field 'bins_steps': must be null or "
                              f"an int >= 1; got {b!r}")
    return header


def _open(path):
    try:
        data = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such checkpoint file") from None
    except Exception as e:                    # noqa: BLE001 -- zip, truncation, garbage
        raise CheckpointError(f"{path}: not a neurosim checkpoint (.npz): "
                              f"{type(e).__name__}: {e}") from None
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise CheckpointError(f"{path}: not a neurosim checkpoint (.npz): a single array")
    if "header" not in data.files:
        data.close()
        raise CheckpointError(f"{path}: not a neurosim checkpoint (no 'header' entry)")
    return data


def _entry(path, data, key):
    """One entry of an open checkpoint, read now: a plain array, or an error naming it."""
    try:
        return data[key]
    except ValueError as e:
        if "allow_pickle" in str(e):
            raise CheckpointError(f"{path}: entry {key!r} holds Python objects, which "
                                  "neurosim never unpickles") from None
        raise CheckpointError(f"{path}: entry {key!r} cannot be read ({e})") from None
    except Exception as e:                    # noqa: BLE001 -- zlib, zipfile, truncated
        raise CheckpointError(f"{path}: entry {key!r} cannot be read ({type(e).__name__}: "
                              f"{e}); the file is damaged or truncated") from None


def read_header(path):
    """The JSON header of the checkpoint ``path`` (format, versions, step, t_end, the
    fingerprint of its network under "network"), checked; the state is not read."""
    path = os.fspath(path)
    with _open(path) as data:
        return _header(path, _entry(path, data, "header"))


def _read(path):
    """(header dict, {entry: array}) of a checkpoint file, every entry read and checked
    to be a plain array (no Python objects)."""
    with _open(path) as data:
        out = {key: _entry(path, data, key) for key in data.files}
    header = _header(path, out.pop("header"))
    missing = sorted(set(header["entries"]) - set(out))
    if missing:
        raise CheckpointError(f"{path}: entries missing: {', '.join(missing[:5])}; the file "
                              "is damaged")
    return header, out


def _compare(path, saved, mine):
    from . import __version__
    if saved.get("neurosim_version") != __version__:
        raise CheckpointError(f"{path}: written by neurosim {saved.get('neurosim_version')!r};"
                              f" this is neurosim {__version__}: a checkpoint is continued "
                              "by the version that wrote it")
    if saved.get("ranks") != mine.get("ranks"):
        def job(r):
            return ("one process" if r is None else
                    f"{r[0]} MPI ranks with mpi_balance={r[1]!r}" if isinstance(r, list) and
                    len(r) == 2 else repr(r))
        raise CheckpointError(f"{path}: written by {job(saved.get('ranks'))}; this is "
                              f"{job(mine.get('ranks'))}: a checkpoint continues with the "
                              "ranks and split that wrote it")
    for key, want in mine.items():
        got = saved.get(key)
        if json.loads(json.dumps(want)) != got:
            raise CheckpointError(f"{path}: the checkpoint's network differs from this one in "
                                  f"{key}: {_short(got)} in the file, {_short(want)} here; "
                                  "restore into a network built by the same script (same "
                                  "parameters and seed)")


def _short(x):
    s = json.dumps(x)
    return s if len(s) <= 200 else s[:197] + "..."


def _put(path, key, dest, src):
    """Copy a saved array into the live one (same dtype and shape, or an error)."""
    if src.dtype != dest.dtype or src.shape != dest.shape:
        raise CheckpointError(f"{path}: entry {key!r}: dtype {src.dtype}, shape {src.shape} in "
                              f"the file; this network has dtype {dest.dtype}, shape "
                              f"{dest.shape}")
    dest[...] = src


def _get(path, data, key, dtype, ndim):
    if key not in data:
        raise CheckpointError(f"{path}: entry {key!r} is missing")
    a = data[key]
    if a.dtype != np.dtype(dtype) or a.ndim != ndim:
        raise CheckpointError(f"{path}: entry {key!r}: must be a {ndim}-d {dtype} array; got "
                              f"dtype {a.dtype}, shape {a.shape}")
    return a


def _edited(net):
    """The static projections whose weights or delays the user may have changed (those
    whose weight array was handed out, or whose delays are stored rather than drawn):
    (k, projection)."""
    return [(k, pr) for k, pr in enumerate(net.projections)
            if pr.plasticity is None and pr.crossbar is None
            and (pr._exposed or pr._dsteps is not None)]


def _edit_arrays(net):
    out = {}
    for k, pr in _edited(net):
        if pr._exposed:
            out[f"edits/{k}/weight"] = np.asarray(pr._w)
        if pr._dsteps is not None:
            out[f"edits/{k}/delay_steps"] = np.asarray(pr._dsteps, np.int64)
    return out


def _restore_edits(path, net, data):
    """Weights and delays the saved network had, where they differ from this one's (what
    its script edited between runs); True when any did."""
    changed = False
    for key in sorted(k for k in data if k.startswith("edits/")):
        parts = key.split("/")
        if len(parts) != 3 or not parts[1].isdigit() or int(parts[1]) >= len(
                net.projections) or parts[2] not in ("weight", "delay_steps"):
            raise CheckpointError(f"{path}: entry {key!r} is not an entry of a checkpoint")
        pr = net.projections[int(parts[1])]
        try:
            changed |= _restore_edit(path, net, data, key, pr, parts[2])
        except ParameterError as e:       # a value the projection itself refuses
            raise CheckpointError(f"{path}: entry {key!r}: {e}") from None
    return changed


def _restore_edit(path, net, data, key, pr, what):
    if what == "weight":
        w = _get(path, data, key, np.float64, 1)
        if np.array_equal(pr._weights(), w):
            return False
        pr.weight = w
        return True
    d = data[key]
    if d.dtype != np.int64 or d.ndim > 1:
        raise CheckpointError(f"{path}: entry {key!r}: must be int64 steps; got "
                              f"dtype {d.dtype}, shape {d.shape}")
    now = np.asarray(pr._delay_steps())
    if now.shape == d.shape and np.array_equal(now, d):
        return False
    pr.delay = d.astype(np.float64) * net.dt
    return True


#: Delay rings (state fields whose first axis is the ring's slots): a saved ring may be
#: longer than this network's, grown by edits of the run that wrote it.
_RINGS = ("ring_exc", "ring_inh", "ring_used", "ring", "acc", "mark", "touched")


def _longest_delay(plan):
    """The longest delay of a float plan's connectivity in steps (inf for other plans: a
    ring is then never shortened)."""
    conn = getattr(plan, "conn", None)
    if conn is None or not hasattr(conn, "block_delay"):
        return np.inf
    longest = int(conn.block_delay.max()) if conn.block_delay.size else 0
    if conn.syn_delay.size:
        longest = max(longest, int(conn.syn_delay.max()))
    return longest


def _grow_rings(path, net, data):
    runner, plan = net._runner, net._plan
    grow = {}
    for field in _RINGS:
        key = f"state/{field}"
        live = getattr(runner.state, field, None)
        src = data.get(key)
        if live is None or src is None or src.ndim != live.ndim or src.dtype != live.dtype:
            continue
        if src.ndim and src.shape[0] != live.shape[0] and src.shape[1:] == live.shape[1:] \
                and (src.shape[0] > live.shape[0] or src.shape[0] > _longest_delay(plan)):
            grow[field] = np.zeros_like(src)   # longer: grown by the edits of the run that
            # wrote it; shorter: this network's grew (a checkpoint with longer delays was
            # restored into it before) and the file's still holds every delay
    if grow:
        runner.state = runner.state._replace(**grow)
        net._plan = plan._replace(init=plan.init._replace(
            **{k: np.zeros_like(v) for k, v in grow.items()}))
        runner.plan = net._plan


def _restore_reference(path, runner, data):
    if hasattr(runner, "pending"):
        g = lambda k, dt=np.int64, nd=1: _get(path, data, "ref/" + k, dt, nd)  # noqa: E731
        _put(path, "ref/last_spike", runner.last_spike, g("last_spike"))
        st, tg, w = g("pending_step"), g("pending_target"), g("pending_w", np.float64)
        wt, inh = g("pending_wtype", np.uint8), g("pending_inh", np.uint8)
        if not (st.size == tg.size == w.size == wt.size == inh.size) or (
                wt.size and wt.max() >= len(_WTYPES)):
            raise CheckpointError(f"{path}: entries 'ref/pending_*' disagree in length")
        pending = {}
        for s, t, x, k, i in zip(st.tolist(), tg.tolist(), w.tolist(), wt.tolist(),
                                 inh.tolist()):
            pending.setdefault(s, []).append((t, _WTYPES[k](x), bool(i)))
        runner.pending = pending
        now = g("now_step")
        runner._now = (int(now[0]) if now.size else 0, set(g("now_fired").tolist()))
        hs, hp, hn = g("hist_step"), g("hist_ptr"), g("hist_nodes")
        if hp.size != hs.size + 1 or (hp.size and (hp[0] != 0 or hp[-1] != hn.size
                                                   or np.any(np.diff(hp) < 0))):
            raise CheckpointError(f"{path}: entries 'ref/hist_*' disagree")
        runner.hist = {int(s): hn[hp[k]:hp[k + 1]].tolist() for k, s in enumerate(hs)}
    if hasattr(runner, "conns"):
        for k, c in enumerate(runner.conns):
            key = f"fref/buf/{k}"
            src = _get(path, data, key, np.int64, 2)
            if src.shape != c.buf.shape:
                raise CheckpointError(f"{path}: entry {key!r}: shape {src.shape}; this network"
                                      f" has {c.buf.shape}")
            c.buf = src.copy()


def restore(net, path):
    """Put the state saved in ``path`` into ``net``, a network built by the same script
    (built now if it was not): afterwards ``net.run`` continues the saved run. A file or
    network refused before anything changed leaves ``net`` as it was; an entry refused
    while the state was being put back leaves it reset to t = 0. Under MPI every rank calls
    it and reads its own file (:func:`rank_path`), written by a job of as many ranks."""
    path = rank_path(net, path)

    def read():
        header, data = _read(path)
        if not isinstance(header.get("job"), (str, type(None))):
            raise CheckpointError(f"{path}: entry 'header' field 'job' is not a token")
        # what is known before building (cheap); the synapse counts once built
        _compare(path, header["network"], fingerprint(net, projections=False))
        if int(round(header["t_end"] / net.dt)) != header["step"]:
            raise CheckpointError(f"{path}: entry 'header': step {header['step']} is not the "
                                  f"end time t_end = {header['t_end']!r} s on the dt grid")
        return header, data

    header, data = _everywhere(net, "reading the checkpoint", read)
    if net._ranks is not None:
        parts = net._ranks.comm.allgather((header.get("job"), header["step"]))
        if len(set(parts)) > 1:
            raise CheckpointError(f"{path}: the ranks' files are parts of different "
                                  f"checkpoints (token and step per rank: {parts}); write it "
                                  "again")
    net.build()

    def apply():
        _compare(path, header["network"], fingerprint(net))
        try:
            _apply(path, net, header, data)
        except BaseException:
            net.reset()                  # not half restored: back at t = 0
            raise

    _everywhere(net, "restoring the checkpoint", apply)
    return net


def _drive_rates(path, net, data):
    """The drives' rates must be those of the checkpoint (a rate changed between runs is
    set again by the script before restoring): the saved streams were drawn for them (a
    sparse drive's next inputs)."""
    dv = getattr(net._plan, "drives", None)
    if dv is None:
        return
    lam = _get(path, data, "drives/lam", np.float64, 1)
    if lam.shape != dv.lam.shape:
        raise CheckpointError(f"{path}: entry 'drives/lam': {lam.size} targets; this "
                              f"network's drives have {dv.lam.size}")
    for k, d in enumerate(net.drives):
        a, b = int(dv.off[k]), int(dv.off[k] + dv.n[k])
        if not np.array_equal(lam[a:b], dv.lam[a:b]):
            raise CheckpointError(
                f"{path}: drive {d.name!r} has other rates than when the checkpoint was "
                "written; set them (drive.rate = ...) before restoring")


def _apply(path, net, header, data):
    _drive_rates(path, net, data)
    if _restore_edits(path, net, data):
        net._apply_edits()               # lowered now: CSR, delay rings grown as they were
    _grow_rings(path, net, data)
    runner = net._runner
    for name in _TUPLES:
        tup = getattr(runner, name, None)
        if tup is None:
            continue
        for field, dest in zip(tup._fields, tup):
            if (name, field) in _SKIP or not isinstance(dest, np.ndarray):
                continue
            key = f"{name}/{field}"
            if key not in data:
                raise CheckpointError(f"{path}: entry {key!r} is missing")
            _put(path, key, dest, data[key])
    _restore_reference(path, runner, data)
    _put(path, "net/pop_last", net._active[0], data.get("net/pop_last", np.zeros(0)))
    _put(path, "net/pop_active", net._active[1], data.get("net/pop_active", np.zeros(0)))
    net._record = None                   # rebuilt by the next run around net._active
    if "bins/spikes" in data:
        g = header.get("bins_steps")
        if g is None or not net.count_monitors or g != int(np.gcd.reduce(
                [m.bin_steps for m in net.count_monitors])):
            raise CheckpointError(f"{path}: entry 'header' field 'bins_steps' ({g!r}) is not "
                                  "the bin of this network's count monitors")
        net._bins = dict(steps=g)
        cols = dict(spikes=net._active[1].shape[0], active=net._active[1].shape[0],
                    events=len(net.projections))
        for key in ("spikes", "active", "events"):
            a = _get(path, data, f"bins/{key}", np.int64, 2)
            if a.shape[1] != cols[key]:
                raise CheckpointError(f"{path}: entry 'bins/{key}': {a.shape[1]} columns; "
                                      f"this network has {cols[key]}")
            net._bins[key] = a.copy()
    else:
        net._bins = None
    for k, m in enumerate(net.spike_monitors):
        steps = _get(path, data, f"spikes/{k}/steps", np.int64, 1)
        idx = _get(path, data, f"spikes/{k}/indices", np.int64, 1)
        if steps.size != idx.size:
            raise CheckpointError(f"{path}: entries 'spikes/{k}/*' disagree in length")
        m._clear()
        if steps.size:
            m._steps.append(steps.copy())
            m._idx.append(idx.copy())
    for kind, mons in (("states", net.state_monitors), ("weights", net.weight_monitors)):
        for k, m in enumerate(mons):
            steps = _get(path, data, f"{kind}/{k}/steps", np.int64, 1)
            if getattr(m, "_stream", None) is not None:
                _resume_stream(path, data, f"{kind}/{k}/streamed", m, steps.size)
                m._steps[:] = [steps.copy()] if steps.size else []
                continue
            key = f"{kind}/{k}/values"
            if key not in data or data[key].shape != (steps.size, len(m.indices)) or \
                    data[key].dtype.kind not in "fi":
                raise CheckpointError(f"{path}: entry {key!r} is missing or not a (steps, "
                                      f"{len(m.indices)}) array of numbers")
            m._clear()
            if steps.size:
                m._steps.append(steps.copy())
                m._vals.append(data[key].copy())
    _check_indices(path, net, header["step"])
    for proj in net.projections:          # what run() would refuse, refused here
        if proj.plasticity is not None and proj.crossbar is None:
            try:
                net._check_plastic_weights(proj)
            except ParameterError as e:
                raise CheckpointError(f"{path}: the plastic weights saved are not valid "
                                      f"({e})") from None
    net._step = header["step"]
    net._t_end = float(header["t_end"])
    net._sync_crossbars()


def _check_indices(path, net, step):
    """The restored values the engine uses as indices are in range (a damaged file must not
    make it read or write outside its arrays): the Poisson sources' next trials, the
    plastic projections' spike history counts, the current sources' next change."""
    runner, plan = net._runner, net._plan
    src = getattr(plan, "sources", None)
    st = runner.state
    if src is not None and src.pois_n.size and np.any(       # (homogeneous rates use it)
            (st.pois_next < step * src.pois_n) & ~np.isnan(src.pois_log1m_p)):
        raise CheckpointError(f"{path}: entry 'state/pois_next': a Poisson source's next "
                              f"spike lies before step {step}, where the checkpoint stops")
    ds, dv = getattr(runner, "dstate", None), getattr(plan, "drives", None)
    if ds is not None and dv is not None and dv.n.size:
        sparse = np.repeat(dv.arrivals.astype(bool), dv.n)
        if np.any(sparse & (ds.next < step)):
            raise CheckpointError(f"{path}: entry 'dstate/next': a sparse Poisson drive's "
                                  f"next input lies before step {step}, where the checkpoint "
                                  "stops")
    ps = getattr(runner, "pstate", None)
    if ps is not None and np.any((ps.hist_n < 0) | (ps.hist_n > ps.hist.shape[1])):
        raise CheckpointError(f"{path}: entry 'pstate/hist_n': spike counts outside 0 .. "
                              f"{ps.hist.shape[1]}")
    cs, cc = getattr(runner, "cstate", None), getattr(plan, "currents", None)
    if cs is not None and cc is not None and not 0 <= int(cs.next[0]) <= cc.ev_amp.shape[0]:
        raise CheckpointError(f"{path}: entry 'cstate/next': {int(cs.next[0])} is not the "
                              f"index of a current change (0 .. {cc.ev_amp.shape[0]})")


# --------------------------------------------------------------------- during a run
class Periodic:
    """What ``Network.run(checkpoint=..., checkpoint_every=...)`` does at chunk
    boundaries: a checkpoint every ``every`` seconds of wall time (None: only when the
    run is stopped by Ctrl-C or SIGTERM)."""

    def __init__(self, net, path, every):
        self.net, self.path, self.every = net, path, every
        self._last = time.monotonic()
        self.written = 0

    @classmethod
    def check(cls, net, path, every):
        """Validate ``run``'s checkpoint arguments (before anything runs)."""
        from .validation import check_positive, fail
        if path is None:
            fail("checkpoint", "a file path when checkpoint_every is given", None)
        try:
            path = os.fspath(path)
        except TypeError:
            fail("checkpoint", "a file path (str or os.PathLike)", type(path).__name__)
        if every is not None:
            every = check_positive("checkpoint_every", every, "s")
        return cls(net, path, every)

    def due(self):
        """A checkpoint is due (under MPI: rank 0's clock decides for every rank)."""
        due = self.every is not None and time.monotonic() - self._last >= self.every
        if self.net._ranks is not None:
            due = self.net._ranks.comm.bcast(due, root=0)
        return due

    def write(self, started):
        """A checkpoint of the network as it is between chunks of a run; ``started``: steps
        of this run were done and more remain (then its end time so far is the current
        step, as for a run stopped there). Returns the path."""
        net = self.net
        keep = net._t_end
        if started:
            net._t_end = net._step * net.dt
        try:
            save(net, self.path)
        finally:
            net._t_end = keep
        self._last = time.monotonic()
        self.written += 1
        return self.path
