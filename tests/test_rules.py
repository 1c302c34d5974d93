"""Connection rules and random parameters (issue 17, points 2 and 3): counts exact, draws
against their laws, same network for any thread count, engine = reference."""

import numpy as np
import pytest
from scipy import stats

import neurosim as ns
from neurosim.units import Hz, mV, ms

from conftest import spikes_of

LIF = dict(tau_m=20 * ms, tau_syn=5 * ms, v_rest=-70 * mV, v_th=-55 * mV, v_reset=-70 * mV)


def _pops(n_a=300, n_b=200, seed=1):
    net = ns.Network(seed=seed)
    return net, net.lif(n_a, **LIF), net.lif(n_b, **LIF)


def _chi2_uniform(counts):
    return stats.chisquare(counts).pvalue


@pytest.mark.parametrize("autapses", [True, False])
def test_outdegree_exact_distinct_and_uniform(autapses):
    net, a, b = _pops()
    k = 40
    proj = net.connect(a, a, weight=1 * mV, outdegree=k, autapses=autapses)
    assert np.all(np.bincount(proj.pre_index, minlength=a.n) == k)
    pairs = proj.pre_index.astype(np.int64) * a.n + proj.post_index
    assert np.unique(pairs).size == pairs.size
    assert autapses or not np.any(proj.pre_index == proj.post_index)
    assert _chi2_uniform(np.bincount(proj.post_index, minlength=a.n)) > 1e-3


@pytest.mark.parametrize("multapses", [True, False])
def test_total_number_exact_and_uniform_over_pairs(multapses):
    net, a, b = _pops()
    n = 20_000
    proj = net.connect(a, b, weight=1 * mV, total=n, multapses=multapses)
    assert proj.n_synapses == n
    pairs = proj.pre_index.astype(np.int64) * b.n + proj.post_index
    if not multapses:
        assert np.unique(pairs).size == n
    assert _chi2_uniform(np.bincount(proj.post_index, minlength=b.n)) > 1e-3
    assert _chi2_uniform(np.bincount(proj.pre_index, minlength=a.n)) > 1e-3
    # per-target counts: binomial(n, 1/n_post) for multapses (variance n p (1-p))
    c = np.bincount(proj.post_index, minlength=b.n)
    var = n / b.n * (1 - 1 / b.n) * (1 if multapses else (a.n * b.n - n) / (a.n * b.n - 1))
    assert c.var() == pytest.approx(var, rel=0.25)


def test_total_number_without_multapses_can_fill_every_pair():
    net, a, b = _pops(20, 10)
    proj = net.connect(a, b, weight=1 * mV, total=200)
    assert np.unique(proj.pre_index * 10 + proj.post_index).size == 200


def test_total_number_without_autapses():
    net, a, _ = _pops(50, 10)
    proj = net.connect(a, a, weight=1 * mV, total=5000, multapses=True, autapses=False)
    assert not np.any(proj.pre_index == proj.post_index)


def test_one_to_one_and_pairs():
    net, a, b = _pops(30, 30)
    one = net.connect(a, b, weight=1 * mV, one_to_one=True)
    np.testing.assert_array_equal(one.pre_index, np.arange(30))
    np.testing.assert_array_equal(one.post_index, np.arange(30))
    pre, post = [0, 0, 5, 29], [3, 3, 7, 0]
    lst = net.connect(a, b, weight=np.array([1, 2, 3, 4]) * mV, pairs=(pre, post),
                      delay=np.array([1, 2, 3, 4]) * ms)
    np.testing.assert_array_equal(lst.pre_index, pre)
    np.testing.assert_array_equal(lst.post_index, post)      # the multapse is kept
    np.testing.assert_allclose(lst.weight, np.array([1, 2, 3, 4]) * mV)
    np.testing.assert_allclose(lst.delay, np.array([1, 2, 3, 4]) * ms)


@pytest.mark.parametrize("dist,law", [
    (ns.random.normal(2 * mV, 0.5 * mV), stats.norm(2e-3, 0.5e-3)),
    (ns.random.uniform(-1 * mV, 3 * mV), stats.uniform(-1e-3, 4e-3)),
    (ns.random.lognormal(np.log(1e-3), 0.4), stats.lognorm(0.4, scale=1e-3)),
    (ns.random.normal(2 * mV, 1 * mV, low=1 * mV, high=2.5 * mV),
     stats.truncnorm(-1, 0.5, loc=2e-3, scale=1e-3)),
])
def test_random_weights_follow_their_law(dist, law):
    net, a, b = _pops()
    proj = net.connect(a, b, weight=dist, p=0.3)
    assert stats.kstest(proj.weight, law.cdf).pvalue > 1e-3


def test_clipped_weights_sit_on_the_bounds():
    net, a, b = _pops()
    proj = net.connect(a, b, weight=ns.random.normal(0, 1 * mV, low=0, bounds="clip"), p=0.3)
    w = proj.weight
    assert w.min() == 0.0 and np.mean(w == 0) == pytest.approx(0.5, abs=0.02)


def test_random_delays_are_rounded_to_the_grid():
    net, a, b = _pops()
    proj = net.connect(a, b, weight=1 * mV, p=0.3,
                       delay=ns.random.normal(1.5 * ms, 0.75 * ms, low=0.1 * ms))
    steps = proj.delay / net.dt
    np.testing.assert_allclose(steps, np.round(steps), atol=1e-9)
    assert proj.delay.min() >= 0.1 * ms - 1e-12
    assert proj.delay.mean() == pytest.approx(stats.truncnorm(
        (0.1 - 1.5) / 0.75, np.inf, loc=1.5, scale=0.75).mean() * ms, rel=0.02)


def _rule_net(backend, threads, seed=11):
    net = ns.Network(seed=seed, backend=backend, threads=threads)
    src = net.poisson(80, rate=30 * Hz)
    a = net.lif(120, **LIF)
    b = net.lif(90, **LIF, reset="subtract", bias=12 * mV)
    net.connect(src, a, weight=ns.random.normal(3 * mV, 1 * mV), outdegree=20,
                delay=ns.random.uniform(0.5 * ms, 4 * ms))
    net.connect(a, b, weight=ns.random.lognormal(np.log(1e-3), 0.5), total=3000,
                multapses=True, delay=ns.random.normal(1.5 * ms, 0.75 * ms, low=0.1 * ms))
    net.connect(b, a, weight=ns.random.normal(-2 * mV, 1 * mV, high=0), total=1500)
    net.connect(a, a, weight=-0.5 * mV, one_to_one=True, delay=1 * ms)
    rng = np.random.default_rng(0)
    net.connect(b, b, weight=rng.normal(0, 1, 50) * mV,
                pairs=(rng.integers(0, 90, 50), rng.integers(0, 90, 50)))
    return net


def test_same_network_and_spikes_for_any_threads_and_backend():
    runs = []
    for backend, threads in (("numba", 1), ("numba", 3), ("reference", 1)):
        net = _rule_net(backend, threads)
        mons = [net.spike_monitor(p) for p in net.populations]
        net.run(60 * ms)
        net.run(40 * ms)
        runs.append((net, [spikes_of(m) for m in mons]))
    (ref, ref_spikes), others = runs[0], runs[1:]
    assert sum(s.shape[1] for s in ref_spikes) > 100
    for net, spikes in others:
        for p, q in zip(ref.projections, net.projections):
            np.testing.assert_array_equal(p.pre_index, q.pre_index)
            np.testing.assert_array_equal(p.weight, q.weight)
            np.testing.assert_array_equal(p.delay_steps, q.delay_steps)
        for x, y in zip(ref_spikes, spikes):
            np.testing.assert_array_equal(x, y)


def test_network_file_rules_and_distributions(tmp_path):
    path = tmp_path / "net.toml"
    path.write_text("""
[network]
seed = 3
[populations.a]
model = "lif"
n = 100
tau_m = "20 ms"
tau_syn = "5 ms"
v_rest = "-70 mV"
v_th = "-55 mV"
v_reset = "-70 mV"
[[connections]]
pre = "a"
post = "a"
weight = {normal = ["1 mV", "0.1 mV"], low = "0 mV"}
delay = {normal = ["1.5 ms", "0.75 ms"], low = "0.1 ms"}
total = 2000
multapses = true
[[connections]]
pre = "a"
post = "a"
weight = "-1 mV"
outdegree = 10
[[connections]]
pre = "a"
post = "a"
weight = "0.5 mV"
pairs = [[0, 1, 2], [3, 4, 5]]
""")
    net = ns.load_network(path).net
    p0, p1, p2 = net.projections
    assert p0.n_synapses == 2000 and p0.weight.min() >= 0
    assert p0.weight.mean() == pytest.approx(1e-3, rel=0.02)
    assert np.all(np.bincount(p1.pre_index, minlength=100) == 10)
    np.testing.assert_array_equal(p2.post_index, [3, 4, 5])
    text = path.read_text()
    path.write_text(text.replace('["1 mV", "0.1 mV"], low = "0 mV"',
                                 '["1 mA", "0.1 mA"], low = "0 mA"'))
    with pytest.raises(ns.NetworkFileError, match=r"weight must be a voltage.*\(a current\)"):
        ns.load_network(path)
    path.write_text(text.replace('low = "0 mV"', 'low = "0 ms"'))
    with pytest.raises(ns.NetworkFileError, match="different dimensions"):
        ns.load_network(path)


def test_per_neuron_values_from_distributions():
    net = ns.Network(seed=5)
    a = net.lif(5000, **dict(LIF, v_init=ns.random.uniform(-70 * mV, -55 * mV),
                             bias=ns.random.normal(5 * mV, 1 * mV, low=0)))
    assert stats.kstest(a.v, stats.uniform(-70e-3, 15e-3).cdf).pvalue > 1e-3
    assert a.bias.min() >= 0 and a.bias.mean() == pytest.approx(5e-3, rel=0.01)
    again = ns.Network(seed=5).lif(5000, **dict(LIF, v_init=ns.random.uniform(-70 * mV,
                                                                             -55 * mV)))
    np.testing.assert_array_equal(a.v, again.v)


# ------------------------------------------------------- streamed lowering (issue 17, point 4)
def _plan_synapses(net):
    """Every synapse of the plan as sorted (source node, target node, delay, channel, weight)
    rows, read back from the CSR blocks."""
    conn, out = net.plan.conn, []
    for q in range(conn.indptr.shape[0]):
        for b in range(conn.block_delay.shape[0]):
            ptr = conn.indptr[q, b]
            for src in range(ptr.shape[0] - 1):
                for s in range(ptr[src], ptr[src + 1]):
                    d = conn.block_delay[b] if conn.block_delay[b] >= 0 else conn.syn_delay[s]
                    w = conn.weight[s] if conn.weight.size else conn.block_w[b]
                    out.append((src, conn.target[s], d, conn.block_inh[b], w))
    return sorted(out)


def _oracle_synapses(net):
    """The same rows from the projections' own (materialized) synapses."""
    start = net.plan.pop_node_start
    out = []
    for p in net.projections:
        d = np.broadcast_to(np.asarray(p.delay_steps), (p.n_synapses,))
        for i, j, w, dd in zip(p.pre_index, p.post_index, p.weight, d):
            out.append((start[p.pre] + i, start[p.post] + j, dd, int(w < 0), w))
    return sorted(out)


@pytest.mark.parametrize("threads,blocks", [(1, None), (3, None), (2, 0)])
def test_streamed_plan_holds_exactly_the_projections_synapses(monkeypatch, threads, blocks):
    """The build draws each rule's synapses twice (count, then place) in chunks; the plan
    must hold exactly the synapses the projections give when read, with their delays,
    channels and weights, for any chunk size, thread count and block layout."""
    import neurosim.compile.plan as plan_mod
    from neurosim import rules as pr
    monkeypatch.setattr(pr, "DRAW_CHUNK", 257)
    if blocks is not None:
        monkeypatch.setattr(plan_mod, "MAX_DELAY_BLOCKS", blocks)
    net = _rule_net("numba", threads)
    net.connect(net.populations[1], net.populations[2],
                weight=ns.random.normal(0, 1 * mV), p=0.05,     # both channels
                delay=ns.random.uniform(0, 20 * ms))           # 200 distinct delays
    net.build()
    assert all(p._pre is None for p in net.projections if p.rule != "pairs")   # not stored
    got = _plan_synapses(net)
    assert len(got) == sum(p.n_synapses for p in net.projections)
    assert got == _oracle_synapses(net)


def test_reading_synapses_before_the_build_changes_nothing():
    """Synapses read before the build are kept and lowered from there: the plan and the
    spikes are those of a network whose synapses were never read."""
    runs = []
    for read in (False, True):
        net = _rule_net("numba", 1)
        if read:
            for p in net.projections:
                p.pre_index, p.weight, p.delay
        mons = [net.spike_monitor(p) for p in net.populations]
        net.run(50 * ms)
        runs.append((net.plan.conn, [spikes_of(m) for m in mons]))
    (a, sa), (b, sb) = runs
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    for x, y in zip(sa, sb):
        np.testing.assert_array_equal(x, y)


def test_sampler_values_do_not_depend_on_how_they_are_taken():
    d = ns.random.normal(0.0, 1.0, low=-0.5, high=2.0)
    one = ns.random.Sampler(d, np.random.default_rng(3)).take(30_000)
    s = ns.random.Sampler(d, np.random.default_rng(3))
    pieces = np.concatenate([s.take(k) for k in (1, 4095, 2, 9000, 16_902)])
    np.testing.assert_array_equal(one, pieces)
    assert one.min() >= -0.5 and one.max() <= 2.0


def test_delay_distribution_must_be_bounded_below_and_bounds_hold_probability():
    net, a, b = _pops()
    with pytest.raises(ns.ParameterError, match="low="):
        net.connect(a, b, weight=1 * mV, p=0.1, delay=ns.random.normal(1 * ms, 1 * ms))
    with pytest.raises(ns.ParameterError, match="after 1000 redraws"):
        net.connect(a, b, weight=1 * mV, p=0.1,
                    delay=ns.random.normal(1 * ms, 1e-6 * ms, low=5 * ms))
    assert net.projections == []


def test_drawing_ahead_in_a_thread_gives_the_same_plan_and_stops_on_errors(monkeypatch):
    """With threads > 1 the build draws the next chunk in a background thread; the plan is
    the one-thread plan (partitioned), and an error raised while drawing reaches the caller
    with the network unbuilt."""
    from neurosim import rules as pr
    monkeypatch.setattr(pr, "DRAW_CHUNK", 301)
    one, two = _rule_net("numba", 1), _rule_net("numba", 2)
    assert _plan_synapses(one) == _plan_synapses(two)
    net = _rule_net("numba", 2)
    net.connect(net.populations[1], net.populations[2], weight=1 * mV, p=0.5,
                delay=ns.random.normal(5 * ms, 1 * ms, low=0))
    import neurosim.projections as pj
    real = pj.ds_steps

    def failing(values, dt):
        if values.size and values.max() > 0.006:   # the last projection's delays
            raise ns.ParameterError("delay: drawn from a broken stream")
        return real(values, dt)

    monkeypatch.setattr(pj, "ds_steps", failing)
    with pytest.raises(ns.ParameterError, match="broken stream"):
        net.build()
    assert not net.built
