"""Parameter sweeps: many independent simulations through any executor, resumable from disk.

    res = ns.sweep(run_point, {"mode": ["one_shot", "write_verify"], "sigma": [0, 0.05]},
                   store="sweeps/noise")
    res.column("accuracy"); res.to_csv("noise.csv"); res.to_dataframe()

Points: ``parameters`` is a dict name -> list of values (the Cartesian grid, the last name
varying fastest) or a list of dicts. Values are numbers, strings, bools, None or lists of these
(they are hashed and stored). ``function(**point)`` returns a dict of scalars and arrays (lists
become arrays) or one scalar (column "result"). The table keeps the grid's order.

Seeds: if ``function`` takes ``seed`` and a point gives none, it gets the first 4 bytes
(little-endian) of the sha256 of ``json.dumps({"point": point, "seed": seed}, sort_keys=True,
separators=(",", ":"))``: a 32-bit seed (numba and scikit-learn take no more) from the base
``seed`` (default 0) and the point's values, not its position, so adding points or resuming
changes no seed. It is a column of the table and part of the point's key.

Executors: None: a ProcessPoolExecutor of ``workers`` processes (default: the CPUs this process
may use, at most one per point) started by "spawn" (no fork of a process holding numba or tqdm
threads; the function must be defined at module level); its workers ignore Ctrl-C. "serial":
here, in order. Else any object whose ``submit(fn, *args)`` returns futures: concurrent.futures
executors, mpi4py's MPIPoolExecutor, submitit's AutoExecutor (non-concurrent.futures jobs are
polled with ``done()``; an executor with ``batch()`` gets all points in one batch: for
submitit, one Slurm job array). submitit is never imported here.

Failures: a point that raises gets ``error`` ("Type: message") and ``traceback`` in its row; the
others go on; at the end a warning counts failures, or ``raise_errors=True`` raises
:class:`SweepError` (``.results``). Failed points are not stored: a rerun retries them.

Store: with ``store=folder`` the worker that ran a point writes it (what finished survives the
driving script; workers must share the folder): ``<key>.json`` (format, function, point,
scalars) and, for arrays, ``<key>-<sha256>.npz``; key hashes the function's module.qualname and
the point with its seed. Each file is written to a temporary file then os.replace'd, the npz
first: a point exists once its json does. A rerun loads what it finds and runs the rest. Files
are read by json.loads and numpy.load(allow_pickle=False): nothing is unpickled or evaluated. A
point's file that is not what sweep wrote for it (unreadable, another point or function, an npz
whose sha256 differs) stops the sweep with :class:`SweepStoreError` before anything runs; other
files are never opened. The key does not see arguments bound by functools.partial or closures:
use one folder per set of fixed inputs, or put them in the grid.

Ctrl-C: stops submitting, cancels the points not started (ends the default pool's workers),
keeps what is stored and raises :class:`SweepInterrupted` (a KeyboardInterrupt: scripts stop as
usual) with ``.results``, the table so far (rows not run: error "not run (interrupted)"). A
rerun resumes.

``ns.sweep`` is the function; the classes come from ``from neurosim.sweep import ...``.
"""

import concurrent.futures as cf
import contextlib
import csv
import functools
import hashlib
import inspect
import io
import itertools
import json
import multiprocessing
import numbers
import os
import pickle
import re
import signal
import sys
import tempfile
import time
import traceback
import warnings

import numpy as np
from tqdm.auto import tqdm

from .results import apply_umask
from .validation import check_choice, check_int, fail

__all__ = ["sweep", "SweepResults", "SweepError", "SweepStoreError", "SweepInterrupted"]

FORMAT = "neurosim.sweep/1"
RESERVED = ("error", "traceback")
NOT_RUN = "not run (interrupted)"
_dumps = functools.partial(json.dumps, sort_keys=True, separators=(",", ":"))


class _Carrying:
    def __init__(self, message, results):
        super().__init__(message)
        self.results = results


class SweepError(_Carrying, RuntimeError):
    """Points failed and ``raise_errors=True``; ``results`` holds the whole table."""


class SweepInterrupted(_Carrying, KeyboardInterrupt):
    """Ctrl-C during a sweep; ``results`` holds the table so far."""


class SweepStoreError(RuntimeError):
    """A file in the store that sweep did not write for this point (it is never executed)."""


def _plain(name, v):
    """A grid value as JSON (numpy scalars as Python ones, tuples as lists)."""
    if v is None or isinstance(v, (bool, str)):
        return v
    for kind, cast in ((np.bool_, bool), (numbers.Integral, int), (numbers.Real, float)):
        if isinstance(v, kind):
            return cast(v)
    if isinstance(v, (list, tuple)):
        return [_plain(name, x) for x in v]
    fail(name, "a number, string, bool, None or a list of these", v)


def _points(parameters):
    """The points (dicts) in the grid's order, checked: names, values, no duplicates."""
    if isinstance(parameters, dict) and parameters:
        for n, vals in parameters.items():
            if not isinstance(vals, (list, tuple, range, np.ndarray)) or len(vals) == 0 or (
                    isinstance(vals, np.ndarray) and vals.ndim != 1):
                fail(f"parameters[{n!r}]", "a non-empty list, tuple, range or 1-d array", vals)
        points = [dict(zip(parameters, c)) for c in itertools.product(*parameters.values())]
    elif isinstance(parameters, (list, tuple)) and parameters and all(
            isinstance(p, dict) for p in parameters):
        points = [dict(p) for p in parameters]
    else:
        fail("parameters", "a non-empty dict of name -> list of values or list of dicts",
             parameters)
    seen = {}
    for i, p in enumerate(points):
        for n in p:
            if not isinstance(n, str) or n in RESERVED:
                fail("a parameter name", "a string other than 'error' and 'traceback'", n)
        j = seen.setdefault(_dumps({n: _plain(f"parameters[{n!r}]", v) for n, v in p.items()}), i)
        if j != i:
            fail("parameters", "distinct points", p, f"points {j} and {i} are equal")
    return points


def _signature(function, points, seed):
    """Whether to pass seeds; refuses names the function does not take and missing ones."""
    try:
        params = inspect.signature(function).parameters
    except (TypeError, ValueError):                   # no signature (some builtins): trust
        params = {}
    names = [n for n, p in params.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    inject = ("seed" in names and "seed" not in getattr(function, "keywords", {})   # partial
              and any("seed" not in p for p in points))
    if seed is not None and not inject:
        fail("seed", "None when the function takes no 'seed' or every point gives one", seed)
    if not params or any(p.kind == p.VAR_KEYWORD for p in params.values()):
        return inject
    need = {n for n in names if params[n].default is params[n].empty
            and not (inject and n == "seed")}
    for p in points:
        for n in p:
            if n not in names:
                fail("a parameter name", f"one of the function's ({', '.join(names)})", n)
        if need - set(p):
            fail("parameters", f"points giving every required argument ({', '.join(need)})", p)
    return inject


def _name(function):
    """``module.qualname`` of the function (of a partial's function)."""
    while isinstance(function, functools.partial):
        function = function.func
    f = function if hasattr(function, "__qualname__") else type(function)
    return f"{getattr(f, '__module__', None)}.{f.__qualname__}"


def _values(raw, point):
    """The function's result as ``{name: scalar or ndarray}``: what a reload gives too."""
    out = {}
    for k, v in (raw if isinstance(raw, dict) else {"result": raw}).items():
        if not isinstance(k, str) or k in point or k in RESERVED:
            raise ValueError(f"result key {k!r} must be a string that is neither a parameter "
                             f"nor 'error'/'traceback'")
        if isinstance(v, (np.ndarray, list, tuple)):
            out[k] = np.asarray(v)
            if out[k].dtype.kind not in "biufcU":
                raise TypeError(f"result[{k!r}] must be a numeric or string array; got dtype "
                                f"{out[k].dtype}")
        elif v is None or isinstance(v, (bool, str, np.bool_, numbers.Real)):
            out[k] = _plain(k, v)
        else:
            raise TypeError(f"result[{k!r}] must be a number, string, bool, None or an array; "
                            f"got {type(v).__name__}")
    return out


def _describe(e, during=""):
    tb = "".join(traceback.format_exception(type(e), e, e.__traceback__))
    return f"{type(e).__name__}: {e}" + (f" ({during})" if during else ""), tb


def _write(path, data):
    """Atomically: a temporary file in the same folder, synced, then os.replace."""
    folder, base = os.path.split(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{base}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        apply_umask(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _run_point(function, kwargs, store, key, record):
    """In the worker: run one point and store it; returns ``(values, error)``. A point is
    one simulation in this process, also inside an MPI job (mpi4py.futures workers)."""
    from .mpi import single_process
    try:
        with single_process():
            values = _values(function(**kwargs), kwargs)
    except Exception as e:
        return None, _describe(e)
    if store is None:
        return values, None
    try:
        arrays = [k for k, v in values.items() if isinstance(v, np.ndarray)]
        doc = dict(record, keys=list(values), arrays=arrays, npz=None, npz_sha256=None,
                   values={k: v for k, v in values.items() if k not in arrays})
        if arrays:
            buf = io.BytesIO()
            np.savez(buf, *[values[k] for k in arrays])      # arr_0, arr_1, ... in that order
            doc["npz_sha256"] = digest = hashlib.sha256(buf.getvalue()).hexdigest()
            doc["npz"] = f"{key}-{digest[:16]}.npz"
            _write(os.path.join(store, doc["npz"]), buf.getvalue())
        _write(os.path.join(store, key + ".json"), _dumps(doc).encode())
    except Exception as e:
        return values, _describe(e, "while storing the result")
    return values, None


def _load(store, key, record):
    """A stored point's values, None if absent; SweepStoreError if not sweep's own file."""
    path = os.path.join(store, key + ".json")
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        return None
    try:
        doc = json.loads(raw)
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} file")
        if (doc.get("function"), _dumps(doc.get("point"))) != (record["function"],
                                                               _dumps(record["point"])):
            raise ValueError(f"it holds {doc.get('function')}{doc.get('point')}")
        keys, arrays, values = doc.get("keys"), doc.get("arrays"), doc.get("values")
        if not (isinstance(keys, list) and isinstance(arrays, list) and isinstance(values, dict)
                and all(isinstance(v, (type(None), bool, int, float, str))
                        for v in values.values())
                and sorted(map(str, keys)) == sorted(map(str, list(values) + arrays))):
            raise ValueError("malformed values")
        if arrays:
            name = doc.get("npz")
            if not (isinstance(name, str) and re.fullmatch(key + r"-[0-9a-f]{16}\.npz", name)):
                raise ValueError("malformed npz name")
            with open(os.path.join(store, name), "rb") as f:
                data = f.read()
            if hashlib.sha256(data).hexdigest() != doc.get("npz_sha256"):
                raise ValueError(f"{name} does not match its sha256")
            try:
                with np.load(io.BytesIO(data), allow_pickle=False) as z:
                    if sorted(z.files) != sorted(f"arr_{i}" for i in range(len(arrays))):
                        raise ValueError(f"{name} holds {z.files}")
                    values.update((k, z[f"arr_{i}"]) for i, k in enumerate(arrays))
            except Exception as e:
                raise ValueError(f"arrays unreadable ({type(e).__name__}: {e})") from None
        return {k: values[k] for k in keys}
    except (OSError, ValueError, TypeError, RecursionError) as e:
        raise SweepStoreError(f"{path}: {e}; neurosim.sweep did not write this file for "
                              f"{record['function']}{record['point']} (delete it to run the "
                              f"point again)") from None


def _wait_some(futures):
    """Some finished futures: concurrent.futures ones by wait(), others by polling done()."""
    delay = 0.01
    while True:
        if all(isinstance(f, cf.Future) for f in futures):       # a timeout: Ctrl-C on Windows
            done = cf.wait(futures, timeout=1.0, return_when=cf.FIRST_COMPLETED).done
        else:
            done = [f for f in futures if f.done()]
            time.sleep(0 if done else delay)
            delay = min(2 * delay, 1.0)
        if done:
            return done


def _execute(executor, workers, tasks, finish):
    """Run ``tasks`` ({index: _run_point arguments}), calling ``finish(index, outcome)``."""
    if isinstance(executor, str):                                    # "serial"
        for i, args in tasks.items():
            finish(i, _run_point(*args))
        return
    own = executor is None
    if own:
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
            os.cpu_count() or 1)                        # sched_getaffinity: Slurm's, taskset's
        executor = cf.ProcessPoolExecutor(
            workers or min(len(tasks), cpus), mp_context=multiprocessing.get_context("spawn"),
            initializer=functools.partial(signal.signal, signal.SIGINT, signal.SIG_IGN))
    futures = {}
    try:
        batch = getattr(executor, "batch", None)                 # submitit: one job array
        with batch() if callable(batch) else contextlib.nullcontext():
            for i, args in tasks.items():
                futures[executor.submit(_run_point, *args)] = i
        while futures:
            for f in _wait_some(list(futures)):
                i = futures.pop(f)
                try:
                    out = f.result()
                except Exception as e:                           # the executor's own failure
                    out = None, _describe(e, "reported by the executor")
                finish(i, out)
    except KeyboardInterrupt:
        for f, i in futures.items():                 # cancel the rest, keep what is done
            with contextlib.suppress(Exception):
                f.cancel()
                if isinstance(f, cf.Future) and not f.cancelled() and f.done() and (
                        f.exception() is None):
                    finish(i, f.result())
        if own:
            if hasattr(executor, "terminate_workers"):                     # Python >= 3.14
                executor.terminate_workers()
            for p in list((getattr(executor, "_processes", None) or {}).values()):  # older
                p.terminate()
            executor.shutdown(wait=False, cancel_futures=True)
            own = False
        raise
    finally:
        if own:
            executor.shutdown(wait=True)


class SweepResults(list):
    """The sweep's table: a list of rows (dicts, in the grid's order) with ``columns``
    (parameters, results, "error", "traceback"; None where a row has no value), ``loaded``
    (points read from the store) and ``interrupted``."""

    def __init__(self, rows, columns, loaded, interrupted=False):
        super().__init__(rows)
        self.columns, self.loaded, self.interrupted = columns, loaded, interrupted

    @property
    def failed(self):
        """The rows of points that raised (or could not be stored)."""
        return [r for r in self if r["error"] not in (None, NOT_RUN)]

    def summary(self):
        not_run = sum(r["error"] == NOT_RUN for r in self)
        return (f"{len(self)} points: {self.loaded} from the store, "
                f"{len(self) - self.loaded - not_run} run, {len(self.failed)} failed"
                + (f", {not_run} not run (interrupted)" if not_run else ""))

    def __repr__(self):
        return f"<SweepResults {self.summary()}>"

    def column(self, name):
        """The values of one column, in the grid's order (a list)."""
        check_choice("name", name, self.columns)
        return [r[name] for r in self]

    def to_csv(self, path):
        """Write the table as CSV (arrays as JSON lists, None as an empty cell)."""
        cell = lambda v: "" if v is None else json.dumps(v.tolist()) if isinstance(  # noqa: E731
            v, np.ndarray) else v
        with open(path, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(self.columns)
            w.writerows([cell(r[c]) for c in self.columns] for r in self)

    def to_dataframe(self):
        """The table as a pandas DataFrame (needs pandas)."""
        try:
            import pandas
        except ImportError as e:
            raise ImportError("SweepResults.to_dataframe needs pandas (pip install pandas); "
                              "the rows, column() and to_csv() do not") from e
        return pandas.DataFrame(list(self), columns=self.columns)


def sweep(function, parameters, *, executor=None, workers=None, store=None, seed=None,
          progress=None, raise_errors=False):
    """Run ``function(**point)`` for every point of ``parameters``; see the module docstring.

    Parameters
    ----------
    function : callable returning a dict of scalars / arrays, or one scalar
    parameters : dict of name -> list of values (the grid), or list of dicts (the points)
    executor : None (process pool), "serial" or an object with ``submit`` (e.g. submitit's)
    workers : int >= 1, optional; processes of the default pool (default: usable CPUs)
    store : folder path, optional; finished points are kept there and skipped by a rerun
    seed : int >= 0, optional; base of the per-point seeds (default 0)
    progress : bool, optional; tqdm bar (default: when stderr is a terminal)
    raise_errors : bool; raise :class:`SweepError` at the end if a point failed (else warn)

    Returns
    -------
    SweepResults
    """
    if not callable(function):
        fail("function", "callable", function)
    points = _points(parameters)
    base = 0 if seed is None else check_int("seed", seed, 0)
    inject = _signature(function, points, seed)
    if isinstance(executor, str):
        check_choice("executor", executor, ("serial",))
    elif executor is not None and not callable(getattr(executor, "submit", None)):
        fail("executor", "None, 'serial' or an object with a submit() method", executor)
    if workers is not None:
        if executor is not None:
            fail("workers", "None unless executor is None (it sizes the default pool)", workers)
        workers = check_int("workers", workers, 1)
    if store is not None:
        if not isinstance(store, (str, os.PathLike)):
            fail("store", "a folder path", store)
        store = os.path.abspath(store)                   # workers may start elsewhere
        if os.path.exists(store) and not os.path.isdir(store):
            fail("store", "a folder (or a path to create one)", store)
    name = _name(function)
    if store is not None and "<lambda>" in name:
        fail("function", "a named function when store is given (lambdas share a name)", function)
    for b, v in (("raise_errors", raise_errors), ("progress", progress or False)):
        if not isinstance(v, bool):
            fail(b, "True or False", v)
    if executor is None or isinstance(executor, cf.ProcessPoolExecutor):
        try:           # spawned workers import the function: not from a notebook's __main__
            ok = pickle.dumps(function) and (executor is not None or not name.startswith(
                "__main__.") or hasattr(sys.modules["__main__"], "__file__"))
        except Exception:
            ok = False
        if not ok:
            fail("function", "importable by worker processes (defined at module level of a "
                 "file); else use executor='serial' or a ThreadPoolExecutor", function)

    calls = []                                           # (kwargs, key, record) per point
    for p in points:
        kw, canon = dict(p), {n: _plain(n, v) for n, v in p.items()}
        if inject and "seed" not in p:
            h = hashlib.sha256(_dumps({"point": canon, "seed": base}).encode()).digest()
            kw["seed"] = canon["seed"] = int.from_bytes(h[:4], "little")
        record = {"format": FORMAT, "function": name, "point": canon}
        calls.append((kw, hashlib.sha256(_dumps(record).encode()).hexdigest()[:32], record))
    outcome = [None] * len(points)                       # (values, error) per point
    if store is not None:
        for i, (kw, key, record) in enumerate(calls):
            values = _load(store, key, record)
            outcome[i] = None if values is None else (values, None)
        os.makedirs(store, exist_ok=True)
    loaded = sum(o is not None for o in outcome)
    tasks = {i: (function, kw, store, key, record)
             for i, (kw, key, record) in enumerate(calls) if outcome[i] is None}

    show = sys.stderr.isatty() if progress is None else progress
    interrupted, failed = False, []
    with tqdm(total=len(points), initial=loaded, desc="sweep", unit="point",
              disable=not show) as bar:
        def finish(i, out):
            outcome[i] = out
            failed.extend([i] if out[1] is not None else [])
            bar.update()
            if failed:
                bar.set_postfix(failed=len(failed), refresh=False)
        try:
            if tasks:
                _execute(executor, workers, tasks, finish)
        except KeyboardInterrupt:
            interrupted = True

    rows, params, results = [], {}, {}
    for (kw, _, _), out in zip(calls, outcome):
        values, err = out or (None, (NOT_RUN, None))
        params.update(dict.fromkeys(kw))
        results.update(dict.fromkeys(values or ()))
        error, tb = err or (None, None)
        rows.append({**kw, **(values or {}), "error": error, "traceback": tb})
    columns = list(params) + list(results) + list(RESERVED)
    res = SweepResults([{c: r.get(c) for c in columns} for r in rows], columns, loaded,
                       interrupted)
    if interrupted:
        raise SweepInterrupted(f"sweep interrupted: {res.summary()}", res) from None
    if res.failed:
        first = res.failed[0]
        msg = (f"sweep: {len(res.failed)} of {len(res)} points failed (first: {first['error']} "
               f"at {({n: first[n] for n in params if first[n] is not None})}); see the rows' "
               f"'error' and 'traceback' columns")
        if raise_errors:
            raise SweepError(msg + "\n\n" + (first["traceback"] or ""), res)
        warnings.warn(msg, RuntimeWarning, stacklevel=2)
    return res
