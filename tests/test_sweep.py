"""ns.sweep: grids, the results table, failures, the resumable store, seeds, executors."""

import contextlib
import csv
import json
import os
import pickle
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import neurosim as ns
from neurosim.sweep import SweepError, SweepInterrupted, SweepResults, SweepStoreError
from neurosim.validation import ParameterError

CALLS = []          # (a, b) of every call of point(), in this process


def point(a, b="x"):
    CALLS.append((a, b))
    return {"double": 2 * a, "label": f"{b}{a}"}


def flaky(a):
    if a == 2:
        raise ValueError("no good at a = 2")
    return a * 10                                       # a scalar: column "result"


def arrays(n):
    return {"f32": np.arange(n * 2, dtype=np.float32).reshape(n, 2) / 3, "ints": list(range(n)),
            "mask": np.arange(n) % 2 == 0, "mean": np.float64(n / 3), "count": np.int32(n),
            "ok": np.bool_(True), "none": None, "text": "é", "empty": np.zeros((0, 3))}


def seeded(a, seed):
    CALLS.append((a, seed))
    return {"draw": float(np.random.default_rng(seed).random())}


def interrupt_at_2(a):
    if a == 2:
        raise KeyboardInterrupt
    time.sleep(0.02 if a > 3 else 0)
    return {"a2": a * a}


@pytest.fixture(autouse=True)
def _calls():
    CALLS.clear()
    yield


def _json_files(folder):
    return sorted(p for p in os.listdir(folder) if p.endswith(".json"))


def test_grid_order_table_and_csv(tmp_path):
    res = ns.sweep(point, {"a": [1, 2], "b": ["x", "y", "z"]}, executor="serial")
    assert isinstance(res, SweepResults) and len(res) == 6
    assert [(r["a"], r["b"]) for r in res] == [(1, "x"), (1, "y"), (1, "z"),
                                               (2, "x"), (2, "y"), (2, "z")]   # last fastest
    assert res.columns == ["a", "b", "double", "label", "error", "traceback"]
    assert res.column("label") == ["x1", "y1", "z1", "x2", "y2", "z2"]
    assert res[0] == {"a": 1, "b": "x", "double": 2, "label": "x1", "error": None,
                      "traceback": None}
    assert res.failed == [] and "6 points: 0 from the store, 6 run, 0 failed" in repr(res)
    res.to_csv(tmp_path / "t.csv")
    rows = list(csv.DictReader(open(tmp_path / "t.csv")))
    assert rows[4] == {"a": "2", "b": "y", "double": "4", "label": "y2", "error": "",
                       "traceback": ""}
    with pytest.raises(ParameterError, match="name must be one of 'a', 'b'.*; got 'dbl'"):
        res.column("dbl")


def test_explicit_points_scalar_result_and_threads():
    pts = [{"a": 3}, {"a": 1}, {"a": 2}]
    with pytest.warns(RuntimeWarning, match="1 of 3 points failed .*ValueError: no good"):
        res = ns.sweep(flaky, pts, executor=ThreadPoolExecutor(2))
    assert res.column("a") == [3, 1, 2] and res.column("result") == [30, 10, None]
    # explicit points may differ in their names; missing values are None
    res = ns.sweep(point, [{"a": 1}, {"a": 2, "b": "q"}], executor="serial")
    assert res.column("b") == [None, "q"] and res.column("label") == ["x1", "q2"]


def test_a_failed_point_is_recorded_and_the_others_kept(tmp_path):
    with pytest.warns(RuntimeWarning, match="1 of 4 points failed"):
        res = ns.sweep(flaky, {"a": [0, 1, 2, 3]}, executor=ThreadPoolExecutor(2),
                       store=tmp_path)
    bad = res[2]
    assert bad["error"] == "ValueError: no good at a = 2" and bad["result"] is None
    assert "Traceback" in bad["traceback"] and "in flaky" in bad["traceback"]
    assert res.column("result") == [0, 10, None, 30] and res.failed == [bad]
    assert len(_json_files(tmp_path)) == 3            # failed points are not stored
    with pytest.raises(SweepError, match="1 of 4 points failed") as e:
        ns.sweep(flaky, {"a": [0, 1, 2, 3]}, executor="serial", store=tmp_path,
                 raise_errors=True)
    assert "in flaky" in str(e.value) and e.value.results.loaded == 3
    # a result that cannot be tabled (key clashing with a parameter) fails only its point
    with pytest.warns(RuntimeWarning, match="result key 'a'"):
        res = ns.sweep(lambda a: {"a": a} if a else {"z": 1}, {"a": [0, 1]}, executor="serial")
    assert res.column("z") == [1, None]


def test_resume_skips_finished_points_and_a_changed_grid_runs_only_new_ones(tmp_path):
    first = ns.sweep(point, {"a": [1, 2], "b": ["x", "y"]}, executor="serial", store=tmp_path)
    assert len(CALLS) == 4 and len(_json_files(tmp_path)) == 4
    CALLS.clear()
    again = ns.sweep(point, {"a": [1, 2], "b": ["x", "y"]}, executor=ThreadPoolExecutor(2),
                     store=str(tmp_path))
    assert CALLS == [] and again.loaded == 4 and list(again) == list(first)
    grown = ns.sweep(point, {"a": [1, 2, 3], "b": ["y", "x"]}, executor="serial",
                     store=tmp_path)
    assert sorted(CALLS) == [(3, "x"), (3, "y")] and grown.loaded == 4
    assert [(r["a"], r["b"]) for r in grown][:2] == [(1, "y"), (1, "x")]   # the new order
    assert grown.column("label") == ["y1", "x1", "y2", "x2", "y3", "x3"]
    # another function's points are other files, even with equal parameters
    CALLS.clear()
    ns.sweep(seeded, {"a": [1]}, executor="serial", store=tmp_path)
    assert len(CALLS) == 1 and len(_json_files(tmp_path)) == 7


def test_arrays_and_scalars_round_trip_through_the_store(tmp_path):
    fresh = ns.sweep(arrays, {"n": [0, 3]}, executor="serial", store=tmp_path)
    back = ns.sweep(arrays, {"n": [0, 3]}, executor="serial", store=tmp_path)
    assert back.loaded == 2 and fresh.columns == back.columns
    for a, b in zip(fresh, back):
        assert a.keys() == b.keys()
        for k in a:
            if isinstance(a[k], np.ndarray):
                assert b[k].dtype == a[k].dtype and b[k].shape == a[k].shape
                np.testing.assert_array_equal(a[k], b[k])
            else:
                assert type(a[k]) is type(b[k]) and a[k] == b[k]
    r = back[1]
    assert r["f32"].dtype == np.float32 and r["ints"].tolist() == [0, 1, 2]
    assert type(r["mean"]) is float and type(r["count"]) is int and r["ok"] is True
    assert r["text"] == "é" and r["none"] is None and r["empty"].shape == (0, 3)
    doc = json.load(open(tmp_path / _json_files(tmp_path)[0]))
    assert doc["format"] == "neurosim.sweep/1" and doc["function"] == "test_sweep.arrays"


class Evil:
    """Unpickling this would create a file: a crafted store must never do it."""

    def __reduce__(self):
        return (open, (os.environ["SWEEP_MARKER"], "w"))


def test_corrupt_or_foreign_store_files_are_refused_never_executed(tmp_path, monkeypatch):
    grid = {"n": [1, 2]}
    ns.sweep(arrays, grid, executor="serial", store=tmp_path)
    j1, j2 = (tmp_path / f for f in _json_files(tmp_path))
    good = j1.read_text()
    (tmp_path / "notes.txt").write_text("mine")                # other files: never opened
    (tmp_path / ".x.json.123.tmp").write_text("{")
    (tmp_path / ("f" * 32 + ".json")).write_text("not json")   # not a key of this grid
    assert ns.sweep(arrays, grid, executor="serial", store=tmp_path).loaded == 2

    def refused(match):
        with pytest.raises(SweepStoreError, match=match):
            ns.sweep(arrays, grid, executor="serial", store=tmp_path)

    j1.write_text(good[:40])                                   # truncated
    refused("Expecting property name.*delete it to run the point again")
    j1.write_text(j2.read_text())                              # another point's file
    refused("it holds test_sweep.arrays")
    j1.write_text(json.dumps({"format": "other"}))
    refused("not a neurosim.sweep/1 file")
    # an npz with a pickled object whose unpickling would write a file, hash made to match
    marker = tmp_path / "pwned"
    monkeypatch.setenv("SWEEP_MARKER", str(marker))
    doc = json.loads(good)
    npz = tmp_path / doc["npz"]
    with open(npz, "wb") as f:
        np.savez(f, *[np.array([Evil()], dtype=object) for _ in doc["arrays"]])
    import hashlib
    doc["npz_sha256"] = hashlib.sha256(npz.read_bytes()).hexdigest()
    j1.write_text(json.dumps(doc))
    refused("arrays unreadable.*allow_pickle=False")
    npz.write_bytes(pickle.dumps(Evil()))                      # a bare pickle
    doc["npz_sha256"] = hashlib.sha256(npz.read_bytes()).hexdigest()
    j1.write_text(json.dumps(doc))
    refused("arrays unreadable")
    doc["npz_sha256"] = "0" * 64                               # a changed npz
    j1.write_text(json.dumps(doc))
    refused("does not match its sha256")
    assert not marker.exists()


def test_writes_are_atomic(tmp_path, monkeypatch):
    """A crash while a file is written leaves no partial file, and the point runs again."""
    sw = sys.modules["neurosim.sweep"]
    real, count = sw.os.fsync, []

    def crash_on(n):
        def fsync(fd):
            count.append(fd)
            if len(count) == n:
                raise OSError("disk gone")
            real(fd)
        return fsync

    monkeypatch.setattr(sw.os, "fsync", crash_on(1))           # inside the npz write
    with pytest.warns(RuntimeWarning, match="OSError: disk gone .while storing the result"):
        res = ns.sweep(arrays, {"n": [2]}, executor="serial", store=tmp_path)
    assert res[0]["mean"] == pytest.approx(2 / 3)               # computed, but not stored
    assert os.listdir(tmp_path) == []
    count.clear()
    monkeypatch.setattr(sw.os, "fsync", crash_on(2))           # npz written, json crashed
    with pytest.warns(RuntimeWarning, match="disk gone"):
        ns.sweep(arrays, {"n": [2]}, executor="serial", store=tmp_path)
    assert [p.endswith(".npz") for p in os.listdir(tmp_path)] == [True]
    monkeypatch.setattr(sw.os, "fsync", real)
    res = ns.sweep(arrays, {"n": [2]}, executor="serial", store=tmp_path)
    assert res.loaded == 0 and len(_json_files(tmp_path)) == 1
    assert ns.sweep(arrays, {"n": [2]}, executor="serial", store=tmp_path).loaded == 1
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_per_point_seeds_are_deterministic_and_index_free(tmp_path):
    res = ns.sweep(seeded, {"a": [1, 2, 3]}, executor="serial")
    seeds = res.column("seed")
    assert len(set(seeds)) == 3 and all(0 <= s < 2 ** 32 for s in seeds)
    assert ns.sweep(seeded, {"a": [3, 1]}, executor="serial").column("seed") == \
        [seeds[2], seeds[0]]                                    # not from the position
    assert ns.sweep(seeded, {"a": [1, 2, 3]}, executor=ThreadPoolExecutor(3)).column("draw") \
        == res.column("draw")
    other = ns.sweep(seeded, {"a": [1, 2, 3]}, executor="serial", seed=7).column("seed")
    assert set(other).isdisjoint(seeds)
    # the documented derivation
    import hashlib
    h = hashlib.sha256(json.dumps({"point": {"a": 1}, "seed": 0}, sort_keys=True,
                                  separators=(",", ":")).encode()).digest()
    assert seeds[0] == int.from_bytes(h[:4], "little")
    # a grid with its own seeds is passed as it is; the base seed is part of the store key
    assert ns.sweep(seeded, {"a": [1], "seed": [5]}, executor="serial").column("seed") == [5]
    ns.sweep(seeded, {"a": [1]}, executor="serial", store=tmp_path)
    CALLS.clear()
    ns.sweep(seeded, {"a": [1]}, executor="serial", store=tmp_path, seed=1)
    assert len(CALLS) == 1


class FakeJob:
    """submitit's Job: not a concurrent.futures.Future; done() polls, result() may raise."""

    def __init__(self, fn, args, preempted):
        self.fn, self.args, self.preempted = fn, args, preempted
        self.polls, self.cancelled = 0, False

    def done(self):
        self.polls += 1
        return self.polls > 2

    def result(self):
        if self.preempted:
            raise RuntimeError("Job 123_1 (task: 0) with path ... has not produced any output "
                               "(state: PREEMPTED)")
        return self.fn(*self.args)

    def cancel(self):
        self.cancelled = True


class FakeSubmitit:
    """The parts of submitit.AutoExecutor that sweep uses: submit() and batch()."""

    def __init__(self, preempt=()):
        self.arrays, self.jobs, self._batch, self.preempt = [], [], None, preempt

    @contextlib.contextmanager
    def batch(self):
        self._batch = []
        yield
        self.arrays.append(len(self._batch))       # submitted as one Slurm job array
        self._batch = None

    def submit(self, fn, *args):
        fn, args = pickle.loads(pickle.dumps((fn, args)))      # it pickles and ships them
        job = FakeJob(fn, args, len(self.jobs) in self.preempt)
        (self._batch if self._batch is not None else []).append(job)
        self.jobs.append(job)
        return job


def test_a_submitit_like_executor(tmp_path):
    ex = FakeSubmitit(preempt=(1,))
    with pytest.warns(RuntimeWarning, match="1 of 3 points failed .*PREEMPTED"):
        res = ns.sweep(point, {"a": [1, 2, 3]}, executor=ex, store=tmp_path)
    assert ex.arrays == [3] and all(j.polls >= 3 for j in ex.jobs)
    assert res.column("double") == [2, None, 6]
    assert "reported by the executor" in res[1]["error"] and "PREEMPTED" in res[1]["traceback"]
    assert len(_json_files(tmp_path)) == 2         # written by the "workers" (pickled copies)
    ex = FakeSubmitit()
    res = ns.sweep(point, {"a": [1, 2, 3]}, executor=ex, store=tmp_path)
    assert len(ex.jobs) == 1 and res.loaded == 2 and res.failed == []


def test_the_default_process_pool(tmp_path):
    res = ns.sweep(arrays, {"n": [1, 2, 3]}, workers=2, store=tmp_path, progress=False)
    assert res.column("count") == [1, 2, 3] and res.column("ints")[2].tolist() == [0, 1, 2]
    assert CALLS == [] and len(_json_files(tmp_path)) == 3     # ran in other processes
    with pytest.raises(ParameterError, match="function must be importable by worker processes"):
        ns.sweep(lambda a: a, {"a": [1]})


def test_ctrl_c_keeps_finished_points_and_raises_with_them(tmp_path):
    with pytest.raises(SweepInterrupted) as e:
        ns.sweep(interrupt_at_2, {"a": [0, 1, 2, 3]}, executor="serial", store=tmp_path)
    assert isinstance(e.value, KeyboardInterrupt)
    res = e.value.results
    assert res.interrupted and res.column("a2") == [0, 1, None, None]
    assert res.column("error")[2:] == ["not run (interrupted)"] * 2 and res.failed == []
    assert "2 run, 0 failed, 2 not run (interrupted)" in str(e.value)
    assert len(_json_files(tmp_path)) == 2
    # with an executor: the points not started are cancelled
    with ThreadPoolExecutor(1) as ex, pytest.raises(SweepInterrupted) as e:
        ns.sweep(interrupt_at_2, {"a": list(range(2, 40))}, executor=ex)
    assert e.value.results.column("error").count("not run (interrupted)") >= 36


@pytest.mark.parametrize("kwargs, match", [
    (dict(parameters={"a": []}), r"parameters\['a'\] must be a non-empty list, tuple, range "
                                 r"or 1-d array; got \[\]"),
    (dict(parameters={"a": "xyz"}), r"parameters\['a'\] must be a non-empty list"),
    (dict(parameters={}), "parameters must be a non-empty dict"),
    (dict(parameters=[]), "parameters must be a non-empty dict"),
    (dict(parameters=[{"a": 1}, 5]), "parameters must be"),
    (dict(parameters={"a": [1, 1]}), r"parameters must be distinct points; got \{'a': 1\} "
                                     r"\(points 0 and 1 are equal\)"),
    (dict(parameters={"a": [object()]}), r"parameters\['a'\] must be a number, string, bool, "
                                         r"None or a list of these; got <object"),
    (dict(parameters={"c": [1]}), r"a parameter name must be one of the function's \(a, b\); "
                                  r"got 'c'"),
    (dict(parameters={"b": ["x"]}), r"parameters must be points giving every required "
                                    r"argument \(a\); got \{'b': 'x'\}"),
    (dict(parameters={"error": [1]}), "a parameter name must be a string other than 'error'"),
    (dict(executor="slurm"), "executor must be one of 'serial'; got 'slurm'"),
    (dict(executor=42), r"executor must be None, 'serial' or an object with a submit\(\) "
                        r"method; got 42"),
    (dict(executor="serial", workers=2), "workers must be None unless executor is None"),
    (dict(workers=0), r"workers must be in \[1, inf\]; got 0"),
    (dict(seed=3), "seed must be None when the function takes no 'seed'"),
    (dict(store=42), "store must be a folder path; got 42"),
    (dict(progress="yes"), "progress must be True or False; got 'yes'"),
    (dict(raise_errors=None), "raise_errors must be True or False; got None"),
])
def test_bad_arguments_name_the_parameter_and_nothing_runs(tmp_path, kwargs, match):
    kwargs = {"parameters": {"a": [1]}, "store": tmp_path / "s", **kwargs}
    with pytest.raises(ParameterError, match=match):
        ns.sweep(point, **kwargs)
    assert CALLS == [] and not (tmp_path / "s").exists()


def test_more_bad_arguments(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(ParameterError, match="store must be a folder"):
        ns.sweep(point, {"a": [1]}, store=tmp_path / "file", executor="serial")
    with pytest.raises(ParameterError, match="function must be callable; got 3"):
        ns.sweep(3, {"a": [1]})
    with pytest.raises(ParameterError, match="seed must be an integer"):
        ns.sweep(seeded, {"a": [1]}, seed=1.5, executor="serial")
    with pytest.raises(ParameterError, match="a named function when store is given"):
        ns.sweep(lambda a: a, {"a": [1]}, executor="serial", store=tmp_path)
    assert CALLS == []


def test_to_dataframe(monkeypatch):
    res = ns.sweep(point, {"a": [1, 2]}, executor="serial")
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=r"needs pandas \(pip install pandas\)"):
        res.to_dataframe()
    monkeypatch.undo()
    pd = pytest.importorskip("pandas")
    df = res.to_dataframe()
    assert isinstance(df, pd.DataFrame) and list(df.columns) == res.columns
    assert df["double"].tolist() == [2, 4]



def test_submitit_local_executor_as_slurm_would_run_it(tmp_path, monkeypatch):
    """The real submitit package (its LocalExecutor runs each job as a subprocess, as Slurm
    would run it on a node): one job array of 3 points, stored by the jobs themselves; a
    rerun loads them all. The interrupted-sweep case with 100 points follows."""
    submitit = pytest.importorskip("submitit")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([os.path.dirname(__file__)] + sys.path))
    ex = submitit.LocalExecutor(folder=tmp_path / "logs")
    ex.update_parameters(timeout_min=10)
    res = ns.sweep(arrays, {"n": [1, 2, 3]}, executor=ex, store=tmp_path / "s",
                   progress=False)
    assert res.failed == [] and res.column("count") == [1, 2, 3]
    assert CALLS == [] and len(_json_files(tmp_path / "s")) == 3      # ran in the jobs
    assert ns.sweep(arrays, {"n": [1, 2, 3]}, executor="serial",
                    store=tmp_path / "s").loaded == 3


def test_a_100_point_sweep_keeps_every_finished_point_through_ctrl_c(tmp_path):
    with pytest.raises(SweepInterrupted) as e:
        ns.sweep(interrupt_at_2, {"a": [3 + i for i in range(60)] + [2] + list(
            range(100, 139))}, executor="serial", store=tmp_path)
    assert len(_json_files(tmp_path)) == 60 and e.value.results.column("a2")[59] == 62 ** 2
    again = ns.sweep(interrupt_at_2, {"a": [3 + i for i in range(60)] + list(range(100, 140))},
                     executor="serial", store=tmp_path)
    assert again.loaded == 60 and len(again.column("a2")) == 100 and again.failed == []
    assert len(_json_files(tmp_path)) == 100
