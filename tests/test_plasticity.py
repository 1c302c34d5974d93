"""Plasticity of ordinary synapses (neurosim.plasticity): engine = reference for every rule,
thread-count invariance, closed forms for a pair of spikes and for short-term depression,
weights read, written and monitored between runs, counts, energy, errors."""

import math

import numpy as np
import pytest

import neurosim as ns
from neurosim.plasticity import STDP, TripletSTDP, TsodyksMarkram
from neurosim.units import mV, ms
from neurosim.validation import ParameterError

RULES = {
    "pair-add": STDP(w_max=1 * mV, lam=0.02, alpha=1.05),
    "pair-mult-nearest": STDP(w_max=1 * mV, lam=0.05, alpha=0.9, mu_plus=1.0, mu_minus=1.0,
                              pairing="nearest"),
    "pair-dendritic": STDP(w_max=1 * mV, lam=0.02, alpha=1.05, delay_split="dendritic"),
    "triplet": TripletSTDP(w_max=1 * mV, a2_plus=5e-5, a3_plus=6e-5, a2_minus=7e-5,
                           a3_minus=2e-5),
    "tsodyks": TsodyksMarkram(U=0.4, tau_rec=100 * ms, tau_facil=50 * ms),
}


def _net(rule, backend="numba", threads=1, synapse="exp", seed=4):
    net = ns.Network(seed=seed, backend=backend, threads=threads)
    src = net.poisson(300, rate=40.0)
    kw = dict(tau_syn=None) if synapse == "delta" else dict(tau_syn=5 * ms)
    pop = net.lif(6, tau_m=10 * ms, v_rest=-70 * mV, v_th=-54 * mV, v_reset=-60 * mV,
                  t_ref=1 * ms, synapse=synapse, **kw)
    scale = 3.0 if isinstance(rule, TsodyksMarkram) else 1.0     # efficacy u x < 1
    w = ns.random.uniform(0.2 * mV * scale, 0.8 * mV * scale)
    exc = net.connect(src, pop, weight=w, p=0.8, delay=1 * ms, plasticity=rule)
    inh = net.connect(src, pop, weight=-0.3 * mV, p=0.1, plasticity=rule, name="inh")
    net.connect(pop, pop, weight=0.5 * mV, p=0.5, delay=0.5 * ms)
    return net, pop, exc, inh


def _run(net, pop, projs, duration=300 * ms):
    spk = net.spike_monitor(pop)
    wm = net.weight_monitor(projs[0], indices=[0, 7, 30], interval=2 * ms)
    net.run(duration / 2)
    net.run(duration / 2)
    return (spk.steps.copy(), spk.indices.copy(), [p.weight.copy() for p in projs],
            wm.values.copy(), [net.counts().projections[p.name].plastic_updates
                               for p in projs])


@pytest.mark.parametrize("name", list(RULES))
def test_engine_matches_reference_and_threads(name):
    runs = []
    for backend, threads in (("reference", 1), ("numba", 1), ("numba", 3)):
        net, pop, exc, inh = _net(RULES[name], backend, threads)
        runs.append(_run(net, pop, (exc, inh)))
    ref = runs[0]
    assert ref[0].size > 30
    if name != "tsodyks":
        assert np.abs(ref[2][0] - exc_initial(name)).max() > 1e-5      # it learned
    for got in runs[1:]:
        np.testing.assert_array_equal(got[0], ref[0])
        np.testing.assert_array_equal(got[1], ref[1])
        for a, b in zip(got[2], ref[2]):
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-15)
        np.testing.assert_allclose(got[3], ref[3], rtol=0, atol=1e-15)
        assert got[4] == ref[4] and ref[4][0] > 0


def exc_initial(name):
    net, pop, exc, inh = _net(RULES[name])
    return exc.weight.copy()


def _pair(t_pre, t_post, rule, delay=1 * ms):
    """One plastic synapse (tiny weight) whose target is made to spike at t_post by a
    strong static input; returns the final weight."""
    net = ns.Network(seed=0)
    pre = net.spike_source(1, times=[t_pre], indices=[0])
    kick = net.spike_source(1, times=[t_post - 0.1 * ms], indices=[0])
    pop = net.lif(1, tau_m=10 * ms, v_rest=0.0, v_th=10 * mV, v_reset=0.0, t_ref=1 * ms,
                  synapse="delta")
    net.connect(kick, pop, weight=20 * mV, delay=0.0)
    proj = net.connect(pre, pop, weight=0.5 * mV, delay=delay, plasticity=rule)
    spk = net.spike_monitor(pop)
    net.run(60 * ms)
    assert spk.num_spikes == 1 and spk.steps[0] == round(t_post / net.dt)
    return float(proj.weight[0])


@pytest.mark.parametrize("split", ["axonal", "dendritic"])
@pytest.mark.parametrize("gap", [-7 * ms, -2 * ms, 3 * ms, 12 * ms])
def test_pair_weight_change_closed_form(gap, split):
    """Additive pair STDP, one pre and one post spike: the change is
    +lam w_max exp(-dt/tau_plus) for dt > 0 and -alpha lam w_max exp(dt/tau_minus) for
    dt < 0, with dt = t_post - (t_pre + d) (axonal) or t_post + d - t_pre (dendritic)."""
    rule = STDP(w_max=1 * mV, lam=0.01, alpha=1.2, tau_plus=15 * ms, tau_minus=25 * ms,
                delay_split=split)
    d = 1 * ms
    t_pre = 20 * ms
    t_post = t_pre + d + gap if split == "axonal" else t_pre - d + gap
    w = _pair(t_pre, t_post, rule, d)
    dt = gap
    if dt > 0:
        expect = 0.5 * mV + rule.lam * rule.w_max * math.exp(-dt / rule.tau_plus)
    else:
        expect = 0.5 * mV - rule.alpha * rule.lam * rule.w_max * math.exp(dt / rule.tau_minus)
    assert w == pytest.approx(expect, rel=1e-12)


def test_tsodyks_markram_efficacies_closed_form():
    """Regular presynaptic spikes: the current jump of spike n is w u_n x_n with the
    recurrence of the model (u decays to 0 with tau_facil, x recovers with tau_rec)."""
    U, tau_rec, tau_f, w, isi = 0.3, 120 * ms, 40 * ms, 2 * mV, 10 * ms
    net = ns.Network(seed=0)
    times = np.arange(1, 11) * isi
    src = net.spike_source(1, times=times, indices=np.zeros(10, int))
    pop = net.lif(1, tau_m=10 * ms, tau_syn=1e3, v_rest=0.0, v_th=1.0, v_reset=0.0)
    net.connect(src, pop, weight=w, plasticity=TsodyksMarkram(U=U, tau_rec=tau_rec,
                                                               tau_facil=tau_f))
    mon = net.state_monitor(pop, "I_exc")
    net.run(120 * ms)
    cur = mon.values[:, 0]
    steps = np.round(times / net.dt).astype(int) + 1       # the jump shows a step later
    decay = math.exp(-net.dt / 1e3)
    jumps = cur[steps] - cur[steps - 1] * decay
    u, x, expect, last = 0.0, 1.0, [], None
    for t in times:
        if last is not None:
            u *= math.exp(-(t - last) / tau_f)
            x = 1 + (x - 1) * math.exp(-(t - last) / tau_rec)
        u += U * (1 - u)
        expect.append(w * u * x)
        x -= u * x
        last = t
    np.testing.assert_allclose(jumps, expect, rtol=1e-9)


def test_weights_read_written_monitored_and_reset():
    net, pop, exc, inh = _net(RULES["pair-add"])
    w0 = exc.weight.copy()
    wm = net.weight_monitor(exc, indices=[3, 9])
    net.run(50 * ms)
    learned = exc.weight.copy()
    assert not np.array_equal(learned, w0)
    np.testing.assert_array_equal(wm.values[0], w0[[3, 9]])     # sampled at t = 0
    assert wm.values.shape == (500, 2) and wm.t[-1] == pytest.approx(49.9 * ms)
    exc.weight = 0.5 * mV                                        # written between runs
    net.run(0.1 * ms)
    assert wm.values[-1, 0] == 0.5 * mV
    net.reset()                                                  # learned weights are state
    np.testing.assert_array_equal(exc.weight, w0)
    with pytest.raises(ParameterError, match=r"within \[0, w_max = 0.001\]"):
        exc.weight = 2 * mV
        net.run(1 * ms)


def test_plastic_updates_are_counted_and_charged_where_published():
    from neurosim.energy import estimate
    net, pop, exc, inh = _net(RULES["pair-add"])
    net.run(50 * ms)
    counts = net.counts()
    assert counts.projections[exc.name].plastic_updates > 0
    loihi = estimate(counts, hardware="loihi")
    items = [i for i in loihi.items if "synaptic_update" in i.operation
             or "synaptic update" in i.operation]
    assert items and items[0].count == counts.projections[items[0].component].plastic_updates
    cpu = estimate(counts, hardware="spinnaker")
    assert any("Plasticity updates are not charged" in n for n in cpu.assumptions)


@pytest.mark.parametrize("kw,message", [
    (dict(delay=ns.random.uniform(1 * ms, 2 * ms)), "delay must be one scalar"),
    (dict(weight=2 * mV), r"within \[0, w_max"),
    (dict(plasticity="stdp"), "plasticity must be None, neurosim.plasticity.STDP"),
])
def test_bad_plastic_connections_are_refused(kw, message):
    net = ns.Network(seed=0)
    src = net.poisson(10, rate=10.0)
    pop = net.lif(2, tau_m=10 * ms, tau_syn=5 * ms, v_rest=0.0, v_th=10 * mV, v_reset=0.0)
    args = dict(weight=0.5 * mV, p=0.5, plasticity=STDP(w_max=1 * mV))
    args.update(kw)
    with pytest.raises(ParameterError, match=message):
        net.connect(src, pop, **args)


@pytest.mark.parametrize("kw,message", [
    (dict(w_max=0.0), "w_max must be > 0"),
    (dict(w_max=1e-3, tau_plus=-1.0), "tau_plus must be > 0 s"),
    (dict(w_max=1e-3, pairing="some"), "pairing must be one of 'all', 'nearest'"),
    (dict(w_max=1e-3, delay_split="both"), "delay_split must be one of"),
])
def test_bad_rule_parameters_are_refused(kw, message):
    with pytest.raises(ParameterError, match=message):
        STDP(**kw)
    with pytest.raises(ParameterError, match=r"U must be in \(0, 1\]"):
        TsodyksMarkram(U=1.5)


def test_results_file_holds_learned_weights_and_weight_traces(tmp_path):
    from neurosim.results import load_results, save_results
    net, pop, exc, inh = _net(RULES["pair-add"])
    wm = net.weight_monitor(exc, indices=[1, 2], interval=1 * ms)
    net.run(20 * ms)
    res = load_results(save_results(tmp_path / "r.npz", net))
    pre, post, w = res.weights[exc.name]
    np.testing.assert_array_equal(w, exc.weight)
    np.testing.assert_array_equal(pre, exc.pre_index)
    trace = res.state[(exc.name, "weight")]
    np.testing.assert_array_equal(trace.values, wm.values)
    np.testing.assert_array_equal(trace.indices, [1, 2])


def test_network_file_plasticity(tmp_path):
    from neurosim.netfile import NetworkFileError, load_network
    text = '''
[network]
dt = "0.1 ms"
seed = 1
duration = "50 ms"

[populations.src]
model = "poisson"
n = 200
rate = "80 Hz"

[populations.out]
model = "lif"
n = 3
tau_m = "10 ms"
tau_syn = "5 ms"
v_rest = "-70 mV"
v_th = "-54 mV"
v_reset = "-60 mV"

[[connections]]
pre = "src"
post = "out"
weight = "0.5 mV"
p = 0.8
plasticity = {rule = "stdp", w_max = "1 mV", lam = 0.02, pairing = "nearest"}
'''
    path = tmp_path / "net.toml"
    path.write_text(text)
    nf = load_network(path)
    proj = nf.net.projections[0]
    assert isinstance(proj.plasticity, STDP) and proj.plasticity.w_max == pytest.approx(1 * mV)
    assert proj.plasticity.pairing == "nearest"
    nf.net.run(nf.duration)
    assert not np.all(proj.weight == 0.5 * mV)
    path.write_text(text.replace('rule = "stdp"', 'rule = "hebb"'))
    with pytest.raises(NetworkFileError, match="plasticity: must be a table with rule = one"):
        load_network(path)
    path.write_text(text.replace('lam = 0.02', 'lam = -1'))
    with pytest.raises((NetworkFileError, ParameterError), match="lam must be >= 0"):
        load_network(path)
