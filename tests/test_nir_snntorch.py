"""Recurrent CubaLIF graphs trained and exported by snnTorch 1.0.0 (tests/data/nir/snntorch,
made by benchmarks/peers/snntorch_rsynaptic.py: Linear -> RSynaptic(64) -> Linear ->
Synaptic(5), trained on synthetic spike patterns, 3 seeds x 2 reset settings, exported
with snntorch.export_nir): ns.nir.read gives the trained snnTorch model's hidden and
output spikes at every step of 5 held-out inputs x 200 steps.

snnTorch's settings map to read's options:
(a) reset_mechanism="subtract", reset_delay=True (snnTorch's default): reset="subtract",
    reset_timing="next";
(b) reset_mechanism="zero", reset_delay=False: snnTorch 1.0.0's RSynaptic ignores
    reset_delay=False (it still resets one step late), its Synaptic output resets at once:
    reset="zero", reset_timing="next", per_node={"out": {"reset_timing": "same"}}.
"""

import glob
import os

import numpy as np
import pytest

pytest.importorskip("nir")

import neurosim as ns  # noqa: E402

DATA = os.path.join(os.path.dirname(__file__), "data", "nir", "snntorch")
FILES = sorted(glob.glob(os.path.join(DATA, "*.nir")))
OPTIONS = {"subtract_delay": dict(reset="subtract", reset_timing="next"),
           "zero_nodelay": dict(reset="zero", reset_timing="next",
                                per_node={"out": {"reset_timing": "same"}})}


def setting(path):
    return next(k for k in OPTIONS if k in os.path.basename(path))


def run_all(path, backend="numba", **extra):
    z = np.load(path[:-4] + ".npz")
    m = ns.nir.read(path, dt=float(z["dt"]), backend=backend, **OPTIONS[setting(path)], **extra)
    hid, out, mem = [], [], []
    for x in z["inputs"]:
        r = m.run(x.astype(float), record=[("rsyn.lif", "out"), ("rsyn.lif", "v")])
        hid.append(r["rsyn.lif", "out"])
        out.append(r["output"])
        mem.append(r["rsyn.lif", "v"])
    return z, np.array(hid), np.array(out), np.array(mem)


def test_six_trained_graphs_ship():
    assert len(FILES) == 6 and {setting(f) for f in FILES} == set(OPTIONS)


@pytest.mark.parametrize("path", FILES, ids=os.path.basename)
def test_hidden_and_output_spikes_equal_snntorch_at_every_step(path):
    z, hid, out, mem = run_all(path)
    assert z["hidden_spk64"].sum() > 1000 and z["out_spk64"].sum() > 10
    np.testing.assert_array_equal(hid, z["hidden_spk64"])
    np.testing.assert_array_equal(out, z["out_spk64"])
    np.testing.assert_array_equal(hid, z["hidden_spk32"])      # the untouched float32 model
    # the membrane (stored rounded to float32, first 2 inputs)
    np.testing.assert_allclose(mem[:2], z["hidden_mem64"], rtol=1e-5, atol=1e-5)


def test_reference_backend_agrees_on_one_graph():
    path = next(f for f in FILES if "zero_nodelay" in f)
    z, hid, out, _ = run_all(path, backend="reference")
    np.testing.assert_array_equal(hid, z["hidden_spk64"])
    np.testing.assert_array_equal(out, z["out_spk64"])


def test_the_reset_options_matter():
    """The other timing gives different spikes: the test above can fail."""
    path = next(f for f in FILES if "zero_nodelay" in f)
    z = np.load(path[:-4] + ".npz")
    m = ns.nir.read(path, dt=1e-4, reset="zero", reset_timing="same")
    hid = np.array([m.run(x.astype(float), record=[("rsyn.lif", "out")])["rsyn.lif", "out"]
                    for x in z["inputs"]])
    assert not np.array_equal(hid, z["hidden_spk64"])
    with pytest.raises(ns.ParameterError, match="per_node"):
        ns.nir.read(path, dt=1e-4, per_node={"fc1": {"reset": "zero"}})
