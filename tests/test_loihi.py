"""Fixed-point (Loihi) mode: hand-computed arithmetic, engine vs reference, and vs Lava."""

import numpy as np
import pytest

import neurosim as ns
from neurosim.models.loihi import effective_weights
from loihi_nets import random_fixed_network, spike_matrix


def one_neuron(du=0, dv=0, vth=131071, bias_mant=0, bias_exp=0, u_init=0, v_init=0,
               inputs=(), weight=1, weight_exp=0, sign_mode=None, delay=0, backend="numba"):
    """A loihi_lif neuron fed by one source neuron; returns the net, u and v monitors."""
    net = ns.Network(dt=1e-3, backend=backend)
    src = net.spike_source(1, times=np.array(inputs, float) * 1e-3,
                           indices=np.zeros(len(inputs)))
    lif = net.loihi_lif(1, du=du, dv=dv, vth=vth, bias_mant=bias_mant, bias_exp=bias_exp,
                        u_init=u_init, v_init=v_init)
    net.connect(src, lif, weight=np.array([[weight]]), weight_exp=weight_exp,
                sign_mode=sign_mode, delay=delay * 1e-3)
    return net, lif, net.state_monitor(lif, "u"), net.state_monitor(lif, "v"), \
        net.spike_monitor(lif)


# ---------------------------------------------------------------- arithmetic, by hand
def test_du_has_plus_one_and_decay_rounds_toward_zero(backend):
    # u0 = 1000, du = 0: keep = 4095 -> 1000*4095/4096 = 999.76 -> 999 (toward zero)
    net, _, um, _, _ = one_neuron(du=0, u_init=1000, backend=backend)
    net.run(2e-3)
    assert um.values[:, 0].tolist() == [999, 998]
    net, _, um, _, _ = one_neuron(du=0, u_init=-1000, backend=backend)
    net.run(1e-3)
    assert um.values[0, 0] == -999          # floor would give -1000


def test_bias_not_shifted_and_negative_exponent_floors(backend):
    net, _, _, vm, _ = one_neuron(bias_mant=5, bias_exp=2, backend=backend)
    net.run(2e-3)
    assert vm.values[:, 0].tolist() == [20, 40]      # 5 << 2, not << 6 as well
    net, _, _, vm, _ = one_neuron(bias_mant=-5, bias_exp=-1, backend=backend)
    net.run(1e-3)
    assert vm.values[0, 0] == -3                     # -5 >> 1 = floor(-2.5)


def test_threshold_is_strict_and_resets_v_only(backend):
    # v grows by 64 per step; vth = 2 -> threshold 128: v = 64, 128 (no spike), 192 (spike)
    net, _, _, vm, sm = one_neuron(vth=2, bias_mant=64, backend=backend)
    net.run(4e-3)
    assert sm.steps.tolist() == [2]
    assert vm.values[:, 0].tolist() == [64, 128, 0, 64]
    # a neuron that spikes every step keeps decaying its u: the reset touches v only
    net, _, um, vm, sm = one_neuron(vth=0, du=0, u_init=4096, backend=backend)
    net.run(3e-3)
    assert sm.steps.tolist() == [0, 1, 2]
    assert um.values[:, 0].tolist() == [4095, 4094, 4093]
    assert vm.values[:, 0].tolist() == [0, 0, 0]


def test_one_step_latency_delay_and_input_scale(backend):
    # a spike at step 3 through weight 10 reaches u at step 4 (+ delay), as 10 << 6
    for delay in (0, 5):
        net, _, um, _, _ = one_neuron(du=4095, inputs=[3], weight=10, delay=delay,
                                      backend=backend)
        net.run(12e-3)
        u = um.values[:, 0]
        assert np.flatnonzero(u).tolist() == [4 + delay]
        assert u[4 + delay] == 640


def test_u_wraps_and_v_saturates(backend):
    # u above 2**23 wraps by 2**24; v saturates at -(2**23 - 1)
    net, _, um, vm, _ = one_neuron(du=4095, u_init=0, inputs=[0], weight=255, weight_exp=10,
                                   backend=backend)
    net.run(3e-3)
    assert um.values[1, 0] == 255 * 2**10 * 64 - 2**24       # 16711680 wraps to -65536
    net, _, _, vm, _ = one_neuron(dv=0, bias_mant=-4095, bias_exp=10, backend=backend)
    net.run(3e-3)
    assert vm.values[:, 0].tolist() == [-4095 << 10, -(4095 << 11), -(2**23 - 1)]


def test_mixed_sign_drops_lsb_and_weight_exp_floors_the_sum():
    assert effective_weights([3, -3, 255, -300], 8, "mixed").tolist() == [2, -4, 254, -256]
    assert effective_weights([3, 300, -5], 8, "excitatory").tolist() == [3, 255, 0]
    assert effective_weights([-3, -300, 5], 8, "inhibitory").tolist() == [-3, -255, 0]
    assert effective_weights([255, 7], 4, None).tolist() == [240, 0]
    # two spikes through weight 3 with weight_exp -1: floor((3+3)/2) = 3, not 1 + 1
    net = ns.Network(dt=1e-3)
    src = net.spike_source(2, times=[0, 0], indices=[0, 1])
    lif = net.loihi_lif(1, du=4095, dv=0, vth=131071)
    net.connect(src, lif, weight=np.array([[3], [3]]), weight_exp=-1)
    um = net.state_monitor(lif, "u")
    net.run(2e-3)
    assert um.values[1, 0] == 3 * 64


# ---------------------------------------------------------------- engine vs reference
@pytest.mark.parametrize("seed", range(12))
def test_engine_matches_reference(seed):
    steps = 150
    nets = [random_fixed_network(seed, steps, backend=b) for b in ("numba", "reference")]
    for net in nets:
        net.run(steps * 1e-3)
    for ma, mb in zip(nets[0].spike_monitors + nets[0].state_monitors,
                      nets[1].spike_monitors + nets[1].state_monitors):
        if isinstance(ma, ns.SpikeMonitor):
            assert np.array_equal(ma.steps, mb.steps) and np.array_equal(ma.indices, mb.indices)
        else:
            assert ma.values.dtype == np.int64
            assert np.array_equal(ma.values, mb.values), (seed, ma)


def test_chunked_runs_and_state_access_equal_one_run():
    a = random_fixed_network(3)
    b = random_fixed_network(3)
    a.run(0.12)
    for _ in range(12):
        b.run(0.01, chunk_steps=7)
    for p, q in zip(a.populations, b.populations):
        if p.kind == "loihi_lif":
            assert np.array_equal(p.v, q.v) and np.array_equal(p.u, q.u)
            assert np.array_equal(a.spike_counts(p), b.spike_counts(q))


def test_bias_mant_settable_between_runs(backend):
    net, lif, _, vm, _ = one_neuron(bias_mant=1, backend=backend)
    net.run(2e-3)
    lif.bias_mant = 10
    net.run(1e-3)
    assert vm.values[:, 0].tolist() == [1, 2, 12]
    assert lif.bias_mant.tolist() == [10]


def test_copy_runs_the_same():
    a = random_fixed_network(5)
    b = a.copy()
    for p in b.populations:
        if p.kind == "loihi_lif":
            b.spike_monitor(p)
    a.run(0.1)
    b.run(0.1)
    for ma, mb in zip(a.spike_monitors, b.spike_monitors):
        assert np.array_equal(ma.steps, mb.steps)


# ---------------------------------------------------------------- validation
@pytest.mark.parametrize("kwargs, name", [
    (dict(du=4096), "du"), (dict(dv=-1), "dv"), (dict(vth=2**17), "vth"),
    (dict(du=0.5), "du"), (dict(bias_mant=40000), "bias_mant"), (dict(bias_exp=17), "bias_exp"),
    (dict(u_init=2**24), "u_init"), (dict(bias_mant=[1, 2]), "bias_mant.shape"),
])
def test_loihi_lif_validation(kwargs, name):
    net = ns.Network()
    args = dict(n=3, du=1, dv=1, vth=10)
    args.update(kwargs)
    with pytest.raises(ns.ParameterError, match=rf"^{name} must be"):
        net.loihi_lif(**args)
    assert not net.populations


def test_connection_validation():
    net = ns.Network(dt=1e-3)
    src = net.spike_source(2, times=[0], indices=[0])
    lif = net.loihi_lif(2, du=1, dv=1, vth=10)
    flt = net.lif(2, tau_m=0.02, tau_syn=0.005, v_rest=0, v_th=1, v_reset=0)
    cases = [
        (dict(weight=np.full((2, 2), 0.5)), "weight must be integers"),
        (dict(weight=1, delay=64e-3), "delay must be <= 63 steps"),
        (dict(weight=1, weight_exp=30), "weight_exp must be in"),
        (dict(weight=1, num_weight_bits=9), "num_weight_bits must be in"),
        (dict(weight=1, sign_mode="both"), "sign_mode must be"),
    ]
    for kwargs, msg in cases:
        with pytest.raises(ns.ParameterError, match=msg):
            net.connect(src, lif, **kwargs)
    with pytest.raises(ns.ParameterError, match="pre must be"):
        net.connect(flt, lif, weight=1)
    with pytest.raises(ns.ParameterError, match="weight_exp must be None for a float"):
        net.connect(src, flt, weight=1.0, weight_exp=1)
    assert not net.projections
    with pytest.raises(ns.NetworkError, match="cannot mix float LIF and loihi_lif"):
        net.run(1e-3)


def test_export_refuses_float_networks_and_poisson():
    from neurosim.export.lava import lava_manifest
    net = ns.Network()
    net.lif(2, tau_m=0.02, tau_syn=0.005, v_rest=0, v_th=1, v_reset=0)
    with pytest.raises(ns.ParameterError, match="quantize"):
        lava_manifest(net, 10)
    net = ns.Network(dt=1e-3)
    p = net.poisson(2, rate=10)
    lif = net.loihi_lif(2, du=1, dv=1, vth=10)
    net.connect(p, lif, weight=1)
    with pytest.raises(ns.ParameterError, match="no Poisson source"):
        lava_manifest(net, 10)


def test_clear_error_without_lava(monkeypatch):
    from neurosim.export import lava as lava_export
    monkeypatch.setattr(lava_export.np, "__version__", "2.1.0")
    with pytest.raises(lava_export.LavaUnavailableError, match=r"Python 3.10 with numpy < 2.*"
                       r"pip install 'neurosim\[loihi\]'"):
        lava_export.require_lava()
