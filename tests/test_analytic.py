"""The engine against closed-form solutions of the model, on every backend."""

import math

import numpy as np
import pytest

import neurosim as ns
from neurosim.units import mV, ms


def test_constant_bias_firing_period(backend):
    """Regular firing under constant bias: period from the closed form, refractory included."""
    dt, tau, v_reset, v_th, v_rest, i_b = 0.1 * ms, 20 * ms, -70 * mV, -50 * mV, -70 * mV, 25 * mV
    v_inf = v_rest + i_b
    t_cross = tau * math.log((v_inf - v_reset) / (v_inf - v_th))
    k_star = math.floor(t_cross / dt) + 1          # integrations to exceed v_th from v_reset
    for t_ref_steps in (0, 1, 20, 37):
        net = ns.Network(dt=dt, backend=backend)
        pop = net.lif(n=1, tau_m=tau, tau_syn=5 * ms, v_rest=v_rest, v_th=v_th,
                      v_reset=v_reset, t_ref=t_ref_steps * dt, v_init=v_reset, bias=i_b)
        sp = net.spike_monitor(pop)
        net.run(300 * ms)
        steps = sp.steps
        assert steps[0] == k_star - 1
        expected_isi = max(t_ref_steps, 1) - 1 + k_star
        assert np.all(np.diff(steps) == expected_isi), (t_ref_steps, np.diff(steps)[:5])


@pytest.mark.parametrize("tau_s", [2 * ms, 10 * ms, 20 * ms])   # 20 ms = tau_m: the limit
@pytest.mark.parametrize("sign", [1, -1])
def test_psp_shape(backend, tau_s, sign):
    """One input spike: v and the current follow the closed form exactly (to 1e-12 V)."""
    dt, tau_m, w, d, s0 = 0.1 * ms, 20 * ms, sign * 2 * mV, 7, 13
    net = ns.Network(dt=dt, backend=backend)
    src = net.spike_source(n=1, times=[s0 * dt], indices=[0])
    tau_pair = (tau_s, 3 * ms) if sign > 0 else (3 * ms, tau_s)
    pop = net.lif(n=1, tau_m=tau_m, tau_syn=tau_pair, v_rest=-70 * mV, v_th=-50 * mV,
                  v_reset=-75 * mV)
    net.connect(src, pop, weight=w, delay=d * dt)
    vm = net.state_monitor(pop, "v")
    im = net.state_monitor(pop, "I_exc" if sign > 0 else "I_inh")
    net.run(80 * ms)
    steps = np.arange(vm.values.shape[0])
    t = (steps - (s0 + d + 1)) * dt                # delivered after integration of s0+d
    on = t >= 0
    if abs(tau_s - tau_m) > 1e-12:
        psp = w * tau_s / (tau_s - tau_m) * (np.exp(-t / tau_s) - np.exp(-t / tau_m))
    else:
        psp = w * t / tau_m * np.exp(-t / tau_m)
    expected_v = np.where(on, -70 * mV + psp, -70 * mV)
    np.testing.assert_allclose(vm.values[:, 0], expected_v, rtol=0, atol=1e-12)
    expected_i = np.where(on, w * np.exp(-np.where(on, t, 0) / tau_s), 0.0)
    np.testing.assert_allclose(im.values[:, 0], expected_i, rtol=0, atol=1e-15)
    assert not np.any(im.values[:s0 + d + 1, 0])


def test_refractory_v_clamped_currents_continue(backend):
    """During t_ref, v stays at v_reset exactly while currents decay and receive input."""
    dt = 0.1 * ms
    net = ns.Network(dt=dt, backend=backend)
    src = net.spike_source(n=1, times=[(1 + 5) * dt], indices=[0])
    pop = net.lif(n=1, tau_m=10 * ms, tau_syn=5 * ms, v_rest=-49 * mV, v_th=-50 * mV,
                  v_reset=-60 * mV, t_ref=3 * ms, v_init=-50.001 * mV)
    net.connect(src, pop, weight=1 * mV)
    sp = net.spike_monitor(pop)
    vm = net.state_monitor(pop, "v")
    im = net.state_monitor(pop, "I_exc")
    net.run(10 * ms)
    first = sp.steps[0]
    assert first == 0                              # -50.001 mV drifts above -50 mV at once
    ref = 30
    # samples at start of steps first+1 .. first+ref hold v_reset: frozen for R-1 updates
    assert np.all(vm.values[first + 1:first + ref + 1, 0] == -60 * mV)
    assert vm.values[first + ref + 1, 0] > -60 * mV
    # the input spike (step 6, inside the refractory period) still reaches the current
    assert im.values[7, 0] == pytest.approx(1 * mV)
    assert im.values[8, 0] == pytest.approx(1 * mV * math.exp(-dt / (5 * ms)))


@pytest.mark.parametrize("delay_steps", [0, 1, 15, 63])
def test_delay_arrival_step(backend, delay_steps):
    """A spike at step s with delay d reaches the current in step s+d (visible at s+d+1)."""
    dt, s0 = 0.1 * ms, 4
    net = ns.Network(dt=dt, backend=backend)
    src = net.spike_source(n=2, times=[s0 * dt, (s0 + 2) * dt], indices=[0, 1])
    pop = net.lif(n=2, tau_m=10 * ms, tau_syn=5 * ms, v_rest=-70 * mV, v_th=-50 * mV,
                  v_reset=-70 * mV)
    net.connect(src, pop, weight=np.array([[1 * mV, 0], [0, 1 * mV]]),
                delay=np.array([[delay_steps, 0], [0, 2 * delay_steps]]) * dt)
    im = net.state_monitor(pop, "I_exc")
    net.run((s0 + 2 * delay_steps + 10) * dt)
    first = np.argmax(im.values != 0, axis=0)
    assert first[0] == s0 + delay_steps + 1
    assert first[1] == s0 + 2 + 2 * delay_steps + 1


def test_reset_subtract_keeps_overshoot(backend):
    """reset='subtract': v -= v_th - v_reset, so the overshoot above v_th is kept."""
    net = ns.Network(dt=0.1 * ms, backend=backend)
    pop = net.lif(n=1, tau_m=1 * ms, tau_syn=1 * ms, v_rest=0.0, v_th=1.0, v_reset=0.0,
                  reset="subtract", v_init=0.0, bias=10.0)
    vm = net.state_monitor(pop, "v")
    sp = net.spike_monitor(pop)
    net.run(1 * ms)
    s = sp.steps[0]
    e = math.exp(-0.1)
    v_before = vm.values[s, 0]
    v_spike = 10.0 + (v_before - 10.0) * e
    assert v_spike > 1.0
    assert vm.values[s + 1, 0] == pytest.approx(v_spike - 1.0, abs=1e-12)
    assert 0.0 < vm.values[s + 1, 0] < 1.0
