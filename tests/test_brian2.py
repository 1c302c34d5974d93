"""Spike-for-spike cross-checks against Brian2 (method='exact', default schedule)."""

import numpy as np
import pytest

import neurosim as ns
from neurosim.units import mV, ms

from conftest import random_network

pytest.importorskip("brian2")
from neurosim.export import run_in_brian2  # noqa: E402

pytestmark = pytest.mark.brian2


def _compare(net, duration):
    mons = {p.name: net.spike_monitor(p) for p in net.populations}
    net.run(duration)
    ref = run_in_brian2(net, duration)
    total = 0
    for name, m in mons.items():
        steps, idx = ref[name]
        assert m.num_spikes == steps.size, name
        np.testing.assert_array_equal(m.steps, steps, err_msg=name)
        np.testing.assert_array_equal(m.indices, idx, err_msg=name)
        total += steps.size
    return total


@pytest.mark.parametrize("seed", [10, 11, 12])
def test_random_networks_match_brian2(seed):
    assert _compare(random_network(seed), 200 * ms) > 100


def test_float32_engine_still_runs_brian2_network_close():
    net = random_network(13, dtype="float32")
    mons = {p.name: net.spike_monitor(p) for p in net.populations}
    net.run(100 * ms)
    ref = run_in_brian2(net, 100 * ms)
    for name, m in mons.items():
        assert abs(m.num_spikes - ref[name][0].size) <= 0.1 * ref[name][0].size + 5


def test_cuba_matches_brian2_spike_for_spike():
    """The chaotic CUBA network (1000 neurons): any rounding difference would show."""
    from neurosim.nets import cuba
    net = ns.Network(seed=1)
    cuba(net, N=1000)
    assert _compare(net, 300 * ms) > 1000


def test_single_time_constant_and_zero_refractory():
    rng = np.random.default_rng(3)
    net = ns.Network(seed=3)
    src = net.spike_source(n=5, times=np.arange(0, 50) * ms, indices=np.arange(50) % 5)
    pop = net.lif(n=20, tau_m=7 * ms, tau_syn=4 * ms, v_rest=-60 * mV, v_th=-55 * mV,
                  v_reset=-62 * mV, v_init=rng.uniform(-62, -55, 20) * mV,
                  bias=rng.uniform(0, 6, 20) * mV)
    net.connect(src, pop, weight=rng.normal(2, 2, (5, 20)) * mV)
    net.connect(pop, pop, weight=0.7 * mV, p=0.2, delay=0.3 * ms)
    assert _compare(net, 100 * ms) > 20


def test_exporter_refuses_tau_syn_equal_tau_m():
    net = ns.Network()
    net.lif(n=1, tau_m=5 * ms, tau_syn=5 * ms, v_rest=0.0, v_th=1.0, v_reset=0.0, name="p")
    with pytest.raises(ValueError, match="tau_exc = tau_m"):
        run_in_brian2(net, 1 * ms)
