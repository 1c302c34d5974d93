"""Crossbar synapses in networks: equality with ideal synapses, engine against the reference,
event-driven cost, STDP as device pulses, energy from the arrays' own counters."""

import math

import numpy as np
import pytest

import neurosim as ns
from neurosim.crossbar import STDP, Crossbar
from neurosim.engine.crossbar import pulse_update
from neurosim.hardware import HardwareProfileError
from neurosim.validation import ParameterError


def _net(backend, synapse, seed=3, rate=60.0, T=0.25, plasticity=None):
    net = ns.Network(dt=1e-4, seed=seed, backend=backend)
    src = net.poisson(150, rate, name="src")
    a = net.lif(80, 20e-3, (5e-3, 10e-3), -60e-3, -50e-3, -60e-3, t_ref=2e-3, name="a")
    rng = np.random.default_rng(0)
    W = rng.uniform(0, 1.5e-3, (150, 80)) * (rng.random((150, 80)) < 0.4)
    net.connect(src, a, W, delay=1e-3, synapse=synapse, plasticity=plasticity, name="in")
    Wr = -rng.uniform(0, 2e-3, (80, 80)) * (rng.random((80, 80)) < 0.1)
    net.connect(a, a, Wr, synapse=None if plasticity else synapse, name="rec")
    mon = net.spike_monitor(a)
    net.run(T)
    return net, mon


def _same(m0, m1):
    return np.array_equal(m0.indices, m1.indices) and np.array_equal(m0.steps, m1.steps)


@pytest.mark.parametrize("backend", ["numba", "reference"])
@pytest.mark.parametrize("mapping", ["differential", "offset"])
def test_ideal_crossbar_equals_ideal_synapses(backend, mapping):
    n0, m0 = _net(backend, None)
    n1, m1 = _net(backend, Crossbar.ideal(mapping=mapping, array=(64, 64)))
    assert m0.num_spikes > 100
    assert _same(m0, m1)
    a0, a1 = n0.population("a"), n1.population("a")
    np.testing.assert_allclose(a1.v, a0.v, rtol=0, atol=1e-12)
    np.testing.assert_allclose(a1.I_exc, a0.I_exc, rtol=0, atol=1e-12)


def test_engine_matches_reference_with_every_nonideality():
    xb = Crossbar(adc_bits=6, r_wire=2.0, array=(32, 32), device="rram_hfox")
    n0, m0 = _net("numba", xb, T=0.08)
    n1, m1 = _net("reference", xb, T=0.08)   # exact nodal solve; same read-noise stream
    assert m0.num_spikes > 20
    assert _same(m0, m1)
    s0, s1 = n0.crossbar_stats()["in"], n1.crossbar_stats()["in"]
    for key in ("row_drives", "tile_reads", "conversions"):
        assert s0[key] == s1[key]
    assert s0["cell_energy"] == pytest.approx(s1["cell_energy"], rel=1e-9)
    # non-idealities change the spikes (the test would not notice a crossbar that did nothing)
    n2, m2 = _net("numba", None, T=0.08)
    assert not _same(m0, m2)


def test_noisy_crossbar_runs_are_repeatable_and_seeded():
    xb = Crossbar(adc_bits=8)
    a = _net("numba", xb)[1]
    b = _net("numba", xb)[1]
    c = _net("numba", xb, seed=4)[1]
    assert _same(a, b) and not _same(a, c)


def test_silent_array_costs_nothing_and_counts_follow_active_rows():
    net = ns.Network(dt=1e-4, seed=1)
    src = net.spike_source(10, times=[1e-3, 1e-3, 2e-3], indices=[0, 3, 3])
    quiet = net.spike_source(10, times=[], indices=[])
    a = net.lif(6, 20e-3, 5e-3, -60e-3, -50e-3, -60e-3)
    W = np.random.default_rng(0).uniform(0, 1e-3, (10, 6))
    net.connect(src, a, W, synapse=Crossbar(adc_bits=8, array=(4, 4)), name="x")
    net.connect(quiet, a, W, synapse=Crossbar(adc_bits=8), name="q")
    net.run(5e-3)
    st = net.crossbar_stats()
    assert st["q"]["row_drives"] == 0 and st["q"]["conversions"] == 0
    assert st["q"]["cell_energy"] == 0.0 and st["q"]["tile_reads"] == 0
    # rows 0 and 3 live in row tile 0 (rows 0-3); 3 weight columns per tile of 4 physical
    # columns... 2 weight columns per tile (differential) -> 3 column tiles
    x = st["x"]
    assert x["tile_reads"] == 2 * 3            # two active steps x 3 column tiles
    assert x["row_drives"] == (2 + 1) * 3
    assert x["conversions"] == 2 * 6           # one per weight column per active step
    xb = net.projections[0].crossbar
    g = xb.conductances
    v2t = xb.device.v_read ** 2 * xb.device.t_read
    expect = v2t * (g[0].sum() + 2 * g[3].sum())
    assert x["cell_energy"] == pytest.approx(expect, rel=1e-12)


def test_crossbar_connect_validation():
    net = ns.Network(dt=1e-4)
    s = net.poisson(4, 10.0)
    a = net.lif(3, 20e-3, 5e-3, -60e-3, -50e-3, -60e-3)
    W = np.ones((4, 3)) * 1e-3
    with pytest.raises(ParameterError, match="delay must be one scalar"):
        net.connect(s, a, W, delay=np.full((4, 3), 1e-3), synapse=Crossbar())
    with pytest.raises(ParameterError, match="weight must be None with a programmed"):
        net.connect(s, a, W, synapse=Crossbar(W))
    with pytest.raises(ParameterError, match=r"synapse.W.shape must be \(4, 3\)"):
        net.connect(s, a, None, synapse=Crossbar(W.T))
    with pytest.raises(ParameterError, match="synapse must be None or a neurosim.crossbar"):
        net.connect(s, a, W, synapse="rram")
    with pytest.raises(ParameterError, match="neurosim.crossbar.STDP needs synapse=Crossbar"):
        net.connect(s, a, W, plasticity=STDP(1e-4, 1e-4))
    with pytest.raises(HardwareProfileError, match="no per-pulse update law"):
        net.connect(s, a, W, synapse=Crossbar(), plasticity=STDP(1e-4, 1e-4))
    ref = ns.Network(dt=1e-4, backend="reference")
    rs, ra = ref.poisson(4, 10.0), ref.lif(3, 20e-3, 5e-3, -60e-3, -50e-3, -60e-3)
    with pytest.raises(ParameterError, match="plasticity must be None on the reference"):
        ref.connect(rs, ra, W, synapse=Crossbar(device="rram_taox_hfox_analog"),
                    plasticity=STDP(1e-4, 1e-4))
    with pytest.raises(ParameterError, match="tau_plus must be > 0"):
        STDP(1e-4, 1e-4, tau_plus=0.0)
    assert len(net.projections) == 0                      # nothing half-made
    f = ns.Network(dt=1e-3)
    fs = f.spike_source(2, times=[0.0], indices=[0])
    fl = f.loihi_lif(2, du=4095, dv=0, vth=10)
    with pytest.raises(ParameterError, match="post must be a float LIF population"):
        f.connect(fs, fl, np.ones((2, 2)), synapse=Crossbar())


def test_pulse_law_matches_the_exponential_formula():
    dev = ns.crossbar.load_device("rram_agsi_nonlinear")
    law = dev.update_law()
    g_min, g_max = dev.g_min, dev.g_max
    p_max = law["n_pulses_ltp"]
    a = law["a_ltp"] * p_max
    b = (g_max - g_min) / (1 - math.exp(-p_max / a))
    rng = np.zeros(1, np.uint64)
    for n in (1, 10, 50, 97, 200):
        g = pulse_update(g_min, float(n), a, p_max, g_min, g_max, 0.0, rng, 0)
        assert g == pytest.approx(min(b * (1 - math.exp(-min(n, p_max) / a)) + g_min, g_max),
                                  rel=1e-12)
    # nonlinear and asymmetric: LTP steps shrink towards g_max, LTD steps shrink towards g_min
    step_lo = pulse_update(g_min, 1.0, a, p_max, g_min, g_max, 0.0, rng, 0) - g_min
    mid = g_min + 0.9 * (g_max - g_min)
    step_hi = pulse_update(mid, 1.0, a, p_max, g_min, g_max, 0.0, rng, 0) - mid
    assert step_lo > 3 * step_hi
    ad, pd = law["a_ltd"] * law["n_pulses_ltd"], law["n_pulses_ltd"]
    d_hi = mid - pulse_update(mid, -1.0, ad, pd, g_min, g_max, 0.0, rng, 0)
    low = g_min + 0.1 * (g_max - g_min)
    d_lo = low - pulse_update(low, -1.0, ad, pd, g_min, g_max, 0.0, rng, 0)
    assert d_hi > 3 * d_lo
    assert pulse_update(g_max, 5.0, a, p_max, g_min, g_max, 0.0, rng, 0) == g_max   # saturates


def _stdp_net(order, n_pairs=40, device="rram_taox_hfox_analog", a=2e-4):
    """One pre and one post neuron driven by spike sources: pre 5 ms before post
    (order="pre-post") or after it; returns the learned weight and stats."""
    net = ns.Network(dt=1e-4, seed=0)
    times = np.arange(n_pairs) * 50e-3 + 5e-3
    pre = net.spike_source(1, times=times if order == "pre-post" else times + 5e-3,
                           indices=np.zeros(n_pairs, int))
    drive = net.spike_source(1, times=times + (4e-3 if order == "pre-post" else 0.0),
                             indices=np.zeros(n_pairs, int))
    post = net.lif(1, 10e-3, 1e-3, -60e-3, -50e-3, -60e-3, t_ref=2e-3)
    net.connect(drive, post, 1.0)                         # makes post fire within 1 ms
    net.connect(pre, post, np.array([[0.5e-3]]), plasticity=STDP(a, a, 20e-3, 20e-3),
                synapse=Crossbar(device=device, programming=None, read_noise=False,
                                 quantize=False, stuck=False, d2d=False, adc_bits=None,
                                 w_max=1e-3),
                name="plastic")
    mon = net.spike_monitor(post)
    net.run(n_pairs * 50e-3)
    assert mon.num_spikes == n_pairs
    xb = net.projections[1].crossbar
    return xb.effective_weights()[0, 0], net.crossbar_stats()["plastic"], xb


def test_stdp_pre_post_potentiates_and_post_pre_depresses():
    w_up, st_up, _ = _stdp_net("pre-post")
    w_dn, st_dn, _ = _stdp_net("post-pre")
    assert w_up > 0.5e-3 > w_dn
    assert st_up["write_pulses"] > 0 and st_up["write_energy"] > 0
    assert st_dn["write_pulses"] > 0


def test_stdp_saturates_at_the_device_range():
    import dataclasses
    dev = ns.crossbar.load_device("rram_taox_hfox_analog")
    quiet = dataclasses.replace(dev, update={**dev.update, "c2c": 0.0})
    w, st, xb = _stdp_net("pre-post", n_pairs=60, a=2e-3, device=quiet)
    assert w == pytest.approx(1e-3, rel=1e-9)            # G+ pinned at g_max
    assert xb.conductances[0, 0] == pytest.approx(dev.g_max, rel=1e-12)
    w_dn, _, xb_dn = _stdp_net("post-pre", n_pairs=60, a=2e-3, device=quiet)
    assert xb_dn.conductances[0, 0] == pytest.approx(dev.g_min, rel=1e-12)
    assert w_dn == pytest.approx(0.0, abs=1e-12)         # G+ down to G- = g_min
    # cycle-to-cycle noise of the real device: the same pulses land differently
    noisy = _stdp_net("pre-post", n_pairs=3, a=1e-4)[0]
    clean = _stdp_net("pre-post", n_pairs=3, a=1e-4, device=quiet)[0]
    assert 0.5e-3 < clean < 0.9e-3 and noisy != pytest.approx(clean, rel=1e-3)


def test_learned_conductances_reset_with_the_network():
    net = ns.Network(dt=1e-4, seed=0)
    times = np.arange(10) * 20e-3 + 1e-3
    pre = net.spike_source(1, times=times, indices=np.zeros(10, int))
    drive = net.spike_source(1, times=times + 2e-3, indices=np.zeros(10, int))
    post = net.lif(1, 10e-3, 1e-3, -60e-3, -50e-3, -60e-3, t_ref=2e-3)
    net.connect(drive, post, 1.0)
    net.connect(pre, post, np.array([[0.2e-3]]), plasticity=STDP(5e-4, 0.0),
                synapse=Crossbar(device="rram_taox_hfox_analog", w_max=1e-3, adc_bits=None))
    xb = net.projections[1].crossbar
    g0 = xb.conductances
    net.run(0.2)
    assert not np.array_equal(xb.conductances, g0)
    net.reset()
    np.testing.assert_array_equal(xb.conductances, g0)


def test_energy_estimate_uses_the_arrays_counters():
    net, _ = _net("numba", Crossbar(adc_bits=6))
    rep = ns.energy.estimate(net, "crossbar_rram")
    st = net.crossbar_stats()["in"]
    items = {(i.component, i.operation): i for i in rep.items}
    cell = items[("in", "cell reads (V^2 G t, actual conductances)")]
    assert cell.energy == pytest.approx(st["cell_energy"])
    adc = items[("in", "ADC conversion (6 b)")]
    assert adc.count == st["conversions"]
    prof = ns.hardware.load("crossbar_rram")
    assert adc.energy_per_op == pytest.approx(prof.adc_energy(6)[1])
    dac = [i for (c, op), i in items.items() if c == "in" and i.count == st["row_drives"]
           and "cell" not in op]
    assert dac and dac[0].energy_per_op == pytest.approx(prof.op("row_activation")[0].value)
    assert any("actually read" in n for n in rep.assumptions)
    counts = net.counts()
    assert counts.projections["in"].crossbar["conversions"] == st["conversions"]
    assert (counts + counts).projections["in"].crossbar["conversions"] == 2 * st["conversions"]
    # the same network on Loihi charges its synaptic events as usual
    assert ns.energy.estimate(net, "loihi").total > 0


def test_crossbar_example_writes_report_and_figures(tmp_path):
    from conftest import load_example
    mod = load_example("crossbar")
    res = mod.main(["--out", str(tmp_path), "--samples", "40", "--seeds", "1", "--steps", "20"])
    report = (tmp_path / "report.md").read_text()
    assert "Accuracy vs programming noise" in report and "Assumptions" in report
    assert "ADC conversion (8 b)" in report
    for png in ("noise.png", "drift.png", "irdrop.png"):
        assert (tmp_path / png).stat().st_size > 5000
    # heavy one-shot programming noise costs accuracy; write-verify recovers most of it
    assert np.mean(res["noise"]["one_shot", 0.2]) < res["ideal"] - 0.05
    assert np.mean(res["noise"]["write_verify", 0.2]) > np.mean(res["noise"]["one_shot", 0.2])
