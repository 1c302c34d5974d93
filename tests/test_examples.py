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
