"""Plastic synapses (neurosim.plasticity) against Brian2 written with the same rules and the
same event order (neurosim.export.brian2): pair STDP (additive, multiplicative, fractional
exponents; all-to-all and nearest pairing; axonal split in Brian2's order and dendritic split
in NEST's), triplet STDP with a3_minus > 0, Tsodyks-Markram with and without facilitation,
inhibitory plastic projections, recurrent static and plastic synapses, delays 0 and > 0,
exp, delta and conductance targets.

Every network is driven by Poisson spike trains given as spike sources (the same spikes in
both simulators) and runs 300 ms. Checked: identical spikes, and the final weights equal to
1e-12 relative. They differ in the last bits only: Brian2's NumPy exp and power differ from
the C library's (neurosim's) in the last bit for about a quarter of the arguments, and
neurosim keeps the traces per neuron (multiplied by the decay at more times than Brian2's
per-synapse traces). Tsodyks-Markram's state is decayed at the same times in both, so with
``libm=True`` (the rule's exp evaluated by the C library) it is equal bit for bit. Every
test asserts that neurons spike and weights move (for Tsodyks-Markram: that the efficacies
change the spikes), so none can pass vacuously.
"""
import numpy as np
import pytest

import neurosim as ns
from neurosim.plasticity import STDP, TripletSTDP, TsodyksMarkram
from neurosim.units import mV, ms, nS, pF

pytest.importorskip("brian2")
from neurosim.export import run_in_brian2, to_brian2  # noqa: E402
from neurosim.export.brian2 import _initial_plastic_weights  # noqa: E402

pytestmark = pytest.mark.brian2

DT = 0.1 * ms
T = 300 * ms
W_MAX = 2 * mV


def _poisson_source(net, rng, n, rate, name):
    """A spike source of ``n`` Poisson trains (``rate`` Hz) on the step grid."""
    steps, idx = [], []
    n_steps = int(round(T / DT))
    for i in range(n):
        s = np.unique(np.floor(np.cumsum(rng.exponential(1.0 / rate, int(3 * rate * T) + 20))
                               / DT).astype(np.int64))
        s = s[s < n_steps]
        steps.append(s)
        idx.append(np.full(s.size, i))
    return net.spike_source(n, times=np.concatenate(steps) * DT, indices=np.concatenate(idx),
                            name=name)


def _lif(net, rng, n, synapse="exp", convention="brian2", name="p"):
    kw = dict(tau_m=rng.uniform(8, 15, n) * ms, v_rest=-70 * mV, v_th=-54 * mV,
              v_reset=-60 * mV, t_ref=np.resize([0.0, 1.0, 2.0], n) * ms,
              v_init=rng.uniform(-70, -55, n) * mV, bias=rng.uniform(13, 17, n) * mV,
              synapse=synapse, convention=convention, name=name)
    if synapse == "cond_exp":
        kw.update(tau_syn=(5 * ms, 10 * ms), e_exc=0.0, e_inh=-80 * mV, c_m=200 * pF)
    elif synapse != "delta":
        kw.update(tau_syn=(rng.uniform(3, 6) * ms, 8 * ms))
    return net.lif(n, **kw)


def _network(rule, delay, seed=0, synapse="exp", inh_rule=None, recurrent_rule=None,
             convention="brian2", w_max=W_MAX, backend="numba", inh_scale=1.0):
    """40 Poisson trains (25 Hz) onto 8 LIF neurons through a plastic projection (p = 0.8,
    weights uniform in [0.2, 0.8] w_max, delay ``delay``), static recurrent synapses (p =
    0.3, 0.5 ms); optionally a plastic inhibitory projection from 20 more trains
    (``inh_rule``, p = 0.6, weights ``inh_scale`` times uniform in [-0.8, -0.2] w_max,
    delay 0.3 ms) and a plastic recurrent one (``recurrent_rule``, 0.2 ms).
    Returns (net, population, plastic projections)."""
    rng = np.random.default_rng(seed)
    net = ns.Network(dt=DT, seed=seed, backend=backend)
    src = _poisson_source(net, rng, 40, 25.0, "src")
    pop = _lif(net, rng, 8, synapse, convention)
    if synapse == "cond_exp":
        pop.bias = rng.uniform(12, 15, 8) * mV
    projs = [net.connect(src, pop, weight=ns.random.uniform(0.2 * w_max, 0.8 * w_max), p=0.8,
                         delay=delay, plasticity=rule, name="exc")]
    static = 0.05 * nS if synapse == "cond_exp" else 0.5 * mV
    net.connect(pop, pop, weight=static, p=0.3, delay=0.5 * ms)
    if inh_rule is not None:
        isrc = _poisson_source(net, rng, 20, 30.0, "isrc")
        lo, hi = -0.8 * w_max * inh_scale, -0.2 * w_max * inh_scale
        projs.append(net.connect(isrc, pop, weight=ns.random.uniform(lo, hi),
                                 p=0.6, delay=0.3 * ms, plasticity=inh_rule, name="inh"))
    if recurrent_rule is not None:
        projs.append(net.connect(pop, pop, weight=0.3 * w_max, p=0.4, delay=0.2 * ms,
                                 plasticity=recurrent_rule, name="rec"))
    return net, pop, projs


def _compare(net, pop, projs, libm=False, exact=False, min_spikes=60):
    """Run in neurosim and Brian2; assert identical spikes and final weights (to 1e-12
    relative, or bit for bit with ``exact``). Returns (spike monitor, initial weights)."""
    spk = net.spike_monitor(pop)
    net.run(T)
    w0 = {p.name: _initial_plastic_weights(net, p) for p in projs}
    spikes, weights = run_in_brian2(net, T, weights=True, libm=libm)
    steps, idx = spikes[pop.name]
    assert spk.num_spikes >= min_spikes, spk.num_spikes
    assert np.count_nonzero(spk.counts) == pop.n, spk.counts       # every neuron spikes
    np.testing.assert_array_equal(spk.steps, steps)
    np.testing.assert_array_equal(spk.indices, idx)
    assert list(weights) == [p.name for p in projs]
    for p in projs:
        ours, theirs = p.weight, weights[p.name]
        assert theirs.shape == ours.shape == (p.n_synapses,)
        if exact:
            np.testing.assert_array_equal(theirs, ours, err_msg=p.name)
        else:
            w_max = getattr(p.plasticity, "w_max", np.abs(ours).max())
            np.testing.assert_allclose(theirs, ours, rtol=1e-12, atol=1e-13 * w_max,
                                       err_msg=p.name)
    return spk, w0


def _assert_learned(proj, w0, frac=0.5):
    """A real weight change: most synapses moved, some by 10 % of w_max or more."""
    w_max = proj.plasticity.w_max
    moved = np.abs(proj.weight - w0)
    assert np.mean(moved > 1e-6 * w_max) > frac, np.mean(moved > 1e-6 * w_max)
    assert moved.max() > 0.1 * w_max, moved.max() / w_max


PAIR = dict(w_max=W_MAX, lam=0.04, alpha=1.1, tau_plus=15 * ms, tau_minus=25 * ms)

CASES = {
    "pair-add-d0": (STDP(**PAIR), 0.0),
    "pair-add-axonal": (STDP(**PAIR), 1 * ms),
    "pair-mult-nearest": (STDP(**PAIR, mu_plus=1.0, mu_minus=1.0, pairing="nearest"),
                          0.5 * ms),
    "pair-fractional-nearest-dendritic": (
        STDP(**PAIR, mu_plus=0.5, mu_minus=0.3, pairing="nearest", delay_split="dendritic"),
        0.7 * ms),
    "pair-add-dendritic": (STDP(**PAIR, delay_split="dendritic"), 1 * ms),
    "pair-mult-dendritic-d0": (STDP(**PAIR, mu_plus=1.0, mu_minus=1.0,
                                    delay_split="dendritic"), 0.0),
    "triplet-d0": (TripletSTDP(w_max=W_MAX, a2_plus=0.02 * W_MAX, a3_plus=0.03 * W_MAX,
                               a2_minus=0.03 * W_MAX, a3_minus=0.01 * W_MAX), 0.0),
    "triplet-delay": (TripletSTDP(w_max=W_MAX, a2_plus=0.02 * W_MAX, a3_plus=0.03 * W_MAX,
                                  a2_minus=0.03 * W_MAX, a3_minus=0.01 * W_MAX,
                                  tau_x=80 * ms, tau_y=60 * ms), 1.5 * ms),
}


@pytest.mark.parametrize("case", list(CASES))
def test_stdp_matches_brian2(case):
    rule, delay = CASES[case]
    net, pop, projs = _network(rule, delay, seed=list(CASES).index(case))
    _, w0 = _compare(net, pop, projs)
    _assert_learned(projs[0], w0["exc"])


def test_stdp_with_libm_functions_matches_brian2():
    """The C library's exp and pow in Brian2 (fractional exponents: pow is called)."""
    rule, delay = CASES["pair-fractional-nearest-dendritic"]
    net, pop, projs = _network(rule, delay, seed=31)
    _, w0 = _compare(net, pop, projs, libm=True)
    _assert_learned(projs[0], w0["exc"])


def test_inhibitory_and_recurrent_plastic_projections_match_brian2():
    """Three plastic projections with three rules (excitatory triplet from the sources,
    inhibitory pair STDP with the dendritic split, recurrent nearest pair STDP between the
    LIF neurons): magnitudes learn and signs stay; each projection's pre and post pathways
    run in creation order."""
    triplet = TripletSTDP(w_max=W_MAX, a2_plus=0.02 * W_MAX, a3_plus=0.03 * W_MAX,
                          a2_minus=0.03 * W_MAX, a3_minus=0.01 * W_MAX)
    inh = STDP(**PAIR, delay_split="dendritic", mu_minus=1.0)
    rec = STDP(**PAIR, pairing="nearest")
    net, pop, projs = _network(triplet, 0.8 * ms, seed=21, inh_rule=inh, recurrent_rule=rec)
    _, w0 = _compare(net, pop, projs)
    for p in projs:
        _assert_learned(p, w0[p.name], frac=0.3)
    assert np.all(projs[1].weight <= 0) and np.any(projs[1].weight < 0)


@pytest.mark.parametrize("libm", [False, True], ids=["numpy", "libm"])
@pytest.mark.parametrize("tau_facil,delay", [(0.0, 1 * ms), (60 * ms, 0.0)],
                         ids=["depression-delay", "facilitation-d0"])
def test_tsodyks_markram_matches_brian2(tau_facil, delay, libm):
    """Weights stay, the efficacies u x change: the network spikes far less than with static
    synapses (it would pass vacuously otherwise). With ``libm``, bit for bit."""
    rule = TsodyksMarkram(U=0.3, tau_rec=150 * ms, tau_facil=tau_facil)
    net, pop, projs = _network(rule, delay, seed=7, w_max=4 * W_MAX, inh_scale=0.3,
                               inh_rule=TsodyksMarkram(U=0.5, tau_rec=80 * ms,
                                                       tau_facil=tau_facil))
    tm, _ = _compare(net, pop, projs, libm=libm, exact=libm, min_spikes=60)
    static, spop, _ = _network(None, delay, seed=7, w_max=4 * W_MAX)
    sspk = static.spike_monitor(spop)
    static.run(T)
    assert sspk.num_spikes > 1.5 * tm.num_spikes, (sspk.num_spikes, tm.num_spikes)


@pytest.mark.parametrize("synapse,convention", [("delta", "brian2"), ("cond_exp", "brian2"),
                                                ("exp", "nest")])
def test_plastic_synapses_into_other_models_match_brian2(synapse, convention):
    """Delta synapses (v += w, lost while refractory), conductances (w_max in siemens) and
    NEST's threshold and refractoriness convention."""
    if synapse == "cond_exp":
        w_max = 3 * nS
        rule = STDP(w_max=w_max, lam=0.04, alpha=1.1, delay_split="dendritic")
    else:
        w_max = 1.5 * mV
        rule = STDP(w_max=w_max, lam=0.04, alpha=1.1, mu_plus=1.0, mu_minus=1.0)
    net, pop, projs = _network(rule, 0.6 * ms, seed=11, synapse=synapse, w_max=w_max,
                               convention=convention)
    _, w0 = _compare(net, pop, projs, min_spikes=40)
    _assert_learned(projs[0], w0["exc"])


def test_reference_backend_and_export_before_the_run_match_brian2():
    """Brian2 run first (the exporter reads the weights before any build), then neurosim's
    NumPy reference backend."""
    rule = STDP(**PAIR, mu_minus=1.0, delay_split="dendritic")
    net, pop, projs = _network(rule, 1 * ms, seed=5, backend="reference")
    w0 = np.array(projs[0].weight, copy=True)
    spikes, weights = run_in_brian2(net, T, weights=True)
    spk = net.spike_monitor(pop)
    net.run(T)
    assert spk.num_spikes >= 60
    np.testing.assert_array_equal(spk.steps, spikes["p"][0])
    np.testing.assert_array_equal(spk.indices, spikes["p"][1])
    np.testing.assert_allclose(weights["exc"], projs[0].weight, rtol=1e-12,
                               atol=1e-13 * W_MAX)
    _assert_learned(projs[0], w0)


def test_brian2_schedule_runs_plastic_pathways_in_neurosim_order():
    """In the synapses slot: static synapses, then projection by projection in creation
    order its pathways in neurosim's order (axonal: pre, post; dendritic, NEST's order:
    post, pre, then the spike counts; Tsodyks-Markram: pre). Brian2's default would run
    every pre pathway before every post pathway."""
    net, pop, projs = _network(STDP(**PAIR), 1 * ms, seed=3,
                               inh_rule=STDP(**PAIR, delay_split="dendritic"),
                               recurrent_rule=TsodyksMarkram())
    bnet, _, plastic = to_brian2(net, weights=True)
    syn = [o for o in bnet.sorted_objects if o.when == "synapses"]
    expect = {"exc": ["pre", "post"], "inh": ["post", "pre", "post_count", "pre_count"],
              "rec": ["pre"]}
    order = []
    for p in projs:
        pe = plastic[p.name]
        assert list(pe.pathways) == expect[p.name]
        order += [getattr(pe.synapses, name).name for name in pe.pathways]
    names = [o.name for o in syn]
    assert names[-len(order):] == order
    static = syn[:-len(order)]
    assert static and all(o.order < 1 for o in static)
    assert [plastic[p.name].lag for p in projs] == [0, 3, 0]         # inh: 0.3 ms
    inh = plastic["inh"].synapses
    delays = [np.asarray(getattr(inh, n).delay).item() / DT for n in expect["inh"]]
    assert delays == pytest.approx([6, 3, 6, 3])


@pytest.mark.parametrize("how", ["matrix", "read"])
def test_inhibitory_plastic_projection_with_materialised_weights(how):
    """Brian2 (the exporter takes the channel from the weights' sign) against neurosim."""
    rng = np.random.default_rng(9)
    net = ns.Network(dt=DT, seed=9)
    src = _poisson_source(net, rng, 40, 25.0, "src")
    isrc = _poisson_source(net, rng, 20, 30.0, "isrc")
    pop = _lif(net, rng, 8)
    exc = net.connect(src, pop, weight=ns.random.uniform(0.2 * W_MAX, 0.8 * W_MAX), p=0.8,
                      delay=0.5 * ms, plasticity=STDP(**PAIR))
    if how == "matrix":
        w = -rng.uniform(0.05, 0.25, (20, 8)) * W_MAX
        inh = net.connect(isrc, pop, weight=w, delay=0.3 * ms, plasticity=STDP(**PAIR))
    else:
        inh = net.connect(isrc, pop, weight=ns.random.uniform(-0.3 * W_MAX, -0.1 * W_MAX),
                          p=0.6, delay=0.3 * ms, plasticity=STDP(**PAIR))
        assert np.all(inh.weight < 0)             # read before the build
    _, w0 = _compare(net, pop, [exc, inh])
    _assert_learned(inh, w0[inh.name], frac=0.3)
