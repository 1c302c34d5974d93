"""Edits between runs for the PyNN backend: Poisson sources with start and stop, spike
sources whose list is replaced; each against the NumPy reference and for any chunking and
thread count."""

import numpy as np
import pytest

import neurosim as ns
from neurosim.units import Hz, mV, ms

from conftest import random_network, spikes_of


# ---------------------------------------------------------------- Poisson start and stop
def _poisson(backend, rate, n=200, threads=1, **window):
    net = ns.Network(seed=5, backend=backend, threads=threads)
    src = net.poisson(n, rate, **window)
    out = net.lif(10, tau_m=10 * ms, tau_syn=2 * ms, v_rest=-70 * mV, v_th=-60 * mV,
                  v_reset=-70 * mV)
    net.connect(src, out, weight=1 * mV, p=0.2)
    return net, src, out, net.spike_monitor(src), net.spike_monitor(out)


RATES = {"homogeneous": 80 * Hz, "per_neuron": np.linspace(10, 150, 200) * Hz}


@pytest.mark.parametrize("rates", sorted(RATES))
def test_a_window_keeps_the_spikes_inside_it_and_the_streams(backend, rates):
    """The spikes of a source with per-neuron windows are those of the same source
    without one, inside each neuron's window: the draws do not depend on it (so
    start=0, stop=None is the source as before, bit for bit)."""
    rate = RATES[rates]
    rng = np.random.default_rng(0)
    lo = rng.integers(0, 300, 200) * 0.1 * ms
    hi = lo + rng.integers(0, 400, 200) * 0.1 * ms
    free = _poisson(backend, rate)
    default = _poisson(backend, rate, start=0.0, stop=None)
    windowed = _poisson(backend, rate, start=lo, stop=hi)
    for net, *_ in (free, default, windowed):
        net.run(80 * ms)
    steps, idx = free[3].steps, free[3].indices
    np.testing.assert_array_equal(spikes_of(default[3]), spikes_of(free[3]))
    np.testing.assert_array_equal(spikes_of(default[4]), spikes_of(free[4]))
    t = steps * free[0].dt
    inside = (t >= lo[idx] - 1e-12) & (t < hi[idx] - 1e-12)
    np.testing.assert_array_equal(spikes_of(windowed[3]), np.stack([steps[inside],
                                                                    idx[inside]]))
    assert 0 < inside.sum() < steps.size
    np.testing.assert_allclose(windowed[1].start, lo, atol=1e-15)
    np.testing.assert_allclose(windowed[1].stop, hi, atol=1e-15)


def test_no_spike_outside_the_window_and_poisson_statistics_inside():
    net, src, _, sp, _ = _poisson("numba", 100 * Hz, n=1000, start=20 * ms, stop=70 * ms)
    net.run(100 * ms)
    t = sp.times
    assert t.min() >= 20 * ms - 1e-12 and t.max() < 70 * ms - 1e-12
    expected = 1000 * 100 * 0.05                      # rate x n x window
    assert abs(t.size - expected) < 5 * np.sqrt(expected)
    counts = np.bincount(sp.indices, minlength=1000)  # Poisson counts: Fano factor ~1 - p
    assert 0.85 < counts.var() / counts.mean() < 1.1
    per_step = np.bincount(sp.steps - 200, minlength=500)
    assert per_step.size == 500 and abs(per_step.mean() - 10) < 1


def test_start_and_stop_settable_between_runs(backend):
    """Changing the window between runs acts on the next steps, and equals (spike for
    spike) the source whose window was that from the start where the windows agree."""
    net, src, _, sp, _ = _poisson(backend, 150 * Hz)
    net.run(10 * ms)
    n0 = sp.num_spikes
    assert n0 > 0
    src.stop = 10 * ms                    # off from now on
    net.run(10 * ms)
    assert sp.num_spikes == n0
    src.start, src.stop = 25 * ms, None   # on again from 25 ms
    net.run(15 * ms)
    np.testing.assert_array_equal(src.stop, np.inf)
    assert sp.times[n0:].min() >= 25 * ms - 1e-12
    ref, *_ = _poisson(backend, 150 * Hz)
    rsp = ref.spike_monitor(ref.populations[0])
    ref.run(35 * ms)
    keep = (rsp.steps < 100) | (rsp.steps >= 250)
    np.testing.assert_array_equal(spikes_of(sp), spikes_of(rsp)[:, keep])


@pytest.mark.parametrize("threads", [1, 3])
def test_windows_engine_equals_reference_for_any_chunking(threads):
    out = []
    for backend, chunks in (("reference", 1), ("numba", 1), ("numba", 4)):
        net = random_network(6, backend=backend, poisson=True,
                             threads=threads if backend == "numba" else 1)
        noise, het = net.population("noise"), net.population("noise_het")
        noise.start = 8 * ms
        het.stop = np.arange(10) * 4 * ms
        mons = [net.spike_monitor(p) for p in net.populations]
        for _ in range(chunks):
            net.run(40 * ms / chunks)
        noise.stop = 50 * ms
        net.run(20 * ms)
        out.append([spikes_of(m) for m in mons])
    for other in out[1:]:
        for a, b in zip(out[0], other):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("call, message", [
    (lambda net: net.poisson(3, 10 * Hz, start=-1 * ms), r"start must be >= 0 s; got -0.001"),
    (lambda net: net.poisson(3, 10 * Hz, stop=0.05 * ms),
     r"stop must be a multiple of dt = 0.0001 s; got 5e-05"),
    (lambda net: net.poisson(3, 10 * Hz, start=[0, 1 * ms]),
     r"start.shape must be \(\) or \(3,\) \(one value per neuron\); got \(2,\)"),
    (lambda net: net.poisson(3, 10 * Hz, stop=np.nan),
     r"stop must be a time \(s\) or inf \(never\); got nan"),
    (lambda net: net.poisson(3, 10 * Hz, stop="soon"),
     r"stop must be a time \(s\), an array of n times or None; got 'str'"),
    (lambda net: setattr(net.populations[0], "start", 1.5e-5),
     r"start must be a multiple of dt"),
])
def test_window_errors(call, message):
    net = ns.Network(seed=0)
    net.poisson(2, 10 * Hz, name="p")
    with pytest.raises(ns.ParameterError, match=message):
        call(net)
    assert net.populations[0]._window is None


# ---------------------------------------------------------------- spike sources
def _sources(backend, threads=1):
    net = ns.Network(seed=1, backend=backend, threads=threads)
    src = net.spike_source(3, times=[1 * ms, 2 * ms, 5 * ms], indices=[0, 1, 2])
    out = net.lif(4, tau_m=10 * ms, tau_syn=1 * ms, v_rest=-70 * mV, v_th=-65 * mV,
                  v_reset=-70 * mV, t_ref=1 * ms)
    net.connect(src, out, weight=30 * mV, delay=0.5 * ms)
    return net, src, net.spike_monitor(src), net.spike_monitor(out)


def test_set_spikes_sends_the_new_list_from_now_on(backend):
    """Spikes before net.t are ignored (those steps were run); the rest are sent; reset()
    replays the whole new list from t = 0."""
    net, src, sp, out = _sources(backend)
    net.run(3 * ms)
    src.set_spikes([0.5 * ms, 3 * ms, 4 * ms, 4 * ms, 9 * ms], [2, 0, 1, 2, 0])
    np.testing.assert_array_equal(src.indices, [2, 0, 1, 2, 0])
    net.run(10 * ms)
    np.testing.assert_array_equal(sp.steps, [10, 20, 30, 40, 40, 90])
    np.testing.assert_array_equal(sp.indices, [0, 1, 0, 1, 2, 0])
    assert out.num_spikes > 0
    net.reset()
    net.run(10 * ms)
    np.testing.assert_array_equal(sp.steps, [5, 30, 40, 40, 90])


def test_set_spikes_before_the_build_and_engine_equals_reference():
    out = []
    for backend, threads in (("reference", 1), ("numba", 1), ("numba", 2)):
        net, src, sp, osp = _sources(backend, threads)
        src.set_spikes([0.0, 0.2 * ms], [1, 1])
        net.run(2 * ms)
        src.set_spikes(np.arange(20, 60) * 0.1 * ms, np.arange(40) % 3)
        net.run(2 * ms)
        src.set_spikes([], [])
        net.run(2 * ms)
        out.append((spikes_of(sp), spikes_of(osp)))
    assert out[0][0].shape[1] == 2 + 20
    for other in out[1:]:
        np.testing.assert_array_equal(other[0], out[0][0])
        np.testing.assert_array_equal(other[1], out[0][1])


@pytest.mark.parametrize("times, indices, message", [
    ([1 * ms], [3], r"indices must be integers in \[0, 2\]; got 3"),
    ([1 * ms, 2 * ms], [0], r"indices.shape must be \(2,\) \(same as times\); got \(1,\)"),
    ([1 * ms, 1 * ms], [0, 0], r"times must be at most one spike per neuron per time step; "
                               r"got 0.001 \(neuron 0 spikes twice\)"),
    ([0.01 * ms], [0], r"times must be a multiple of dt"),
    ([-1 * ms], [0], r"times must be >= 0 s; got -0.001"),
])
def test_set_spikes_errors(times, indices, message):
    net, src, sp, _ = _sources("numba")
    net.run(1 * ms)
    with pytest.raises(ns.ParameterError, match=message):
        src.set_spikes(times, indices)
    np.testing.assert_array_equal(src.times, [1 * ms, 2 * ms, 5 * ms])

