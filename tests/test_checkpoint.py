"""Checkpoints (neurosim.checkpoint): a run continued from a checkpoint is bit for bit the
uninterrupted run (spikes, state traces, weight traces, counters, final state), on both
backends, every neuron model, threads 1 and 2, every source, plasticity and crossbars;
damaged, foreign and crafted files and networks that differ are refused."""

import json
import re
import os
import signal
import threading
import time
import zipfile

import numpy as np
import pytest

import neurosim as ns
from neurosim import random as nr
from neurosim.checkpoint import CheckpointError
from neurosim.plasticity import STDP, TripletSTDP, TsodyksMarkram
from neurosim.units import mV, ms

from mpi_scenarios import every_model                  # one population of every model
from test_models import KINDS, VARIANTS, _model_net   # every LIF model, as test_models runs it

# ------------------------------------------------------------------------- networks
def _rich(net):
    """Every model, source type, Poisson windows, drives (delayed too), current sources,
    three plasticity rules, per-synapse delays, every monitor kind."""
    rng = nr
    pops = every_model(net)
    t = {p.name: p for p in pops}
    poisson = net.poisson(40, rate=np.linspace(5.0, 60.0, 40), name="pois_rates")
    windowed = net.poisson(25, rate=30.0, start=10 * ms, stop=60 * ms, name="pois_window")
    gen = net.spike_source(5, times=np.array([1, 3, 3, 7, 20, 41]) * ms,
                           indices=np.array([0, 1, 4, 2, 3, 0]), name="gen")
    for i, pre in enumerate(pops):
        for j, post in enumerate(pops):
            w = rng.uniform(0.5e-9, 2e-9) if post.name == "cond" else \
                rng.normal(0.4 * mV, 0.1 * mV)
            if (i + j) % 3 == 0:
                net.connect(pre, post, weight=w, p=0.15, delay=0.0)
            elif (i + j) % 3 == 1:
                net.connect(pre, post, weight=w, indegree=4,
                            delay=rng.normal(1.5 * ms, 0.7 * ms, low=0.0))
            else:
                net.connect(pre, post, weight=-0.6 * mV if post.name != "cond" else -1e-9,
                            indegree=3, delay=0.3 * ms)
    net.connect(poisson, t["exp"], weight=0.5 * mV, p=0.2, delay=1 * ms)
    net.connect(windowed, t["alpha_adapt"], weight=0.7 * mV, p=0.3)
    net.connect(gen, t["delta"], weight=3 * mV, pairs=(np.array([0, 1, 2, 3, 4]),
                                                      np.array([0, 5, 9, 28, 13])))
    stdp = net.connect(t["exp"], t["delta"], weight=0.8 * mV, p=0.3, delay=1 * ms,
                       plasticity=STDP(w_max=2 * mV, lam=0.01, alpha=1.05), name="stdp")
    net.connect(poisson, t["exp"], weight=0.3 * mV, p=0.2, delay=0.5 * ms, name="triplet",
                plasticity=TripletSTDP(w_max=1 * mV, a2_plus=5e-5, a3_plus=6e-5,
                                       a2_minus=7e-5, a3_minus=2e-5))
    net.connect(poisson, t["alpha_adapt"], weight=1 * mV, p=0.2, name="tm",
                plasticity=TsodyksMarkram(U=0.4, tau_rec=100 * ms, tau_facil=50 * ms))
    net.poisson_input(t["exp"], rate=800.0, weight=0.3 * mV, name="drive0")
    net.poisson_input(t["cond"], rate=500.0, weight=1e-9, delay=0.7 * ms, name="drive1")
    net.poisson_input(t["delta_nest"], rate=300.0, weight=-0.4 * mV, delay=2 * ms,
                      name="drive2")
    net.current_source(t["alpha_adapt"], times=np.array([5, 30, 55]) * ms,
                       amplitudes=np.array([2, -1, 3]) * mV, name="steps")
    rec = dict(spikes=[net.spike_monitor(p) for p in net.populations],
               states=[net.state_monitor(t["exp"], "v", indices=[0, 18, 36]),
                       net.state_monitor(t["exp"], "I_inh", indices=[3, 30]),
                       net.state_monitor(t["alpha_adapt"], "w", indices=[0, 22]),
                       net.state_monitor(t["delta"], "a", indices=[2, 28]),
                       net.state_monitor(t["delta"], "v"),
                       net.state_monitor(t["cond"], "g_exc", indices=[1, 30])],
               weights=[net.weight_monitor(stdp, interval=0.3 * ms)],
               counts=[net.count_monitor(5 * ms)])
    return rec


def _model(synapse, variant):
    """test_models' network of one model (per-neuron parameters, Poisson input, delays 0,
    1 ms and per-synapse), with its monitors and a count monitor."""
    def build(dt, seed, backend, threads):
        net, pop = _model_net(synapse, VARIANTS[variant], True, backend=backend,
                              threads=threads, seed=seed, n=50)
        return net, dict(spikes=[net.spike_monitor(pop)],
                         states=[net.state_monitor(pop, v, indices=[0, 5, 17])
                                 for v in pop.variables], counts=[net.count_monitor(3 * ms)])
    build.whole = True
    return build


def _crossbar(plastic):
    def make(net):
        from neurosim.crossbar import Crossbar
        from neurosim.crossbar import STDP as XSTDP
        src = net.poisson(60, 60.0, name="src")
        a = net.lif(40, 20e-3, (5e-3, 10e-3), -60e-3, -50e-3, -60e-3, t_ref=2e-3, name="a")
        rng = np.random.default_rng(0)
        W = rng.uniform(0, 1.5e-3, (60, 40)) * (rng.random((60, 40)) < 0.4)
        if plastic:
            xb = Crossbar(device="rram_taox_hfox_analog", array=(32, 32))
            rule = XSTDP(1e-4, 1e-4)
        else:
            xb, rule = Crossbar(adc_bits=6, r_wire=2.0, array=(32, 32), device="rram_hfox"), None
        net.connect(src, a, W, delay=1e-3, synapse=xb, plasticity=rule, name="in")
        net.connect(a, a, -rng.uniform(0, 2e-3, (40, 40)) * (rng.random((40, 40)) < 0.1),
                    name="rec")
        return dict(spikes=[net.spike_monitor(a)], states=[net.state_monitor(a, "v", [0, 7])])
    return make


def _fixed(net):
    src = net.poisson(20, rate=80.0)
    pop = net.loihi_lif(12, du=410, dv=200, vth=100, bias_mant=30)
    net.connect(src, pop, weight=np.full((20, 12), 40), delay=2e-3)
    net.connect(pop, pop, weight=np.full((12, 12), -20))
    return dict(spikes=[net.spike_monitor(pop)], states=[net.state_monitor(pop, "v")])


def _net(make, backend="numba", threads=1, seed=7, dt=0.1 * ms, dtype="float64"):
    if getattr(make, "whole", False):         # builds its own Network
        return make(dt, seed, backend, threads)
    net = ns.Network(dt=dt, seed=seed, backend=backend, threads=threads, dtype=dtype)
    return net, make(net)


def _snapshot(net, rec):
    """Everything a run produced, as plain arrays."""
    out = {}
    for k, m in enumerate(rec.get("spikes", [])):
        out[f"spikes{k}"] = np.stack([m.steps, m.indices])
    for k, m in enumerate(rec.get("states", [])):
        out[f"state{k}"] = m.values
        out[f"state{k}_t"] = m.t
    for k, m in enumerate(rec.get("weights", [])):
        out[f"weights{k}"] = m.values
        out[f"weights{k}_t"] = m.t
    for k, m in enumerate(rec.get("counts", [])):
        for q in ("spikes", "events", "neuron_updates"):
            out[f"count{k}_{q}"] = np.asarray(m.series(q))
    c = net.counts()
    out["counts"] = np.array([[p.spikes, p.active_steps, p.neuron_updates]
                              for p in c.populations.values()])
    out["events"] = np.array([p.events for p in c.projections.values()])
    for p in net.populations:
        out[f"count_{p.name}"] = net.spike_counts(p)
        for var in p.variables:
            out[f"final_{p.name}.{var}"] = np.asarray(getattr(p, var))
    for pr in net.projections:
        if pr.plasticity is not None:
            out[f"w_{pr.name}"] = np.array(pr.weight if pr.crossbar is None
                                           else pr.crossbar.W)
    out["step"] = np.array([net._step])
    return out


def _assert_same(a, b):
    assert a.keys() == b.keys()
    for k in a:
        assert a[k].dtype == b[k].dtype, k
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def _check_resume(tmp_path, make, first, second, **kw):
    """run(first); save; fresh network; restore; run(second) == run(first); run(second)
    without a checkpoint (same chunks of run() calls: a checkpoint changes nothing)."""
    net, rec = _net(make, **kw)
    net.run(first)
    net.run(second)
    want = _snapshot(net, rec)
    a, _ = _net(make, **kw)
    a.run(first)
    path = a.save_checkpoint(tmp_path / "run.ckpt.npz")
    b, rec_b = _net(make, **kw)
    b.restore_checkpoint(path)
    assert b.t == a.t
    b.run(second)
    got = _snapshot(b, rec_b)
    _assert_same(want, got)
    return want


# ------------------------------------------------------------------------- bit for bit
@pytest.mark.parametrize("backend,threads,dtype", [
    ("numba", 1, "float64"), ("numba", 2, "float64"), ("reference", 1, "float64"),
    ("numba", 1, "float32"), ("reference", 1, "float32")])
def test_rich_network_resumes_bit_for_bit(tmp_path, backend, threads, dtype):
    want = _check_resume(tmp_path, _rich, 23.47 * ms, 41.3 * ms, backend=backend,
                         threads=threads, dtype=dtype)
    assert want["spikes0"].shape[1] > 20
    assert np.any(want["weights0"] != want["weights0"][0])       # it learned


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("synapse", KINDS)
@pytest.mark.parametrize("backend", ["numba", "reference"])
def test_every_model_resumes_bit_for_bit(tmp_path, synapse, variant, backend):
    want = _check_resume(tmp_path, _model(synapse, variant), 31.3 * ms, 30 * ms,
                         backend=backend)
    assert want["spikes0"].shape[1] > 10


@pytest.mark.parametrize("backend", ["numba", "reference"])
def test_noisy_crossbar_resumes_bit_for_bit(tmp_path, backend):
    _check_resume(tmp_path, _crossbar(False), 17.7 * ms, 20 * ms, backend=backend)


def test_learning_crossbar_resumes_bit_for_bit(tmp_path):
    want = _check_resume(tmp_path, _crossbar(True), 20 * ms, 25 * ms)
    assert "w_in" in want


@pytest.mark.parametrize("backend", ["numba", "reference"])
def test_fixed_point_resumes_bit_for_bit(tmp_path, backend):
    want = _check_resume(tmp_path, _fixed, 13 * ms, 20 * ms, dt=1e-3, backend=backend)
    assert want["spikes0"].shape[1] > 5


def test_checkpoint_at_t0_and_another_thread_count(tmp_path):
    make = _model("exp", "adaptive")
    net, rec = _net(make)
    net.run(40 * ms)
    want = _snapshot(net, rec)
    a, _ = _net(make, threads=2)
    a.save_checkpoint(tmp_path / "t0.npz")          # unbuilt: built, state at t = 0
    b, rec_b = _net(make, threads=1)
    b.restore_checkpoint(tmp_path / "t0.npz")
    b.run(40 * ms)
    _assert_same(want, _snapshot(b, rec_b))
    a.run(17 * ms)                                  # written with 2 threads, read with 3
    a.save_checkpoint(tmp_path / "t17.npz")
    c, rec_c = _net(make, threads=3)
    c.restore_checkpoint(tmp_path / "t17.npz")
    c.run(40 * ms - c.t)
    _assert_same(want, _snapshot(c, rec_c))


def test_restore_twice_into_one_network(tmp_path):
    """Restoring rewinds a network that already ran (same monitors, same state)."""
    make = _model("alpha", "plain")
    net, rec = _net(make)
    net.run(10 * ms)
    net.save_checkpoint(tmp_path / "c.npz")
    net.run(30 * ms)
    want = _snapshot(net, rec)
    net.restore_checkpoint(tmp_path / "c.npz")
    net.run(30 * ms)
    _assert_same(want, _snapshot(net, rec))


# ------------------------------------------------------------------------- during a run
def test_checkpoint_every_chunk_resumes_mid_run(tmp_path):
    """checkpoint_every writes at chunk boundaries inside a run (open count bins folded
    in); the last one, continued, gives the uninterrupted run."""
    make = _model("exp", "plain")
    net, rec = _net(make)
    net.run(60 * ms)
    want = _snapshot(net, rec)
    a, _ = _net(make)
    path = tmp_path / "every.npz"
    assert a.run(60 * ms, chunk_steps=37, checkpoint=path, checkpoint_every=1e-9)
    b, rec_b = _net(make)
    b.restore_checkpoint(path)
    assert b._step == 37 * (600 // 37)               # the last boundary before the end
    b.run(60 * ms - b.t)
    _assert_same(want, _snapshot(b, rec_b))


def _signal_once_running(sig=signal.SIGTERM, after=0.5):
    """`sig` to this process `after` seconds after a run installed its own handler (not
    before: SIGTERM's default action would end pytest, SIGINT would stop it)."""
    default = signal.getsignal(sig)

    def send():
        deadline = time.monotonic() + 600
        while signal.getsignal(sig) is default and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(after)
        os.kill(os.getpid(), sig)

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_the_run_and_writes_a_checkpoint(tmp_path, sig):
    make = _model("delta", "nest")
    a, _ = _net(make)
    a.run(1 * ms)                                   # compiled before the signal
    path = tmp_path / "stop.npz"
    sender = _signal_once_running(sig, after=0.3)
    with pytest.warns(UserWarning, match="checkpoint written to"):
        finished = a.run(100.0, chunk_steps=1, checkpoint=path)
    sender.join()
    assert not finished and a.interrupted and path.exists()
    stopped = a._step
    net, rec = _net(make)
    net.run(stopped * net.dt + 20 * ms)
    want = _snapshot(net, rec)
    b, rec_b = _net(make)
    b.restore_checkpoint(path)
    assert b._step == stopped
    b.run(20 * ms)
    _assert_same(want, _snapshot(b, rec_b))


def test_run_checkpoint_arguments_are_checked():
    net, _ = _net(_model("exp", "plain"))
    with pytest.raises(ns.validation.ParameterError, match="checkpoint must be a file path"):
        net.run(1 * ms, checkpoint_every=5.0)
    with pytest.raises(ns.validation.ParameterError, match="checkpoint_every must be > 0"):
        net.run(1 * ms, checkpoint="x.npz", checkpoint_every=0)
    assert net.t == 0


# ------------------------------------------------------------------------- refusals
def _small(net):
    src = net.poisson(20, rate=50.0)
    pop = net.lif(10, tau_m=20 * ms, tau_syn=5 * ms, v_rest=-60 * mV, v_th=-50 * mV,
                  v_reset=-60 * mV, bias=5 * mV)
    net.connect(src, pop, weight=3 * mV, p=0.5, delay=1 * ms)
    return dict(spikes=[net.spike_monitor(pop)])


def _saved(tmp_path, make=None, **kw):
    net, _ = _net(make or _small, **kw)
    net.run(5 * ms)
    return type(tmp_path)(net.save_checkpoint(tmp_path / "c.npz"))


def _rewrite(path, change):
    """Rewrite a checkpoint with ``change(header, arrays)`` applied (np.savez)."""
    with np.load(path) as d:
        arrays = {k: d[k] for k in d.files}
    header = json.loads(arrays.pop("header").tobytes())
    change(header, arrays)
    arrays["header"] = np.frombuffer(json.dumps(header).encode(), np.uint8)
    np.savez(path, **arrays)


@pytest.mark.parametrize("what,kw,match", [
    ("seed", dict(seed=8), "differs from this one in seed"),
    ("dt", dict(dt=0.05 * ms), "differs from this one in dt"),
    ("backend", dict(backend="reference"), "differs from this one in backend"),
])
def test_a_different_network_is_refused(tmp_path, what, kw, match):
    path = _saved(tmp_path)
    net, _ = _net(_small, **kw)
    with pytest.raises(CheckpointError, match=match) as e:
        net.restore_checkpoint(path)
    assert str(path) in str(e.value)
    assert net.t == 0


def test_different_sizes_and_synapse_counts_are_refused(tmp_path):
    path = _saved(tmp_path)
    net = ns.Network(seed=7)
    net.lif(3, tau_m=20 * ms, tau_syn=5 * ms, v_rest=-60 * mV, v_th=-50 * mV, v_reset=-60 * mV)
    with pytest.raises(CheckpointError, match="in populations"):
        net.restore_checkpoint(path)
    _rewrite(path, lambda h, a: h["network"]["projections"][0].__setitem__(3, 1))
    net, _ = _net(_small)
    with pytest.raises(CheckpointError, match="in projections"):
        net.restore_checkpoint(path)
    other, _ = _net(_small)
    other.state_monitor(other.populations[1], "v", indices=[1])
    with pytest.raises(CheckpointError, match="in state_monitors"):
        other.restore_checkpoint(_saved(tmp_path))


@pytest.mark.parametrize("field,value,match", [
    ("neurosim_version", "0.0.1", "written by neurosim '0.0.1'"),
    ("format_version", 99, "format version 99"),
    ("format", "something", "not a neurosim checkpoint"),
])
def test_other_versions_are_refused(tmp_path, field, value, match):
    path = _saved(tmp_path)

    def change(h, a):
        (h["network"] if field == "neurosim_version" else h)[field] = value
    _rewrite(path, change)
    net, _ = _net(_small)
    with pytest.raises(CheckpointError, match=match):
        net.restore_checkpoint(path)


def test_damaged_files_are_refused_naming_the_file(tmp_path):
    path = _saved(tmp_path)
    raw = path.read_bytes()
    for k, data in enumerate([raw[:len(raw) // 2], raw[:100], b"", b"not a zip at all",
                              raw[:-30]]):
        bad = tmp_path / f"bad{k}.npz"
        bad.write_bytes(data)
        net, _ = _net(_small)
        with pytest.raises(CheckpointError, match=str(bad)):
            net.restore_checkpoint(bad)
        assert net.t == 0
    # a member flipped inside: shapes, dtypes and missing entries are named
    _rewrite(path, lambda h, a: a.__setitem__("state/v", a["state/v"][:-1]))
    net, _ = _net(_small)
    with pytest.raises(CheckpointError, match="entry 'state/v'"):
        net.restore_checkpoint(path)
    _rewrite(path, lambda h, a: a.pop("state/i_exc"))
    with pytest.raises(CheckpointError, match="missing"):
        net.restore_checkpoint(path)
    with pytest.raises(FileNotFoundError, match="no such checkpoint"):
        net.restore_checkpoint(tmp_path / "nothing.npz")


class _Payload:
    """Unpickling this would run code (write a file)."""

    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return (open, (self.target, "w"))


def test_a_pickled_object_is_refused_without_being_run(tmp_path):
    path = _saved(tmp_path)
    target = tmp_path / "pwned"
    with np.load(path) as d:
        arrays = {k: d[k] for k in d.files}
    obj = np.empty(1, dtype=object)
    obj[0] = _Payload(str(target))
    arrays["state/v"] = obj
    np.savez(path, **arrays)                       # np.save pickles object arrays
    with zipfile.ZipFile(path) as z:
        assert b"pwned" in z.read("state/v.npy")
    net, _ = _net(_small)
    with pytest.raises(CheckpointError, match="holds Python objects, which neurosim never"):
        net.restore_checkpoint(path)
    assert not target.exists()
    # the header too: never evaluated, only parsed as JSON
    arrays["state/v"] = np.zeros(3)
    arrays["header"] = obj
    np.savez(path, **arrays)
    with pytest.raises(CheckpointError, match="holds Python objects"):
        net.restore_checkpoint(path)
    assert not target.exists()


def test_writing_is_atomic(tmp_path, monkeypatch):
    """A write that fails leaves the previous checkpoint and no temporary file."""
    path = _saved(tmp_path)
    before = path.read_bytes()
    net, _ = _net(_small)
    net.run(8 * ms)

    def boom(*a, **k):
        raise KeyboardInterrupt
    monkeypatch.setattr(np, "savez", boom)
    with pytest.raises(KeyboardInterrupt):
        net.save_checkpoint(path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["c.npz"]


def test_a_checkpoint_continues_with_the_ranks_that_wrote_it(tmp_path):
    """One process's checkpoint is refused by a job of 2 ranks and the other way round,
    naming both (the split runs are tested under mpiexec in tests/test_mpi.py)."""
    from neurosim.checkpoint import CheckpointError, _compare, fingerprint
    net, _ = _net(_small)
    net.build()
    mine = fingerprint(net)
    assert mine["ranks"] is None
    split = dict(mine, ranks=[2, "memory"])
    with pytest.raises(CheckpointError, match=r"written by one process; this is 2 MPI ranks "
                                              r"with mpi_balance='memory'"):
        _compare("c.npz", mine, split)
    with pytest.raises(CheckpointError, match=r"written by 2 MPI ranks with "
                                              r"mpi_balance='memory'; this is one process"):
        _compare("c.npz", split, mine)
    old = {k: v for k, v in mine.items() if k != "ranks"}    # files written before MPI
    _compare("c.npz", json.loads(json.dumps(old)), mine)


# ------------------------------------------------------------------------- neurosim run
FF = os.path.join(os.path.dirname(__file__), "..", "examples", "networks", "feedforward.toml")


def _cli(*argv):
    from neurosim.cli import main
    return main(["run", FF, "--no-plots", "--quiet", *argv])


def _results(folder):
    """Spikes, traces and counts of a results file, as plain arrays."""
    res = ns.load_results(os.path.join(folder, "results.npz"))
    out = {f"spikes/{k}/{part}": getattr(m, part) for k, m in res.spikes.items()
           for part in ("steps", "indices")}
    out.update({f"state/{k}": m.values for k, m in res.state.items()})
    out["t"] = np.array([res.meta["t"], res.meta["steps"]])
    out["counts"] = np.array(json.dumps(res.meta["counts"], sort_keys=True))
    return out


def test_cli_resume_extends_a_run(tmp_path):
    """--checkpoint-every writes at chunk boundaries and at the end; --resume with a longer
    --duration continues the run: its results equal one run of the longer duration."""
    assert _cli("--out", str(tmp_path / "full"), "--duration", "0.3 s") == 0
    assert _cli("--out", str(tmp_path / "part"), "--duration", "0.12 s",
                "--checkpoint-every", "1e-9s") == 0
    ckpt = tmp_path / "part" / "checkpoint.npz"
    from neurosim.checkpoint import read_header
    assert read_header(ckpt)["step"] == 120
    assert _cli("--out", str(tmp_path / "part"), "--duration", "0.3 s", "--resume") == 0
    want, got = _results(tmp_path / "full"), _results(tmp_path / "part")
    assert want and want.keys() == got.keys()
    for k in want:
        np.testing.assert_array_equal(want[k], got[k], err_msg=k)


def test_cli_sigterm_writes_a_checkpoint_and_resume_continues(tmp_path, capsys):
    sender = _signal_once_running()    # a fast machine runs 1000 s of this net in 1 s
    assert _cli("--out", str(tmp_path / "a"), "--duration", "20000 s") == 130
    sender.join()           # (longer: its voltage trace would not fit in memory, refused)
    from neurosim.checkpoint import read_header
    step = read_header(tmp_path / "a" / "checkpoint.npz")["step"]
    assert 0 < step < 2 * 10**7
    until = f"{(step + 80) * 1e-3!r} s"
    assert _cli("--out", str(tmp_path / "a"), "--duration", until, "--resume") == 0
    assert _cli("--out", str(tmp_path / "b"), "--duration", until) == 0
    want, got = _results(tmp_path / "b"), _results(tmp_path / "a")
    for k in want:
        np.testing.assert_array_equal(want[k], got[k], err_msg=k)
    assert "continuing from t = " in capsys.readouterr().out


def test_cli_errors(tmp_path, capsys):
    assert _cli("--out", str(tmp_path), "--resume") == 2
    assert "--resume: no checkpoint" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        _cli("--checkpoint-every", "soon")


@pytest.mark.parametrize("backend", ["numba", "reference"])
def test_edited_weights_and_delays_are_saved(tmp_path, backend):
    def build():
        net, rec = _model("exp", "adaptive")(0.1 * ms, 7, backend, 1)
        return net, rec

    def edit(net):
        rec_proj, other = net.projections[1], net.projections[2]
        rec_proj.weight = np.asarray(rec_proj.weight) * 1.5
        other.delay = 3.3 * ms                   # longer: the delay ring grows
        net.projections[0].weight[:5] = 4 * mV   # in place

    net, rec = build()
    net.run(10 * ms)
    edit(net)
    net.run(15 * ms)
    net.run(25 * ms)
    want = _snapshot(net, rec)
    a, _ = build()
    a.run(10 * ms)
    edit(a)
    a.run(15 * ms)
    a.save_checkpoint(tmp_path / "e.npz")
    b, rec_b = build()                           # not edited: the checkpoint has the edits
    b.restore_checkpoint(tmp_path / "e.npz")
    b.run(25 * ms)
    _assert_same(want, _snapshot(b, rec_b))
    np.testing.assert_array_equal(b.projections[1].weight, a.projections[1].weight)


def test_mutated_headers_and_entries_give_checkpoint_errors(tmp_path):
    """Random changes of the header's fields and of the entries (types, values, shapes)
    are refused with a CheckpointError naming the file, or restore a run (a change the
    network cannot tell from a real one); never another exception."""
    path = _saved(tmp_path, _rich)
    with np.load(path) as d:
        arrays = {k: d[k] for k in d.files}
    header = json.loads(arrays.pop("header").tobytes())
    rng = np.random.default_rng(0)
    junk = [None, True, -1, 0, 2**70, 1e308, float("nan"), "x", [], {}, [1, "a"], {"a": 1}]
    refused = 0
    for trial in range(60):
        h = json.loads(json.dumps(header))
        a = dict(arrays)
        if trial % 2 == 0:
            keys = list(h) + [f"network.{k}" for k in h["network"]]
            k = keys[rng.integers(len(keys))]
            v = junk[rng.integers(len(junk))]
            if k.startswith("network."):
                h["network"][k[8:]] = v
            else:
                h[k] = v
        else:
            k = sorted(a)[rng.integers(len(a))]
            x = a[k]
            choice = rng.integers(4)
            a[k] = (x[:-1] if x.ndim and x.size else np.zeros(3)) if choice == 0 else \
                x.astype(np.float32) if choice == 1 else \
                np.zeros((2, 2), x.dtype) if choice == 2 else np.array("text")
        a["header"] = np.frombuffer(json.dumps(h).encode(), np.uint8)
        bad = tmp_path / f"m{trial}.npz"
        np.savez(bad, **a)
        net, _ = _net(_rich)
        try:
            net.restore_checkpoint(bad)
        except CheckpointError as e:
            assert str(bad) in str(e)
            refused += 1
    assert refused > 40


def _plastic(net):
    pre = net.poisson(10, rate=40.0)
    post = net.lif(4, tau_m=20 * ms, tau_syn=5 * ms, v_rest=-65 * mV, v_th=-50 * mV,
                   v_reset=-65 * mV, bias=10 * mV)
    net.connect(pre, post, weight=1 * mV, p=0.5, plasticity=STDP(w_max=3 * mV))
    net.connect(pre, post, weight=0.5 * mV, p=0.5, delay=1 * ms)     # a stored delay
    return {}


@pytest.mark.parametrize("value,match", [
    (-1.0, "of one sign"), (np.inf, "finite"), (1.0, r"within \[0, w_max")])
def test_saved_plastic_weights_run_would_refuse_are_refused_on_restore(tmp_path, value,
                                                                        match):
    """Fuzz inputs checkpoint:0,4,2,1733 and 0,4,5,1559: plastic weights of both signs or
    not finite were restored, and only the next run() refused them (a ParameterError that
    did not name the file)."""
    path = tmp_path / "c.npz"
    net, _ = _net(_plastic)
    net.run(5 * ms)
    w = np.asarray(net.projections[0].weight).copy()
    w[1] = value * (w[0] if value != 1.0 else 1.0)
    net.projections[0]._w[:] = w                  # as a damaged file would give them
    net.save_checkpoint(path)
    fresh, _ = _net(_plastic)
    with pytest.raises(CheckpointError, match=re.escape(str(path)) + ".*plastic weights "
                       ".*" + match):
        fresh.restore_checkpoint(path)
    assert fresh.t == 0


def test_saved_delays_the_projection_refuses_are_refused_naming_the_entry(tmp_path):
    """Fuzz input checkpoint:0,4,0,732: stored delays of the wrong shape raised the
    projection's ParameterError from inside restore."""
    path = _saved(tmp_path, _plastic)

    def change(header, arrays):
        key = next(k for k in arrays if k.endswith("/delay_steps"))
        arrays[key] = np.full(2, 10, np.int64)    # two delays for more synapses
    _rewrite(path, change)
    fresh, _ = _net(_plastic)
    with pytest.raises(CheckpointError, match=re.escape(str(path)) +
                       r": entry 'edits/1/delay_steps': delay.shape must be"):
        fresh.restore_checkpoint(path)


def test_indices_the_engine_would_follow_out_of_range_are_refused(tmp_path):
    """Fuzz inputs checkpoint:0,4,16,1775 and 0,4,17,1299: a Poisson source's next trial
    set before the checkpoint's step restored, and the next run wrote spikes of negative
    node numbers (an IndexError on the reference backend, a segmentation fault on numba)."""
    path = _saved(tmp_path)

    def change(header, arrays):
        arrays["state/pois_next"] = np.zeros_like(arrays["state/pois_next"])
    _rewrite(path, change)
    fresh, _ = _net(_small)
    with pytest.raises(CheckpointError, match=re.escape(str(path)) + r": entry "
                       r"'state/pois_next': a Poisson source's next spike lies before step 50"):
        fresh.restore_checkpoint(path)
    assert fresh.t == 0


def _sparse_drive(net):
    rec = _small(net)
    net.poisson_input(net.populations[1], rate=300.0, weight=1 * mV, name="sparse")
    return rec


def test_a_sparse_drive_input_before_the_checkpoint_is_refused(tmp_path):
    """A sparse drive's next input (DriveState.next) restored before the checkpoint's step
    would never come: the target would lose its drive silently."""
    path = _saved(tmp_path, _sparse_drive)

    def change(header, arrays):
        arrays["dstate/next"] = np.zeros_like(arrays["dstate/next"])
    _rewrite(path, change)
    fresh, _ = _net(_sparse_drive)
    with pytest.raises(CheckpointError, match=re.escape(str(path)) + r": entry "
                       r"'dstate/next': a sparse Poisson drive's next input lies before "
                       r"step 50"):
        fresh.restore_checkpoint(path)
    assert fresh.t == 0


@pytest.mark.parametrize("backend", ["numba", "reference", "event"])
def test_a_checkpoint_with_shorter_delays_restores_after_one_with_longer(tmp_path, backend):
    """Found by the fuzzer reusing one network: a checkpoint whose edited delays grew the
    delay ring, restored first, left the network unable to take a checkpoint of the
    original delays (its ring length was refused)."""
    def build():
        net = ns.Network(seed=7, backend=backend)
        rec = _small(net)
        return net, rec["spikes"][0]

    net, _ = build()
    net.run(5 * ms)
    short = net.save_checkpoint(tmp_path / "short.npz")
    net.projections[0].delay = 4.4 * ms              # longer: the ring grows
    net.run(3 * ms)
    long_ = net.save_checkpoint(tmp_path / "long.npz")
    reused, mon = build()
    reused.restore_checkpoint(long_)
    reused.run(1 * ms)
    reused.restore_checkpoint(short)
    reused.run(150 * ms)
    fresh, mon_fresh = build()
    fresh.restore_checkpoint(short)
    fresh.run(150 * ms)
    assert mon_fresh.steps.size > 0
    np.testing.assert_array_equal(mon.steps, mon_fresh.steps)
    np.testing.assert_array_equal(mon.indices, mon_fresh.indices)
