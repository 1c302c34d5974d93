"""Long recordings: refused up front when they would not fit in memory or on disk, and
streamed to a .npy file instead of memory (``state_monitor(..., to=path)``)."""

import os
import shutil
from collections import namedtuple

import numpy as np
import pytest

import neurosim as ns
from neurosim.checkpoint import CheckpointError
from neurosim.units import mV, ms

LIF = dict(tau_m=10 * ms, tau_syn=5 * ms, v_th=-50 * mV, v_rest=-65 * mV, v_reset=-65 * mV)


def _net(to=None, dtype="float64", backend="numba", var="v"):
    net = ns.Network(seed=3, dtype=dtype, backend=backend)
    src = net.poisson(50, rate=20.0)
    a = net.lif(20, **LIF)
    net.connect(src, a, weight=2 * mV, p=0.3)
    net.connect(a, a, weight=-1 * mV, p=0.2, delay=1.5 * ms)
    return net, net.state_monitor(a, var, indices=[0, 3, 7, 19], to=to)


@pytest.mark.parametrize("backend", ["numba", "reference"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_streamed_samples_equal_the_in_memory_ones(tmp_path, backend, dtype):
    path = tmp_path / "v.npy"
    ref, want = _net(None, dtype, backend, "I_exc")
    ref.run(60 * ms, chunk_steps=70)
    net, mon = _net(path, dtype, backend, "I_exc")
    net.run(60 * ms, chunk_steps=70)
    assert isinstance(mon.values, np.memmap) and mon.to == str(path)
    assert want.values.any()
    np.testing.assert_array_equal(mon.t, want.t)
    assert mon.values.dtype == want.values.dtype
    np.testing.assert_array_equal(mon.values, want.values)
    np.testing.assert_array_equal(np.load(path), want.values)     # a plain .npy file


def test_the_file_holds_every_finished_chunk_and_continues(tmp_path):
    """After each run (chunk) the file is a valid .npy of the rows so far; a later run
    appends to it; a reset starts it anew."""
    path = tmp_path / "v.npy"
    ref, want = _net()
    ref.run(50 * ms)
    net, mon = _net(path)
    assert not path.exists()                      # nothing written before the first rows
    net.run(20 * ms)
    np.testing.assert_array_equal(np.load(path), want.values[:200])
    net.run(30 * ms)
    np.testing.assert_array_equal(np.load(path, mmap_mode="r"), want.values)
    net.reset()
    assert mon.values.shape == (0, 4) and mon.t.shape == (0,)
    net.run(10 * ms)
    np.testing.assert_array_equal(np.load(path), want.values[:100])


def test_ctrl_c_keeps_a_readable_file(tmp_path):
    import signal
    import threading
    path = tmp_path / "v.npy"
    net, mon = _net(path)
    net.run(1 * ms)
    default = signal.getsignal(signal.SIGINT)

    def send():
        while signal.getsignal(signal.SIGINT) is default:
            threading.Event().wait(0.01)
        threading.Event().wait(0.3)
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=send, daemon=True).start()
    with pytest.warns(UserWarning, match="interrupted"):
        assert not net.run(1000.0, chunk_steps=50)
    rows = np.load(path)
    assert rows.shape == (net._step, 4) and net._step > 10
    ref, want = _net()
    ref.run(net.t)
    np.testing.assert_array_equal(rows, want.values)


def test_checkpoint_resume_continues_the_file(tmp_path):
    """The checkpoint keeps the number of rows, not the samples; a network built again
    and restored drops the rows written after the checkpoint and goes on: the file equals
    an uninterrupted run's samples."""
    path, ckpt = tmp_path / "v.npy", tmp_path / "c.npz"
    ref, want = _net()
    ref.run(70 * ms)
    net, _ = _net(path)
    net.run(30 * ms)
    net.save_checkpoint(ckpt)
    net.run(25 * ms)                                # rows the checkpoint does not know
    with np.load(ckpt) as z:
        assert not any(k.startswith("states/0/values") for k in z.files)
    again, mon = _net(path)
    again.restore_checkpoint(ckpt)
    assert mon.values.shape == (300, 4)
    again.run(40 * ms)
    np.testing.assert_array_equal(mon.values, want.values)
    np.testing.assert_array_equal(mon.t, want.t)
    np.testing.assert_array_equal(np.load(path), want.values)


@pytest.mark.parametrize("damage", ["missing", "short", "other columns"])
def test_restore_refused_when_the_file_does_not_hold_the_rows(tmp_path, damage):
    path, ckpt = tmp_path / "v.npy", tmp_path / "c.npz"
    net, _ = _net(path)
    net.run(30 * ms)
    net.save_checkpoint(ckpt)
    if damage == "missing":
        path.unlink()
    elif damage == "short":
        np.save(path, np.load(path)[:100])
    else:
        np.save(path, np.zeros((300, 5)))
    again, _ = _net(path)
    with pytest.raises(CheckpointError, match=r"v\.npy"):
        again.restore_checkpoint(ckpt)


def test_recordings_that_do_not_fit_in_memory_are_refused_before_the_run(monkeypatch):
    net, mon = _net()
    net.build()                                     # the limit is for the recording
    monkeypatch.setenv("NEUROSIM_MEMORY_LIMIT", "2MB")
    with pytest.raises(ns.InsufficientMemoryError,
                       match=r"recording 1 state/weight monitor\(s\) for 100,000 steps needs "
                             r"about 8 MB .*to='file\.npy'"):
        net.run(10.0)                               # 1e5 steps x 2 x (8 + 4 x 8) bytes
    assert net._step == 0 and mon.values.shape == (0, 4)
    net.run(1 * ms)                                 # a short run fits
    assert mon.values.shape == (10, 4)


def test_streamed_recordings_need_disk_not_memory(tmp_path, monkeypatch):
    path = tmp_path / "v.npy"
    net, mon = _net(path)
    net.build()
    monkeypatch.setenv("NEUROSIM_MEMORY_LIMIT", "2MB")    # 1e5 steps x 2 x 8 bytes fit
    Usage = namedtuple("Usage", "total used free")
    real = shutil.disk_usage
    monkeypatch.setattr(shutil, "disk_usage", lambda p: Usage(10**9, 10**9 - 10**6, 10**6))
    with pytest.raises(ns.InsufficientDiskError,
                       match=r"streamed to .* for 100,000 steps need about 3\.2 MB, but the "
                             r"file system has 1 MB free"):
        net.run(10.0)
    assert net._step == 0 and not path.exists()
    monkeypatch.setattr(shutil, "disk_usage", real)
    net.run(0.5)
    assert np.load(path).shape == (5000, 4)


def test_weight_monitors_count_in_the_estimate(monkeypatch):
    from neurosim.plasticity import STDP
    net = ns.Network(seed=1)
    src = net.poisson(20, rate=10.0)
    a = net.lif(10, **LIF)
    proj = net.connect(src, a, weight=1 * mV, p=1.0, plasticity=STDP(w_max=5 * mV))
    net.weight_monitor(proj, interval=1 * ms)       # 200 synapses, one sample per 10 steps
    net.build()
    monkeypatch.setenv("NEUROSIM_MEMORY_LIMIT", "3MB")
    net.run(0.5)                                    # 500 samples x 2 x (8 + 200 x 8) fit
    with pytest.raises(ns.InsufficientMemoryError, match="for 1,000,000 steps"):
        net.run(100.0)                              # 1e5 samples do not


@pytest.mark.parametrize("to, why", [("missing-folder/v.npy", "existing folder"),
                                     (".", "not a folder")])
def test_bad_stream_paths_are_refused_when_the_monitor_is_made(tmp_path, to, why):
    net, _ = _net()
    with pytest.raises(ns.ParameterError, match=f"^to must be a file path.*{why}"):
        net.state_monitor(net.populations[1], "v", to=str(tmp_path / to))
    assert len(net.state_monitors) == 1


def test_a_streamed_monitor_is_saved_in_results_files(tmp_path):
    net, mon = _net(tmp_path / "v.npy")
    net.run(20 * ms)
    res = ns.load_results(ns.save_results(tmp_path / "r.npz", net))
    got = next(iter(res.state.values()))
    np.testing.assert_array_equal(got.values, mon.values)
