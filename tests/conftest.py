import signal

import numpy as np
import pytest

import neurosim as ns
from neurosim.units import Hz, mV, ms

# A test run started in the background by a non-interactive shell inherits SIGINT ignored
# (Python then installs no KeyboardInterrupt handler, and brian2 keeps SIG_IGN as the handler
# to call): the tests that send themselves Ctrl-C need Python's default handler.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

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


def load_script(folder, name):
    """The module <folder>/<name>.py (examples and benchmarks are scripts, not packages),
    under a name of its own: importing benchmarks/sparse.py as `sparse` would shadow the
    pydata `sparse` package that scipy looks up in sys.modules."""
    import importlib.util
    import os
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    spec = importlib.util.spec_from_file_location(f"neurosim_{folder}_{name}",
                                                  os.path.join(here, folder, f"{name}.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def load_example(name):
    """The module examples/<name>.py."""
    return load_script("examples", name)


#: Kernels and adaptation features rotated over the populations of random_model_network.
MODEL_KERNELS = ("exp", "alpha", "delta", "exp")
MODEL_FEATURES = ((False, False), (True, False), (False, True), (True, True))


def random_model_network(seed, kernels=MODEL_KERNELS, n=30, n_src=20, convention="brian2",
                         backend="numba", dtype="float64", threads=1, hetero=True):
    """A small deterministic network of LIF populations with mixed models.

    One population per entry of ``kernels`` ("exp", "alpha", "delta", "cond_exp"), named
    "p0", "p1", ...; population k has the adaptation current and/or the adaptive threshold
    as ``MODEL_FEATURES[(k + seed) % 4]`` says (so every seed covers the four combinations
    when there are four populations), reset by value or by subtraction (alternating with the
    seed), per-neuron parameters (tau_m, v_th, v_reset, t_ref with 0 included, tau_syn, b_w,
    beta, e_exc, ...) on even populations when ``hetero`` (scalars on odd ones), and a bias
    that makes part of each population fire on its own. A spike source "src" drives every
    population with per-synapse delays (0 to 2.5 ms); the populations are connected
    recurrently and to each other with scalar delays (0 included) and per-synapse delays,
    both signs of weights. Weights are volts, or siemens into "cond_exp" populations.
    Every convention-dependent choice is ``convention`` ("brian2" or "nest"); nothing is
    drawn from Poisson sources, so the spikes can be compared with a peer spike for spike.
    """
    from neurosim.units import nS, pF
    rng = np.random.default_rng(seed)
    net = ns.Network(dt=0.1 * ms, seed=seed, backend=backend, dtype=dtype, threads=threads)
    n_spk = 40 * n_src
    t_src = rng.integers(0, 2000, n_spk)
    i_src = rng.integers(0, n_src, n_spk)
    key = np.unique(t_src * n_src + i_src)
    src = net.spike_source(n=n_src, times=(key // n_src) * 0.1 * ms, indices=key % n_src,
                           name="src")

    def per(lo, hi, k, scale):
        """A per-neuron array on heterogeneous populations, else one value."""
        if hetero and k % 2 == 0:
            return rng.uniform(lo, hi, n) * scale
        return float(rng.uniform(lo, hi)) * scale

    pops = []
    for k, kernel in enumerate(kernels):
        adapt, thresh = MODEL_FEATURES[(k + seed) % 4]
        tau_m = per(8, 25, k, ms)
        if hetero and k % 2 == 0:
            t_ref = rng.integers(0, 30, n) * 0.1 * ms
            t_ref[:3] = 0.0
        else:
            t_ref = float(rng.choice([0, 7, 20])) * 0.1 * ms
        kw = dict(tau_m=tau_m, v_rest=-60 * mV, v_th=per(-52, -48, k, mV),
                  v_reset=per(-68, -62, k, mV), t_ref=t_ref,
                  v_init=rng.uniform(-65, -50, n) * mV,
                  reset="subtract" if (k + seed) % 3 == 0 else "value",
                  synapse=kernel, convention=convention, name=f"p{k}")
        if kernel == "cond_exp":
            kw.update(tau_syn=(per(3, 8, k, ms), per(6, 12, k, ms)), e_exc=0 * mV,
                      e_inh=per(-85, -75, k, mV), c_m=per(150, 250, k, pF),
                      bias=rng.uniform(4, 14, n) * mV)
        elif kernel == "delta":
            kw.update(bias=rng.uniform(4, 14, n) * mV)
        else:
            kw.update(tau_syn=(per(1, 6, k, ms), per(4, 12, k, ms)),
                      bias=rng.uniform(4, 14, n) * mV)
        if adapt:
            kw.update(tau_w=per(30, 150, k, ms), b_w=per(0.5, 2.5, k, mV))
        if thresh:
            kw.update(tau_a=per(20, 100, k, ms), beta=per(0.5, 3, k, mV))
        pops.append(net.lif(n=n, **kw))

    def weights(post, shape, exc, inh, p_inh):
        """Weights of a projection into ``post``: excitatory ~ U(exc), a fraction p_inh
        inhibitory ~ -U(inh) (mV, or nS into cond_exp)."""
        unit = nS if post.spec.synapse == "cond_exp" else mV
        w = rng.uniform(*exc, shape)
        inh_mask = rng.random(shape) < p_inh
        w[inh_mask] = -rng.uniform(*inh, int(inh_mask.sum()))
        return w * unit

    for k, post in enumerate(pops):
        cond = post.spec.synapse == "cond_exp"
        mask = rng.random((n_src, n)) < 0.25
        net.connect(src, post, weight=weights(post, (n_src, n), (1, 6) if cond else (0.5, 3),
                                              (2, 8) if cond else (0.5, 2), 0.3) * mask,
                    delay=rng.integers(0, 26, (n_src, n)) * 0.1 * ms)
        pre = pops[(k + 1) % len(pops)]
        m = rng.random((n, n)) < 0.1
        net.connect(pre, post, weight=weights(post, (n, n), (1, 4) if cond else (0.3, 2),
                                              (2, 8) if cond else (0.5, 2), 0.4) * m,
                    delay=[0.0, 0.1, 0.3, 1.0][k % 4] * ms)
        net.connect(post, post, weight=weights(post, (n, n), (0.5, 2) if cond else (0.2, 1),
                                               (2, 6) if cond else (0.5, 1.5), 0.5)
                    * (rng.random((n, n)) < 0.08),
                    delay=rng.integers(0, 40, (n, n)) * 0.1 * ms)
    return net
