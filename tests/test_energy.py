"""Operation counters, energy profiles, estimates, the dense ANN baseline and conversion."""

import math
import os

import numpy as np
import pytest

import neurosim as ns
from neurosim.counters import Counts
from neurosim.energy import Conv2D, Dense, dense_ann, estimate
from neurosim.hardware import HardwareProfileError, list_profiles
from neurosim.units import ms

from conftest import random_network
from loihi_nets import random_fixed_network

ENERGY_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                          "hardware", "energy")


# ---------------------------------------------------------------------------- counters
def _expected_counts(net, mons, steps):
    """Counts computed independently from spike monitors and the projections' synapses."""
    spikes = {m.pop.name: m for m in mons}
    out = {}
    for proj in net.projections:
        m = spikes[proj.pre.name]
        fan = np.bincount(proj.pre_index, minlength=proj.pre.n)
        out[proj.name] = int(fan[m.indices].sum())
    return out


@pytest.mark.parametrize("seed", [1, 2])
def test_counts_are_exact_against_spike_monitors(backend, seed):
    net = random_network(seed, backend=backend, poisson=True)
    mons = [net.spike_monitor(p) for p in net.populations]
    cm = net.count_monitor(2 * ms)
    net.run(30 * ms)
    steps = 300
    c = net.counts()
    assert c.steps == steps and c.runs == 1
    for m in mons:
        pc = c.populations[m.pop.name]
        assert pc.spikes == m.num_spikes
        assert pc.active_steps == np.unique(m.steps).size
        assert pc.neuron_updates == (m.pop.n * steps if m.pop.kind == "lif" else 0)
    assert c.spikes > 0
    events = _expected_counts(net, mons, steps)
    for name, pc in c.projections.items():
        assert pc.events == events[name]
        assert pc.pre_active_steps == c.populations[pc.pre].active_steps
    assert c.synaptic_events == sum(events.values()) == net.synaptic_events()
    # per bin: 15 bins of 20 steps, each equal to the monitors' histogram
    assert len(cm.bins) == 15 and np.allclose(cm.t, np.arange(15) * 2e-3)
    for m in mons:
        hist = np.bincount(m.steps // 20, minlength=15)
        assert np.array_equal(cm.series("spikes", m.pop.name), hist)
        act = [np.unique(m.steps[m.steps // 20 == b]).size for b in range(15)]
        assert np.array_equal(cm.series("active_steps", m.pop.name), act)
    assert cm.series("events").sum() == c.synaptic_events
    assert sum(cm.bins).steps == steps


def test_counts_fixed_point_network_and_reset():
    net = random_fixed_network(3, monitor=False)
    mons = [net.spike_monitor(p) for p in net.populations]
    net.run(0.08)
    c = net.counts()
    for m in mons:
        assert c.populations[m.pop.name].spikes == m.num_spikes
        assert c.populations[m.pop.name].active_steps == np.unique(m.steps).size
    events = _expected_counts(net, mons, 80)
    assert {k: v.events for k, v in c.projections.items()} == events
    # adding a monitor rebuilds the record but keeps the counters
    net.spike_monitor(net.populations[1])
    net.run(0.02)
    c2 = net.counts()
    assert c2.steps == 100 and c2.spikes >= c.spikes
    assert c2.populations[mons[0].pop.name].active_steps == np.unique(mons[0].steps).size
    net.reset()
    z = net.counts()
    assert z.steps == 0 and z.spikes == 0 and all(
        p.active_steps == 0 for p in z.populations.values())
    net.run(0.08)
    assert net.counts() == c          # same run again: identical counts
    total = c + net.counts()
    assert total.runs == 2 and total.spikes == 2 * c.spikes and total.steps == 160


def test_count_monitor_errors():
    net = random_network(0)
    with pytest.raises(ns.ParameterError, match="bin must be a multiple of dt"):
        net.count_monitor(0.25 * ms + 1e-9)
    net.run(1 * ms)
    with pytest.raises(ns.NetworkError, match="before the first run"):
        net.count_monitor(1 * ms)
    other = random_network(1)
    other.run(1 * ms)
    with pytest.raises(ValueError, match="same network"):
        net.counts() + Counts(dt=1.0, steps=1, runs=1)


# ---------------------------------------------------------------------------- profiles
def test_every_energy_profile_follows_the_schema():
    names = ns.hardware.list()
    for required in ("loihi", "loihi2", "truenorth", "spinnaker", "spinnaker2", "cpu", "gpu",
                     "arm", "digital45", "crossbar_rram"):
        assert required in names
    for name in names:
        prof = ns.hardware.load(name)
        assert prof.execution in ("spiking", "dense", "digital-model", "crossbar")
        for op in list(prof.ops.values()) + list(prof.params.values()):
            assert op.source.strip() and op.value >= 0
        assert prof.ops or prof.unavailable
    assert not ns.hardware.load("loihi2").ops          # no invented Loihi 2 figures
    assert ns.hardware.load("loihi").ops["synaptic_op"].value == pytest.approx(23.6e-12)


def _write(tmp_path, name, text):
    (tmp_path / "energy").mkdir(exist_ok=True)
    (tmp_path / "energy" / f"{name}.toml").write_text(text)


def test_profile_errors_name_file_and_field(tmp_path, monkeypatch):
    text = open(os.path.join(ENERGY_DIR, "spinnaker2.toml")).read()
    _write(tmp_path, "nosrc", text.replace('source = "Hoeppner et al. 2019, IEEE TCAS-I 66(8) '
                                           '(28 nm prototype); KerasSpiking ModelEnergy table"',
                                           ""))
    _write(tmp_path, "badper", text.replace('per = "neuron_update"', 'per = "neuron"'))
    _write(tmp_path, "mine", text.replace("450e-12", "1e-12"))
    monkeypatch.setenv("NEUROSIM_HARDWARE_PATH", str(tmp_path))
    with pytest.raises(HardwareProfileError, match=r"nosrc.toml: missing field "
                                                   r"ops.neuron_update.source"):
        ns.hardware.load("nosrc")
    with pytest.raises(HardwareProfileError, match=r"badper.toml: ops.neuron_update.per must "
                                                   r"be one of .*got 'neuron'"):
        ns.hardware.load("badper")
    assert ns.hardware.load("mine").ops["synaptic_op"].value == 1e-12
    assert "mine" in ns.hardware.list()
    with pytest.raises(HardwareProfileError, match=r"energy profile must be one of .*'loihi'"
                                                   r".*got 'loihi3'"):
        ns.hardware.load("loihi3")


def test_pyproject_ships_every_package_and_profile():
    import sys
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib
    root = os.path.dirname(ENERGY_DIR).rsplit(os.sep, 1)[0]
    cfg = tomllib.load(open(os.path.join(root, "pyproject.toml"), "rb"))["tool"]["setuptools"]
    found = {os.path.relpath(d, root).replace(os.sep, ".")
             for d, _, files in os.walk(os.path.join(root, "neurosim"))
             if "__init__.py" in files}
    data = {"neurosim._hardware." + d for d in os.listdir(os.path.join(root, "hardware"))
            if os.path.isdir(os.path.join(root, "hardware", d))
            and any(f.endswith(".toml") for f in os.listdir(os.path.join(root, "hardware", d)))}
    assert found | {"neurosim._hardware"} | data == set(cfg["packages"])
    assert cfg["package-dir"]["neurosim._hardware"] == "hardware"
    for pkg in data:
        assert cfg["package-data"][pkg] == ["*.toml"]
    for kind in ("energy", "chips"):
        assert list_profiles(kind)


# ---------------------------------------------------------------------------- estimates
def _tiny_net():
    """3 sources -> 2 LIF (all to all) -> 1 LIF; 20 steps; known spikes."""
    net = ns.Network(dt=1e-3, seed=0)
    src = net.spike_source(3, times=[0.0, 0.0, 0.005, 0.010], indices=[0, 1, 0, 2])
    a = net.lif(2, tau_m=10e-3, tau_syn=1e-3, v_rest=0.0, v_th=1.0, v_reset=0.0, name="a")
    b = net.lif(1, tau_m=10e-3, tau_syn=1e-3, v_rest=0.0, v_th=1.0, v_reset=0.0, name="b")
    net.connect(src, a, weight=np.full((3, 2), 0.01), name="s->a")
    net.connect(a, b, weight=np.full((2, 1), 0.01), name="a->b")
    net.run(0.02)
    return net


def test_estimate_matches_hand_computation():
    net = _tiny_net()
    # 4 source spikes, each to 2 targets; no LIF spike (weights too small)
    c = net.counts()
    assert c.spikes == 4 and c.synaptic_events == 8 and c.neuron_updates == 3 * 20
    rep = estimate(net, "loihi")
    hand = 8 * 23.6e-12 + 4 * 3.5e-12 + 60 * 81e-12
    assert rep.total == pytest.approx(hand, rel=1e-12)
    assert rep.per_projection["s->a"] == pytest.approx(8 * 23.6e-12)
    assert rep.per_population["a"] == pytest.approx(40 * 81e-12)
    # the source's spikes are routed (it sends somewhere); b sends nowhere
    assert rep.per_population[net.populations[0].name] == pytest.approx(4 * 3.5e-12)
    assert any("static" in a for a in rep.assumptions)
    assert estimate(net, "truenorth").total == pytest.approx(8 * 26e-12)
    assert estimate(net, "spinnaker2").total == pytest.approx(8 * 450e-12 + 60 * 2.19e-9)
    d = estimate(net, "digital45")
    word = 32 / 64 * 10e-12
    assert d.total == pytest.approx(8 * (0.9e-12 + word)
                                    + 60 * (2 * 3.7e-12 + 2 * 0.9e-12 + 2 * word))
    d8 = estimate(net, "digital45", precision="int8")
    assert d8.total < d.total
    # crossbar: 2 cells per weight, V^2 G t per cell; DAC per spike and column tile; ADC per
    # weight column in every step with an input spike (3 distinct steps for the source)
    x = estimate(net, "crossbar_rram")
    assert c.populations[net.populations[0].name].active_steps == 3
    cell = 0.1 ** 2 * 20e-6 * 10e-9
    hand = 8 * 2 * cell + 4 * 0.417e-12 + 3 * 2 * 1.67e-12 + 60 * 5.1e-12
    assert x.total == pytest.approx(hand, rel=1e-12)
    x4 = estimate(net, "crossbar_rram", adc_bits=4)
    assert x.total - x4.total == pytest.approx(3 * 2 * (1.67e-12 - 0.79e-12))


def test_per_inference_and_comparison():
    net = _tiny_net()
    one = net.counts()
    rep = estimate([one, one, one], "loihi")
    assert rep.inferences == 3 and rep.per_inference == pytest.approx(estimate(net).total)
    assert len(rep.per_inference_series) == 3
    assert estimate(net, "loihi", inferences=4).per_inference == pytest.approx(
        estimate(net).total / 4)
    cmp_ = estimate(net, "loihi,loihi2,cpu,gpu")
    assert [r.hardware for r in cmp_.reports] == ["loihi", "cpu", "gpu"]
    assert "loihi2" in cmp_.unavailable and "no energy figures" in cmp_.unavailable["loihi2"]
    table = cmp_.to_markdown()
    assert "Loihi" in table and "n/a" in table
    assert cmp_["cpu"].total == pytest.approx(68 * 8.6e-9)


def test_estimate_errors():
    net = random_network(0)
    with pytest.raises(HardwareProfileError, match="never run"):
        estimate(net, "loihi")
    net.run(1 * ms)
    with pytest.raises(HardwareProfileError, match=r"must be one of .*'cpu'.*got 'tpu'"):
        estimate(net, "tpu")
    with pytest.raises(HardwareProfileError, match="Loihi 2.*no energy figures"):
        estimate(net, "loihi2")
    with pytest.raises(ns.ParameterError, match="precision must be one of"):
        estimate(net, "digital45", precision="fp8")
    with pytest.raises(ns.ParameterError, match="inferences must be an integer >= 1"):
        estimate(net, "loihi", inferences=0)
    with pytest.raises(ns.ParameterError, match=r"adc_bits must be within .*\[4, 10\]"):
        estimate(net, "crossbar_rram", adc_bits=12)


# ---------------------------------------------------------------------------- dense ANN
def test_dense_ann_counts_macs_and_memory():
    conv = Conv2D((28, 28, 1), filters=8, kernel=3, stride=2, padding="same")
    assert conv.out_shape == (14, 14, 8)
    assert conv.macs == 14 * 14 * 8 * 9 and conv.weights == 9 * 8 + 8
    valid = Conv2D((10, 10, 3), filters=4, kernel=(3, 5), padding="valid")
    assert valid.out_shape == (8, 6, 4) and valid.macs == 8 * 6 * 4 * 15 * 3
    rep = dense_ann([64, 100, 10], "cpu")
    assert rep.total == pytest.approx((64 * 100 + 100 * 10 + 110) * 8.6e-9)
    d = dense_ann([Dense(64, 100), Dense(100, 10)], "digital45")
    word = 32 / 64
    hand = (7400 * 4.6e-12 + (6500 + 1010) * word * 1.3e-9
            + (164 + 110) * word * 10e-12)
    assert d.total == pytest.approx(hand)
    # memory dominates: weights from DRAM cost more than the MACs
    ops = d.by_operation()
    assert sum(v for k, v in ops.items() if "weight" in k) > sum(
        v for k, v in ops.items() if "MAC" in k)
    assert dense_ann([64, 100, 10], "digital45", weight_memory="sram").total < d.total
    assert dense_ann([64, 100, 10], "digital45", batch=10).total < d.total
    with pytest.raises(ns.ParameterError, match="hardware must be a profile for dense"):
        dense_ann([64, 10], "loihi")
    with pytest.raises(ns.ParameterError, match=r"layers\[1\] must be a Dense or Conv2D"):
        dense_ann([Dense(4, 4), "relu"], "cpu")
    with pytest.raises(ns.ParameterError, match="padding must be one of"):
        Conv2D((8, 8, 1), 2, padding="full")


def test_kerasspiking_convention_is_reproduced():
    """For a dense layer with uniform fan-out, the counted synaptic events equal
    KerasSpiking's connections x input rate x dt x timesteps."""
    net = ns.Network(dt=1e-3, seed=4)
    src = net.poisson(50, rate=200.0, name="in")
    out = net.lif(20, tau_m=20e-3, tau_syn=5e-3, v_rest=0.0, v_th=1.0, v_reset=0.0, name="out")
    net.connect(src, out, weight=np.full((50, 20), 0.001), name="in->out")
    mon = net.spike_monitor(src)
    net.run(0.5)
    rate = mon.num_spikes / (50 * 0.5)
    rep = estimate(net, "spinnaker2")
    keras = 450e-12 * (50 * 20) * rate * 1e-3 * 500 + 2.19e-9 * 20 * 500
    assert rep.total == pytest.approx(keras, rel=1e-9)


# ---------------------------------------------------------------------------- conversion
@pytest.fixture(scope="module")
def digits_ann():
    data = ns.convert.load_digits()
    return data, ns.convert.train_mlp(data.x_train, data.y_train, hidden=(64,), epochs=60)


def test_converted_snn_within_one_point_of_the_ann(digits_ann):
    data, ann = digits_ann
    acc_ann = ann.accuracy(data.x_test, data.y_test)
    assert acc_ann > 0.93
    snn = ns.convert.convert(ann, data.x_train)
    res = snn.evaluate(data.x_test, data.y_test, steps=[5, 50])
    assert res.accuracy[50] >= acc_ann - 0.01
    assert res.accuracy[5] < res.accuracy[50]          # accuracy grows with the budget
    assert res.counts.runs == len(data.x_test) and res.counts.steps == 50 * len(data.x_test)
    assert 0 < res.rates["hidden0"] < 1
    short = res.counts_at[5]
    assert short.steps == 5 * len(data.x_test) and short.spikes < res.counts.spikes
    assert res.counts_at[50] == res.counts
    rep = estimate(res.counts, "loihi")
    assert rep.inferences == len(data.x_test)


def test_conversion_options_and_user_weights(digits_ann):
    data, ann = digits_ann
    x, y = data.x_test[:60], data.y_test[:60]
    acc_ann = ann.accuracy(x, y)
    user = ns.convert.MLP([w.copy() for w in ann.weights], [b.copy() for b in ann.biases])
    for kw in (dict(readout="membrane"), dict(input="poisson"), dict(reset="value")):
        res = ns.convert.convert((user.weights, user.biases), data.x_train, **kw).evaluate(
            x, y, steps=[100])
        assert res.accuracy[100] >= acc_ann - (0.05 if kw.get("reset") == "value" else 0.04)
    mem = ns.convert.convert(user, data.x_train, readout="membrane").evaluate(x[:3],
                                                                               steps=[10])
    assert mem.counts.populations["output"].spikes == 0
    with pytest.raises(ns.ParameterError, match=r"weights\[1\] must be 64 rows"):
        ns.convert.MLP([np.zeros((64, 64)), np.zeros((32, 10))])
    with pytest.raises(ns.ParameterError, match=r"x_norm must be values in \[0, 1\]"):
        ns.convert.convert(ann, data.x_train * 16)
    with pytest.raises(ns.ParameterError, match="input must be one of"):
        ns.convert.convert(ann, data.x_train, input="rate")


def test_energy_example_writes_report_and_figures(tmp_path):
    from conftest import load_example
    mod = load_example("energy")
    mod.main(["--out", str(tmp_path), "--samples", "40", "--steps", "10", "30"])
    report = (tmp_path / "report.md").read_text()
    assert "Loihi" in report and "no energy figures" in report and "Assumptions" in report
    for png in ("energy.png", "accuracy.png", "raster.png"):
        assert (tmp_path / png).stat().st_size > 5000


def test_a_run_that_is_not_an_inference_is_labelled_per_run():
    """Issue 16: 1 s of a network is a run, not an inference; parts a profile has no figure
    for read 'not charged' (0 J would claim they were charged and cost nothing)."""
    net = _tiny_net()
    rep = estimate(net, "truenorth", per="run")
    assert rep.per == "run" and rep.simulated == pytest.approx(0.02)
    assert rep.power == pytest.approx(rep.total / 0.02)
    text = rep.to_markdown()
    assert "per run" in text and "per inference" not in text and "0.02 s simulated" in text
    assert "per inference" in estimate(net, "truenorth").to_markdown()
    table = estimate(net, "loihi,truenorth", per="run").to_markdown()
    assert "energy per run (0.02 s simulated)" in table and "per inference" not in table
    row = next(r for r in table.splitlines() if r.startswith("| TrueNorth"))
    assert row.count("not charged") == 2 and "0 J" not in row
    row = next(r for r in table.splitlines() if r.startswith("| Loihi"))
    assert "not charged" not in row
    with pytest.raises(ns.ParameterError, match="per must be one of"):
        estimate(net, "loihi", per="second")
