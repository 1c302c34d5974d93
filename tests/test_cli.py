"""Network files, results files and the neurosim command."""

import json
import os
import textwrap

import numpy as np
import pytest

import neurosim as ns
from neurosim.cli import main
from neurosim.netfile import NetworkFileError, load_network, parse_quantity

HERE = os.path.dirname(os.path.abspath(__file__))
NETWORKS = os.path.join(HERE, "..", "examples", "networks")

SMALL = """
[network]
dt = "1 ms"
duration = "50 ms"
seed = 4

[populations.inp]
model = "poisson"
n = 6
rate = "100 Hz"

[populations.out]
model = "lif"
n = 3
tau_m = "10 ms"
tau_syn = "2 ms"
v_rest = 0
v_th = "10 mV"
v_reset = 0

[[connections]]
pre = "inp"
post = "out"
weight = {WEIGHT}
{EXTRA}

[monitors]
spikes = "all"
state = [{population = "out", var = "v", indices = [0, 2]}]
"""


def _write(tmp_path, weight="\"4 mV\"", extra="", text=None, name="net.toml"):
    p = tmp_path / name
    p.write_text(text if text is not None else SMALL.replace("{WEIGHT}", weight)
                 .replace("{EXTRA}", extra))
    return str(p)


def test_quantities():
    assert parse_quantity("20 ms") == pytest.approx(0.02)
    assert parse_quantity("-65 mV") == pytest.approx(-0.065)
    assert parse_quantity("1.5e3 Hz") == 1500.0
    assert parse_quantity(3) == 3.0
    with pytest.raises(NetworkFileError, match="unknown unit 'furlong'"):
        parse_quantity("3 furlong")
    with pytest.raises(NetworkFileError, match="expected a number"):
        parse_quantity(True)


def test_cuba_file_builds_the_cuba_network():
    nf = load_network(os.path.join(NETWORKS, "cuba.toml"))
    net = nf.net
    exc, inh = net.population("exc"), net.population("inh")
    assert (exc.n, inh.n) == (3200, 800)
    assert exc.spec.tau_exc == pytest.approx(5e-3) and exc.spec.tau_inh == pytest.approx(1e-2)
    assert np.all((exc.spec.v_init >= -0.06) & (exc.spec.v_init <= -0.05))
    assert exc.spec.v_init.std() > 0.002                          # drawn per neuron
    n_syn = sum(p.n_synapses for p in net.projections)
    assert abs(n_syn - 0.02 * 4000 ** 2) < 5 * np.sqrt(0.02 * 4000 ** 2)
    w = {p.name: np.unique(p.weight) for p in net.projections}
    assert all(len(v) == 1 for v in w.values())
    assert nf.duration == 1.0 and net.dt == pytest.approx(1e-4)


def test_weights_from_files_inline_and_random(tmp_path):
    W = np.arange(18, dtype=float).reshape(6, 3) * 1e-4
    np.save(tmp_path / "w.npy", W)
    np.savez(tmp_path / "w.npz", A=W * 2, B=W)
    for weight, want in (("{file = \"w.npy\"}", W), ("{file = \"w.npz\", key = \"A\"}", 2 * W),
                         ("{file = \"w.npy\", scale = \"1 mV\"}", W * 1e-3),
                         (json.dumps(W.tolist()), W)):
        nf = load_network(_write(tmp_path, weight))
        np.testing.assert_allclose(nf.net.projections[0].to_dense(), want)
    nf = load_network(_write(tmp_path, extra="indegree = 2"))
    assert np.all(np.bincount(nf.net.projections[0].post_index) == 2)


@pytest.mark.parametrize("weight,extra,match", [
    ("{file = \"missing.npy\"}", "", r"\[\[connections\]\] #1 weight: no such file"),
    ("\"4 mV\"", "bogus = 1", r"#1 bogus: unknown key"),
    ("[[1.0, 2.0]]", "", r"\[\[connections\]\] #1: .*weight"),
    ("\"4 mV\"", "delay = \"-1 ms\"", r"#1: .*delay"),
    ("\"4 mV\"", "p = 1.5", r"#1: .*p must be"),
])
def test_bad_connection_entries_name_file_and_entry(tmp_path, weight, extra, match):
    path = _write(tmp_path, weight, extra)
    with pytest.raises(NetworkFileError, match=match) as e:
        load_network(path)
    assert str(e.value).startswith(path)


def test_bad_population_and_network_entries(tmp_path):
    bad = SMALL.replace("{WEIGHT}", "1").replace("{EXTRA}", "")
    cases = [(bad.replace('model = "lif"', 'model = "izhikevich"'),
              r"\[populations.out\] model: one of lif"),
             (bad.replace('tau_m = "10 ms"', 'tau_m = "10 ms"\ntau = 3'),
              r"\[populations.out\] tau: unknown parameter for lif"),
             (bad.replace('tau_m = "10 ms"', 'tau_m = "-10 ms"'),
              r"\[populations.out\]: tau_m must be > 0"),
             (bad.replace('seed = 4', 'seeds = 4'), r"\[network\] seeds: unknown key"),
             (bad.replace('post = "out"', 'post = "nowhere"'), r"#1 post: .*'nowhere'"),
             (bad.replace('var = "v"', 'var = "w"'), r"\[monitors\] state #1: .*var"),
             (bad + "\n[extras]\n", r"extras: unknown section"),
             ("[network\n", "not valid TOML")]
    for text, match in cases:
        with pytest.raises(NetworkFileError, match=match):
            load_network(_write(tmp_path, text=text))


def test_results_round_trip(tmp_path):
    nf = load_network(_write(tmp_path))
    net = nf.net
    net.run(nf.duration, progress=False)
    path = ns.save_results(tmp_path / "r", net, extra={"note": "x"})
    assert path.endswith(".npz") and os.path.isfile(path)
    res = ns.load_results(path)
    for name, m in nf.spike_monitors.items():
        np.testing.assert_array_equal(res.spikes[name].steps, m.steps)
        np.testing.assert_array_equal(res.spikes[name].indices, m.indices)
        np.testing.assert_allclose(res.spikes[name].times, m.times)
    tr = res.state[("out", "v")]
    m = nf.state_monitors[("out", "v")]
    np.testing.assert_array_equal(tr.values, m.values)
    np.testing.assert_array_equal(tr.indices, [0, 2])
    assert res.counts == net.counts()
    assert res.version == ns.__version__ and res.meta["extra"] == {"note": "x"}
    pops = {p["name"]: p for p in res.network["populations"]}
    assert pops["out"]["tau_m"] == pytest.approx(0.01) and pops["inp"]["rate"] == 100.0
    assert res.duration == pytest.approx(0.05)


def test_results_written_atomically(tmp_path, monkeypatch):
    nf = load_network(_write(tmp_path))
    nf.net.run(0.01, progress=False)
    path = ns.save_results(tmp_path / "r.npz", nf.net)
    before = open(path, "rb").read()

    def boom(*a, **k):
        raise KeyboardInterrupt
    monkeypatch.setattr(np, "savez_compressed", boom)
    nf.net.run(0.01, progress=False)
    with pytest.raises(KeyboardInterrupt):
        ns.save_results(path, nf.net)
    assert open(path, "rb").read() == before                  # the old file is intact
    assert sorted(os.listdir(tmp_path)) == ["net.toml", "r.npz"]   # no temporary left


def test_load_results_rejects_other_files(tmp_path):
    np.savez(tmp_path / "x.npz", a=np.zeros(3))
    with pytest.raises(ValueError, match="not a neurosim results file"):
        ns.load_results(tmp_path / "x.npz")
    with pytest.raises(FileNotFoundError, match="no such results file"):
        ns.load_results(tmp_path / "none.npz")


def test_cli_run_energy_hardware(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", _write(tmp_path), "--out", str(out), "--quiet"]) == 0
    assert {"results.npz", "summary.json", "raster.png", "trace_out_v.png"} <= \
        set(os.listdir(out))
    summary = json.loads((out / "summary.json").read_text())
    res = ns.load_results(out / "results.npz")
    assert summary["populations"]["out"]["spikes"] == res.spikes["out"].num_spikes
    assert not res.meta["interrupted"]
    assert "[network]" in res.meta["extra"]["source"]
    capsys.readouterr()
    assert main(["energy", str(out / "results.npz"), "--hardware", "loihi,spinnaker2",
                 "--out", str(out / "energy.md")]) == 0
    text = capsys.readouterr().out
    assert "Loihi" in text and "SpiNNaker 2" in text.replace("SpiNNaker2", "SpiNNaker 2")
    assert (out / "energy.md").read_text().strip() == text.strip()
    assert main(["hardware", "list", "--kind", "memristor"]) == 0
    assert "rram_hfox_1t1r" in capsys.readouterr().out
    assert main(["hardware", "show", "truenorth"]) == 0
    assert "source" in capsys.readouterr().out
    assert main(["hardware", "show", "nothing"]) == 2
    assert "no profile named 'nothing'" in capsys.readouterr().err


def test_cli_reports_file_errors_before_running(tmp_path, capsys):
    path = _write(tmp_path, extra="p = 2")
    out = tmp_path / "out"
    assert main(["run", path, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert path in err and "[[connections]] #1" in err
    assert not out.exists()                                   # nothing written


def test_cli_help(capsys):
    for cmd in ("run", "energy", "export", "hardware", "bench"):
        with pytest.raises(SystemExit) as e:
            main([cmd, "--help"])
        assert e.value.code == 0
        assert "usage: neurosim " + cmd in capsys.readouterr().out


def test_cli_export_loihi_bundle(tmp_path):
    text = SMALL.replace("{WEIGHT}", "\"4 mV\"").replace("{EXTRA}", "delay = \"2 ms\"")
    out = tmp_path / "bundle"
    assert main(["export", "loihi", _write(tmp_path, text=text), "--out", str(out)]) == 0
    files = set(os.listdir(out))
    assert {"manifest.json", "network.npz", "run_lava.py", "spikes_neurosim.npz"} <= files
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["steps"] == 50
    ref = np.load(out / "spikes_neurosim.npz")
    assert any(k.startswith("spikes/") for k in ref.files)


def test_demo_pipeline_writes_report_results_and_figures(tmp_path):
    """The main job end to end on a few images (Lava included where it is installed)."""
    from conftest import load_example
    from neurosim.export.lava import LavaUnavailableError, require_lava
    try:
        require_lava()
        lava = True
    except LavaUnavailableError:
        lava = False
    mod = load_example("demo")
    mod.main(["--out", str(tmp_path), "--samples", "12"] + ([] if lava else ["--no-lava"]))
    report = (tmp_path / "report.md").read_text()
    for needle in ("## Accuracy", "Loihi fixed point", "RRAM crossbar", "TrueNorth",
                   "SpiNNaker 2", "Digital 45 nm", "What each estimate assumes",
                   "neurosim vs Lava"):
        assert needle in report, needle
    res = json.loads((tmp_path / "results.json").read_text())
    assert set(res["accuracy"]) >= {"ann", "snn_float", "snn_loihi_fixed_point",
                                    "snn_crossbar", "crossbar_vs_programming_noise"}
    assert all(0 <= v <= 1 for v in res["accuracy"]["snn_float"].values())
    assert set(res["energy_per_inference_j"]) == {
        "ann_cpu", "ann_gpu", "ann_digital45", "snn_loihi", "snn_spinnaker2",
        "snn_truenorth", "snn_crossbar"}
    if lava:
        assert all(v["identical"] for v in res["lava"].values())
    from test_docs import _readme_numbers                 # the README renders from it
    assert "| ANN 64-64-10 |" in _readme_numbers().render(res)
    one = ns.load_results(tmp_path / "inference.npz")
    assert set(one.spikes) == {"input", "hidden0", "output"}
    for png in ("accuracy", "energy", "raster", "traces", "crossbar"):
        assert (tmp_path / f"{png}.png").stat().st_size > 5000


# ------------------------------------------------------------------ issue 16: CLI slips
def test_cli_top_level_help_is_a_description(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert "``" not in out and "The neurosim command" not in out
    assert "network files" in out.lower() or "toml" in out.lower()


def test_cli_hardware_show_ambiguous_name_lists_the_matches(capsys):
    assert main(["hardware", "show", "rram"]) == 2
    err = capsys.readouterr().err
    assert "ambiguous" in err and "no profile named" not in err
    for name in ("rram_hfox_1t1r", "rram_taox_hfox_analog", "rram_agsi_nonlinear"):
        assert name in err
    assert main(["hardware", "show", "rram_hf"]) == 0          # a unique prefix still works
    assert "rram_hfox_1t1r.toml" in capsys.readouterr().out
    assert main(["hardware", "show", "loihi"]) == 2            # energy and chips profiles
    assert "--kind" in capsys.readouterr().err
    assert main(["hardware", "show", "loihi", "--kind", "chips"]) == 0
    assert main(["hardware", "show", "hfox"]) == 2             # no prefix: suggestions
    assert "did you mean rram_hfox_1t1r, rram_taox_hfox_analog" in capsys.readouterr().err
    path = os.path.join(HERE, "..", "hardware", "memristor", "pcm_gst.toml")
    assert main(["hardware", "show", path]) == 0                # a file: its kind from its folder
    assert capsys.readouterr().out.startswith("# memristor profile")
    with pytest.raises(ns.hardware.HardwareProfileError, match="ambiguous.*rram_agsi"):
        ns.hardware.load_profile("memristor", "rram")


def test_cli_export_error_names_the_cli_flag(tmp_path, capsys):
    text = SMALL.replace("{WEIGHT}", "\"4 mV\"").replace("{EXTRA}", "")
    path, out = _write(tmp_path, text=text), tmp_path / "bundle"
    assert main(["export", "loihi", path, "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["export", "loihi", path, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "--overwrite" in err and "overwrite=True" not in err
    assert main(["export", "loihi", path, "--out", str(out), "--overwrite"]) == 0
    from neurosim.export import write_loihi_bundle           # the Python API keeps its name
    fixed = ns.loihi.freeze_inputs(ns.loihi.quantize(load_network(path).net).net, 5)
    with pytest.raises(ns.ParameterError, match=r"overwrite=True"):
        write_loihi_bundle(fixed, str(out), 5)


@pytest.mark.parametrize("mask", [0o022, 0o027])
def test_results_and_bundle_respect_the_umask(tmp_path, mask):
    old = os.umask(mask)
    try:
        nf = load_network(_write(tmp_path))
        nf.net.run(0.01, progress=False)
        path = ns.save_results(tmp_path / "r.npz", nf.net)
        from neurosim.export import write_loihi_bundle
        fixed = ns.loihi.freeze_inputs(ns.loihi.quantize(nf.net).net, 5)
        out = write_loihi_bundle(fixed, str(tmp_path / "b"), 5)
    finally:
        os.umask(old)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~mask
    assert os.stat(out).st_mode & 0o777 == 0o777 & ~mask
    assert os.stat(os.path.join(out, "manifest.json")).st_mode & 0o777 == 0o666 & ~mask


def test_cli_energy_of_a_run_is_per_run_and_says_not_charged(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", _write(tmp_path), "--out", str(out), "--quiet", "--no-plots"]) == 0
    capsys.readouterr()
    assert main(["energy", str(out / "results.npz"), "--hardware", "loihi,truenorth"]) == 0
    text = capsys.readouterr().out
    assert "per inference" not in text
    assert "energy per run (0.05 s simulated)" in text and "mean power" in text
    truenorth = next(line for line in text.splitlines() if line.startswith("| TrueNorth"))
    assert "not charged" in truenorth and "| 0 J |" not in truenorth
    assert main(["energy", str(out / "results.npz"), "--hardware", "truenorth"]) == 0
    assert "per run" in capsys.readouterr().out
    assert main(["energy", str(out / "results.npz"), "--hardware", "loihi",
                 "--inferences", "5"]) == 0
    assert "per inference" in capsys.readouterr().out


def test_cli_user_errors_print_one_line_no_traceback(tmp_path, capsys, monkeypatch):
    huge = SMALL.replace("n = 3", "n = 100_000_000_000").replace("{WEIGHT}", "\"4 mV\"") \
        .replace("{EXTRA}", "")
    rc = main(["run", _write(tmp_path, text=huge), "--out", str(tmp_path / "o"), "--quiet"])
    err = capsys.readouterr().err
    assert rc != 0 and err.startswith("neurosim: error: ") and "Traceback" not in err
    import neurosim.netfile

    def numpy_oom(*a, **k):
        return np.zeros(10 ** 15)                 # numpy's own _ArrayMemoryError
    monkeypatch.setattr(neurosim.netfile, "load_network", numpy_oom)
    rc = main(["run", _write(tmp_path), "--out", str(tmp_path / "o"), "--quiet"])
    err = capsys.readouterr().err
    assert rc == 1 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert err.startswith("neurosim: error: out of memory: Unable to allocate")

    def interrupted(*a, **k):
        raise KeyboardInterrupt
    monkeypatch.setattr(neurosim.netfile, "load_network", interrupted)
    assert main(["run", _write(tmp_path), "--out", str(tmp_path / "o")]) == 130
    err = capsys.readouterr().err
    assert "interrupted" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1

    def bug(*a, **k):
        raise RuntimeError("boom")
    monkeypatch.setattr(neurosim.netfile, "load_network", bug)
    assert main(["run", _write(tmp_path), "--out", str(tmp_path / "o")]) == 70
    err = capsys.readouterr().err
    assert "Traceback" in err and "this is a bug in neurosim" in err


def test_cli_warnings_are_one_line(tmp_path, capsys, monkeypatch):
    import warnings

    import neurosim.netfile
    real = neurosim.netfile.load_network

    def warn_then_load(*a, **k):
        warnings.warn("tau_m = 20 s is far outside the physiological range", UserWarning)
        return real(*a, **k)
    monkeypatch.setattr(neurosim.netfile, "load_network", warn_then_load)
    shown = warnings.showwarning
    assert main(["run", _write(tmp_path), "--out", str(tmp_path / "o"), "--quiet",
                 "--no-plots"]) == 0
    err = capsys.readouterr().err
    assert "neurosim: warning: tau_m = 20 s is far outside" in err
    assert "warnings.warn(" not in err and "UserWarning" not in err
    assert warnings.showwarning is shown                      # the caller's display restored
