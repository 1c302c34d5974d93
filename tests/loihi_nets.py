"""Random fixed-point networks for the Loihi tests (wrap, saturation, every sign mode...)."""

import numpy as np

import neurosim as ns

MODES = (None, "excitatory", "inhibitory", "mixed")


def random_fixed_network(seed, steps=120, backend="numba", monitor=True):
    """Two or three loihi_lif populations, a spike source, recurrent and converging
    projections with random integer weights (some beyond 8 bits, so clipped), sign modes,
    weight bits, positive and negative weight exponents, Dense/Sparse/per-synapse delays;
    some neurons are driven hard enough to wrap u and saturate v."""
    rng = np.random.default_rng(seed)
    net = ns.Network(dt=1e-3, seed=seed, backend=backend)
    n_src = int(rng.integers(3, 12))
    n_ev = int(rng.integers(10, 6 * steps))
    ev_t = rng.integers(0, steps, n_ev)
    ev_i = rng.integers(0, n_src, n_ev)
    key = np.unique(ev_t * n_src + ev_i)
    src = net.spike_source(n_src, times=(key // n_src) * 1e-3, indices=key % n_src)
    pops = []
    for k in range(int(rng.integers(2, 4))):
        n = int(rng.integers(2, 10))
        hard = rng.random() < 0.4
        pops.append(net.loihi_lif(
            n, du=int(rng.choice([0, 1, 100, 1000, 4095, rng.integers(0, 4096)])),
            dv=int(rng.choice([0, 5, 300, 2048, 4095, rng.integers(0, 4096)])),
            vth=int(rng.choice([0, 10, 500, 131071, rng.integers(0, 2**17)])),
            bias_mant=rng.integers(-4096, 4096, n) if rng.random() < 0.6 else 0,
            bias_exp=rng.integers(-3, 8 if hard else 4, n),
            u_init=rng.integers(-2**23, 2**23, n) if rng.random() < 0.3 else 0,
            v_init=rng.integers(-2**22, 2**22, n) if rng.random() < 0.3 else 0))
    pres = [src] + pops
    for k in range(int(rng.integers(3, 7))):
        pre = pres[int(rng.integers(0, len(pres)))]
        post = pops[int(rng.integers(0, len(pops)))]
        lo, hi = [(-300, 300), (0, 300), (-300, 1), (-20, 20)][int(rng.integers(0, 4))]
        w = rng.integers(lo, hi, (pre.n, post.n))
        w[rng.random(w.shape) < rng.choice([0.0, 0.5, 0.95])] = 0
        delay = 0.0
        r = rng.random()
        if r < 0.3:
            delay = rng.integers(0, 6, w.shape) * 1e-3
        elif r < 0.45:
            delay = int(rng.integers(1, 4)) * 1e-3
        net.connect(pre, post, weight=w, delay=delay,
                    weight_exp=int(rng.choice([0, 0, -1, -3, 2, 6, 10])),
                    num_weight_bits=int(rng.choice([8, 8, 7, 5, 1])),
                    sign_mode=MODES[int(rng.integers(0, 4))])
    if monitor:
        for p in pops:
            net.spike_monitor(p)
            net.state_monitor(p, "u")
            net.state_monitor(p, "v")
    return net


def spike_matrix(mon, steps):
    s = np.zeros((steps, mon.pop.n), np.int8)
    s[mon.steps, mon.indices] = 1
    return s
