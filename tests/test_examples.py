"""The examples' figures follow neurosim.plot's conventions (ms, mV, legends, thresholds)."""

import matplotlib

matplotlib.use("Agg")

from conftest import load_example  # noqa: E402
from test_plots import saved_figures  # noqa: E402,F401  (the fixture)


def test_cuba_example_figures(tmp_path, saved_figures, capsys):
    saved = saved_figures
    load_example("cuba").main(["--N", "400", "--duration", "0.05", "--out", str(tmp_path)])
    assert {"cuba_raster.png", "cuba_traces.png"} <= set(saved)
    trace = saved["cuba_traces.png"].axes[0]
    assert trace.get_xlabel() == "time (ms)" and "(mV)" in trace.get_ylabel()
    legend = [t.get_text() for t in trace.get_legend().get_texts()]
    assert legend == ["neuron 0", "neuron 1", "neuron 2", "threshold v_th = -50 mV"]
    assert max(trace.get_lines()[0].get_xdata()) > 40           # ms, not s
    raster = saved["cuba_raster.png"]
    assert [a.get_ylabel() for a in raster.axes] == ["inh\nneuron", "exc\nneuron"]
    assert raster.axes[-1].get_xlabel() == "time (ms)"
    assert (tmp_path / "cuba_summary.json").is_file()


def test_brunel_example_regimes(tmp_path, saved_figures, capsys):
    """examples/brunel.py: the four regimes of Fig. 8, a raster and a population rate each,
    in ms, with the rate and CV of each regime in its title and the summary."""
    import json
    load_example("brunel").main(["--scale", "0.05", "--scaled-indegree", "--duration", "0.1",
                                 "--window", "0.05", "--out", str(tmp_path)])
    fig = saved_figures["brunel_regimes.png"]
    rasters, rates = fig.axes[:4], fig.axes[4:8]
    assert [a.get_title().split(" (")[0] for a in rasters] == \
        ["A: SR", "B: SI-fast", "C: AI", "D: SI-slow"]
    assert all("Hz, CV(ISI)" in a.get_title() for a in rasters)
    assert all(a.get_xlabel() == "time (ms)" and "(Hz)" in a.get_ylabel() for a in rates)
    assert rates[0].get_xlim() == (50.0, 100.0)                 # the last 50 ms, in ms
    summary = json.loads((tmp_path / "brunel_summary.json").read_text())
    assert [r["regime"] for r in summary["regimes"]] == ["SR", "SI-fast", "AI", "SI-slow"]
    assert all(r["neurons"] == 625 and r["rate_hz"] > 0 for r in summary["regimes"])
    assert summary["c_exc"] == 50 and summary["c_inh"] == 12


def test_coba_example_figures(tmp_path, saved_figures, capsys):
    """examples/coba.py: raster, v and conductance traces (mV, nS against ms), summary."""
    import json
    load_example("coba").main(["--N", "400", "--duration", "0.05", "--out", str(tmp_path)])
    raster = saved_figures["coba_raster.png"]
    assert [a.get_ylabel() for a in raster.axes] == ["inh\nneuron", "exc\nneuron"]
    assert raster.axes[-1].get_xlabel() == "time (ms)"
    v, g_e, g_i = saved_figures["coba_traces.png"].axes
    assert "(mV)" in v.get_ylabel() and "(nS)" in g_e.get_ylabel() and "g_inh" in g_i.get_ylabel()
    assert g_i.get_xlabel() == "time (ms)" and max(v.get_lines()[0].get_xdata()) > 40
    assert min(g_i.get_lines()[0].get_ydata()) >= 0                 # conductances, in nS
    summary = json.loads((tmp_path / "coba_summary.json").read_text())
    assert summary["N"] == 400 and summary["synapses"] > 0 and summary["spikes"] > 0


def test_stdp_example_song_bimodal(tmp_path, saved_figures, capsys):
    """examples/stdp.py (Song, Miller & Abbott 2000), 50 s (half a second of wall time): the
    figure's three panels (weight histogram, monitored weights, output rate; w / w_max and
    seconds), the summary's fields, and weights that moved from their uniform start towards
    both bounds (bimodal: the end bins of the histogram hold more than twice the middle
    ones), the mean depressed and the neuron slowed down."""
    import json
    load_example("stdp").main(["--duration", "50", "--out", str(tmp_path)])
    fig = saved_figures["stdp_song.png"]
    hist, traj, rate = fig.axes
    assert hist.get_xlabel() == "w / w_max" and hist.get_ylabel() == "synapses"
    assert traj.get_xlabel() == "time (s)" and traj.get_ylabel() == "w / w_max"
    assert len(traj.get_lines()) == 8 and max(traj.get_lines()[0].get_xdata()) > 49
    assert rate.get_xlabel() == "time (s)" and "(Hz)" in rate.get_ylabel()
    s = json.loads((tmp_path / "stdp_summary.json").read_text())
    assert s["inputs"] == 1000 and s["duration_s"] == 50.0 and s["finished"]
    assert sum(s["histogram"]) == 1000 and len(s["histogram_edges"]) == 21
    assert 5 < s["output_rate_hz"] < 100 and s["plastic_updates"] > 1_000_000
    init, final = s["initial"], s["final"]
    assert init["at_0"] == 0 and init["at_w_max"] == 0            # uniform at first
    assert 0.05 < init["near_0"] < 0.15 and 0.05 < init["near_w_max"] < 0.15
    assert final["at_0"] > 0 and final["at_w_max"] > 0            # both bounds reached
    assert final["near_0"] > 0.17 and final["near_w_max"] > 0.12
    h = s["histogram"]
    middle = sum(h[5:15]) / 10
    assert h[0] > 2 * middle and h[-1] > 2 * middle                # bimodal
    assert final["mean"] < init["mean"]                            # competition
    assert s["output_rate_last_tenth_hz"] < 0.8 * s["output_rate_first_tenth_hz"]


def test_nir_example_imports_runs_crossbars_energy(tmp_path, saved_figures, capsys):
    """examples/nir.py: a trained graph written as NIR, read back, run, on crossbars, energy
    bars; the spiking accuracy is near the ANN's and ideal crossbars change nothing much."""
    import re
    load_example("nir").main(["--samples", "30", "--steps", "20", "--out", str(tmp_path)])
    assert {"accuracy.png", "energy.png", "raster.png"} <= set(saved_figures)
    text = (tmp_path / "report.md").read_text()
    ann, snn = map(float, re.search(r"ANN test accuracy ([\d.]+); spiking network after 20 "
                                    r"steps ([\d.]+)", text).groups())
    ideal, rram = map(float, re.search(r"ideal devices ([\d.]+), default RRAM .*? ([\d.]+)\.",
                                       text).groups())
    assert snn >= ann - 0.1 and abs(ideal - snn) <= 0.05 and rram >= snn - 0.15
    assert "| Loihi |" in text and (tmp_path / "mlp.nir").is_file()
    assert "identical to the NIR paper's Lava fixed-point trace: True" in text
    assert (tmp_path / "loihi_bundle").is_dir()


def test_events_example_runs_and_reports_both_accuracies(tmp_path, saved_figures, capsys):
    """examples/events.py on a small share of the digits: the event figure, both accuracies
    and the energy lines it promises."""
    load_example("events").main(["--out", str(tmp_path), "--images", "150", "--epochs", "2"])
    out = capsys.readouterr().out
    assert "events.png" in saved_figures
    assert "dense CNN accuracy" in out and "SNN" in out
    assert out.count("per inference") >= 2
