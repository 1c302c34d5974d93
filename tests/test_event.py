"""The event-driven engine (backend="event") against the clock-driven one (issue 25).

The two differ by rounding only: the event engine advances a neuron over a gap of k steps
with the closed form, the clock-driven engine with k single steps. Spike trains must be
equal except where the clock-driven engine's v was within :data:`TIE` of v_th at the first
spike that differs (a threshold tie the rounding can decide either way); state within a
relative 1e-9.
"""

import os

import numpy as np
from numba import njit
import pytest
from hypothesis import HealthCheck, given, note, settings

import neurosim as ns
from neurosim.engine import event as ev
from neurosim.units import mV, ms

from _strategies import build, networks
from neurosim.checkpoint import CheckpointError
from neurosim.engine.neurons import COEF

V = dict(v_rest=-65 * mV, v_th=-50 * mV, v_reset=-65 * mV)
SCALE = float(os.environ.get("NEUROSIM_PROPERTY_SCALE", "1"))
#: The stated bound: spikes may differ only where v was this close to v_th (volts).
TIE = 1e-12


def _run(desc, backend, traces):
    net, _, _ = build(desc, backend=backend, monitors=False)
    spikes = {p.name: net.spike_monitor(p) for p in net.populations}
    states = {}
    if traces:
        for p in net.populations:
            if p.kind == "lif":
                for var in p.variables:          # v, I_exc, I_inh, w, a
                    states[p.name, var] = net.state_monitor(p, var)
    net.run(desc["steps"] * desc["dt"], progress=False)
    return net, spikes, states


def _first_difference(a, b):
    """(step, population, neuron) of the earliest spike in one run and not the other."""
    first = None
    for name in a:
        x = set(zip(a[name].steps.tolist(), a[name].indices.tolist()))
        y = set(zip(b[name].steps.tolist(), b[name].indices.tolist()))
        for s, i in sorted(x ^ y)[:1]:
            if first is None or s < first[0]:
                first = (s, name, i)
    return first


def _v_after_update(net, states, name, i, step):
    """v of neuron i of population ``name`` after the update of ``step`` in a run that
    did not spike then, and its threshold (v_th + a): the sample at the start of step+1
    (the final state after the last step); for delta synapses, whose samples include the
    inputs of the synapses slot, one update from the sample at the start of ``step``."""
    pop = next(p for p in net.populations if p.name == name)
    p = next(k for k, q in enumerate(x for x in net.populations if x.kind == "lif")
             if q is pop)
    prm = net._plan.params

    def at(var, k):
        vals = states[name, var].values
        return vals[k, i] if k < vals.shape[0] else np.asarray(getattr(pop, var))[i]

    a = at("a", step + 1) if "a" in pop.variables else 0.0
    sp = pop.spec
    if sp.synapse != "delta":
        return at("v", step + 1), sp.v_th + a
    b = net._runner.state.bias[prm.pop_start[p] + i]
    e_m = np.exp(-net.dt / sp.tau_m)
    v = sp.v_rest + (b + e_m * ((at("v", step) - sp.v_rest) - b))
    if "w" in pop.variables:
        v += prm.coef[COEF.index("c_w"), prm.coef_start[p]] * at("w", step)
    return v, sp.v_th + a


def check_agreement(desc):
    """The event engine's spikes equal the clock-driven engine's up to a tie; its final
    state within 1e-9 relative when they are equal."""
    net_c, sc, states_c = _run(desc, "numba", traces=True)
    net_e, se, states_e = _run(desc, "event", traces=True)
    diff = _first_difference(sc, se)
    if diff is not None:
        s, name, i = diff
        spiked_c = bool(np.any((sc[name].steps == s) & (sc[name].indices == i)))
        net, states = (net_e, states_e) if spiked_c else (net_c, states_c)
        v, th = _v_after_update(net, states, name, i, s)
        assert abs(v - th) <= TIE, (f"spike of {name}[{i}] at step {s} differs, but "
                                    f"v - threshold = {v - th:.3g} V without it")
        return False
    for p in net_c.populations:
        if p.kind == "lif":
            for var in p.variables:
                a, b = np.asarray(getattr(p, var)), np.asarray(getattr(
                    next(q for q in net_e.populations if q.name == p.name), var))
                np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-15)
            for var in p.variables:
                np.testing.assert_allclose(states_e[p.name, var].values,
                                           states_c[p.name, var].values, rtol=1e-9,
                                           atol=1e-15)
    assert net_c.counts().to_dict() == net_e.counts().to_dict()
    return True


@settings(max_examples=max(1, int(round(400 * SCALE))), deadline=None, derandomize=True,
          database=None, suppress_health_check=[HealthCheck.too_slow,
                                                HealthCheck.data_too_large])
@given(networks(max_steps=200, profile="event"))
def test_random_networks_spike_as_the_clock_driven_engine(desc):
    note(f"network: {desc!r}")
    check_agreement(desc)


# ------------------------------------------------------------------ hand-made cases
def _cortex(backend, n=2000, seed=3, **kw):
    net = ns.Network(seed=seed, backend=backend, **kw)
    src = net.poisson(200, rate=20.0, name="src")
    e = net.lif(int(n * 0.8), tau_m=20 * ms, tau_syn=5 * ms, v_rest=-60 * mV, v_th=-50 * mV,
                v_reset=-60 * mV, t_ref=2 * ms, bias=2 * mV, name="e")
    i = net.lif(n - int(n * 0.8), tau_m=10 * ms, tau_syn=(3 * ms, 6 * ms), v_rest=-60 * mV,
                v_th=-50 * mV, v_reset=-60 * mV, t_ref=1 * ms, bias=5 * mV, name="i",
                reset="subtract")
    net.connect(src, e, weight=3 * mV, p=0.1, delay=1 * ms)
    net.connect(src, i, weight=ns.random.uniform(2 * mV, 6 * mV), p=0.1, delay=0.5 * ms)
    net.connect(e, e, weight=0.4 * mV, p=0.02, delay=1.5 * ms)
    net.connect(e, i, weight=0.5 * mV, p=0.02, delay=0 * ms)
    net.connect(i, e, weight=-1.5 * mV, p=0.02, delay=ns.random.uniform(0.5 * ms, 2 * ms))
    return net, {p.name: net.spike_monitor(p) for p in (e, i, src)}


def _spikes(mons):
    return {k: (m.steps.copy(), m.indices.copy()) for k, m in mons.items()
            if hasattr(m, "indices") and hasattr(m, "steps") and not hasattr(m, "values")}


def _same(a, b):
    for k in a:
        np.testing.assert_array_equal(a[k][0], b[k][0], err_msg=k)
        np.testing.assert_array_equal(a[k][1], b[k][1], err_msg=k)


def test_a_recurrent_network_gives_the_same_spikes_and_counters():
    out = {}
    for backend in ("numba", "event"):
        net, mons = _cortex(backend)
        net.count_monitor(5 * ms)
        net.run(150 * ms, progress=False)
        out[backend] = (_spikes(mons), net.counts().to_dict(), net.synaptic_events(),
                        net.populations[1].v.copy(), net.populations[2].I_inh.copy())
    a, b = out["numba"], out["event"]
    assert sum(len(s[0]) for s in a[0].values()) > 1000      # an active network
    _same(a[0], b[0])
    assert a[1] == b[1] and a[2] == b[2]
    np.testing.assert_allclose(b[3], a[3], rtol=1e-12)
    np.testing.assert_allclose(b[4], a[4], rtol=1e-9, atol=1e-18)


def test_reads_and_edits_between_runs_are_those_of_the_clock_driven_engine():
    """Reading the state (every neuron brought up to date) and editing it between runs;
    runs of chunks of any length."""
    out = {}
    for backend in ("numba", "event"):
        net, mons = _cortex(backend)
        net.run(30 * ms, progress=False, chunk_steps=7)
        v = net.populations[1].v.copy()
        net.populations[1].v = v + 3 * mV * (np.arange(v.size) % 3 == 0)
        net.run(20 * ms, progress=False, chunk_steps=1)
        net.run(40 * ms, progress=False)
        out[backend] = (_spikes(mons), v)
    _same(out["numba"][0], out["event"][0])
    np.testing.assert_allclose(out["event"][1], out["numba"][1], rtol=1e-12)


def test_state_monitors_record_the_clock_driven_values():
    out = {}
    for backend in ("numba", "event"):
        net, _ = _cortex(backend, n=500)
        m = net.state_monitor(net.populations[1], "v", indices=[0, 7, 100])
        c = net.state_monitor(net.populations[2], "I_exc", indices=[1, 2])
        net.run(60 * ms, progress=False)
        out[backend] = (m.values.copy(), c.values.copy())
    np.testing.assert_allclose(out["event"][0], out["numba"][0], rtol=1e-12)
    np.testing.assert_allclose(out["event"][1], out["numba"][1], rtol=1e-12, atol=1e-18)


@pytest.mark.parametrize("tau_syn", [5 * ms, 20 * ms, 40 * ms])
def test_long_silences_use_the_closed_form_beyond_the_table(tau_syn):
    """Inputs thousands of steps apart (gaps beyond the tabulated G sums, tau_syn equal to
    tau_m and longer): v within 1e-12 relative of the clock-driven trajectory."""
    out = {}
    for backend in ("numba", "event"):
        net = ns.Network(seed=1, backend=backend)
        times = np.array([1.0, 600.0, 611.0, 1400.0]) * ms
        src = net.spike_source(1, times=times, indices=np.zeros(4, int))
        pop = net.lif(2, tau_m=20 * ms, tau_syn=tau_syn, v_rest=-65 * mV, v_th=-50 * mV,
                      v_reset=-65 * mV, bias=np.array([2.0, 14.0]) * mV)
        net.connect(src, pop, weight=5 * mV)
        mon = net.spike_monitor(pop)
        net.run(1500 * ms, progress=False)
        out[backend] = (pop.v.copy(), pop.I_exc.copy(), mon.steps.copy())
    np.testing.assert_allclose(out["event"][0], out["numba"][0], rtol=1e-12)
    np.testing.assert_allclose(out["event"][1], out["numba"][1], rtol=1e-9)
    np.testing.assert_array_equal(out["event"][2], out["numba"][2])


def test_neurons_above_threshold_on_their_own_fire_regularly():
    """A bias above threshold: every spike predicted by stepping, refractoriness kept."""
    out = {}
    for backend in ("numba", "event"):
        net = ns.Network(seed=1, backend=backend)
        pop = net.lif(5, tau_m=10 * ms, tau_syn=2 * ms, v_rest=-65 * mV, v_th=-50 * mV,
                      v_reset=-65 * mV, t_ref=3 * ms, bias=np.linspace(16, 40, 5) * mV)
        mon = net.spike_monitor(pop)
        net.run(300 * ms, progress=False)
        out[backend] = (mon.steps.copy(), mon.indices.copy())
    assert out["numba"][0].size > 100
    np.testing.assert_array_equal(out["event"][0], out["numba"][0])
    np.testing.assert_array_equal(out["event"][1], out["numba"][1])


def test_bound_never_rules_out_a_crossing():
    """The bound of the largest v reachable without input is above every v of the
    trajectory, for random states and time constants (it is what lets the engine skip a
    neuron)."""
    rng = np.random.default_rng(0)
    for _ in range(200):
        tau_m, tau_e, tau_i = rng.uniform(1, 50, 3) * ms
        if rng.random() < 0.2:
            tau_e = tau_m
        net = ns.Network(seed=0, backend="event")
        net.lif(1, tau_m=tau_m, tau_syn=(tau_e, tau_i), v_rest=-65 * mV, v_th=-50 * mV,
                v_reset=-65 * mV)
        net.build()
        prm = net._plan.params
        tb = ev.tables(prm, 4)
        v, ie, ii, b = (rng.uniform(-80, -40) * mV, rng.uniform(-20, 40) * mV,
                        rng.uniform(-40, 20) * mV, rng.uniform(-5, 20) * mV)
        top = ev._bound.py_func(tb, 0, v, ie, ii, b)
        x, xe, xi = v, ie, ii
        for _ in range(3000):
            x = ev._step_v.py_func(x, xe, xi, b, prm.e_m[0], prm.c_e[0], prm.c_i[0], prm.v_rest[0])
            xe *= prm.e_e[0]
            xi *= prm.e_i[0]
            assert x <= top


def _models(backend, synapse, n=1000, seed=5):
    """A recurrent network of the models beyond the plain one: an excitatory population
    with an adaptation current and an adaptive threshold, an inhibitory one without."""
    net = ns.Network(seed=seed, backend=backend)
    src = net.poisson(200, rate=20.0, name="src")
    syn = {} if synapse == "delta" else dict(tau_syn=(3 * ms, 6 * ms))
    w_in = 1.5 * mV if synapse == "delta" else 3 * mV
    e = net.lif(int(n * 0.8), tau_m=20 * ms, synapse=synapse, t_ref=2 * ms, bias=2 * mV,
                tau_w=100 * ms, b_w=1 * mV, tau_a=30 * ms, beta=1 * mV, name="e",
                v_rest=-60 * mV, v_th=-50 * mV, v_reset=-60 * mV, **syn)
    i = net.lif(n - int(n * 0.8), tau_m=10 * ms, synapse=synapse, t_ref=1 * ms,
                bias=5 * mV, name="i", reset="subtract", v_rest=-60 * mV, v_th=-50 * mV,
                v_reset=-60 * mV, **syn)
    net.connect(src, e, weight=w_in, p=0.1, delay=1 * ms)
    net.connect(src, i, weight=ns.random.uniform(0.5 * w_in, 1.5 * w_in), p=0.1,
                delay=0.5 * ms)
    net.connect(e, e, weight=0.4 * mV, p=0.02, delay=1.5 * ms)
    net.connect(e, i, weight=0.5 * mV, p=0.02, delay=0 * ms)
    net.connect(i, e, weight=-1.5 * mV, p=0.02, delay=ns.random.uniform(0.5 * ms, 2 * ms))
    return net, {p.name: net.spike_monitor(p) for p in (e, i, src)}


@pytest.mark.parametrize("synapse", ["alpha", "delta"])
def test_alpha_delta_and_adaptation_give_the_clock_driven_results(synapse, tmp_path):
    """Spikes, counters, every recorded variable and the final state; a run in chunks
    with the state read and edited between them (w, I_exc of alpha: State.x rows); a
    checkpoint continued."""
    def make(backend):
        net, mons = _models(backend, synapse)
        e = net.populations[1]
        rec = {var: net.state_monitor(e, var, indices=[0, 3, 200]) for var in e.variables}
        net.count_monitor(5 * ms)
        return net, mons, e, rec

    out = {}
    for backend in ("numba", "event"):
        net, mons, e, rec = make(backend)
        net.run(60 * ms, progress=False, chunk_steps=37)
        e.w = e.w + 0.5 * mV * (np.arange(e.n) % 4 == 0)
        net.run(40 * ms, progress=False)
        net.save_checkpoint(tmp_path / f"{backend}.npz")
        net.run(50 * ms, progress=False)
        again, mons_again, _, _ = make(backend)
        again.restore_checkpoint(tmp_path / f"{backend}.npz")
        again.run(50 * ms, progress=False)
        _same(_spikes(mons), _spikes(mons_again))
        out[backend] = (_spikes(mons), net.counts().to_dict(),
                        {v: np.asarray(getattr(e, v)).copy() for v in e.variables},
                        {v: m.values.copy() for v, m in rec.items()})
    a, b = out["numba"], out["event"]
    assert a[0]["e"][0].size > 500 and a[0]["i"][0].size > 200     # both populations fire
    _same(a[0], b[0])
    assert a[1] == b[1]
    for var in a[2]:
        np.testing.assert_allclose(b[2][var], a[2][var], rtol=1e-9, atol=1e-15, err_msg=var)
        np.testing.assert_allclose(b[3][var], a[3][var], rtol=1e-9, atol=1e-15, err_msg=var)


def test_alpha_silences_beyond_the_table():
    """Alpha channels and an adaptation current over gaps of thousands of steps (the
    closed form applied in pieces of TABLE - 1 steps)."""
    out = {}
    for backend in ("numba", "event"):
        net = ns.Network(seed=1, backend=backend)
        times = np.array([1.0, 900.0, 905.0, 1700.0]) * ms
        src = net.spike_source(1, times=times, indices=np.zeros(4, int))
        pop = net.lif(2, tau_m=20 * ms, tau_syn=40 * ms, synapse="alpha", v_rest=-65 * mV,
                      v_th=-50 * mV, v_reset=-65 * mV, bias=np.array([2.0, 14.0]) * mV,
                      tau_w=300 * ms, b_w=2 * mV)
        net.connect(src, pop, weight=8 * mV)
        mon = net.spike_monitor(pop)
        net.run(1800 * ms, progress=False)
        out[backend] = (pop.v.copy(), pop.I_exc.copy(), pop.w.copy(), mon.steps.copy())
    assert out["numba"][3].size >= 2
    np.testing.assert_array_equal(out["event"][3], out["numba"][3])
    for j in range(3):
        np.testing.assert_allclose(out["event"][j], out["numba"][j], rtol=1e-10)


@pytest.mark.parametrize("synapse", ["alpha", "exp", "delta"])
def test_the_general_bound_never_rules_out_a_crossing(synapse):
    """The bound of the models beyond the plain one (alpha channels, adaptation current)
    is above every v of the trajectory without input, for random states."""
    rng = np.random.default_rng(1)
    for _ in range(60):
        tau_m, tau_e, tau_i, tau_w = rng.uniform(1, 50, 4) * ms
        if rng.random() < 0.2:
            tau_e = tau_m
        net = ns.Network(seed=0, backend="event")
        syn = {} if synapse == "delta" else dict(tau_syn=(tau_e, tau_i))
        net.lif(1, tau_m=tau_m, synapse=synapse, tau_w=tau_w, b_w=1 * mV, **syn, **V)
        net.build()
        tb = ev.tables(net._plan.params, 4)
        pp = tb.par[0]
        model = int(pp[ev.MODEL])
        v, ie, ii, ce, ci, w, b = (rng.uniform(-80, -40) * mV, *rng.uniform(-20, 40, 2) * mV,
                                   *rng.uniform(-30, 30, 2) * mV, rng.uniform(-10, 10) * mV,
                                   rng.uniform(-5, 20) * mV)
        if synapse == "delta":
            ie = ii = 0.0
        top, highest = _bound_and_highest(pp, model, v, ie, ii, ce, ci, w, b, 20000)
        assert highest <= top


@njit
def _bound_and_highest(pp, model, v, ie, ii, ce, ci, w, b, steps):
    """The engine's bound from a free state, and the highest v of its next ``steps``."""
    top = ev._bound_general(pp, model, v, ie, ii, ce, ci, w, b)
    highest = v
    for _ in range(steps):
        v, ie, ii, ce, ci, w = ev._step_general(pp, model, True, v, ie, ii, ce, ci, w, b)
        highest = max(highest, v)
    return top, highest


@pytest.mark.parametrize("kw,match", [
    (dict(threads=2), "threads must be 1 with backend='event'"),
    (dict(dtype="float32"), "dtype must be 'float64' with backend='event'"),
])
def test_what_the_event_engine_does_not_run_is_refused_before_building(kw, match):
    net = ns.Network(backend="event", **kw)
    net.lif(3, tau_m=10 * ms, tau_syn=2 * ms, **V)
    with pytest.raises(ns.ParameterError, match=match):
        net.run(1 * ms, progress=False)
    assert net._plan is None


@pytest.mark.parametrize("make,match", [
    (lambda net: net.lif(3, tau_m=10 * ms, tau_syn=2 * ms, synapse="cond_exp",
                         e_exc=0 * mV, e_inh=-80 * mV, c_m=200e-12, **V),
     "lif0: model must be a current-based LIF .*got .synapse=.cond_exp."),
    (lambda net: net.lif(3, tau_m=10 * ms, synapse="delta", convention="nest", **V),
     "lif0: model .*got .convention=.nest."),
    (lambda net: net.poisson_input(net.lif(3, tau_m=10 * ms, tau_syn=2 * ms, **V), 2000.0,
                                   1 * mV, name="bg"),
     "a dense Poisson drive .drive 'bg': rate . dt = 0.2 per step"),
    (lambda net: net.lif(2, tau_m=10 * ms, tau_syn=2 * ms, t_ref=np.array([1, 2]) * ms,
                         **V),
     "lif0: model .*got 'per-neuron parameters'"),
])
def test_models_and_features_it_does_not_run_are_refused(make, match):
    net = ns.Network(backend="event")
    make(net)
    with pytest.raises(ns.ParameterError, match=match):
        net.build()


def test_a_checkpoint_continues_bit_for_bit_with_spikes_in_transit(tmp_path):
    """The state read for the checkpoint holds the queued spikes (moved into the delay
    ring); the run continued from it equals the run that wrote it, and the clock-driven
    engine's."""
    out = {}
    for backend in ("numba", "event"):
        net, mons = _cortex(backend, n=600)
        net.run(23.3 * ms, progress=False)
        net.save_checkpoint(tmp_path / f"{backend}.npz")
        net.run(40 * ms, progress=False)
        again, mons_again = _cortex(backend, n=600)
        again.restore_checkpoint(tmp_path / f"{backend}.npz")
        again.run(40 * ms, progress=False)
        a, b = _spikes(mons), _spikes(mons_again)
        assert sum(k[0].size for k in a.values()) > 200
        _same(a, b)                    # the monitors restored hold the spikes before it
        np.testing.assert_array_equal(net.populations[1].v, again.populations[1].v)
        out[backend] = a
    _same(out["numba"], out["event"])


def test_fixed_point_networks_name_their_backends():
    net = ns.Network(backend="event")
    net.loihi_lif(3, du=100, dv=100, vth=10)
    with pytest.raises(ns.ParameterError, match="backend must be one of numba, reference "
                       "for a network of fixed-point"):
        net.build()


def _sparse(backend, rate, n=3000):
    from conftest import load_script
    net, pop = load_script("benchmarks", "sparse").network(backend, n, rate)
    return net, net.spike_monitor(pop)


def test_auto_picks_the_event_engine_for_sparse_activity(capsys):
    net, mon = _sparse("auto", 0.5)
    net.run(300 * ms, progress=False)
    assert net.backend_choice["backend"] == "event" and net.backend == "event"
    assert 0.1 <= net.backend_choice["from_t"] < 0.3      # the chunk after 1,000 steps
    assert "backend='auto' runs the event-driven engine from t = " in capsys.readouterr().err
    ref, mon_ref = _sparse("numba", 0.5)
    ref.run(300 * ms, progress=False)
    assert mon.steps.size > 100
    np.testing.assert_array_equal(mon.steps, mon_ref.steps)
    np.testing.assert_array_equal(mon.indices, mon_ref.indices)


def test_auto_keeps_the_clock_driven_engine_for_dense_activity_and_other_models(capsys):
    net, _ = _sparse("auto", 50.0, n=500)
    net.run(150 * ms, progress=False)
    assert net.backend == "numba" and net.backend_choice["backend"] == "numba"
    assert net.backend_choice["estimated_speedup"] < 1
    other = ns.Network(backend="auto")
    pop = other.lif(10, tau_m=10 * ms, tau_syn=2 * ms, synapse="cond_exp", e_exc=0 * mV,
                    e_inh=-80 * mV, c_m=200e-12, **V)
    other.connect(other.poisson(10, rate=1.0), pop, weight=1 * mV)
    other.run(120 * ms, progress=False)
    assert other.backend == "numba"
    assert "synapse='cond_exp'" in other.backend_choice["not_supported"]
    assert "does not run this network" in capsys.readouterr().err


def test_auto_decides_once_over_short_runs():
    net, _ = _sparse("auto", 0.5)
    for _ in range(12):                      # 12 x 10 ms: decided in the 10th
        net.run(10 * ms, progress=False)
    assert net.backend_choice is not None and net.backend == "event"


# ------------------------------------------------------------- sparse Poisson drives
def _driven(backend, n=1500, seed=4, scale=1.0, **kw):
    """An E/I network whose only input is sparse Poisson drives (rate * dt < 0.1): one
    per population and channel, delays 0, 1 step and 2 ms, rates per neuron."""
    net = ns.Network(seed=seed, backend=backend, **kw)
    e = net.lif(int(n * 0.8), tau_m=20 * ms, tau_syn=5 * ms, v_rest=-60 * mV,
                v_th=-50 * mV, v_reset=-60 * mV, t_ref=2 * ms, name="e")
    i = net.lif(n - int(n * 0.8), tau_m=10 * ms, synapse="alpha", tau_syn=2 * ms,
                v_rest=-60 * mV, v_th=-50 * mV, v_reset=-60 * mV, t_ref=1 * ms, name="i",
                tau_w=50 * ms, b_w=0.5 * mV)
    rates = np.random.default_rng(seed).uniform(400, 990, e.n) * scale
    drives = [net.poisson_input(e, rates, 4 * mV / scale ** 0.5, name="bg_e"),
              net.poisson_input(e, 300.0 * scale, -2 * mV, delay=0.1 * ms, name="bg_e_inh"),
              net.poisson_input(i, 800.0 * scale, 1.5 * mV, delay=2 * ms, name="bg_i")]
    net.connect(e, e, weight=0.5 * mV, p=0.02, delay=1.5 * ms)
    net.connect(e, i, weight=0.8 * mV, p=0.05, delay=0 * ms)
    net.connect(i, e, weight=-1.5 * mV, p=0.05, delay=ns.random.uniform(0.5 * ms, 2 * ms))
    mons = {p.name: net.spike_monitor(p) for p in (e, i)}
    mons["trace"] = net.state_monitor(i, "I_exc", indices=[0, 3, i.n - 1])
    return net, mons, drives


def test_sparse_drives_are_drawn_as_arrivals_the_same_by_every_engine(tmp_path):
    """Arrivals (the step of each target's next input) give the clock-driven and the
    event-driven engines the same inputs: equal spikes and counters, traces within
    rounding, through chunks, a rate change between runs and a checkpoint."""
    out = {}
    for backend in ("numba", "event"):
        net, mons, drives = _driven(backend)
        tr = mons.pop("trace")
        net.run(40 * ms, progress=False, chunk_steps=9)
        assert list(net.plan.drives.arrivals) == [1, 1, 1]
        drives[0].rate = 700.0                     # between runs: arrivals drawn again
        net.run(30 * ms, progress=False)
        net.save_checkpoint(tmp_path / f"{backend}.npz")
        net.run(30 * ms, progress=False)
        again, mons_again, drives_again = _driven(backend)
        with pytest.raises(CheckpointError, match="drive 'bg_e' has other rates than "
                           "when the checkpoint was written; set them"):
            again.restore_checkpoint(tmp_path / f"{backend}.npz")
        again, mons_again, drives_again = _driven(backend)
        drives_again[0].rate = 700.0
        again.restore_checkpoint(tmp_path / f"{backend}.npz")
        again.run(30 * ms, progress=False)
        np.testing.assert_array_equal(mons_again.pop("trace").values, tr.values)
        _same(_spikes(mons), _spikes(mons_again))
        out[backend] = (_spikes(mons), net.counts().to_dict(), tr.values.copy(),
                        net.populations[0].v.copy())
    a, b = out["numba"], out["event"]
    assert sum(len(s[0]) for s in a[0].values()) > 1000
    _same(a[0], b[0])
    assert a[1] == b[1]
    events = {k: p["events"] for k, p in a[1]["projections"].items()}
    assert events["bg_e"] > 0.9 * 0.1 * 1200 * 700      # about rate x targets x time
    np.testing.assert_allclose(b[2], a[2], rtol=1e-9, atol=1e-18)
    np.testing.assert_allclose(b[3], a[3], rtol=1e-9)


def test_sparse_drives_on_the_reference_backend_equal_the_engine():
    out = {}
    for backend in ("numba", "reference"):
        net, mons, drives = _driven(backend, n=300)
        net.run(30 * ms, progress=False)
        drives[2].rate = 50.0
        net.run(20 * ms, progress=False)
        out[backend] = (_spikes(mons), net.counts().to_dict())
    assert sum(len(s[0]) for s in out["numba"][0].values()) > 100
    _same(out["numba"][0], out["reference"][0])
    assert out["numba"][1] == out["reference"][1]


def test_a_rate_that_makes_a_drive_dense_is_refused_on_the_event_engine():
    net, _, drives = _driven("event", n=300)
    net.run(5 * ms, progress=False)
    before = drives[0].rate
    with pytest.raises(ns.ParameterError, match="rate must be below 1000 Hz .* drive "
                       "'bg_e' while the event-driven engine runs the network; got 2000"):
        drives[0].rate = 2000.0
    np.testing.assert_array_equal(drives[0].rate, before)     # nothing changed
    net.run(5 * ms, progress=False)


def test_auto_runs_sparse_drives_on_the_event_engine_and_dense_ones_on_the_clock():
    net, mons, _ = _driven("auto", n=4000, scale=0.04)
    net.run(250 * ms, progress=False)
    ref, mons_ref, _ = _driven("numba", n=4000, scale=0.04)
    ref.run(250 * ms, progress=False)
    assert net.backend == "event", net.backend_choice
    assert sum(len(s[0]) for s in _spikes(mons).values()) > 50
    _same(_spikes(mons), _spikes(mons_ref))
    dense = ns.Network(backend="auto")
    pop = dense.lif(50, tau_m=10 * ms, tau_syn=2 * ms, **V)
    dense.poisson_input(pop, 5000.0, 0.1 * mV, name="bg")
    dense.run(120 * ms, progress=False)
    assert dense.backend == "numba"
    assert "dense Poisson drive" in dense.backend_choice["not_supported"]


def test_the_drive_calendar_follows_rate_changes_between_runs():
    """The drive calendar has about two mean gaps of buckets (grown and shrunk when the
    rates change between runs, entries of later laps kept): the same inputs as the
    clock-driven engine throughout."""
    from neurosim.engine.event import HORIZON, drive_buckets
    out = {}
    for backend in ("numba", "event"):
        net, mons, drives = _driven(backend, n=3000)
        mons.pop("trace")
        net.run(20 * ms, progress=False)
        sizes = [drive_buckets(net.plan.drives)]
        for d in drives:
            d.rate = 3.0                            # gaps of about 3,300 steps
        net.run(400 * ms, progress=False)
        sizes.append(drive_buckets(net.plan.drives))
        if backend == "event":
            assert net._runner.q[12].shape[0] == sizes[-1]
        drives[0].rate = 900.0
        net.run(30 * ms, progress=False)
        sizes.append(drive_buckets(net.plan.drives))
        out[backend] = (_spikes(mons), net.counts().to_dict(), sizes)
    assert out["event"][2][0] == HORIZON and out["event"][2][1] >= 8192
    assert out["event"][2][2] < out["event"][2][1]
    assert sum(len(s[0]) for s in out["numba"][0].values()) > 500
    _same(out["numba"][0], out["event"][0])
    assert out["numba"][1] == out["event"][1]
