"""Results files written by earlier versions, and the keys of several monitors of one
population (``neurosim/results.py``, module docstring)."""

import json
import os
import re

import numpy as np
import pytest

import neurosim as ns
from neurosim.results import ResultsFileError

DATA = os.path.join(os.path.dirname(__file__), "data")


def test_a_file_of_format_1_written_before_monitor_keys_loads():
    """results_format1.npz was written by save_results before several monitors of one
    population were kept (a LIF population "a" of 4 neurons, a spike source "in" of 2, a
    spike monitor of each and v of neurons 0, 1 recorded for 20 ms at dt 0.1 ms)."""
    res = ns.load_results(os.path.join(DATA, "results_format1.npz"))
    assert "monitors" not in res.meta and res.meta["format_version"] == 1
    assert list(res.spikes) == ["a", "in"] and list(res.state) == [("a", "v")]
    np.testing.assert_array_equal(res.spikes["a"].steps, [52, 60, 128, 148])
    np.testing.assert_array_equal(res.spikes["a"].indices, [2, 0, 2, 0])
    assert res.spikes["a"].population == "a" and res.spikes_of("in") == [res.spikes["in"]]
    tr = res.state["a", "v"]
    assert (tr.source, tr.var) == ("a", "v") and res.traces_of("a", "v") == [tr]
    assert tr.values.shape == (200, 2)
    assert res.counts.steps == 200


def _saved(tmp_path, **meta_changes):
    net = ns.Network(seed=1)
    pop = net.lif(2, tau_m=10e-3, tau_syn=5e-3, v_rest=-60e-3, v_th=-50e-3, v_reset=-65e-3,
                  bias=20e-3, name="a")
    net.spike_monitor(pop)
    net.spike_monitor(pop, indices=[1])
    net.run(5e-3, progress=False)
    path = ns.save_results(tmp_path / "r", net)
    if meta_changes:
        with np.load(path) as f:
            arrays = dict(f)
        meta = json.loads(str(arrays["meta"]))
        meta.update(meta_changes)
        arrays["meta"] = np.array(json.dumps(meta))
        np.savez(path, **arrays)
    return path


def test_one_monitor_per_population_writes_the_format_as_before(tmp_path):
    net = ns.Network(seed=1)
    pop = net.lif(2, tau_m=10e-3, tau_syn=5e-3, v_rest=-60e-3, v_th=-50e-3, v_reset=-65e-3,
                  name="a")
    net.spike_monitor(pop)
    net.state_monitor(pop, "v")
    net.run(1e-3, progress=False)
    with np.load(ns.save_results(tmp_path / "r", net)) as f:
        assert sorted(f.files) == ["meta", "spikes/a/indices", "spikes/a/steps",
                                   "state/a/v/indices", "state/a/v/steps", "state/a/v/values"]
        assert "monitors" not in json.loads(str(f["meta"]))


@pytest.mark.parametrize("monitors, message", [
    ([], r"'monitors': must be"),
    ({"spikes": []}, r"'monitors': must be"),
    ({"spikes": {"a#1": 3}}, r"'monitors': must be"),
    ({"spikes": {}, "state": {}}, r"'monitors': must be"),
    ({"spikes": {"b#1": "b"}}, r"'monitors' names spikes 'b#1'"),
])
def test_a_malformed_monitors_field_is_refused_naming_the_file(tmp_path, monitors, message):
    path = _saved(tmp_path, monitors=monitors)
    with pytest.raises(ResultsFileError, match=re.escape(path) + ".*" + message):
        ns.load_results(path)


def test_two_spike_monitors_load_with_their_population(tmp_path):
    res = ns.load_results(_saved(tmp_path))
    assert res.meta["monitors"] == {"spikes": {"a#1": "a"}}
    assert [s.population for s in res.spikes.values()] == ["a", "a"]
    assert res.spikes_of("a") == [res.spikes["a"], res.spikes["a#1"]]
    assert set(np.unique(res.spikes["a#1"].indices)) <= {1}
