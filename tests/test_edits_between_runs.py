"""Edits between runs for the PyNN backend: Poisson sources with start and stop, spike
sources whose list is replaced, LIF parameters changed with ``pop.set`` (and read with
``pop.get``); each against the NumPy reference, a network built with the new values, and
for any chunking and thread count."""

import numpy as np
import pytest

import neurosim as ns
from neurosim.random import normal
from neurosim.units import Hz, mV, ms, pF

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


# ---------------------------------------------------------------- LIF parameters
BASE = dict(tau_m=20 * ms, tau_syn=5 * ms, v_rest=-70 * mV, v_th=-55 * mV,
            v_reset=-70 * mV, t_ref=2 * ms)
MODELS = {
    "exp": ({}, dict(tau_m=np.linspace(8, 30, 8) * ms, tau_syn=(2 * ms, 9 * ms),
                     v_th=-62 * mV, v_reset=-75 * mV, t_ref=np.arange(8) * 0.5 * ms)),
    "exp_scalars": ({}, dict(tau_m=12 * ms, v_th=-60 * mV, t_ref=0.0)),
    "alpha": (dict(synapse="alpha"), dict(tau_syn=1 * ms, tau_m=15 * ms, v_th=-57 * mV)),
    "delta": (dict(synapse="delta", tau_syn=None), dict(tau_m=np.linspace(5, 20, 8) * ms,
                                                         v_th=-60 * mV)),
    "cond_exp": (dict(synapse="cond_exp", e_exc=0.0, e_inh=-80 * mV, c_m=250 * pF),
                 dict(c_m=np.linspace(100, 300, 8) * pF, e_exc=-10 * mV, tau_m=10 * ms)),
    "adaptive": (dict(tau_w=100 * ms, b_w=1 * mV, tau_a=50 * ms, beta=1 * mV,
                      convention="nest"),
                 dict(tau_w=30 * ms, b_w=np.linspace(0, 4, 8) * mV, tau_a=20 * ms,
                      beta=3 * mV)),
}


def _lif_net(backend, kind, params, threads=1, quiet=20 * ms):
    """8 LIF neurons driven by a spike source from ``quiet`` on (at rest before it)."""
    make, _ = MODELS[kind]
    net = ns.Network(seed=3, backend=backend, threads=threads)
    rng = np.random.default_rng(0)
    k = int(round(quiet / net.dt))
    src = net.spike_source(20, times=(k + rng.permutation(600)[:200]) * net.dt,
                           indices=rng.integers(0, 20, 200))
    pop = net.lif(8, **{**BASE, **make, **params})
    w = 2e-9 if pop.spec.synapse == "cond_exp" else 3 * mV
    net.connect(src, pop, weight=w, p=0.5, delay=1 * ms)
    net.connect(pop, pop, weight=-w / 2, p=0.3, delay=0.5 * ms)
    return net, pop


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_set_between_runs_equals_a_network_built_with_the_values(backend, kind):
    """Nothing in flight (at rest, before any input): set(...) after 20 ms gives the
    spikes and v of a network made with the new values, bit for bit."""
    _, new = MODELS[kind]
    net, pop = _lif_net(backend, kind, {})
    sp, sm = net.spike_monitor(pop), net.state_monitor(pop, "v")
    net.run(20 * ms)
    pop.set(**new)
    net.run(60 * ms)
    fresh, fpop = _lif_net(backend, kind, new)
    fs, fm = fresh.spike_monitor(fpop), fresh.state_monitor(fpop, "v")
    fresh.run(80 * ms)
    assert fs.num_spikes > 5
    np.testing.assert_array_equal(spikes_of(sp), spikes_of(fs))
    np.testing.assert_array_equal(sm.values, fm.values)
    for key, value in new.items():
        got = pop.get(key)
        want = fpop.get(key)
        np.testing.assert_array_equal(np.asarray(got, dtype=float), np.asarray(want, float))


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_set_with_inputs_in_flight_engine_equals_reference(kind):
    """Spikes in flight in the delay ring, refractory neurons, currents: set(...) in the
    middle of the activity keeps the state; the engine (any threads and chunking) and the
    reference agree, and so does a reset afterwards (the new values from t = 0)."""
    _, new = MODELS[kind]
    out = []
    for backend, threads, chunks in (("reference", 1, 1), ("numba", 1, 1), ("numba", 3, 3)):
        net, pop = _lif_net(backend, kind, {}, threads=threads, quiet=0.0)
        sp, sm = net.spike_monitor(pop), net.state_monitor(pop, "v")
        net.run(30 * ms)
        pop.set(**new)
        for _ in range(chunks):
            net.run(30 * ms / chunks)
        first = (spikes_of(sp), sm.values.copy())
        net.reset()
        net.run(30 * ms)
        out.append((first, spikes_of(sp), sm.values))
    assert out[0][0][0].shape[1] > 5
    for other in out[1:]:
        np.testing.assert_array_equal(other[0][0], out[0][0][0])
        np.testing.assert_allclose(other[0][1], out[0][0][1], rtol=0, atol=1e-9)
        np.testing.assert_array_equal(other[1], out[0][1])
        np.testing.assert_allclose(other[2], out[0][2], rtol=0, atol=1e-9)


def test_a_refractory_neuron_keeps_the_end_of_its_period(backend):
    """t_ref lengthened while a neuron is refractory: it is released when its old period
    ends; its next spike is held for the new one."""
    net = ns.Network(seed=0, backend=backend)
    pop = net.lif(1, **{**BASE, "t_ref": 2 * ms}, bias=40 * mV)
    sp = net.spike_monitor(pop)
    while sp.num_spikes == 0:
        net.run(0.1 * ms)
    s0 = int(sp.steps[0])
    pop.set(t_ref=10 * ms)
    sm = net.state_monitor(pop, "v")
    net.run(40 * ms)
    v = sm.values[:, 0]
    first = s0 + 1           # the first step recorded after the change
    free = s0 + 20           # the old release step
    assert np.all(v[:free - first + 1] == v[0])              # held through its old period
    assert v[free - first + 1] > v[0]                        # integrating again
    gap = np.diff(sp.steps)
    assert gap.size >= 1 and np.all(gap >= 100)


def test_get_returns_the_current_values():
    net = ns.Network(seed=0)
    pop = net.lif(3, tau_m=[10 * ms, 10 * ms, 20 * ms], tau_syn=(2 * ms, 5 * ms),
                  v_rest=-70 * mV, v_th=-50 * mV, v_reset=-70 * mV, bias=1 * mV)
    np.testing.assert_array_equal(pop.get("tau_m"), [10 * ms, 10 * ms, 20 * ms])
    with pytest.raises(ValueError, match="read-only"):
        pop.get("tau_m")[0] = 1.0
    assert pop.get("tau_syn") == (2 * ms, 5 * ms)
    assert pop.get("bias") == 1 * mV and pop.get("t_ref") == 0.0
    assert pop.get("tau_w") is None and pop.get("b_w") is None and pop.get("e_exc") is None
    pop.set(tau_syn=3 * ms, tau_m=15 * ms, bias=[0, 1 * mV, 2 * mV])
    assert pop.get("tau_syn") == 3 * ms and pop.get("tau_m") == 15 * ms
    np.testing.assert_array_equal(pop.get("bias"), [0, 1 * mV, 2 * mV])
    np.testing.assert_array_equal(pop.bias, [0, 1 * mV, 2 * mV])
    pop.set(synapse="exp", convention="brian2", reset="value")     # unchanged: accepted
    with pytest.raises(ns.ParameterError, match=r"name must be one of tau_m, .*; got 'x'"):
        pop.get("x")


@pytest.mark.parametrize("kwargs, message", [
    (dict(synapse="alpha"), r"synapse must be 'exp' \(fixed when the population was made; "
                            r"build a new network to change it\); got 'alpha'"),
    (dict(convention="nest"), r"convention must be 'brian2' \(fixed"),
    (dict(reset="subtract"), r"reset must be 'value' \(fixed"),
    (dict(tau_mem=1 * ms), r"parameter must be one of tau_m, tau_syn, v_rest, v_th, "
                           r"v_reset, t_ref, bias, e_exc, e_inh, c_m, tau_w, b_w, tau_a, "
                           r"beta; got 'tau_mem'"),
    (dict(tau_m=0.0), r"tau_m must be > 0 s; got 0"),
    (dict(tau_m=[10 * ms, -1 * ms]), r"tau_m must be > 0 s; got -0.001"),
    (dict(tau_m=[10 * ms] * 3), r"tau_m.shape must be \(\) or \(2,\) \(one value per "
                                r"neuron\); got \(3,\)"),
    (dict(t_ref=-1 * ms), r"t_ref must be >= 0 s; got -0.001"),
    (dict(v_th=-75 * mV), r"v_th must be > v_reset = -0.07 V; got -0.075"),
    (dict(v_reset=[-70 * mV, -50 * mV]), r"v_th must be > v_reset = -0.05 V; got -0.055 "
                                         r"\(neuron 1\)"),
    (dict(tau_syn=(1 * ms, 2 * ms, 3 * ms)), r"tau_syn must be a scalar or a pair"),
    (dict(tau_syn=(1 * ms, -2 * ms)), r"tau_syn\[1\] must be > 0 s; got -0.002"),
    (dict(e_exc=0.0), r"e_exc must be None unless synapse='cond_exp'; got 0"),
    (dict(c_m=200 * pF), r"c_m must be None unless synapse='cond_exp'"),
    (dict(tau_w=10 * ms), r"tau_w must be None: the population was made without an "
                          r"adaptation current \(tau_w\), which cannot be added between runs"),
    (dict(b_w=1 * mV), r"b_w must be 0 unless tau_w is given"),
    (dict(tau_a=10 * ms), r"tau_a must be None: the population was made without an "
                          r"adaptive threshold"),
    (dict(beta=1 * mV), r"beta must be 0 unless tau_a is given"),
    (dict(bias=[1 * mV]), r"bias.shape must be \(\) or \(2,\)"),
    (dict(v_rest=np.nan), r"v_rest must be finite"),
    (dict(tau_m=normal(10 * ms, 1 * ms)), r"tau_m must be a value or an array of 2 values "
                                           r"\(distributions are drawn only when the "
                                           r"population is made\)"),
])
def test_set_errors_change_nothing(kwargs, message):
    net = ns.Network(seed=0)
    pop = net.lif(2, **BASE)
    net.run(1 * ms)
    spec, params = pop.spec, net._plan.params
    with pytest.raises(ns.ParameterError, match=message):
        pop.set(tau_m=30 * ms, **kwargs) if "tau_m" not in kwargs else pop.set(**kwargs)
    assert pop.spec is spec and net._plan.params is params and pop.get("tau_m") == 20 * ms


def test_set_delta_refuses_tau_syn():
    net = ns.Network(seed=0)
    pop = net.lif(2, **{**BASE, "tau_syn": None}, synapse="delta")
    with pytest.raises(ns.ParameterError, match=r"tau_syn must be None for synapse='delta'"):
        pop.set(tau_syn=1 * ms)
    assert pop.get("tau_syn") is None
