"""The LIF models (neurosim.models.lif): every synapse kernel, adaptation, per-neuron
parameters and both conventions, engine against the independent NumPy reference, closed
forms, and the errors for bad parameters."""

import math

import numpy as np
import pytest

import neurosim as ns
from neurosim import random as nr
from neurosim.units import mV, ms, nS, pF
from neurosim.validation import ParameterError

KINDS = ["exp", "alpha", "delta", "cond_exp"]
VARIANTS = {
    "plain": {},
    "adaptive": dict(tau_w=100 * ms, b_w=1 * mV, tau_a=50 * ms, beta=2 * mV,
                     reset="subtract"),
    "nest": dict(convention="nest", t_ref=1 * ms),
}


def _model_net(synapse, extra, het, backend="numba", threads=1, seed=3, n=60):
    """Poisson input, recurrent E and I with delays 0, 1 ms and per-synapse delays."""
    rng = np.random.default_rng(seed)
    net = ns.Network(seed=seed, backend=backend, threads=threads)
    src = net.poisson(40, rate=30.0)
    kw = dict(tau_syn=None if synapse == "delta" else (5 * ms, 8 * ms))
    if synapse == "cond_exp":
        kw.update(e_exc=0.0, e_inh=-80 * mV, c_m=200 * pF)
    kw.update(tau_m=rng.uniform(10, 30, n) * ms if het else 20 * ms,
              v_th=rng.uniform(-52, -48, n) * mV if het else -50 * mV,
              t_ref=rng.uniform(0, 4, n) * ms if het else 2 * ms)
    kw.update(extra)
    pop = net.lif(n, v_rest=-60 * mV, v_reset=-60 * mV, synapse=synapse,
                  bias=rng.uniform(5, 12, n) * mV, v_init=rng.uniform(-60, -50, n) * mV, **kw)
    w = 6 * nS if synapse == "cond_exp" else 2 * mV
    net.connect(src, pop, weight=w, p=0.2, delay=1 * ms)
    net.connect(pop, pop, weight=-w, p=0.1, delay=nr.uniform(0, 2 * ms))
    net.connect(pop, pop, weight=0.5 * w, p=0.05, delay=0.0)
    return net, pop


def _run(net, pop, duration=150 * ms):
    m = net.spike_monitor(pop)
    mons = {v: net.state_monitor(pop, v, indices=[0, 5, 17]) for v in pop.variables}
    net.run(duration)
    return m.steps.copy(), m.indices.copy(), {v: s.values.copy() for v, s in mons.items()}


@pytest.mark.parametrize("het", [False, True], ids=["scalar", "per-neuron"])
@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("synapse", KINDS)
def test_engine_matches_reference(synapse, variant, het):
    got = _run(*_model_net(synapse, VARIANTS[variant], het))
    ref = _run(*_model_net(synapse, VARIANTS[variant], het, backend="reference"))
    assert got[0].size > 50
    np.testing.assert_array_equal(got[0], ref[0])
    np.testing.assert_array_equal(got[1], ref[1])
    for var in ref[2]:
        scale = max(np.abs(ref[2][var]).max(), 1e-30)
        np.testing.assert_allclose(got[2][var], ref[2][var], rtol=0, atol=1e-12 * scale,
                                   err_msg=var)


@pytest.mark.parametrize("synapse", KINDS)
def test_threads_give_identical_results(synapse):
    one = _run(*_model_net(synapse, VARIANTS["adaptive"], True))
    two = _run(*_model_net(synapse, VARIANTS["adaptive"], True, threads=3))
    np.testing.assert_array_equal(one[0], two[0])
    np.testing.assert_array_equal(one[1], two[1])
    for var in one[2]:
        np.testing.assert_array_equal(one[2][var], two[2][var])


def test_generic_exp_kernel_equals_fast_path_bit_for_bit():
    """An adaptation current that never grows (b_w = 0) takes the exp population off the
    fast path; its spikes and v must be exactly those of the fast path."""
    fast = _run(*_model_net("exp", {}, False))
    slow = _run(*_model_net("exp", dict(tau_w=50 * ms, b_w=0.0), False))
    np.testing.assert_array_equal(fast[0], slow[0])
    np.testing.assert_array_equal(fast[2]["v"], slow[2]["v"])


def _single(synapse, dt=0.1 * ms, **kw):
    net = ns.Network(dt=dt, seed=0)
    src = net.spike_source(1, times=[1 * ms], indices=[0])
    args = dict(tau_m=10 * ms, v_rest=0.0, v_th=1.0, v_reset=0.0, synapse=synapse)
    args.update(kw)
    pop = net.lif(1, **args)
    return net, src, pop


def test_alpha_current_peaks_at_the_weight_at_tau():
    tau = 2 * ms
    net, src, pop = _single("alpha", tau_syn=tau)
    net.connect(src, pop, weight=3 * mV)
    mon = net.state_monitor(pop, "I_exc")
    net.run(20 * ms)
    cur = mon.values[:, 0]
    t = np.arange(cur.size) * net.dt - 1.1 * ms    # arrives in the synapses slot of 1 ms: in
    # the state of 1.1 ms, as Brian2 records it
    expect = np.where(t > 0, 3 * mV * (t / tau) * np.exp(1 - t / tau), 0.0)
    np.testing.assert_allclose(cur, expect, rtol=1e-12, atol=1e-18)
    assert int(np.argmax(cur)) == round((1.1 * ms + tau) / net.dt)


@pytest.mark.parametrize("tau_s", [2 * ms, 10 * ms], ids=["tau_s<tau_m", "tau_s=tau_m"])
def test_alpha_psp_closed_form(tau_s):
    """v of one alpha PSP against the closed form (tau_s = tau_m: its limit)."""
    tau_m, w = 10 * ms, 1 * mV
    net, src, pop = _single("alpha", tau_syn=tau_s, tau_m=tau_m)
    net.connect(src, pop, weight=w)
    mon = net.state_monitor(pop, "v")
    net.run(30 * ms)
    t = np.arange(mon.values.shape[0]) * net.dt - 1.1 * ms
    t = np.maximum(t, 0.0)
    a = 1 / tau_s - 1 / tau_m
    if abs(a) > 0:
        # tau_m dv/dt = -v + w e (t/tau_s) exp(-t/tau_s)
        expect = (w * math.e / (tau_m * tau_s)) * np.exp(-t / tau_m) * (
            (1 - np.exp(-a * t) * (1 + a * t)) / a ** 2)
    else:
        expect = w * math.e / (tau_m * tau_s) * np.exp(-t / tau_m) * t ** 2 / 2
    np.testing.assert_allclose(mon.values[:, 0], expect, rtol=1e-9, atol=1e-15)


def test_delta_input_moves_v_by_the_weight():
    net, src, pop = _single("delta", tau_m=10 * ms)
    net.connect(src, pop, weight=0.5)
    mon = net.state_monitor(pop, "v")
    net.run(5 * ms)
    v = mon.values[:, 0]
    k = round(1 * ms / net.dt)                     # arrives in the synapses slot of step k
    assert np.all(v[:k + 1] == 0.0)
    np.testing.assert_allclose(v[k + 1:], 0.5 * np.exp(-np.arange(v.size - k - 1)
                                                        * net.dt / (10 * ms)), rtol=1e-13)
    assert pop.v[0] == v[-1] * np.exp(-net.dt / (10 * ms)) or np.isclose(
        pop.v[0], v[-1] * np.exp(-net.dt / (10 * ms)), rtol=1e-13)


def test_cond_exp_relaxes_to_reversal_weighted_mean():
    """With a conductance far larger than g_L, v approaches e_exc at the rate g/c_m (the
    exponential Euler step is exact for a frozen conductance)."""
    net = ns.Network(seed=0)
    pop = net.lif(1, tau_m=20 * ms, tau_syn=1e6 * ms, v_rest=-60 * mV, v_th=1.0,
                  v_reset=-60 * mV, synapse="cond_exp", e_exc=0.0, e_inh=-80 * mV,
                  c_m=200 * pF, v_init=-60 * mV)
    src = net.spike_source(1, times=[0.0], indices=[0])
    net.connect(src, pop, weight=100 * nS)
    mon = net.state_monitor(pop, "v")
    g_mon = net.state_monitor(pop, "g_exc")
    net.run(3 * ms)
    g_l, g = 200 * pF / (20 * ms), g_mon.values[1:, 0]
    v_inf = (g_l * -60 * mV + g * 0.0) / (g_l + g)
    v = mon.values[:, 0]
    # one step from v[k] with g[k-1] (frozen over the step) gives v[k+1]
    step = v_inf[:-1] + (v[1:-1] - v_inf[:-1]) * np.exp(-(g_l + g[:-1]) / (200 * pF) * net.dt)
    np.testing.assert_allclose(v[2:], step, rtol=1e-12)


@pytest.mark.parametrize("convention,held", [("brian2", 19), ("nest", 20)])
def test_refractory_release_per_convention(convention, held):
    """t_ref = 2 ms at dt = 0.1 ms: v stays at v_reset 19 steps after the spike step in
    Brian2, 20 in NEST (a NEST spike at 3.0 ms holds v through 5.0 ms)."""
    net = ns.Network(seed=0)
    pop = net.lif(1, tau_m=10 * ms, tau_syn=2 * ms, v_rest=0.0, v_th=10 * mV,
                  v_reset=0.0, t_ref=2 * ms, bias=20 * mV, convention=convention)
    spk = net.spike_monitor(pop)
    mon = net.state_monitor(pop, "v")
    net.run(30 * ms)
    s = int(spk.steps[0])
    v = mon.values[:, 0]
    # the state monitor at step k shows the state after step k - 1
    assert np.all(v[s + 1:s + 2 + held] == 0.0)
    assert v[s + 2 + held] > 0.0


@pytest.mark.parametrize("convention", ["brian2", "nest"])
def test_delta_input_while_refractory(convention):
    """Both drop a delta input that arrives while the neuron is refractory (NEST's
    iaf_psc_delta by default; Brian2 because every write to a variable marked
    "(unless refractory)", on_pre included, is conditional on not_refractory), and keep
    one that arrives after."""
    net = ns.Network(seed=0)
    pop = net.lif(1, tau_m=10 * ms, v_rest=0.0, v_th=10 * mV, v_reset=0.0, t_ref=5 * ms,
                  synapse="delta", convention=convention)
    src = net.spike_source(3, times=[1 * ms, 3 * ms, 8 * ms], indices=[0, 1, 2])
    net.connect(src, pop, weight=np.array([[15 * mV], [5 * mV], [1 * mV]]), delay=1 * ms)
    spk = net.spike_monitor(pop)
    mon = net.state_monitor(pop, "v")
    net.run(10 * ms)
    assert spk.num_spikes == 1
    v = mon.values[:, 0]
    arrive = 91                # in v as recorded at the start of the next step
    assert np.all(v[spk.steps[0] + 1:arrive] == 0.0)
    assert v[arrive] == pytest.approx(1 * mV, rel=1e-12)


def test_nest_delta_input_spikes_in_its_arrival_step():
    steps = {}
    for convention in ("brian2", "nest"):
        net = ns.Network(seed=0)
        pop = net.lif(1, tau_m=10 * ms, v_rest=0.0, v_th=10 * mV, v_reset=0.0,
                      synapse="delta", convention=convention)
        src = net.spike_source(1, times=[1 * ms], indices=[0])
        net.connect(src, pop, weight=20 * mV, delay=1 * ms)
        spk = net.spike_monitor(pop)
        net.run(5 * ms)
        steps[convention] = int(spk.steps[0])
    assert steps["nest"] == 20 and steps["brian2"] == 21


def test_adaptation_current_and_threshold_slow_firing():
    rates = {}
    for label, kw in (("none", {}), ("w", dict(tau_w=200 * ms, b_w=3 * mV)),
                      ("a", dict(tau_a=200 * ms, beta=3 * mV))):
        net = ns.Network(seed=0)
        pop = net.lif(1, tau_m=10 * ms, tau_syn=2 * ms, v_rest=0.0, v_th=10 * mV,
                      v_reset=0.0, bias=30 * mV, **kw)
        spk = net.spike_monitor(pop)
        net.run(500 * ms)
        rates[label] = spk.num_spikes
    assert rates["w"] < 0.6 * rates["none"] and rates["a"] < 0.6 * rates["none"]


def test_state_reads_and_variables():
    net, pop = _model_net("cond_exp", VARIANTS["adaptive"], False)
    assert pop.variables == ("v", "g_exc", "g_inh", "w", "a")
    net.run(50 * ms)
    assert np.all(pop.g_inh >= 0) and pop.g_exc.max() > 0
    assert pop.w.max() > 0 and pop.a.max() > 0
    with pytest.raises(AttributeError, match="I_exc is not a variable"):
        pop.I_exc
    with pytest.raises(ParameterError, match="var must be one of"):
        net.state_monitor(pop, "I_exc")


def _lif(**kw):
    args = dict(n=3, tau_m=10 * ms, tau_syn=5 * ms, v_rest=0.0, v_th=10 * mV, v_reset=0.0)
    args.update(kw)
    return ns.Network(seed=0).lif(**args)


@pytest.mark.parametrize("kw,message", [
    (dict(synapse="gauss"), "synapse must be one of 'exp', 'alpha', 'delta', 'cond_exp'"),
    (dict(synapse="delta"), "tau_syn must be None for synapse='delta'"),
    (dict(tau_syn=None), "tau_syn must be given for synapse='exp'"),
    (dict(synapse="cond_exp", e_exc=0.0, e_inh=-80 * mV), "c_m must be given"),
    (dict(e_exc=0.0), "e_exc must be None unless synapse='cond_exp'"),
    (dict(b_w=1 * mV), "b_w must be 0 unless tau_w is given"),
    (dict(beta=1 * mV), "beta must be 0 unless tau_a is given"),
    (dict(tau_m=np.array([10, -1, 10]) * ms), "tau_m must be > 0 s; got -0.001"),
    (dict(tau_m=np.array([10, 10]) * ms), r"tau_m.shape must be \(\) or \(3,\)"),
    (dict(v_th=np.array([10, -1, 10]) * mV), "v_th must be > v_reset = 0 V; got -0.001"),
    (dict(t_ref=-1 * ms), "t_ref must be >= 0 s"),
    (dict(tau_w=0.0), "tau_w must be > 0 s"),
    (dict(tau_a=5 * ms, beta=-1 * mV), "beta must be >= 0 V"),
    (dict(convention="nengo"), "convention must be one of 'brian2', 'nest'"),
    (dict(v_rest=None), "v_rest must be given"),
])
def test_bad_parameters_are_refused(kw, message):
    with pytest.raises(ParameterError, match=message):
        _lif(**kw)


def test_distribution_parameters_are_drawn_per_neuron():
    net = ns.Network(seed=5)
    pop = net.lif(1000, tau_m=nr.normal(20 * ms, 2 * ms, low=5 * ms), tau_syn=5 * ms,
                  v_rest=0.0, v_th=nr.uniform(9 * mV, 11 * mV), v_reset=0.0)
    assert pop.spec.tau_m.shape == (1000,) and abs(pop.spec.tau_m.std() - 2 * ms) < 3e-4
    assert 9 * mV <= pop.spec.v_th.min() and pop.spec.v_th.max() <= 11 * mV
    same = ns.Network(seed=5).lif(1000, tau_m=nr.normal(20 * ms, 2 * ms, low=5 * ms),
                                  tau_syn=5 * ms, v_rest=0.0, v_th=nr.uniform(9 * mV, 11 * mV),
                                  v_reset=0.0)
    np.testing.assert_array_equal(pop.spec.tau_m, same.spec.tau_m)


def test_loihi_quantization_refuses_what_loihi_cannot_express():
    from neurosim.loihi import quantize
    for kw, what in ((dict(synapse="alpha"), "synapse='alpha'"),
                     (dict(tau_w=10 * ms), "an adaptation current"),
                     (dict(tau_m=np.array([10, 11, 12]) * ms), "per-neuron tau_m")):
        net = ns.Network(seed=0)
        src = net.spike_source(1, times=[1 * ms], indices=[0])
        pop = net.lif(3, tau_m=kw.pop("tau_m", 10 * ms), tau_syn=5 * ms, v_rest=0.0,
                      v_th=10 * mV, v_reset=0.0, **kw)
        net.connect(src, pop, weight=1 * mV)
        with pytest.raises(ParameterError, match=what):
            quantize(net)


def test_network_file_models(tmp_path):
    from neurosim.netfile import load_network
    path = tmp_path / "net.toml"
    path.write_text('''
[network]
dt = "0.1 ms"
seed = 1

[populations.src]
model = "poisson"
n = 20
rate = "50 Hz"

[populations.exc]
model = "lif"
n = 10
synapse = "delta"
tau_m = "20 ms"
v_rest = "0 mV"
v_th = "20 mV"
v_reset = "10 mV"
t_ref = "2 ms"
convention = "nest"

[[connections]]
pre = "src"
post = "exc"
weight = "0.5 mV"
p = 0.5
delay = "1.5 ms"
''')
    net = load_network(path).net
    pop = net.populations[1]
    assert pop.spec.synapse == "delta" and pop.spec.convention == "nest"
    net.run(50 * ms)


def test_energy_charges_each_model_by_its_operations():
    """The 45 nm digital estimate charges a neuron update by the model's operation counts:
    exp as before (2 mult + 2 add + 2 words), conductances dearer, delta cheaper."""
    from neurosim.energy import estimate
    per_update = {}
    for syn in KINDS:
        net, pop = _model_net(syn, {}, False)
        net.run(10 * ms)
        est = estimate(net.counts(), hardware="digital45")
        items = [i for i in est.items if i.component == pop.name]
        assert len(items) == 1
        per_update[syn] = items[0].energy_per_op
    assert per_update["delta"] < per_update["exp"] < per_update["alpha"] < per_update["cond_exp"]


@pytest.mark.parametrize("backend", ["numba", "reference"])
def test_state_variables_can_be_set_before_and_after_the_build(backend):
    """Initial conductances (COBA's initial state) set before the build hold from step 0
    and again after a reset; set after the build, they hold until the next reset."""
    net = ns.Network(seed=0, backend=backend)
    pop = net.lif(2, tau_m=20 * ms, tau_syn=5 * ms, v_rest=-60 * mV, v_th=-50 * mV,
                  v_reset=-60 * mV, synapse="cond_exp", e_exc=0.0, e_inh=-80 * mV,
                  c_m=200 * pF, tau_w=50 * ms)
    pop.g_exc = [10 * nS, 0.0]
    pop.g_inh = 5 * nS
    mon = net.state_monitor(pop, "g_exc")
    net.run(1 * ms)
    assert mon.values[0, 0] == 10 * nS and mon.values[0, 1] == 0.0
    assert np.all(pop.g_inh > 0) and pop.g_inh[0] < 5 * nS
    pop.w = [1 * mV, 2 * mV]
    np.testing.assert_array_equal(pop.w, [1 * mV, 2 * mV])
    net.reset()
    net.run(0.1 * ms)
    assert mon.values[0, 0] == 10 * nS and pop.w[0] == 0.0
    with pytest.raises(ParameterError, match="g_inh must be >= 0 S"):
        pop.g_inh = -1 * nS
    with pytest.raises(AttributeError, match="I_exc is not a variable"):
        pop.I_exc = 0.0


def test_one_to_one_with_one_weight_per_synapse():
    """Regression: a 1-D weight array of one sign with one_to_one gave every synapse the
    first weight."""
    net = ns.Network(seed=0)
    src = net.spike_source(3, times=[1 * ms] * 3, indices=[0, 1, 2])
    pop = net.lif(3, tau_m=10 * ms, tau_syn=5 * ms, v_rest=0.0, v_th=10 * mV, v_reset=0.0)
    net.connect(src, pop, weight=np.array([1.0, 2.0, 3.0]) * mV, one_to_one=True)
    net.run(1.2 * ms)
    np.testing.assert_allclose(pop.I_exc / pop.I_exc[0], [1, 2, 3], rtol=1e-12)


def test_vectorisable_exponential_is_within_3_ulp_of_libm():
    from numba import njit
    from neurosim.engine.neurons import exp_neg

    @njit
    def many(x, out):
        for n in range(x.shape[0]):
            out[n] = exp_neg(x[n])

    rng = np.random.default_rng(0)
    x = np.concatenate([-rng.random(200_000) * 708, -10 ** rng.uniform(-20, 0, 200_000),
                        [0.0, -0.0, -708.0, -np.log(2) / 2, -np.log(2)]])
    out = np.empty_like(x)
    many(x, out)
    ref = np.array([math.exp(v) for v in x])
    assert np.max(np.abs(out - ref) / np.spacing(ref)) <= 3
    assert np.mean(out == ref) > 0.8
