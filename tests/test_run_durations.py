"""Runs split into calls whose durations are off the dt grid simulate the steps of one run
of the summed duration (the end time is rounded, not each call's duration)."""

import numpy as np
import pytest

from conftest import random_network, spikes_of


def _monitored(seed):
    net = random_network(seed)
    return net, [net.spike_monitor(p) for p in net.populations if p.kind == "lif"]


def test_split_off_grid_runs_take_the_steps_of_one_run():
    T = 55.26e-3                                     # 552.6 steps of 0.1 ms
    a, ma = _monitored(3)
    a.run(T)
    b, mb = _monitored(3)
    b.run(T / 3)
    b.run(T - T / 3)
    assert a._step == b._step == 553
    assert sum(m.steps.size for m in ma) > 0
    for x, y in zip(ma, mb):
        np.testing.assert_array_equal(spikes_of(x), spikes_of(y))


@pytest.mark.parametrize("parts", [3, 7, 11])
def test_many_short_off_grid_runs(parts):
    net = random_network(5)
    d = 0.37e-3 / 3                                  # 1.2333 steps each
    for _ in range(parts):
        net.run(d)
    assert net._step == int(round(parts * d / net.dt))
    assert abs(net.t - parts * d) <= net.dt / 2 + 1e-15


def test_reset_starts_the_end_time_again():
    net = random_network(1)
    net.run(0.25e-3)
    net.reset()
    net.run(0.25e-3)
    assert net._step == int(round(0.25e-3 / net.dt))
