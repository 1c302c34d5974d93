"""Numba engine vs the NumPy reference, determinism, chunking, float32, counters."""

import os

import numpy as np
import pytest

import neurosim as ns
from neurosim.units import Hz, mV, ms

from conftest import random_network, spikes_of


def _run(net, duration=150 * ms, **kw):
    mons = [net.spike_monitor(p) for p in net.populations]
    vms = [net.state_monitor(p, "v", indices=[0, 3]) for p in net.populations if p.kind == "lif"]
    net.run(duration, **kw)
    return [spikes_of(m) for m in mons], [m.values for m in vms]


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("poisson", [False, True])
def test_numba_equals_reference(seed, poisson):
    s_n, v_n = _run(random_network(seed, "numba", poisson=poisson))
    s_r, v_r = _run(random_network(seed, "reference", poisson=poisson))
    total = sum(s.shape[1] for s in s_n)
    assert total > 50                       # the network is not silent
    for a, b in zip(s_n, s_r):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(v_n, v_r):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


def test_same_seed_same_result_and_different_seed_differs():
    a, _ = _run(random_network(5, poisson=True))
    b, _ = _run(random_network(5, poisson=True))
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    net = random_network(5, poisson=True)
    net2 = ns.Network(seed=6)
    assert net.seed != net2.seed


def test_poisson_depends_on_seed():
    def counts(seed):
        net = ns.Network(seed=seed)
        p = net.poisson(n=100, rate=50 * Hz)
        m = net.spike_monitor(p)
        net.run(100 * ms)
        return spikes_of(m)
    assert not np.array_equal(counts(1), counts(2))
    np.testing.assert_array_equal(counts(1), counts(1))


@pytest.mark.parametrize("chunk", [1, 7, 500])
def test_run_in_pieces_equals_one_run(chunk):
    whole, vw = _run(random_network(11, poisson=True), 120 * ms)
    net = random_network(11, poisson=True)
    mons = [net.spike_monitor(p) for p in net.populations]
    vms = [net.state_monitor(p, "v", indices=[0, 3]) for p in net.populations if p.kind == "lif"]
    net.run(50 * ms, chunk_steps=chunk)
    net.run(70 * ms, chunk_steps=chunk)
    assert net.t == pytest.approx(120 * ms)
    for a, m in zip(whole, mons):
        np.testing.assert_array_equal(a, spikes_of(m))
    for a, m in zip(vw, vms):
        np.testing.assert_array_equal(a, m.values)


def test_spike_buffer_growth():
    """More recorded spikes than the initial buffer: nothing is lost."""
    net = ns.Network(seed=7)
    p = net.poisson(n=2000, rate=4000 * Hz)
    m = net.spike_monitor(p)
    net.run(20 * ms, chunk_steps=200)
    full = ns.Network(seed=7)
    q = full.poisson(n=2000, rate=4000 * Hz)
    m2 = full.spike_monitor(q)
    full.run(20 * ms, chunk_steps=1)
    assert m.num_spikes > (1 << 16)
    np.testing.assert_array_equal(spikes_of(m), spikes_of(m2))


def test_poisson_rate_statistics():
    for rate in (5 * Hz, 200 * Hz):
        net = ns.Network(seed=3)
        p = net.poisson(n=500, rate=rate)
        h = net.poisson(n=500, rate=np.full(500, rate))
        m, mh = net.spike_monitor(p), net.spike_monitor(h)
        net.run(1.0)
        for mon in (m, mh):
            expected = 500 * rate * 1.0
            assert abs(mon.num_spikes - expected) < 5 * np.sqrt(expected)
        # each neuron's count is Binomial(n_steps, rate*dt): index dispersion ~1
        c = m.counts
        assert 0.8 < c.var() / c.mean() < 1.2


def test_float32_agrees_with_float64_statistically():
    from neurosim.nets import cuba
    rates = {}
    for dtype in ("float64", "float32"):
        net = ns.Network(seed=2, dtype=dtype)
        exc, inh = cuba(net, N=4000)
        m = net.spike_monitor(exc)
        net.run(500 * ms)
        assert net.plan.init.v.dtype == np.dtype(dtype)
        rates[dtype] = m.rate()
    assert rates["float64"] > 1.0
    assert abs(rates["float32"] - rates["float64"]) / rates["float64"] < 0.05


def test_spike_counts_in_state_match_monitors():
    net = random_network(4, poisson=True)
    mons = {p: net.spike_monitor(p) for p in net.populations}
    net.run(100 * ms)
    for p, m in mons.items():
        np.testing.assert_array_equal(net.spike_counts(p), m.counts)
    expected = sum(int((mons[pr.pre].counts * pr.fan_out()).sum()) for pr in net.projections)
    assert net.synaptic_events() == expected > 0


def test_monitor_subset_and_late_monitor():
    net = random_network(8)
    a = net.populations[1]
    full = net.spike_monitor(a)
    part = net.spike_monitor(a, indices=[1, 2, 30])
    net.run(60 * ms)
    late = net.spike_monitor(a)
    vm = net.state_monitor(a, "v", indices=[2])
    net.run(60 * ms)
    sel = np.isin(full.indices, [1, 2, 30])
    np.testing.assert_array_equal(part.indices, full.indices[sel])
    np.testing.assert_array_equal(part.times, full.times[sel])
    after = full.steps >= 600
    np.testing.assert_array_equal(late.steps, full.steps[after])
    assert vm.t[0] == pytest.approx(60 * ms) and vm.values.shape == (600, 1)


def test_reset_restarts_identically():
    net = random_network(9, poisson=True)
    mons = [net.spike_monitor(p) for p in net.populations]
    net.run(50 * ms)
    first = [spikes_of(m) for m in mons]
    net.reset()
    assert net.t == 0
    net.run(50 * ms)
    for a, m in zip(first, mons):
        np.testing.assert_array_equal(a, spikes_of(m))


def test_bias_can_change_between_runs():
    net = ns.Network()
    pop = net.lif(n=2, tau_m=10 * ms, tau_syn=5 * ms, v_rest=-70 * mV, v_th=-50 * mV,
                  v_reset=-70 * mV)
    sp = net.spike_monitor(pop)
    net.run(50 * ms)
    assert sp.num_spikes == 0
    pop.bias = [30 * mV, 0.0]
    net.run(50 * ms)
    assert sp.counts[0] > 0 and sp.counts[1] == 0
    np.testing.assert_allclose(pop.bias, [30 * mV, 0.0])


def test_random_connectivity_rules():
    net = ns.Network(seed=4)
    a = net.lif(n=300, tau_m=10 * ms, tau_syn=5 * ms, v_rest=0.0, v_th=1.0, v_reset=0.0)
    b = net.lif(n=200, tau_m=10 * ms, tau_syn=5 * ms, v_rest=0.0, v_th=1.0, v_reset=0.0)
    k = net.connect(a, b, weight=0.1, indegree=25)
    assert np.all(np.bincount(k.post_index, minlength=200) == 25)
    pairs = k.pre_index.astype(np.int64) * 200 + k.post_index
    assert np.unique(pairs).size == pairs.size          # no multapses by default
    auto = net.connect(a, a, weight=0.1, indegree=299, autapses=False)
    assert not np.any(auto.pre_index == auto.post_index)
    pr = net.connect(a, b, weight=0.1, p=0.1)
    n = 300 * 200
    assert abs(pr.n_synapses - 0.1 * n) < 5 * np.sqrt(n * 0.1 * 0.9)
    all2all = net.connect(b, a, weight=0.2)
    assert all2all.n_synapses == 200 * 300
    noauto = net.connect(b, b, weight=0.1, p=1.0, autapses=False)
    assert noauto.n_synapses == 200 * 199


def test_sparse_and_dense_weights_equivalent():
    import scipy.sparse as sp
    rng = np.random.default_rng(0)
    w = rng.normal(0, 2, (20, 30)) * mV * (rng.random((20, 30)) < 0.3)
    out = []
    for form in (w, sp.csr_matrix(w), sp.coo_matrix(w)):
        net = ns.Network(seed=1)
        src = net.poisson(n=20, rate=100 * Hz)
        pop = net.lif(n=30, tau_m=10 * ms, tau_syn=5 * ms, v_rest=-60 * mV, v_th=-55 * mV,
                      v_reset=-60 * mV)
        net.connect(src, pop, weight=form)
        m = net.spike_monitor(pop)
        net.run(100 * ms)
        out.append(spikes_of(m))
    assert out[0].shape[1] > 0
    for o in out[1:]:
        np.testing.assert_array_equal(out[0], o)


def test_ctrl_c_stops_at_chunk_boundary_and_keeps_recordings():
    import os
    import signal
    import threading
    net = random_network(2, poisson=True)
    mons = [net.spike_monitor(p) for p in net.populations]
    vm = net.state_monitor(net.populations[1], "v", indices=[0])
    before = signal.getsignal(signal.SIGINT)
    timer = threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    with pytest.warns(UserWarning, match="interrupted"):
        finished = net.run(1000.0, chunk_steps=50)     # far longer than the test waits
    timer.cancel()
    assert not finished and net.interrupted
    steps = int(round(net.t / net.dt))
    assert 0 < steps < int(1000.0 / net.dt) and steps % 50 == 0
    assert vm.values.shape[0] == steps                 # every finished step is kept
    assert signal.getsignal(signal.SIGINT) is before      # handler restored
    # the recordings equal an uninterrupted run of the same length
    ref = random_network(2, poisson=True)
    rmons = [ref.spike_monitor(p) for p in ref.populations]
    ref.run(steps * ref.dt)
    for a, b in zip(mons, rmons):
        np.testing.assert_array_equal(spikes_of(a), spikes_of(b))


@pytest.mark.parametrize("threads", [2, 3, 7])
def test_parallel_identical_to_serial(threads):
    serial, vs = _run(random_network(21, poisson=True))
    par, vp = _run(random_network(21, poisson=True, threads=threads))
    for a, b in zip(serial, par):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(vs, vp):
        np.testing.assert_array_equal(a, b)


def test_parallel_cuba_identical_to_serial():
    from neurosim.nets import cuba
    out = []
    for threads in (1, 2):
        net = ns.Network(seed=3, threads=threads)
        exc, inh = cuba(net, N=2000)
        mons = [net.spike_monitor(exc), net.spike_monitor(inh)]
        net.run(200 * ms)
        out.append([spikes_of(m) for m in mons])
    assert out[0][0].shape[1] > 500
    for a, b in zip(*out):
        np.testing.assert_array_equal(a, b)


def test_shared_weights_stored_once_and_equal_per_synapse_weights(monkeypatch):
    """Blocks whose synapses share one weight store no weight array; results are bitwise
    those of per-synapse weights."""
    import neurosim.compile.plan as plan_mod
    from neurosim.nets import cuba

    def run():
        net = ns.Network(seed=3)
        exc, inh = cuba(net, N=1500)
        mons = [net.spike_monitor(exc), net.spike_monitor(inh)]
        vm = net.state_monitor(exc, "v", indices=[0, 7, 100])
        net.run(150 * ms)
        return net, [spikes_of(m) for m in mons], vm.values

    net, s_shared, v_shared = run()
    conn = net.plan.conn
    assert conn.weight.size == 0 and np.all(np.isfinite(conn.block_w))
    monkeypatch.setattr(plan_mod, "_shared_weight", lambda w, dtype: np.nan)
    net2, s_each, v_each = run()
    assert net2.plan.conn.weight.size == conn.target.size
    assert s_shared[0].shape[1] > 200
    for a, b in zip(s_shared, s_each):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(v_shared, v_each)


def test_shared_bias_path_equals_per_neuron_bias_path():
    """A population whose neurons share one bias (no bias array read) integrates bitwise as
    one with per-neuron biases, refractory periods included."""
    def trace(biases):
        net = ns.Network()
        pop = net.lif(n=len(biases), tau_m=10 * ms, tau_syn=5 * ms, v_rest=-70 * mV,
                      v_th=-50 * mV, v_reset=-65 * mV, t_ref=2 * ms, bias=biases)
        vm = net.state_monitor(pop, "v", indices=[0, 1, 2])
        sp = net.spike_monitor(pop)
        net.run(100 * ms)
        return vm.values, sp.counts[:3]

    v_shared, c_shared = trace(np.full(3, 25 * mV))
    v_each, c_each = trace(np.array([25 * mV, 25 * mV, 25 * mV, 5 * mV]))
    assert c_shared.min() > 3
    np.testing.assert_array_equal(v_shared, v_each)
    np.testing.assert_array_equal(c_shared, c_each)


def test_cached_kernels_are_dropped_when_the_engine_sources_change(tmp_path):
    """Numba keys a cached kernel on its own file only: the engine drops its whole cache
    when the fingerprint of its sources differs from the one stored with the cache."""
    import subprocess
    import sys
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    show = ("import neurosim.engine as e; print(e._probe._cache._cache_path)")
    cache = subprocess.run([sys.executable, "-c", show], env=env, check=True,
                           capture_output=True, text=True).stdout.strip()
    stamp = os.path.join(cache, "neurosim-kernel-sources.sha1")
    digest = open(stamp).read()
    kept = os.path.join(cache, "lif.advance-1.py310.nbi")
    open(kept, "w").close()
    subprocess.run([sys.executable, "-c", "import neurosim.engine"], env=env, check=True)
    assert os.path.exists(kept)                            # same sources: cache kept
    with open(stamp, "w") as f:
        f.write("0" * 40 + "\n")                           # as if compiled from other sources
    subprocess.run([sys.executable, "-c", "import neurosim.engine"], env=env, check=True)
    assert not os.path.exists(kept)
    assert open(stamp).read() == digest


@pytest.mark.parametrize("threads", [1, 2])
def test_per_synapse_delays_split_into_blocks_equal_one_block_with_delays(monkeypatch,
                                                                         threads):
    """Per-synapse delays become one (delay, channel) block per value (no per-synapse delay
    array); beyond MAX_DELAY_BLOCKS they stay in one block per channel with a delay per
    synapse. Both give the reference backend's spikes."""
    import neurosim.compile.plan as plan_mod

    def run(backend="numba"):
        net = random_network(21, backend=backend, poisson=True,
                             threads=threads if backend == "numba" else 1)
        mons = [net.spike_monitor(p) for p in net.populations]
        net.run(120 * ms)
        return net, [spikes_of(m) for m in mons]

    split, s_split = run()
    assert split.plan.conn.syn_delay.size == 0 and split.plan.conn.block_delay.min() >= 0
    _, s_ref = run("reference")
    monkeypatch.setattr(plan_mod, "MAX_DELAY_BLOCKS", 0)
    one, s_one = run()
    assert one.plan.conn.syn_delay.size > 0 and one.plan.conn.block_delay.min() == -1
    assert sum(s.shape[1] for s in s_split) > 100
    for a, b, c in zip(s_split, s_one, s_ref):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, c)


@pytest.mark.parametrize("threads", [1, 2])
def test_refractory_list_and_blend_variants_give_the_same_values(monkeypatch, threads):
    """Networks up to HOLD_MAX_NEURONS keep a list of the refractory neurons; larger ones run
    the kernel variant that blends by ref_until in the update. Both give the same spikes
    and traces, bit for bit (forced here on a small network)."""
    import neurosim.engine.lif as lif

    def run():
        net = random_network(7, poisson=True, threads=threads)
        mons = [net.spike_monitor(p) for p in net.populations]
        a = [p for p in net.populations if p.kind == "lif"][0]
        vm = net.state_monitor(a, "v", indices=np.arange(a.n))
        net.run(60 * ms)
        net.run(40 * ms)           # a second call: the list is rebuilt from ref_until
        return [spikes_of(m) for m in mons], vm.values.copy()

    s_list, v_list = run()
    monkeypatch.setattr(lif, "HOLD_MAX_NEURONS", 0)
    s_blend, v_blend = run()
    assert sum(s.shape[1] for s in s_list) > 100
    for a, b in zip(s_list, s_blend):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(v_list, v_blend)
