"""Figures a reader can read (issue 16, point 6): units on every axis, mV and ms, legends and
threshold lines on traces, output spikes off the frame line, long rasters thinned or binned."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import neurosim as ns  # noqa: E402
from neurosim import plot  # noqa: E402


def _net(n=(40, 10), bias=(12e-3, 0.0), duration=0.2, seed=0, dt=1e-4):
    """Two regularly firing LIF populations; the second one small (an 'output' layer)."""
    net = ns.Network(dt=dt, seed=seed)
    a = net.lif(n[0], tau_m=20e-3, tau_syn=5e-3, v_rest=-60e-3, v_th=-50e-3, v_reset=-60e-3,
                bias=np.linspace(11e-3, 20e-3, n[0]), name="hidden")
    b = net.lif(n[1], tau_m=20e-3, tau_syn=5e-3, v_rest=-60e-3, v_th=-50e-3, v_reset=-60e-3,
                bias=np.linspace(10.5e-3, 12e-3, n[1]), name="output")
    net.connect(a, b, weight=0.5e-3, p=0.2)
    mons = [net.spike_monitor(a), net.spike_monitor(b)]
    vm = net.state_monitor(a, "v", indices=[0, 3, 7])
    net.run(duration, progress=False)
    return net, mons, vm


def _points(ax):
    """(x, y) of every marker line drawn on ``ax``."""
    xs, ys = [], []
    for line in ax.get_lines():
        if line.get_linestyle() in ("None", "none", "") and len(line.get_xdata()):
            xs.append(np.asarray(line.get_xdata(), float))
            ys.append(np.asarray(line.get_ydata(), float))
    return np.concatenate(xs), np.concatenate(ys)


def test_raster_is_in_ms_with_units_and_no_spike_on_the_frame():
    net, mons, _ = _net()
    fig, ax = plt.subplots()
    plot.raster(mons, ax=ax)
    assert ax.get_xlabel() == "time (ms)" and "neuron" in ax.get_ylabel()
    x, y = _points(ax)
    assert x.max() <= 200 and x.max() > 150                  # ms, not s
    lo, hi = ax.get_ylim()
    assert y.min() - lo >= 0.5 and hi - y.max() >= 0.5      # the top neuron is off the frame
    assert ax.raster_mode == "all"
    plt.close(fig)


def test_classifier_raster_shows_output_spikes_with_class_labels():
    net, mons, _ = _net()
    fig, pred = plot.classifier_raster(mons, label=3, title="one inference")
    out = fig.axes[0]                                         # output layer: its own panel
    names = [t.get_text() for t in out.get_yticklabels()]
    assert names == [f"class {c} ({k} spikes)" for c, k in enumerate(mons[-1].counts)]
    assert pred == int(np.argmax(mons[-1].counts)) and mons[-1].num_spikes > 0
    x, y = _points(out)
    assert y.size == mons[-1].num_spikes
    lo, hi = out.get_ylim()
    assert y.min() - lo >= 0.5 and hi - y.max() >= 0.5
    assert "true class 3, predicted" in fig._suptitle.get_text()
    assert all(a.get_xlabel() in ("", "time (ms)") for a in fig.axes)
    assert fig.axes[len(mons) - 1].get_xlabel() == "time (ms)"
    plt.close(fig)


def test_long_rasters_are_thinned_then_binned_and_say_so():
    assert plot.raster_mode(1000, 100) == ("all", 1)
    assert plot.raster_mode(100_000, 10_000) == ("thinned", 5)    # 10 spikes per neuron
    assert plot.raster_mode(100_000, 100)[0] == "binned"           # 1000 per neuron: a block
    net, mons, _ = _net(duration=2.0, dt=1e-3)                     # about 40 spikes per row
    fig, ax = plt.subplots()
    plot.raster(mons, ax=ax, max_spikes=1000, title="long run")
    assert ax.raster_mode == "binned"
    assert ax.get_title().startswith("long run\nbinned: mean rate per")
    assert len(ax.images) == 1 and ax.get_xlabel() == "time (ms)"
    plt.close(fig)
    net, mons, _ = _net(n=(400, 10), duration=0.2)              # many rows, few spikes each
    total = sum(m.num_spikes for m in mons)
    assert 1000 < total < 40 * 410
    fig, ax = plt.subplots()
    plot.raster(mons, ax=ax, max_spikes=1000, title="thin")
    assert ax.raster_mode == "thinned" and "thinned: 1 neuron in" in ax.get_title()
    assert _points(ax)[0].size <= 1000 + 410
    plt.close(fig)


def test_traces_in_mv_and_ms_with_legend_and_threshold():
    net, _, vm = _net()
    fig, ax = plt.subplots()
    plot.traces(vm, ax=ax)
    assert ax.get_xlabel() == "time (ms)" and "(mV)" in ax.get_ylabel()
    lines = ax.get_lines()
    np.testing.assert_allclose(lines[0].get_ydata(), vm.values[:, 0] * 1e3)
    np.testing.assert_allclose(lines[0].get_xdata(), vm.t * 1e3)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:3] == ["neuron 0", "neuron 3", "neuron 7"]
    assert labels[3] == "threshold v_th = -50 mV"
    assert lines[3].get_ydata()[0] == pytest.approx(-50.0)
    plt.close(fig)


def test_loihi_traces_are_integer_registers_with_the_threshold():
    net = ns.Network(dt=1e-3, seed=0)
    lif = net.loihi_lif(3, du=410, dv=205, vth=300, bias_mant=10, bias_exp=6)
    vm = net.state_monitor(lif, "v")
    net.run(0.03, progress=False)
    fig, ax = plt.subplots()
    plot.traces(vm, ax=ax)
    assert "integer register" in ax.get_ylabel() and ax.get_xlabel() == "time (ms)"
    assert any("300" in t.get_text() or "19,200" in t.get_text()
               for t in ax.get_legend().get_texts())
    plt.close(fig)


@pytest.fixture
def saved_figures(monkeypatch):
    """File name -> Figure of every figure saved during the test (saved as usual)."""
    from matplotlib.figure import Figure
    saved = {}
    real = Figure.savefig

    def keep(self, path, *a, **k):
        saved[str(path).rsplit("/", 1)[-1]] = self
        return real(self, path, *a, **k)
    monkeypatch.setattr(Figure, "savefig", keep)
    return saved


def test_cli_figures_use_ms_mv_and_legends(tmp_path, saved_figures):
    """neurosim run's raster.png and trace_*.png: the same conventions."""
    from neurosim.cli import main
    saved = saved_figures
    net_file = tmp_path / "net.toml"
    net_file.write_text("""
[network]
dt = "0.1 ms"
duration = "100 ms"
[populations.exc]
model = "lif"
n = 20
tau_m = "20 ms"
tau_syn = "5 ms"
v_rest = "-49 mV"
v_th = "-50 mV"
v_reset = "-60 mV"
[monitors]
spikes = "all"
state = [{population = "exc", var = "v", indices = [0, 1]}]
""")
    assert main(["run", str(net_file), "--out", str(tmp_path / "o"), "--quiet"]) == 0
    trace = saved["trace_exc_v.png"].axes[0]
    assert trace.get_xlabel() == "time (ms)" and "(mV)" in trace.get_ylabel()
    assert "threshold v_th = -50 mV" in [t.get_text() for t in trace.get_legend().get_texts()]
    assert max(trace.get_lines()[0].get_xdata()) > 90          # ms
    assert all(a.get_xlabel() in ("", "time (ms)") for a in saved["raster.png"].axes)
