"""The Poisson drive (issue 17, point 1): counts per step against the Poisson law at low and
high rates, engine = reference, the same spikes for any thread count, events counted,
rates settable between runs."""

import numpy as np
import pytest
from numba import njit
from scipy import stats

import neurosim as ns
from neurosim.engine.poisson import deliver_drives, poisson_count
from neurosim.units import Hz, mV, ms

LIF = dict(tau_m=10 * ms, tau_syn=0.5 * ms, v_rest=-65 * mV, v_th=-50 * mV, v_reset=-65 * mV,
           t_ref=2 * ms)


@pytest.mark.parametrize("lam", [0.02, 0.8, 3.0, 9.99, 10.0, 40.0, 1280.0])
def test_counts_follow_the_poisson_law(lam):
    state = np.array([7], np.uint64)
    x = np.array([poisson_count(state, 0, lam, np.exp(-lam)) for _ in range(40_000)])
    lo, hi = int(max(0, lam - 5 * np.sqrt(lam))), int(lam + 5 * np.sqrt(lam) + 2)
    edges = np.arange(lo, hi + 1)
    obs = np.array([np.sum(x <= lo)] + [np.sum(x == k) for k in edges[1:-1]]
                   + [np.sum(x >= hi - 1)])
    pmf = stats.poisson(lam)
    exp = np.array([pmf.cdf(lo)] + [pmf.pmf(k) for k in edges[1:-1]] + [pmf.sf(hi - 2)])
    keep = exp * x.size >= 5          # chi-square needs expected counts of 5 or more
    exp, obs = exp[keep] * x.size, obs[keep]
    assert stats.chisquare(obs, exp * obs.sum() / exp.sum()).pvalue > 1e-3
    assert x.mean() == pytest.approx(lam, rel=0.03, abs=0.005)


def _driven(backend="numba", threads=1, rate=32_000 * Hz, seed=3):
    net = ns.Network(seed=seed, backend=backend, threads=threads)
    a = net.lif(60, **LIF, v_init=ns.random.uniform(-65 * mV, -50 * mV))
    b = net.lif(40, **LIF)
    exc = net.poisson_input(a, rate=rate, weight=1.5 * mV, delay=1.5 * ms, name="bg_a")
    net.poisson_input(b, rate=np.linspace(1000, 30_000, 40), weight=1.5 * mV, name="bg_b")
    net.poisson_input(b, rate=2000 * Hz, weight=-1.0 * mV, delay=0.8 * ms, name="inh_b")
    net.connect(a, b, weight=0.4 * mV, p=0.2, delay=1 * ms)
    net.connect(b, a, weight=-0.8 * mV, p=0.2)
    return net, exc


def test_engine_equals_reference_for_any_threads():
    out = []
    for backend, threads in (("reference", 1), ("numba", 1), ("numba", 2)):
        net, _ = _driven(backend, threads)
        mons = [net.spike_monitor(p) for p in net.populations]
        vm = net.state_monitor(net.populations[1], "v", indices=[0, 39])
        net.run(30 * ms)
        net.run(20 * ms)
        out.append(([np.stack([m.steps, m.indices]) for m in mons], vm.values,
                    net.counts().projections))
    ref_spikes, ref_v, ref_counts = out[0]
    assert sum(s.shape[1] for s in ref_spikes) > 50
    for spikes, v, counts in out[1:]:
        for x, y in zip(ref_spikes, spikes):
            np.testing.assert_array_equal(x, y)
        np.testing.assert_allclose(v, ref_v, rtol=0, atol=1e-12)
        for name in ("bg_a", "bg_b", "inh_b"):
            assert counts[name].events == ref_counts[name].events


def test_input_matches_its_mean_and_counts_events():
    """Free membrane (no threshold): mean v = v_rest + rate*w*tau_syn; events = sum of
    rate*dt over targets and steps (within 4 sd)."""
    net = ns.Network(seed=2)
    a = net.lif(200, **dict(LIF, v_th=1.0))
    rate, w = 50_000 * Hz, 0.1 * mV
    d = net.poisson_input(a, rate=rate, weight=w)
    vm = net.state_monitor(a, "v")
    net.run(300 * ms)
    v = vm.values[1000:]
    assert v.mean() == pytest.approx(-65 * mV + rate * w * 0.5 * ms, abs=0.05 * mV)
    ev = net.counts().projections[d.name].events
    mean = 200 * rate * 300 * ms
    assert abs(ev - mean) < 4 * np.sqrt(mean)
    assert net.counts().synaptic_events >= ev


def test_rate_settable_and_the_same_as_a_fresh_network_after_reset():
    net, exc = _driven()
    mon = net.spike_monitor(net.populations[0])
    net.run(20 * ms)
    exc.rate = 0
    n0 = mon.num_spikes
    net.run(30 * ms)
    assert mon.num_spikes - n0 < 30          # only what was in flight and recurrent input
    exc.rate = 30_000 * Hz
    net.reset()
    net.run(30 * ms)
    fresh, _ = _driven(rate=30_000 * Hz)
    fmon = fresh.spike_monitor(fresh.populations[0])
    fresh.run(30 * ms)
    np.testing.assert_array_equal(mon.steps, fmon.steps)


@pytest.mark.parametrize("threads", [1, 2])
def test_sparse_drive_after_reset_is_a_fresh_network_for_any_threads(threads):
    """A drive made sparse between runs (drawn as arrivals from then on), then reset: the
    run equals a fresh network's with that rate, on one thread and on two."""
    net, exc = _driven(threads=threads)
    net.run(10 * ms)
    exc.rate = 700 * Hz
    assert net.plan.drives.arrivals[0] == 1
    net.run(10 * ms)
    net.reset()
    net.run(30 * ms)
    fresh, _ = _driven(rate=700 * Hz)
    fresh.run(30 * ms)
    a, b = net.populations[0], fresh.populations[0]
    assert not np.all(a.v == a.v[0])
    np.testing.assert_array_equal(a.v, b.v)
    assert net.counts().to_dict() == fresh.counts().to_dict()
    assert net.counts().projections["bg_a"].events > 0.5 * 60 * 700 * 30e-3


def test_poisson_population_above_1_over_dt_points_to_the_drive():
    net = ns.Network()
    with pytest.raises(ns.ParameterError, match="poisson_input"):
        net.poisson(10, rate=20_000 * Hz)


def test_drive_validation():
    net = ns.Network()
    a = net.lif(3, **LIF)
    src = net.poisson(3, rate=5 * Hz)
    with pytest.raises(ns.ParameterError, match="rate must be >= 0"):
        net.poisson_input(a, rate=-1, weight=1 * mV)
    with pytest.raises(ns.ParameterError, match="target must be a LIF population"):
        net.poisson_input(src, rate=1, weight=1 * mV)
    with pytest.raises(ns.ParameterError, match="delay must be a multiple of dt"):
        net.poisson_input(a, rate=1, weight=1 * mV, delay=0.05 * ms)
    d = net.poisson_input(a, rate=1, weight=1 * mV)
    with pytest.raises(AttributeError, match="cannot be set"):
        d.weight = 2 * mV


@pytest.mark.parametrize("lam", [1e-12, 1e-6, 0.02, 2.0, 9.99])
def test_count_table_gives_the_inversion_counts(lam):
    """The step loop's table search returns, for each uniform, the count the inversion
    returns (same cumulative sums, same first index with u <= F)."""
    from neurosim.engine.poisson import GUIDE, cdf_table, poisson_count
    from neurosim.engine.rng import uniform
    e = float(np.exp(-lam))
    cdf, guide = cdf_table(lam, e)
    s1 = np.arange(1, 20001, dtype=np.uint64)
    s2 = s1.copy()
    for i in range(s1.size):
        want = poisson_count(s1, i, lam, e)
        u = uniform(s2, i)
        k = guide[int(u * GUIDE)]
        while u > cdf[k]:
            k += 1
        assert k == want


def test_rate_change_between_runs_engine_equals_reference():
    """A new rate rebuilds the drive's count table in place: the counts stay those of the
    inversion (the reference backend draws by inversion)."""
    out = []
    for backend in ("reference", "numba"):
        net, exc = _driven(backend)
        mon = net.spike_monitor(net.populations[1])
        net.run(10 * ms)
        exc.rate = 25_000 * Hz
        net.run(10 * ms)
        out.append((mon.steps.copy(), net.counts().projections[exc.name].events))
    np.testing.assert_array_equal(out[0][0], out[1][0])
    assert out[0][1] == out[1][1] and out[0][0].size > 5


# ------------------------------------------------------------- sparse drives: arrivals
@njit
def _drive_counts(dv, ds, n, steps):
    """Drive 0's count of each target at each step (weight 1, delay 0), by the engine."""
    out = np.zeros((steps, n))
    i_exc, i_inh = np.zeros(n), np.zeros(n)
    ring = np.zeros((2, n))
    used = np.zeros(2, np.uint8)
    for s in range(steps):
        i_exc[:] = 0.0
        deliver_drives(dv, ds, 0, 0, n, i_exc, i_inh, ring, ring, used, s)
        out[s] = i_exc
    return out


@pytest.mark.parametrize("rate", [10.0, 300.0, 990.0])
def test_arrivals_give_poisson_counts_independent_from_step_to_step(rate):
    """A sparse drive (rate * dt < 0.1) draws the step of each target's next input and
    its count: per step, the counts must be Poisson(rate * dt) (chi-square over the
    counts 0, 1, 2+), with no correlation between consecutive steps."""
    net = ns.Network(dt=0.1 * ms, seed=9)
    pop = net.lif(4000, tau_m=10 * ms, tau_syn=2 * ms, v_rest=-65 * mV, v_th=-50 * mV,
                  v_reset=-65 * mV)
    net.poisson_input(pop, rate, 1.0)
    net.build()
    dv, ds = net.plan.drives, net._runner.dstate
    assert dv.arrivals[0] == 1
    steps, lam = 600, rate * 0.1e-3
    counts = _drive_counts(dv, ds, pop.n, steps)
    assert np.all(ds.next >= steps)
    n = counts.size
    seen = np.array([(counts == 0).sum(), (counts == 1).sum(), (counts >= 2).sum()])
    p = stats.poisson(lam)
    expect = n * np.array([p.pmf(0), p.pmf(1), p.sf(1)])
    keep = expect > 5
    chi2 = float((((seen - expect) ** 2 / expect)[keep]).sum())
    assert chi2 < stats.chi2(keep.sum() - 1).ppf(0.9999), (seen, expect)
    assert ds.events[0, 0] == counts.sum()
    a, b = counts[:-1].ravel(), counts[1:].ravel()
    r = np.corrcoef(a, b)[0, 1]
    assert abs(r) < 5 / np.sqrt(a.size)


def test_dense_drives_are_drawn_per_step_and_a_rate_change_switches_the_mode():
    net = ns.Network(dt=0.1 * ms, seed=9)
    pop = net.lif(10, tau_m=10 * ms, tau_syn=2 * ms, v_rest=-65 * mV, v_th=-50 * mV,
                  v_reset=-65 * mV)
    d = net.poisson_input(pop, 5000.0, 0.1 * mV)
    net.run(2 * ms, progress=False)
    assert net.plan.drives.arrivals[0] == 0
    d.rate = 100.0
    assert net.plan.drives.arrivals[0] == 1
    assert np.all(net._runner.dstate.next >= net._step)      # drawn from now on
