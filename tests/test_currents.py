"""Current sources (``net.current_source``): piecewise-constant currents into LIF neurons,
added to I_bias from the step of each time on; the engine's schedule against the NumPy
reference, chunking and thread invariance, edits between runs, errors."""

import math

import numpy as np
import pytest

import neurosim as ns
from neurosim.units import Hz, mV, ms, nS, pF

from conftest import random_network, spikes_of

LIF = dict(tau_m=20 * ms, tau_syn=5 * ms, v_rest=-70 * mV, v_th=-55 * mV, v_reset=-70 * mV,
           t_ref=2 * ms)


def _lif(net, n=6, **kw):
    return net.lif(n, **{**LIF, **kw})


def _traces(net, pop, duration, chunks=1):
    sp, sm = net.spike_monitor(pop), net.state_monitor(pop, "v")
    for _ in range(chunks):
        net.run(duration / chunks)
    return spikes_of(sp), sm.values


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("synapse", ["exp", "cond_exp"])
def test_a_dc_current_equals_the_same_bias(backend, dtype, synapse):
    """A DC source from t = 0 gives the spikes and traces of the same bias, bit for bit,
    also on top of a bias of the neurons' own and for conductance-based neurons (whose
    bias the current is, in V)."""
    kw = dict(synapse=synapse)
    if synapse == "cond_exp":
        kw.update(e_exc=0.0, e_inh=-80 * mV, c_m=250 * pF)
    own = np.linspace(0, 4, 6) * mV
    amp = np.linspace(14, 22, 6) * mV

    def run(source):
        net = ns.Network(seed=1, backend=backend, dtype=dtype)
        pop = _lif(net, bias=own if source else own + amp, **kw)
        if source:
            net.current_source(pop, [0.0], amp[None, :])
        return _traces(net, pop, 60 * ms)

    (s1, v1), (s2, v2) = run(True), run(False)
    assert s1.shape[1] >= 6
    np.testing.assert_array_equal(s1, s2)
    np.testing.assert_array_equal(v1, v2)


def test_a_step_current_acts_from_its_step_exactly(backend):
    """Amplitude A from t_k = 3 ms: v is v_rest through the start of step k, and j steps
    later v_rest + A (1 - exp(-j dt/tau_m)) (the closed form); back to 0 at 5 ms."""
    net = ns.Network(seed=0, backend=backend)
    pop = net.lif(1, tau_m=20 * ms, tau_syn=5 * ms, v_rest=-70 * mV, v_th=0.0,
                  v_reset=-80 * mV)
    A, k, k2 = 10 * mV, 30, 50
    net.current_source(pop, [3 * ms, 5 * ms], [A, 0.0])
    sm = net.state_monitor(pop, "v")
    net.run(8 * ms)
    v = sm.values[:, 0]
    dt, tau = net.dt, 20 * ms
    np.testing.assert_array_equal(v[:k + 1], -70 * mV)
    j = np.arange(0, k2 - k + 1)
    np.testing.assert_allclose(v[k:k2 + 1], -70 * mV + A * (1 - np.exp(-j * dt / tau)),
                               rtol=0, atol=1e-15)
    peak = A * (1 - math.exp(-(k2 - k) * dt / tau))
    j = np.arange(0, 30)
    np.testing.assert_allclose(v[k2:k2 + 30], -70 * mV + peak * np.exp(-j * dt / tau),
                               rtol=0, atol=1e-15)


def test_before_the_first_time_a_source_adds_nothing():
    net = ns.Network(seed=0)
    pop = net.lif(2, **LIF)
    net.current_source(pop, [2 * ms], [30 * mV])
    sm = net.state_monitor(pop, "v")
    net.run(2.2 * ms)
    np.testing.assert_array_equal(sm.values[:21], -70 * mV)
    assert np.all(sm.values[21] > -70 * mV)


def _sourced(backend="numba", threads=1, dtype="float64", seed=4):
    """A random network with every kind of source: a step source on some neurons, an AC
    current sampled every step with one amplitude per neuron, a shared sine on all the
    neurons of another population, two sources on the same neurons."""
    net = random_network(seed, backend=backend, dtype=dtype, poisson=True, threads=threads)
    a, b = net.population("a"), net.population("b")
    steps = np.arange(0, 600)
    t = steps * net.dt
    net.current_source(a, [1 * ms, 12 * ms, 30 * ms], [8 * mV, -3 * mV, 12 * mV],
                       indices=[0, 3, 5, 7, 11])
    rng = np.random.default_rng(seed)
    phase = rng.uniform(0, 2 * np.pi, 10)
    net.current_source(a, t, 6 * mV * np.sin(2 * np.pi * 80 * Hz * t[:, None] + phase),
                       indices=np.arange(30, 20, -1))
    net.current_source(b, t[::3], 4 * mV * np.sin(2 * np.pi * 50 * Hz * t[::3]))
    net.current_source(a, [0.0, 20 * ms], [[2 * mV, 1 * mV], [-1 * mV, 5 * mV]],
                       indices=[3, 25])
    return net


def _all_spikes(net, duration, chunks=1, chunk_steps=None):
    mons = [net.spike_monitor(p) for p in net.populations]
    sm = net.state_monitor(net.population("a"), "v")
    for _ in range(chunks):
        net.run(duration / chunks, chunk_steps=chunk_steps)
    return [spikes_of(m) for m in mons], sm.values


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_engine_equals_the_reference_for_any_chunking_and_thread_count(dtype):
    ref_s, ref_v = _all_spikes(_sourced("reference", dtype=dtype), 72 * ms)
    assert sum(s.shape[1] for s in ref_s) > 100
    runs = [_all_spikes(_sourced(dtype=dtype), 72 * ms),
            _all_spikes(_sourced(dtype=dtype), 72 * ms, chunks=3),
            _all_spikes(_sourced(dtype=dtype), 72 * ms, chunk_steps=7),
            _all_spikes(_sourced(threads=3, dtype=dtype), 72 * ms, chunks=3)]
    for s, v in runs[1:]:
        for x, y in zip(s, runs[0][0]):
            np.testing.assert_array_equal(x, y)
        np.testing.assert_array_equal(v, runs[0][1])
    for x, y in zip(ref_s, runs[0][0]):
        np.testing.assert_array_equal(x, y)
    tol = 1e-9 if dtype == "float64" else 1e-4
    np.testing.assert_allclose(ref_v, runs[0][1], rtol=0, atol=tol)


def test_several_sources_on_one_neuron_add(backend):
    def run(sources):
        net = ns.Network(seed=0, backend=backend)
        pop = _lif(net, n=3)
        for times, amps, idx in sources:
            net.current_source(pop, times, amps, indices=idx)
        return _traces(net, pop, 20 * ms)

    two = run([([1 * ms, 9 * ms], [12 * mV, 0.0], [0, 2]), ([1 * ms], [9 * mV], [2, 0])])
    one = run([([1 * ms, 9 * ms], [[21 * mV, 21 * mV], [9 * mV, 9 * mV]], [0, 2])])
    np.testing.assert_array_equal(two[0], one[0])
    np.testing.assert_allclose(two[1], one[1], rtol=0, atol=1e-15)
    np.testing.assert_array_equal(two[1][:, 1], -70 * mV)     # neuron 1 has no source


def _replaced(backend, split):
    """Schedule A, replaced by B at ``split`` (None: one network whose single schedule
    is A before the split and B from it on)."""
    net = ns.Network(seed=2, backend=backend)
    pop = _lif(net, n=4, tau_m=5 * ms, bias=np.array([0, 2, 4, 6]) * mV)
    a_t, a_amp = [0.0, 4 * ms, 11 * ms], [10 * mV, 25 * mV, 5 * mV]
    b_t, b_amp = [2 * ms, 9 * ms, 14 * ms], [[30 * mV] * 4, [0.0, 20 * mV, 0, 0], [18 * mV] * 4]
    if split is None:
        src = net.current_source(pop, [0.0, 4 * ms, 6 * ms, 9 * ms, 14 * ms],
                                 [[10 * mV] * 4, [25 * mV] * 4, [30 * mV] * 4,
                                  [0.0, 20 * mV, 0, 0], [18 * mV] * 4])
        return _traces(net, pop, 25 * ms)
    src = net.current_source(pop, a_t, a_amp)
    sp, sm = net.spike_monitor(pop), net.state_monitor(pop, "v")
    net.run(split)
    src.times = b_t                    # one at a time: lengths match here
    src.amplitudes = b_amp
    net.run(25 * ms - split)
    return spikes_of(sp), sm.values


def test_replacing_the_schedule_acts_on_the_steps_not_run_yet(backend):
    """Times and amplitudes replaced at 6 ms: the steps before keep schedule A, the
    later ones follow B (from the amplitude B has in effect at 6 ms), as one network
    whose schedule is A then B."""
    s1, v1 = _replaced(backend, 6 * ms)
    s0, v0 = _replaced(backend, None)
    assert s0.shape[1] > 5
    np.testing.assert_array_equal(s1, s0)
    np.testing.assert_array_equal(v1, v0)


def test_times_and_amplitudes_of_other_lengths_are_checked_at_the_next_run():
    net = ns.Network(seed=0)
    pop = _lif(net, n=2)
    src = net.current_source(pop, [0.0, 1 * ms], [1 * mV, 2 * mV], name="steps")
    net.run(1 * ms)
    src.times = [2 * ms, 3 * ms, 4 * ms]                     # amplitudes still 2 long
    with pytest.raises(ns.ParameterError, match=r"steps: amplitudes.shape must be \(3,\) "
                       r"or \(3, 2\) \(one row per time\); got \(2,\)"):
        net.run(1 * ms)
    assert net.t == pytest.approx(1 * ms)
    src.amplitudes = [3 * mV, 4 * mV, 5 * mV]
    net.run(1 * ms)
    src.set(times=[0.0], amplitudes=[7 * mV])
    np.testing.assert_array_equal(src.times, [0.0])
    np.testing.assert_array_equal(src.amplitudes, [7 * mV])
    with pytest.raises(ns.ParameterError, match=r"amplitudes.shape must be \(1,\) or"):
        src.set(amplitudes=[1 * mV, 2 * mV])
    np.testing.assert_array_equal(src.amplitudes, [7 * mV])


def test_a_source_added_after_a_run_and_reset(backend):
    """A source made between runs acts from the next step; reset() replays the whole
    schedule from t = 0, as a network that had it from the start."""
    net = ns.Network(seed=0, backend=backend)
    pop = _lif(net, n=2)
    sm = net.state_monitor(pop, "v")
    net.run(5 * ms)
    net.current_source(pop, [1 * ms, 7 * ms], [20 * mV, 40 * mV])
    net.run(5 * ms)
    v = sm.values[:, 0]
    np.testing.assert_array_equal(v[:51], -70 * mV)          # 20 mV from step 50 on
    assert v[51] > -70 * mV
    net.reset()
    sp = net.spike_monitor(pop)
    net.run(15 * ms)
    fresh = ns.Network(seed=0, backend=backend)
    fpop = _lif(fresh, n=2)
    fresh.current_source(fpop, [1 * ms, 7 * ms], [20 * mV, 40 * mV])
    s, fv = _traces(fresh, fpop, 15 * ms)
    np.testing.assert_array_equal(spikes_of(sp), s)
    np.testing.assert_array_equal(sm.values, fv)


def test_bias_reads_and_writes_leave_the_currents_out(backend):
    """``pop.bias`` is the neurons' own bias; setting it keeps the injected current on
    top."""
    net = ns.Network(seed=0, backend=backend)
    pop = _lif(net, n=2, bias=1 * mV)
    net.current_source(pop, [0.0], [20 * mV], indices=[1])
    net.run(2 * ms)
    np.testing.assert_array_equal(pop.bias, [1 * mV, 1 * mV])
    pop.bias = [3 * mV, 3 * mV]
    np.testing.assert_array_equal(pop.bias, [3 * mV, 3 * mV])
    np.testing.assert_array_equal(net._runner.state.bias, [3 * mV, 3 * mV + 20 * mV])


def test_counts_do_not_change():
    """A current changes no operation count: a DC source counts as the same bias."""
    out = []
    for source in (True, False):
        net = ns.Network(seed=1)
        pop = _lif(net, bias=0.0 if source else 20 * mV)
        if source:
            net.current_source(pop, [0.0], [20 * mV])
        net.run(50 * ms)
        c = net.counts()
        out.append((c.populations[pop.name].neuron_updates, c.populations[pop.name].spikes))
    assert out[0] == out[1] and out[0][1] > 0


def test_copy_keeps_the_sources():
    net = ns.Network(seed=0)
    pop = _lif(net, n=2)
    net.current_source(pop, [1 * ms], [30 * mV], indices=[1], name="dc")
    new = net.copy()
    src = new.current_sources[0]
    assert src.name == "dc" and src.target is new.population(pop.name)
    np.testing.assert_array_equal(src.indices, [1])
    a, b = _traces(net, pop, 20 * ms), _traces(new, new.population(pop.name), 20 * ms)
    np.testing.assert_array_equal(a[0], b[0])


def test_the_memory_estimate_includes_the_table(monkeypatch):
    from neurosim import memory
    net = ns.Network(seed=0)
    pop = _lif(net, n=100)
    t = np.arange(10_000) * net.dt
    net.current_source(pop, t, np.zeros((t.size, 100)))
    assert memory.currents_bytes(net.current_sources) >= 8 * t.size * 100
    monkeypatch.setenv("NEUROSIM_MEMORY_LIMIT", "1MB")
    with pytest.raises(ns.InsufficientMemoryError, match="current source"):
        net.current_source(pop, t, np.zeros((t.size, 100)))
    assert len(net.current_sources) == 1


@pytest.mark.parametrize("call, message", [
    (lambda net, pop, src: net.current_source(src, [0.0], [1 * mV]),
     r"target must be a LIF population; got 'in \(spike_source\)'"),
    (lambda net, pop, src: net.current_source(pop, [0.05 * ms], [1 * mV]),
     r"times must be a multiple of dt = 0.0001 s; got 5e-05"),
    (lambda net, pop, src: net.current_source(pop, [-1 * ms], [1 * mV]),
     r"times must be >= 0 s; got -0.001"),
    (lambda net, pop, src: net.current_source(pop, [2 * ms, 1 * ms], [1 * mV, 0]),
     r"times must be strictly increasing \(sorted, at most one amplitude per step\); "
     r"got 0.001 \(after 0.002 s\)"),
    (lambda net, pop, src: net.current_source(pop, [1 * ms, 1 * ms], [1 * mV, 0]),
     r"times must be strictly increasing"),
    (lambda net, pop, src: net.current_source(pop, [[1 * ms]], [1 * mV]),
     r"times must be a 1-D array of times \(s\); got \(1, 1\) \(shape\)"),
    (lambda net, pop, src: net.current_source(pop, [0.0, 1 * ms], [1 * mV]),
     r"amplitudes.shape must be \(2,\) or \(2, 3\) \(one row per time\); got \(1,\)"),
    (lambda net, pop, src: net.current_source(pop, [0.0], [[1 * mV, 2 * mV]]),
     r"amplitudes.shape must be \(k,\) \(one amplitude per time, for every target\) or "
     r"\(k, 3\) \(per time and target\); got \(1, 2\)"),
    (lambda net, pop, src: net.current_source(pop, [0.0], [np.nan]),
     r"amplitudes must be finite everywhere; got nan"),
    (lambda net, pop, src: net.current_source(pop, [0.0], [1 * mV], indices=[0, 3]),
     r"indices must be integers in \[0, 2\]; got 3"),
    (lambda net, pop, src: net.current_source(pop, [0.0], [1 * mV], indices=[1, 1]),
     r"indices must be distinct \(one amplitude column per neuron\); got 1 \(listed twice\)"),
    (lambda net, pop, src: net.current_source(pop, [0.0], [1 * mV], indices=[]),
     r"indices must be a non-empty 1-D list of neuron indices"),
    (lambda net, pop, src: net.current_source(pop, [0.0], [1 * mV], name="s"),
     r"name must be unique among the network's current sources; got 's'"),
    (lambda net, pop, src: setattr(net.current_sources[0], "times", [1.5e-5]),
     r"times must be a multiple of dt"),
    (lambda net, pop, src: setattr(net.current_sources[0], "amplitudes", [[1.0, 2.0]]),
     r"amplitudes.shape must be \(k,\)"),
    (lambda net, pop, src: setattr(net.current_sources[0], "indices", [0]),
     r"CurrentSource.indices cannot be set after creation \(settable: amplitudes, times\)"),
])
def test_errors_name_the_parameter_the_range_and_the_value(call, message):
    net = ns.Network(seed=0)
    pop = _lif(net, n=3)
    src = net.spike_source(1, [0.0], [0], name="in")
    net.current_source(pop, [0.0], [1 * mV], name="s")
    with pytest.raises((ns.ParameterError, AttributeError), match=message):
        call(net, pop, src)
    np.testing.assert_array_equal(net.current_sources[0].times, [0.0])


def test_a_loihi_target_is_refused():
    net = ns.Network(seed=0)
    pop = net.loihi_lif(2, du=100, dv=100, vth=10)
    with pytest.raises(ns.ParameterError, match=r"target must be a LIF population; got "
                       r"'loihi0 \(loihi_lif\)'"):
        net.current_source(pop, [0.0], [1 * mV])


def test_conductance_units_are_not_taken_for_amplitudes():
    """Amplitudes are in V (the bias's unit): a value written in siemens is refused, an
    implausible one warned about."""
    from neurosim.units import QuantityArray
    net = ns.Network(seed=0)
    pop = _lif(net, n=1)
    with pytest.warns(ns.UnitWarning, match="amplitudes = 5 V"):
        net.current_source(pop, [0.0], [5.0])
    with pytest.raises(ns.ParameterError, match=r"amplitudes must be a voltage \(volt, V, mV, uV\); got .3 nS. \(a conductance\)"):
        net.current_source(pop, [0.0], QuantityArray([3 * nS], "S", "3 nS"))


def test_exporters_refuse_current_sources_and_poisson_windows():
    """The Brian2, Lava and NIR exporters do not write these inputs: they say so."""
    import neurosim as ns
    net = ns.Network(dt=1e-4)
    pop = net.lif(2, tau_m=1e-2, tau_syn=5e-3, v_rest=0.0, v_th=0.01, v_reset=0.0)
    net.current_source(pop, [0.0], [0.001], name="dc")
    with pytest.raises(ValueError, match="current source 'dc'.*Brian2"):
        ns.export.to_brian2(net)
    pytest.importorskip("nir")
    import neurosim.nir
    with pytest.raises(neurosim.nir.NIRError, match="current source 'dc'"):
        neurosim.nir.write(net)
    net = ns.Network(dt=1e-4)
    net.poisson(3, 10.0, start=1e-3, name="win")
    with pytest.raises(ValueError, match="'win'.*window"):
        ns.export.to_brian2(net)
