import numpy as np
import pytest

import neurosim as ns
from neurosim.units import Hz, mV, ms

BACKENDS = ["numba", "reference"]


@pytest.fixture(params=BACKENDS)
def backend(request):
    """One test body, every backend."""
    return request.param


def random_network(seed, backend="numba", dtype="float64", poisson=False, n_lif=(40, 25),
                   n_src=15, threads=1):
    """A small deterministic network exercising every feature of the core model.

    Two LIF populations with different parameters (two synaptic time constants, bias,
    reset by value and by subtraction, refractory and not), a spike source, per-synapse
    and scalar delays (0 included), excitatory and inhibitory weights, dense, sparse and
    random connectivity.
    """
    import scipy.sparse as sp
    rng = np.random.default_rng(seed)
    net = ns.Network(dt=0.1 * ms, seed=seed, backend=backend, dtype=dtype, threads=threads)
    n_a, n_b = n_lif
    t_src = rng.permutation(1500)[:120]
    src = net.spike_source(n=n_src, times=t_src * 0.1 * ms, indices=rng.integers(0, n_src, 120),
                           name="src")
    a = net.lif(n=n_a, tau_m=rng.uniform(8, 30) * ms,
                tau_syn=(rng.uniform(1, 8) * ms, rng.uniform(5, 15) * ms),
                v_rest=-49 * mV, v_th=-50 * mV, v_reset=-60 * mV,
                t_ref=float(rng.integers(0, 40)) * 0.1 * ms,
                v_init=rng.uniform(-60, -50, n_a) * mV, name="a")
    b = net.lif(n=n_b, tau_m=rng.uniform(5, 15) * ms, tau_syn=rng.uniform(2, 6) * ms,
                v_rest=-65 * mV, v_th=-52 * mV, v_reset=-70 * mV, t_ref=2 * ms,
                bias=rng.uniform(5, 16, n_b) * mV, reset="subtract", name="b")
    mask = rng.random((n_src, n_a)) < 0.3
    net.connect(src, a, weight=rng.normal(2, 1.5, (n_src, n_a)) * mV * mask,
                delay=rng.integers(0, 25, (n_src, n_a)) * 0.1 * ms)
    net.connect(a, a, weight=-0.8 * mV, p=0.15, delay=0.5 * ms)
    net.connect(a, b, weight=sp.random(n_a, n_b, density=0.2, random_state=seed,
                                       data_rvs=lambda k: rng.normal(0.5, 1.0, k) * mV))
    net.connect(b, a, weight=1.2 * mV, indegree=4, delay=1.0 * ms)
    if poisson:
        noise = net.poisson(n=30, rate=rng.uniform(10, 60) * Hz, name="noise")
        het = net.poisson(n=10, rate=rng.uniform(5, 80, 10), name="noise_het")
        net.connect(noise, a, weight=0.6 * mV, p=0.2)
        net.connect(het, b, weight=-0.4 * mV, p=0.3, delay=0.2 * ms)
    return net


def spikes_of(mon):
    return np.stack([mon.steps, mon.indices])


def load_example(name):
    """The module examples/<name>.py (examples are scripts, not a package)."""
    import importlib.util
    import os
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    spec = importlib.util.spec_from_file_location(f"{name}_example",
                                                  os.path.join(here, "examples", f"{name}.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod
