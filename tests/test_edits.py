"""Edits between runs take effect (weights, delays, rates, biases, v) and unknown or fixed
attributes raise instead of being silently ignored (issue 16, point 1)."""

import numpy as np
import pytest

import neurosim as ns
from neurosim.units import Hz, mV, ms

from conftest import random_network, spikes_of


def _net(backend="numba", seed=3, delay=1 * ms, rate=40 * Hz, w=2 * mV, threads=1):
    net = ns.Network(seed=seed, backend=backend, threads=threads)
    src = net.poisson(50, rate=rate, name="src")
    out = net.lif(20, tau_m=20 * ms, tau_syn=5 * ms, v_rest=-70 * mV, v_th=-55 * mV,
                  v_reset=-70 * mV, name="out")
    proj = net.connect(src, out, weight=w, p=0.5, delay=delay)
    sp = net.spike_monitor(out)
    return net, src, out, proj, sp


EDITS = {
    "assign": lambda p: setattr(p, "weight", p.weight * 4),
    "inplace_slice": lambda p: p.weight.__setitem__(slice(None), p.weight * 4),
    "augmented": lambda p: p.weight.__imul__(4),
    "held_reference": lambda p: np.multiply(p.weight, 4, out=p.weight),
}


@pytest.mark.parametrize("how", sorted(EDITS))
def test_weight_edit_between_runs_takes_effect(backend, how):
    """Every way of writing the weights changes the second run, identically."""
    def second_run(edit):
        net, _, _, proj, sp = _net(backend)
        net.run(100 * ms)
        n0 = sp.num_spikes
        if edit:
            edit(proj)
        net.run(100 * ms)
        return sp.num_spikes - n0, spikes_of(sp)

    control, _ = second_run(None)
    edited, spikes = second_run(EDITS[how])
    reference, ref_spikes = second_run(EDITS["assign"])
    assert edited > control + 20
    np.testing.assert_array_equal(spikes, ref_spikes)


def test_weight_edit_of_held_array_after_a_later_run():
    """A reference to proj.weight kept across runs stays live."""
    net, _, _, proj, sp = _net()
    w = proj.weight
    net.run(50 * ms)
    net.run(50 * ms)
    n0 = sp.num_spikes
    w[:] = 0.0
    net.run(200 * ms)
    assert sp.num_spikes == n0


def test_weight_zero_silences(backend):
    net, _, _, proj, sp = _net(backend, w=8 * mV)
    net.run(100 * ms)
    n0 = sp.num_spikes
    assert n0 > 0
    proj.weight = 0
    net.run(100 * ms)
    # inputs already in flight (1 ms delay) may still arrive just after the edit
    assert np.all(sp.times[n0:] < 100 * ms + 25 * ms)


def test_edit_then_reset_equals_a_fresh_network_with_the_new_values(backend):
    """After reset(), edited weights, delays, rates and biases are what a network built
    with them from the start has (exact oracle)."""
    rng = np.random.default_rng(0)
    net = random_network(5, backend=backend, poisson=True)
    mons = [net.spike_monitor(p) for p in net.populations]
    net.run(30 * ms)
    new_w = [rng.normal(0.5, 2.0, p.n_synapses) * mV for p in net.projections]
    for p, w in zip(net.projections, new_w):
        p.weight = w
    net.projections[1].delay = 2.3 * ms
    net.population("noise").rate = 70 * Hz
    net.population("b").bias = 3 * mV
    net.reset()
    net.run(150 * ms)

    fresh = random_network(5, backend=backend, poisson=True)
    for p, w in zip(fresh.projections, new_w):
        p.weight = w
    fresh.projections[1].delay = 2.3 * ms
    fresh.population("noise").rate = 70 * Hz
    fresh.population("b").bias = 3 * mV
    fmons = [fresh.spike_monitor(p) for p in fresh.populations]
    fresh.run(150 * ms)
    for m, f in zip(mons, fmons):
        np.testing.assert_array_equal(spikes_of(m), spikes_of(f))
    assert sum(m.num_spikes for m in mons) > 50


@pytest.mark.parametrize("threads", [1, 3])
def test_edits_between_runs_match_the_reference_backend(threads):
    """Weights (signs flipped: synapses change channel), per-synapse and scalar delays
    (longer than any before: the ring grows with inputs in flight) and rates edited in the
    middle of a run: the engine and the NumPy reference give the same spikes."""
    out = []
    for backend in ("numba", "reference"):
        net = random_network(9, backend=backend, poisson=True,
                             threads=threads if backend == "numba" else 1)
        mons = [net.spike_monitor(p) for p in net.populations]
        net.run(40 * ms)
        rng = np.random.default_rng(1)
        p0 = net.projections[0]
        p0.weight[::2] *= -1.5
        p0.delay = rng.integers(0, 80, p0.n_synapses) * 0.1 * ms
        net.projections[2].weight = rng.normal(0, 2, net.projections[2].n_synapses) * mV
        net.projections[3].delay = 7.5 * ms
        net.population("noise_het").rate = np.linspace(0, 150, 10)
        net.population("noise").rate = 90 * Hz
        net.run(60 * ms)
        out.append([spikes_of(m) for m in mons])
    for a, b in zip(*out):
        np.testing.assert_array_equal(a, b)


def test_inputs_in_flight_keep_their_arrival_when_delays_grow(backend):
    """A spike sent with a 2 ms delay before the delay is changed to 9 ms still arrives
    2 ms after it was sent; later spikes take 9 ms (the ring buffer grows, keeping them)."""
    def first_spikes(delay, new_delay=None):
        net = ns.Network(seed=1, backend=backend)
        src = net.spike_source(1, times=[1 * ms, 6 * ms], indices=[0, 0])
        out = net.lif(1, tau_m=10 * ms, tau_syn=1 * ms, v_rest=0.0, v_th=1 * mV,
                      v_reset=0.0, t_ref=2 * ms)
        proj = net.connect(src, out, weight=50 * mV, delay=delay)
        sp = net.spike_monitor(out)
        net.run(2 * ms)              # the first spike (sent at 1 ms) is in flight
        if new_delay is not None:
            proj.delay = new_delay
        net.run(20 * ms)
        return sp.steps

    short, long = first_spikes(2 * ms), first_spikes(9 * ms)
    assert short.size == long.size == 2
    np.testing.assert_array_equal(first_spikes(2 * ms, 9 * ms), [short[0], long[1]])


def test_poisson_rate_settable_between_runs(backend):
    net, src, _, _, sp = _net(backend, rate=0.0)
    mon = net.spike_monitor(src)
    net.run(100 * ms)
    assert mon.num_spikes == 0
    src.rate = 200 * Hz
    net.run(200 * ms)
    assert 0.8 * 2000 < mon.num_spikes < 1.2 * 2000
    np.testing.assert_allclose(src.rate, 200.0)
    src.rate = 0
    n0 = mon.num_spikes
    net.run(100 * ms)
    assert mon.num_spikes == n0
    with pytest.raises(ns.ParameterError, match="rate"):
        src.rate = -1


def test_loihi_weight_edits_match_between_fixed_point_backends():
    out = []
    for backend in ("numba", "reference"):
        net = ns.Network(seed=2, backend=backend)
        src = net.poisson(30, rate=100 * Hz)
        a = net.loihi_lif(10, du=400, dv=300, vth=200)
        proj = net.connect(src, a, weight=np.full((30, 10), 40.0), delay=2 * 0.1 * ms)
        sp = net.spike_monitor(a)
        net.run(20 * ms)
        proj.weight[:] = np.arange(proj.n_synapses) % 120 - 20
        proj.delay = 5 * 0.1 * ms
        net.run(30 * ms)
        out.append(spikes_of(sp))
        with pytest.raises(ns.ParameterError, match="integers"):
            proj.weight[0] = 0.5
            net.run(1 * ms)
        proj.weight[0] = 1
        with pytest.raises(ns.ParameterError, match="delay"):
            proj.delay = 100 * 0.1 * ms
    np.testing.assert_array_equal(out[0], out[1])
    assert out[0].shape[1] > 0


def test_bad_in_place_weights_are_refused_at_the_next_run():
    net, _, _, proj, sp = _net()
    net.run(10 * ms)
    proj.weight[3] = np.nan
    with pytest.raises(ns.ParameterError, match="weight must be finite"):
        net.run(10 * ms)
    assert net.t == pytest.approx(10 * ms)
    proj.weight[3] = 1 * mV
    net.run(10 * ms)
    with pytest.raises(ns.ParameterError, match=r"weight.shape"):
        proj.weight = np.ones(3)


def test_crossbar_weights_and_delays_are_refused():
    from neurosim.crossbar import Crossbar
    net = ns.Network(seed=1)
    src = net.poisson(8, rate=50 * Hz)
    out = net.lif(4, tau_m=20 * ms, tau_syn=5 * ms, v_rest=0.0, v_th=10 * mV, v_reset=0.0)
    proj = net.connect(src, out, weight=np.full((8, 4), 1 * mV),
                       synapse=Crossbar(device="rram_hfox_1t1r"))
    with pytest.raises(ns.ParameterError, match="crossbar"):
        proj.weight = 0
    with pytest.raises(ValueError, match="read-only"):
        proj.weight[:] = 0
    with pytest.raises(ns.ParameterError, match="crossbar"):
        proj.delay = 1 * ms


@pytest.mark.parametrize("obj,name", [
    ("proj", "weights"), ("proj", "delays_steps"), ("pop", "tau_m"), ("pop", "thresh"),
    ("net", "dtt"), ("spikes", "indices_"), ("state", "var"), ("poisson", "rates"),
])
def test_unknown_or_fixed_attributes_raise(obj, name):
    net, src, out, proj, sp = _net()
    objs = dict(proj=proj, pop=out, net=net, spikes=sp, state=net.state_monitor(out, "v"),
                poisson=src)
    with pytest.raises(AttributeError, match=name):
        setattr(objs[obj], name, 1.0)


def test_fixed_attributes_say_what_can_be_set():
    net, src, out, proj, sp = _net()
    with pytest.raises(AttributeError, match=r"cannot be set.*settable: .*weight"):
        proj.pre = out
    with pytest.raises(AttributeError, match="did you mean 'weight'"):
        proj.weights = 1
    with pytest.raises(AttributeError, match="cannot be set"):
        net.dt = 1 * ms
    with pytest.raises(AttributeError, match="cannot be set"):
        out.n = 4


def test_state_reads_are_read_only_copies_and_v_is_settable(backend):
    net, _, out, _, _ = _net(backend)
    with pytest.raises(ValueError, match="read-only"):
        out.v[:] = 0.0
    with pytest.raises(ValueError, match="read-only"):
        out.bias[0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        net.projections[0].delay[0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        net.projections[0].post_index[0] = 1
    net.run(1 * ms)
    out.v = -56 * mV
    np.testing.assert_allclose(out.v, -56 * mV)
    out.bias = 20 * mV                  # drives v above threshold
    sp = net.spike_monitor(out)
    net.run(10 * ms)
    assert np.all(sp.counts > 0)


def test_copy_does_not_share_weights():
    net, _, _, proj, _ = _net()
    other = net.copy()
    other.projections[0].weight[:] = 0
    assert np.all(proj.weight == 2 * mV)
