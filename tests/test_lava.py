"""The fixed-point mode against Lava itself (lava-nc 0.10, Loihi2SimCfg fixed_pt).

On the reference interpreter (Python 3.10, numpy < 2) Lava is a dev dependency, so these
tests run and are never skipped there; on other interpreters they are skipped visibly.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import neurosim as ns
from loihi_nets import random_fixed_network, spike_matrix

pytestmark = pytest.mark.lava

if sys.version_info[:2] != (3, 10) or int(np.__version__.split(".")[0]) >= 2:
    pytest.skip("Lava (lava-nc 0.10) needs Python 3.10 with numpy < 2",
                allow_module_level=True)

from neurosim.export import run_in_lava, to_lava, write_loihi_bundle  # noqa: E402

STEPS = 100


def compare_with_lava(net, steps):
    res = run_in_lava(net, steps)
    net.run(steps * net.dt, progress=False)
    n_spikes = 0
    for m in net.spike_monitors:
        ours = spike_matrix(m, steps)
        assert np.array_equal(ours, res.spikes[m.pop.name]), m.pop.name
        n_spikes += int(ours.sum())
    for m in net.state_monitors:
        theirs = res.traces[(m.pop.name, m.var)]
        assert np.array_equal(m.values, theirs), (m.pop.name, m.var)
    return res, n_spikes


@pytest.mark.parametrize("seed", [2, 3, 4, 6, 7, 8])
def test_random_networks_identical_to_lava(seed):
    net = random_fixed_network(seed, STEPS)
    res, n_spikes = compare_with_lava(net, STEPS)
    assert res.traces


def test_stress_network_wraps_saturates_and_spikes():
    """Hand-made: u wraps, v saturates at both ends, every sign mode, negative exponents,
    a recurrent connection and per-synapse delays, all checked against Lava."""
    net = ns.Network(dt=1e-3, seed=1)
    rng = np.random.default_rng(7)
    t = rng.integers(0, STEPS, 300)
    i = rng.integers(0, 6, 300)
    key = np.unique(t * 6 + i)
    src = net.spike_source(6, times=(key // 6) * 1e-3, indices=key % 6)
    a = net.loihi_lif(5, du=4095, dv=0, vth=131071, bias_mant=[0, 0, -4095, 4095, 1],
                      bias_exp=[0, 0, 11, 11, -1], u_init=[2**23 - 5, -2**23 + 3, 0, 0, 0])
    b = net.loihi_lif(4, du=100, dv=300, vth=50, bias_mant=-3, bias_exp=-1)
    net.connect(src, a, weight=rng.integers(200, 256, (6, 5)), weight_exp=10,
                sign_mode="excitatory")
    net.connect(src, b, weight=rng.integers(-300, 300, (6, 4)), weight_exp=-2,
                delay=rng.integers(0, 8, (6, 4)) * 1e-3)
    net.connect(b, b, weight=rng.integers(-40, 1, (4, 4)), sign_mode="inhibitory",
                num_weight_bits=5)
    net.connect(a, b, weight=rng.integers(-9, 9, (5, 4)), sign_mode="mixed", weight_exp=3)
    for p in (a, b):
        net.spike_monitor(p)
        net.state_monitor(p, "u")
        net.state_monitor(p, "v")
    _, n_spikes = compare_with_lava(net, STEPS)
    u = net.state_monitors[0].values
    v = net.state_monitors[1].values
    assert np.any(np.abs(np.diff(u, axis=0)) > 2**23)       # a wrap happened
    assert np.any(v == 2**23 - 1) or np.any(v == -(2**23 - 1))
    assert n_spikes > 0


def test_graph_uses_explicit_sign_modes_and_process_types():
    from lava.proc.dense.process import DelayDense, Dense
    from lava.proc.sparse.process import Sparse
    from lava.utils.weightutils import SignMode
    net = ns.Network(dt=1e-3)
    src = net.spike_source(50, times=[0], indices=[0])
    a = net.loihi_lif(40, du=1, dv=1, vth=10)
    w_sparse = np.zeros((50, 40), int)
    w_sparse[0, :3] = 5
    net.connect(src, a, weight=w_sparse)
    net.connect(src, a, weight=np.full((50, 40), 7), sign_mode="mixed")
    net.connect(a, a, weight=-3, p=0.5, delay=2e-3)
    g = to_lava(net, 10)
    kinds = [type(g.procs[f"proj{k}"]) for k in range(3)]
    assert kinds == [Sparse, Dense, DelayDense]
    assert g.procs["proj1"].proc_params["sign_mode"] == SignMode.MIXED
    assert g.procs["proj2"].proc_params["sign_mode"] == SignMode.INHIBITORY
    assert json.dumps(g.manifest)   # plain data


def test_bundle_runs_with_lava_and_agrees(tmp_path):
    net = random_fixed_network(11, STEPS)
    out = write_loihi_bundle(net, tmp_path / "bundle", STEPS)
    files = sorted(os.listdir(out))
    assert files == ["README.md", "check_agreement.py", "lava_graph.py", "manifest.json",
                     "network.npz", "run_lava.py", "spikes_neurosim.npz"]
    env = dict(os.environ, PYTHONPATH="")         # the bundle must not need neurosim
    run = subprocess.run([sys.executable, os.path.join(out, "run_lava.py")], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    check = subprocess.run([sys.executable, os.path.join(out, "check_agreement.py")],
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout
    assert "identical: spikes/" in check.stdout
    hw = subprocess.run([sys.executable, os.path.join(out, "run_lava.py"), "--hw"],
                        env=env, capture_output=True, text=True, timeout=60)
    assert hw.returncode != 0 and "inrc_interest@intel.com" in hw.stderr
    assert "NameError" not in hw.stderr
    with pytest.raises(ns.ParameterError, match="out_dir must be a path that does not exist"):
        write_loihi_bundle(net, out, STEPS)


def test_loihi_example_runs_and_agrees(tmp_path):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    run = subprocess.run([sys.executable, os.path.join(root, "examples", "loihi.py"),
                          "--out", str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    report = (tmp_path / "report.md").read_text()
    assert report.count("identical to Lava's") == 2 and "DIFFERENT" not in report
    assert (tmp_path / "raster.png").stat().st_size > 10_000
    assert (tmp_path / "bundle" / "run_lava.py").exists()


def test_compare_with_lava_reports_identical_runs():
    from neurosim.export import compare_with_lava
    net = random_fixed_network(3, STEPS)
    out = compare_with_lava(net, STEPS)
    pops = [p.name for p in net.populations if p.kind == "loihi_lif"]
    assert sorted(out["populations"]) == sorted(pops)
    assert all(c["identical"] and c["agreement"] == 1.0 and
               c["neurosim_spikes"] == c["lava_spikes"] for c in out["populations"].values())
    assert sum(c["lava_spikes"] for c in out["populations"].values()) > 0
    assert out["traces"] and all(out["traces"].values())
