"""Quantization of float networks to Loihi, and the neurocore mapper."""

import os

import numpy as np
import pytest

import neurosim as ns
from neurosim.hardware import HardwareProfileError
from neurosim.units import mV, ms


def float_net(seed=3, **overrides):
    net = ns.Network(dt=1 * ms, seed=seed)
    rng = np.random.default_rng(seed)
    src = net.poisson(60, rate=rng.uniform(5, 50, 60))
    params = dict(tau_m=20 * ms, tau_syn=5 * ms, v_rest=-65 * mV, v_th=-50 * mV,
                  v_reset=-65 * mV, bias=rng.uniform(0, 10, 50) * mV)
    params.update(overrides)
    a = net.lif(50, name="a", **params)
    b = net.lif(20, tau_m=10 * ms, tau_syn=3 * ms, v_rest=-65 * mV, v_th=-50 * mV,
                v_reset=-70 * mV, name="b")
    net.connect(src, a, weight=rng.normal(1.5, 2, (60, 50)) * mV,
                delay=rng.integers(0, 4, (60, 50)) * ms)
    net.connect(a, b, weight=rng.normal(5, 3, (50, 20)) * mV)
    net.connect(b, a, weight=-2 * mV, p=0.2)
    return net


def test_quantized_network_is_fixed_point_and_agrees():
    net = float_net()
    q = ns.loihi.quantize(net, duration=1.0)
    assert q.net.fixed_point and [p.name for p in q.net.populations] == ["poisson0", "a", "b"]
    a = q.net.population("a")
    assert a.spec.vth == 2**14
    assert a.spec.du == round(4095 - 4096 * np.exp(-1 / 5))
    assert a.spec.dv == round(4096 * (1 - np.exp(-1 / 20)))
    for proj in q.net.projections:
        assert np.abs(proj.loihi.weight).max() <= 256
    for ag in q.report.agreement:
        assert ag["float_spikes"] > 50
        assert abs(ag["rate_ratio"] - 1) < 0.03
        assert ag["count_correlation"] > 0.9
    early = ns.loihi.quantize(net, duration=0.05).report.agreement
    assert all(ag["matched_fraction"] > 0.9 for ag in early)
    assert "matched within 1 step" in q.report.to_markdown()
    assert not net.fixed_point and not net.built     # the float network is untouched


def test_quantized_psp_matches_float_shape():
    net = ns.Network(dt=1 * ms)
    src = net.spike_source(1, times=[2 * ms], indices=[0])
    lif = net.lif(1, tau_m=20 * ms, tau_syn=5 * ms, v_rest=0.0, v_th=10 * mV, v_reset=0.0)
    net.connect(src, lif, weight=3 * mV)
    q = ns.loihi.quantize(net)
    fm = net.state_monitor(lif, "v")
    qm = q.net.state_monitor(q.net.population(lif.name), "v")
    net.run(60 * ms)
    q.net.run(60 * ms)
    scale = 64 * q.report.populations[0]["scale"]
    # float samples are taken at the start of a step, Loihi's after it: shift by one step
    f = fm.values[1:, 0]
    g = qm.values[:-1, 0] / scale
    assert np.argmax(f) == np.argmax(g)
    assert np.max(np.abs(f - g)) < 0.01 * np.max(f)


@pytest.mark.parametrize("overrides, msg", [
    (dict(tau_syn=(5 * ms, 10 * ms)), "two synaptic time constants"),
    (dict(t_ref=3 * ms), "refractory period"),
    (dict(reset="subtract"), "reset by subtraction"),
])
def test_what_loihi_cannot_express_is_an_error(overrides, msg):
    with pytest.raises(ns.ParameterError, match=f"^a cannot be expressed on Loihi: .*{msg}"):
        ns.loihi.quantize(float_net(**overrides))


def test_long_delay_and_fixed_input_are_errors():
    net = float_net()
    net.connect(net.population("a"), net.population("b"), weight=1 * mV, delay=64 * ms)
    with pytest.raises(ns.ParameterError, match="delay of 64 steps"):
        ns.loihi.quantize(net)
    fixed = ns.Network()
    fixed.loihi_lif(2, du=1, dv=1, vth=1)
    with pytest.raises(ns.ParameterError, match="already fixed point"):
        ns.loihi.quantize(fixed)


def test_mapper_counts_cores_from_the_profile():
    net = ns.Network(dt=1e-3)
    src = net.spike_source(1000, times=[0], indices=[0])
    big = net.loihi_lif(20000, du=1, dv=1, vth=10, name="big")
    small = net.loihi_lif(1000, du=1, dv=1, vth=10, name="small")
    net.connect(src, small, weight=np.ones((1000, 1000), int))
    net.connect(src, big, weight=1, p=0.001)
    m = ns.loihi.map_to_cores(net, "loihi2")
    rows = {p["name"]: p for p in m.populations}
    assert rows["big"]["cores"] == 3                          # 20000 / 8192 neurons per core
    # 1 MB of dense 8-bit weights over 128 KB cores: at least 8 cores
    assert rows["small"]["cores"] >= 8
    assert all(p["bytes_per_core"] <= 131072 for p in m.populations)
    assert m.cores == sum(p["cores"] for p in m.populations) and m.chips == 1
    assert "fan_in_per_core" in m.estimates
    m1 = ns.loihi.map_to_cores(net, "loihi")
    assert {p["name"]: p for p in m1.populations}["big"]["cores"] >= 20


def test_mapper_errors():
    net = ns.Network(dt=1e-3)
    src = net.spike_source(5000, times=[0], indices=[0])
    lif = net.loihi_lif(10, du=1, dv=1, vth=10, name="wide")
    net.connect(src, lif, weight=1)
    with pytest.raises(ns.ParameterError, match="'wide' cannot map .*fan-in must be <= 4096"):
        ns.loihi.map_to_cores(net)
    with pytest.raises(HardwareProfileError, match="must be one of 'loihi', 'loihi2'"):
        ns.loihi.map_to_cores(net, "loihi9")


def test_chip_profiles_follow_schema_and_user_profiles(tmp_path, monkeypatch):
    from neurosim.hardware import list_profiles
    for name in list_profiles("chips"):
        lim = ns.loihi.load_chip(name)
        assert lim["cores_per_chip"] > 0 and set(lim["status"].values()) <= {"published",
                                                                            "estimate"}
    here = os.path.join(os.path.dirname(ns.__file__), "..", "hardware", "chips", "loihi2.toml")
    text = open(here).read()
    (tmp_path / "chips").mkdir()
    (tmp_path / "chips" / "mychip.toml").write_text(text.replace("value = 8192", "value = 100"))
    (tmp_path / "chips" / "broken.toml").write_text(
        text.replace("[limits.max_delay]", "[limits.not_max_delay]"))
    monkeypatch.setenv("NEUROSIM_HARDWARE_PATH", str(tmp_path))
    assert ns.loihi.load_chip("mychip")["neurons_per_core"] == 100
    with pytest.raises(HardwareProfileError, match=r"broken.toml: missing field limits.max_delay"):
        ns.loihi.load_chip("broken")
