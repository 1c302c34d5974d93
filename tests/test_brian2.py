"""Spike-for-spike cross-checks against Brian2 (method='exact' for the linear models,
'exponential_euler' for cond_exp; Brian2's default schedule).

Brian2 solves each distinct set of equations once per process (sympy, 1-20 s for the larger
alpha systems), so the tests reuse a few sets: the exporter writes every parameter as a
per-neuron variable, and the equations depend only on the kernel and the adaptation features.
"""

import numpy as np
import pytest

import neurosim as ns
from neurosim.units import Hz, mV, ms, nS, pF

from conftest import random_model_network, random_network

pytest.importorskip("brian2")
from neurosim.export import run_in_brian2  # noqa: E402
from neurosim.models.lif import variables  # noqa: E402

pytestmark = pytest.mark.brian2

KERNELS = ("exp", "alpha", "delta", "cond_exp")
#: Brian2's results of a network built from the same arguments (they do not depend on the
#: neurosim backend), so that each backend is checked against one Brian2 run.
_BRIAN2_RUNS = {}


def _brian2_spikes(key, net, duration):
    if key is None:
        return run_in_brian2(net, duration)
    if key not in _BRIAN2_RUNS:
        _BRIAN2_RUNS[key] = run_in_brian2(net, duration)
    return _BRIAN2_RUNS[key]


def _compare(net, duration, key=None):
    """Run ``net`` in neurosim and Brian2; assert identical spikes; spikes per population."""
    mons = {p.name: net.spike_monitor(p) for p in net.populations}
    net.run(duration)
    ref = _brian2_spikes(key, net, duration)
    counts = {}
    for name, m in mons.items():
        steps, idx = ref[name]
        assert m.num_spikes == steps.size, (name, m.num_spikes, steps.size)
        np.testing.assert_array_equal(m.steps, steps, err_msg=name)
        np.testing.assert_array_equal(m.indices, idx, err_msg=name)
        counts[name] = steps.size
    return counts


def _lif_counts(net, counts):
    return {p.name: counts[p.name] for p in net.populations if p.kind == "lif"}


# ----------------------------------------------------------------- the plain exp model


@pytest.mark.parametrize("seed", [10, 11, 12])
def test_random_networks_match_brian2(seed):
    assert sum(_compare(random_network(seed), 200 * ms).values()) > 100


def test_float32_engine_still_runs_brian2_network_close():
    net = random_network(13, dtype="float32")
    mons = {p.name: net.spike_monitor(p) for p in net.populations}
    net.run(100 * ms)
    ref = run_in_brian2(net, 100 * ms)
    for name, m in mons.items():
        assert abs(m.num_spikes - ref[name][0].size) <= 0.1 * ref[name][0].size + 5


def test_cuba_matches_brian2_spike_for_spike():
    """The chaotic CUBA network (1000 neurons): any rounding difference would show."""
    from neurosim.nets import cuba
    net = ns.Network(seed=1)
    cuba(net, N=1000)
    assert sum(_compare(net, 300 * ms).values()) > 1000


def test_single_time_constant_and_zero_refractory():
    rng = np.random.default_rng(3)
    net = ns.Network(seed=3)
    src = net.spike_source(n=5, times=np.arange(0, 50) * ms, indices=np.arange(50) % 5)
    pop = net.lif(n=20, tau_m=7 * ms, tau_syn=4 * ms, v_rest=-60 * mV, v_th=-55 * mV,
                  v_reset=-62 * mV, v_init=rng.uniform(-62, -55, 20) * mV,
                  bias=rng.uniform(0, 6, 20) * mV)
    net.connect(src, pop, weight=rng.normal(2, 2, (5, 20)) * mV)
    net.connect(pop, pop, weight=0.7 * mV, p=0.2, delay=0.3 * ms)
    assert sum(_compare(net, 100 * ms).values()) > 20


# ----------------------------------------------------------------- every model


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_random_model_networks_match_brian2(seed, backend):
    """exp, alpha, delta and exp populations; over the four seeds each kernel runs with and
    without the adaptation current and the adaptive threshold (MODEL_FEATURES), per-neuron
    and scalar parameters, t_ref 0 included, reset by value and by subtraction, delays 0 to
    4 ms (scalar and per synapse), both signs of weights."""
    net = random_model_network(seed, backend=backend)
    counts = _lif_counts(net, _compare(net, 200 * ms, key=("models", seed)))
    assert sum(counts.values()) > 100
    assert min(counts.values()) > 10, counts          # every model spikes


@pytest.mark.parametrize("seed", [0, 1])
def test_random_model_networks_nest_convention_match_brian2(seed):
    """convention="nest" exported as Brian2 (threshold >=, one more refractory step, delta
    inputs after the propagation and discarded while refractory)."""
    net = random_model_network(seed, convention="nest")
    counts = _lif_counts(net, _compare(net, 200 * ms))
    assert sum(counts.values()) > 100
    assert min(counts.values()) > 10, counts


@pytest.mark.parametrize("seed,kernels,convention", [
    (0, ("cond_exp",) * 4, "brian2"),
    (1, ("cond_exp", "exp", "cond_exp", "delta"), "brian2"),
    (2, ("cond_exp", "alpha", "cond_exp", "cond_exp"), "nest"),
])
def test_random_cond_exp_networks_match_brian2(seed, kernels, convention, backend):
    """Conductance-based populations (with and without adaptation, per-neuron reversal
    potentials and capacitances) among current-based ones, against Brian2's
    method='exponential_euler'."""
    net = random_model_network(seed, kernels=kernels, convention=convention, backend=backend)
    counts = _lif_counts(net, _compare(net, 200 * ms, key=("cond", seed)))
    assert sum(counts.values()) > 100
    assert min(counts.values()) > 10, counts


@pytest.mark.parametrize("N,delay", [(4000, 0.0), (2000, 0.5 * ms)])
def test_coba_matches_brian2_spike_for_spike(N, delay):
    """The COBA benchmark (Vogels & Abbott 2005): self-sustained, chaotic activity."""
    from neurosim.nets import coba
    net = ns.Network(seed=2)
    coba(net, N=N, delay=delay)
    counts = _compare(net, 300 * ms)
    assert counts["exc"] + counts["inh"] > 1000


# ----------------------------------------------------------------- traces, one model each


def _trace_network(kernel, variant, convention, n=30):
    """``n`` neurons of one model driven by an excitatory and an inhibitory train (delays 0
    and 0.3 ms), with per-neuron parameters: t_ref 0, 0.2, 2 and 3.5 ms in turn (inputs
    arrive while refractory and in the step of a spike). variant "plain": reset by value;
    "adaptive": adaptation current, adaptive threshold, reset by subtraction. n = 30 as
    random_model_network's populations: Brian2 reuses its solution of the equations only
    for groups of the same size."""
    rng = np.random.default_rng(5)
    net = ns.Network(dt=0.1 * ms, seed=5)
    t_e = np.arange(5, 800, 13)            # steps
    t_i = np.arange(11, 800, 29)
    src = net.spike_source(n=2, times=np.concatenate([t_e, t_i]) * 0.1 * ms,
                           indices=np.r_[np.zeros(t_e.size), np.ones(t_i.size)], name="src")
    kw = dict(tau_m=rng.uniform(8, 20, n) * ms, v_rest=-60 * mV,
              v_th=rng.uniform(-52, -48, n) * mV, v_reset=rng.uniform(-66, -60, n) * mV,
              t_ref=np.resize([0.0, 0.2, 2.0, 3.5], n) * ms,
              v_init=rng.uniform(-62, -49, n) * mV, bias=rng.uniform(10, 14, n) * mV,
              synapse=kernel, convention=convention, name="p")
    if kernel == "cond_exp":
        tau_e = rng.uniform(3, 7, n) * ms
        tau_e[3] = kw["tau_m"][3]          # exponential Euler has no 1/(tau_exc - tau_m)
        kw.update(tau_syn=(tau_e, 10 * ms), e_exc=0.0, e_inh=rng.uniform(-85, -75, n) * mV,
                  c_m=rng.uniform(150, 250, n) * pF)
        w_e, w_i = rng.uniform(3, 6, n) * nS, -rng.uniform(5, 10, n) * nS
    else:
        if kernel != "delta":
            kw.update(tau_syn=(rng.uniform(2, 5, n) * ms, 6 * ms))
        w_e, w_i = rng.uniform(1.5, 3, n) * mV, -rng.uniform(1, 3, n) * mV
    if variant == "adaptive":
        kw.update(tau_w=rng.uniform(30, 100, n) * ms, b_w=rng.uniform(0.5, 2, n) * mV,
                  tau_a=rng.uniform(20, 60, n) * ms, beta=rng.uniform(0.5, 3, n) * mV,
                  reset="subtract", bias=rng.uniform(16, 20, n) * mV)
    pop = net.lif(n=n, **kw)
    net.connect(src, pop, weight=np.stack([w_e, np.zeros(n)]), delay=0.0)
    net.connect(src, pop, weight=np.stack([np.zeros(n), w_i]), delay=0.3 * ms)
    return net, pop


@pytest.mark.parametrize("convention", ["brian2", "nest"])
@pytest.mark.parametrize("variant", ["plain", "adaptive"])
@pytest.mark.parametrize("kernel", KERNELS)
def test_single_neuron_traces_match_brian2(kernel, variant, convention):
    """Every recordable variable (v, I_exc/I_inh or g_exc/g_inh, w, a) against Brian2's
    StateMonitor at every step, to 1e-9 relative."""
    net, pop = _trace_network(kernel, variant, convention)
    names = list(variables(pop.spec))
    assert ("w" in names) == ("a" in names) == (variant == "adaptive")
    mons = {v: net.state_monitor(pop, v) for v in names}
    sm = net.spike_monitor(pop)
    net.run(80 * ms)
    spikes, traces = run_in_brian2(net, 80 * ms, record={"p": names})
    np.testing.assert_array_equal(sm.steps, spikes["p"][0])
    np.testing.assert_array_equal(sm.indices, spikes["p"][1])
    assert sm.num_spikes > 100 and np.count_nonzero(sm.counts) >= 25, sm.counts
    for v in names:
        ours, theirs = mons[v].values, traces["p"][v]
        assert ours.shape == theirs.shape == (800, 30)
        scale = 1e-9 if v in ("g_exc", "g_inh") else 1e-3
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12 * scale, err_msg=v)


# ----------------------------------------------------------------- exporter


def test_exporter_refuses_tau_syn_equal_tau_m():
    net = ns.Network()
    net.lif(n=1, tau_m=5 * ms, tau_syn=5 * ms, v_rest=0.0, v_th=1.0, v_reset=0.0, name="p")
    with pytest.raises(ValueError, match="tau_exc = tau_m"):
        run_in_brian2(net, 1 * ms)


@pytest.mark.parametrize("kw,match", [
    (dict(synapse="exp", tau_syn=(np.array([2.0, 3.0, 10.0]) * ms, 4 * ms)),
     r"tau_exc = tau_m = 0.01 s \(neuron 2\)"),
    (dict(synapse="alpha", tau_syn=(2 * ms, np.array([10.0, 3.0, 4.0]) * ms)),
     r"tau_inh = tau_m = 0.01 s \(neuron 0\)"),
    (dict(synapse="delta", tau_w=np.array([20.0, 10.0, 30.0]) * ms, b_w=1 * mV),
     r"tau_w = tau_m = 0.01 s \(neuron 1\)"),
])
def test_exporter_refuses_coupled_time_constant_equal_tau_m_per_neuron(kw, match):
    """Brian2's exact solver divides by tau_x - tau_m: refused, naming the neuron."""
    net = ns.Network()
    net.lif(n=3, tau_m=10 * ms, v_rest=0.0, v_th=1.0, v_reset=0.0, name="p", **kw)
    with pytest.raises(ValueError, match=match):
        run_in_brian2(net, 1 * ms)


def test_exporter_refuses_what_brian2_cannot_express():
    net = ns.Network()
    p = net.lif(n=2, tau_m=10 * ms, tau_syn=2 * ms, v_rest=0.0, v_th=1.0, v_reset=0.0,
                name="p")
    net.poisson_input(p, rate=np.array([10.0, 20.0]) * Hz, weight=1 * mV)
    with pytest.raises(ValueError, match="per-neuron rates"):
        run_in_brian2(net, 1 * ms)
    net = ns.Network()
    net.lif(n=1, tau_m=10 * ms, tau_syn=2 * ms, v_rest=0.0, v_th=1.0, v_reset=0.0, name="p")
    with pytest.raises(ValueError, match="'w' is not a variable of population 'p'"):
        run_in_brian2(net, 1 * ms, record={"p": ["v", "w"]})


def test_exporter_writes_one_set_of_equations_per_model():
    """Homogeneous and per-neuron populations of a model share their Brian2 equations (so
    Brian2 solves them once); the kernel and the features decide them."""
    from neurosim.export.brian2 import brian2_equations
    net = ns.Network()
    kw = dict(v_rest=0.0, v_th=1.0, v_reset=0.0, synapse="alpha", tau_w=50 * ms, b_w=0.1)
    a = net.lif(n=3, tau_m=10 * ms, tau_syn=2 * ms, **kw)
    b = net.lif(n=3, tau_m=np.array([10.0, 11.0, 12.0]) * ms, tau_syn=(2 * ms, 3 * ms), **kw)
    c = net.lif(n=3, tau_m=10 * ms, tau_syn=2 * ms, v_rest=0.0, v_th=1.0, v_reset=0.0)
    assert brian2_equations(a.spec) == brian2_equations(b.spec)
    eqs, method = brian2_equations(a.spec)
    assert method == "exact" and "dye/dt" in eqs and "dw_ad/dt" in eqs and "da/dt" not in eqs
    assert brian2_equations(c.spec) != brian2_equations(a.spec)
    cond = net.lif(n=1, tau_m=10 * ms, tau_syn=2 * ms, v_rest=0.0, v_th=1.0, v_reset=0.0,
                   synapse="cond_exp", e_exc=0.0, e_inh=-0.08, c_m=200 * pF)
    assert brian2_equations(cond.spec)[1] == "exponential_euler"


@pytest.mark.parametrize("kernel", ["exp", "delta"])
def test_poisson_drives_export_with_the_same_statistics(kernel):
    """net.poisson_input becomes a Brian2 PoissonInput (other random numbers): the spike
    counts of 200 neurons over 1 s agree within 5 %."""
    net = ns.Network(dt=0.1 * ms, seed=3)
    kw = dict(tau_syn=5 * ms) if kernel == "exp" else {}
    p = net.lif(n=200, tau_m=20 * ms, v_rest=0.0, v_th=20 * mV, v_reset=10 * mV,
                t_ref=2 * ms, synapse=kernel, name="p", **kw)
    exc, inh = (0.1 * mV, -0.3 * mV) if kernel == "delta" else (0.3 * mV, -0.5 * mV)
    net.poisson_input(p, rate=20000 * Hz, weight=exc, delay=1.5 * ms)
    net.poisson_input(p, rate=3000 * Hz, weight=inh)
    sm = net.spike_monitor(p)
    net.run(1000 * ms)
    theirs = run_in_brian2(net, 1000 * ms, seed=4)["p"][0].size
    assert sm.num_spikes > 2000
    assert abs(sm.num_spikes - theirs) < 0.05 * theirs
