"""Every bad input gets a clear error naming parameter, allowed range and value; nothing runs."""

import numpy as np
import pytest
import scipy.sparse as sp

import neurosim as ns
from neurosim.units import mV, ms

LIF = dict(tau_m=10 * ms, tau_syn=5 * ms, v_rest=-70 * mV, v_th=-50 * mV, v_reset=-70 * mV)


def _net():
    net = ns.Network(seed=0)
    a = net.lif(n=3, **LIF)
    b = net.lif(n=4, **LIF)
    return net, a, b


def _err(fn, *words):
    with pytest.raises(ns.ParameterError) as exc:
        fn()
    msg = str(exc.value)
    for w in words:
        assert w in msg, msg
    return msg


@pytest.mark.parametrize("dt", [0.0, -1e-4, float("nan"), float("inf")])
def test_bad_dt(dt):
    _err(lambda: ns.Network(dt=dt), "dt")


@pytest.mark.parametrize("field", ["tau_m", "tau_syn"])
@pytest.mark.parametrize("value", [0.0, -5 * ms])
def test_non_positive_tau(field, value):
    net = ns.Network()
    _err(lambda: net.lif(n=2, **{**LIF, field: value}), field, "> 0", f"{value:g}")
    assert net.populations == []


def test_tau_syn_pair_checked_per_element():
    net = ns.Network()
    _err(lambda: net.lif(n=2, **{**LIF, "tau_syn": (5 * ms, -1 * ms)}), "tau_syn[1]", "> 0")


def test_v_th_not_above_v_reset():
    net = ns.Network()
    msg = _err(lambda: net.lif(n=2, **{**LIF, "v_reset": -50 * mV}), "v_th", "v_reset")
    assert "-0.05" in msg


def test_bad_v_init_shape_and_nan():
    net = ns.Network()
    _err(lambda: net.lif(n=3, v_init=[0.0, 0.0], **LIF), "v_init.shape", "(3,)")
    _err(lambda: net.lif(n=3, v_init=[0.0, np.nan, 0.0], **LIF), "v_init", "finite")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_weights(bad):
    net, a, b = _net()
    w = np.ones((3, 4)) * mV
    w[1, 2] = bad
    _err(lambda: net.connect(a, b, weight=w), "weight", "finite")
    m = sp.csr_matrix(w)
    _err(lambda: net.connect(a, b, weight=m), "weight", "finite")
    _err(lambda: net.connect(a, b, weight=bad, p=0.5), "weight")
    assert net.projections == []


def test_weight_shape_mismatch():
    net, a, b = _net()
    _err(lambda: net.connect(a, b, weight=np.ones((4, 3))), "weight.shape", "(3, 4)", "(4, 3)")
    _err(lambda: net.connect(a, b, weight=sp.csr_matrix(np.ones((4, 3)))), "weight.shape")


@pytest.mark.parametrize("delay", [-0.1 * ms, np.array([[0.1, -0.2, 0.1, 0.1]] * 3) * ms])
def test_negative_delays(delay):
    net, a, b = _net()
    _err(lambda: net.connect(a, b, weight=np.ones((3, 4)), delay=delay), "delay", ">= 0")


def test_delays_off_grid():
    net, a, b = _net()
    _err(lambda: net.connect(a, b, weight=1 * mV, delay=0.25 * ms), "delay", "multiple of dt",
         "0.00025")


def test_delay_array_wrong_length():
    net, a, b = _net()
    _err(lambda: net.connect(a, b, weight=1 * mV, p=1.0, delay=np.zeros(5)), "delay.shape")


def test_spike_times_off_grid_or_out_of_range():
    net = ns.Network()
    _err(lambda: net.spike_source(n=2, times=[0.15 * ms], indices=[0]), "times", "multiple of dt")
    _err(lambda: net.spike_source(n=2, times=[-1 * ms], indices=[0]), "times", ">= 0")
    _err(lambda: net.spike_source(n=2, times=[1 * ms], indices=[2]), "indices", "[0, 1]", "2")
    _err(lambda: net.spike_source(n=2, times=[1 * ms], indices=[-1]), "indices")
    _err(lambda: net.spike_source(n=2, times=[1 * ms, 2 * ms], indices=[0]), "indices.shape")
    _err(lambda: net.spike_source(n=2, times=[1 * ms, 1 * ms], indices=[0, 0]), "times",
         "at most one spike")
    _err(lambda: net.spike_source(n=2, times=[np.nan], indices=[0]), "times", "finite")
    assert net.populations == []


def test_unknown_monitor_variable():
    net, a, b = _net()
    _err(lambda: net.state_monitor(a, "w"), "var", "'v'", "'I_exc'", "'w'")
    src = net.poisson(n=2, rate=10.0)
    _err(lambda: net.state_monitor(src, "v"), "var")


def test_monitor_indices_out_of_range():
    net, a, b = _net()
    _err(lambda: net.spike_monitor(a, indices=[0, 3]), "indices", "[0, 2]")


def test_populations_of_another_network():
    net, a, b = _net()
    other, c, _ = _net()
    _err(lambda: net.connect(a, c, weight=1 * mV), "post", "another Network")
    _err(lambda: net.connect(c, a, weight=1 * mV), "pre", "another Network")
    _err(lambda: net.spike_monitor(c), "pop", "another Network")
    _err(lambda: net.connect("a", b, weight=1 * mV), "pre", "str")
    assert net.projections == []


def test_connection_into_a_source():
    net, a, b = _net()
    src = net.poisson(n=2, rate=1.0)
    _err(lambda: net.connect(a, src, weight=1 * mV), "post", "LIF")


def test_connectivity_parameters():
    net, a, b = _net()
    _err(lambda: net.connect(a, b, weight=1 * mV, p=1.5), "p", "[0, 1]", "1.5")
    _err(lambda: net.connect(a, b, weight=1 * mV, indegree=4), "indegree", "[0, 3]", "4")
    _err(lambda: net.connect(a, b, weight=np.ones((3, 4)), p=0.5), "p must be None",
         "matrix")
    _err(lambda: net.connect(a, b, weight=1 * mV, p=0.5, indegree=2), "p/indegree",
         "only one connection rule")
    _err(lambda: net.connect(a, b, weight=1 * mV, outdegree=5), "outdegree", "[0, 4]")
    _err(lambda: net.connect(a, b, weight=1 * mV, total=13), "total", "[0, 12]")
    _err(lambda: net.connect(a, b, weight=1 * mV, one_to_one=True), "one_to_one",
         "n_pre == n_post")
    _err(lambda: net.connect(a, b, weight=1 * mV, pairs=([0, 3], [1, 1])), "pairs[0]",
         "[0, 2]", "3")
    _err(lambda: net.connect(a, b, weight=1 * mV, pairs=([0, 1], [1])), "pairs[1].shape")
    _err(lambda: net.connect(a, b, weight=np.ones(3), pairs=([0, 1], [1, 1])), "weight.shape",
         "(2,)")
    _err(lambda: ns.random.normal(1 * mV, -1), "std", "> 0")
    _err(lambda: ns.random.uniform(2, 1), "max", "> min")
    _err(lambda: ns.random.normal(0, 1, low=1, high=0), "high", "> low")
    _err(lambda: ns.random.normal(0, 1, bounds="wrap"), "bounds", "'redraw'")
    _err(lambda: net.connect(a, b, weight=ns.random.normal(0, 1e-3, low=5, high=6), p=1),
         "weight", "after 1000 redraws")
    _err(lambda: net.connect(a, b, weight=1 * mV, p=1, delay=ns.random.normal(0, 1 * ms)),
         "delay", "low=")


def test_poisson_rate_range():
    net = ns.Network()
    _err(lambda: net.poisson(n=2, rate=-1.0), "rate", ">= 0" if False else "[0")
    _err(lambda: net.poisson(n=2, rate=2e4), "rate", "10000")


def test_misc_scalars():
    _err(lambda: ns.Network(dtype="float16"), "dtype", "'float32'")
    _err(lambda: ns.Network(seed=-1), "seed")
    net = ns.Network()
    _err(lambda: net.lif(n=0, **LIF), "n", "[1,")
    _err(lambda: net.lif(n=2.5, **LIF), "n", "integer")
    _err(lambda: net.lif(n=2, reset="zero", **LIF), "reset", "'subtract'")
    _err(lambda: net.lif(n=2, t_ref=-1 * ms, **LIF), "t_ref", ">= 0")
    _err(lambda: net.run(-1.0), "duration", ">= 0")


def test_structure_frozen_after_run():
    net, a, b = _net()
    net.run(1 * ms)
    with pytest.raises(ns.NetworkError):
        net.lif(n=2, **LIF)
    with pytest.raises(ns.NetworkError):
        net.connect(a, b, weight=1 * mV)
