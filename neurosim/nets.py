"""Ready-made networks used by the examples, benchmarks and tests."""

import numpy as np

from .units import mV, ms
from .validation import check_int

__all__ = ["cuba"]


def cuba(net, N=4000, indegree=80, exc_fraction=0.8, fixed_indegree=False):
    """The Vogels-Abbott CUBA network as in Brian2's example (examples/CUBA.py).

    N LIF neurons (taum 20 ms, taue 5 ms, taui 10 ms, Vt -50 mV, Vr -60 mV, El -49 mV,
    refractory 5 ms) split into an excitatory population (80%, we = 60*0.27/10 mV) and an
    inhibitory one (wi = -20*4.5/10 mV). Every ordered pair is connected with probability
    indegree/N (Brian2's p = 0.02 at N = 4000), or each target gets exactly its share of
    ``indegree`` distinct sources from each population with ``fixed_indegree``. Initial v is
    uniform in [Vr, Vt], drawn from the network's seed.

    Returns
    -------
    (exc, inh) : LIFPopulation
    """
    N = check_int("N", N, 2)
    indegree = check_int("indegree", indegree, 1, N)
    n_exc = int(round(exc_fraction * N))
    rng = np.random.default_rng(np.random.SeedSequence(net.seed, spawn_key=(9,)))
    vr, vt = -60 * mV, -50 * mV
    v0 = vr + rng.random(N) * (vt - vr)
    params = dict(tau_m=20 * ms, tau_syn=(5 * ms, 10 * ms), v_rest=-49 * mV, v_th=vt,
                  v_reset=vr, t_ref=5 * ms)
    exc = net.lif(n=n_exc, v_init=v0[:n_exc], name="exc", **params)
    inh = net.lif(n=N - n_exc, v_init=v0[n_exc:], name="inh", **params)
    we = 60 * 0.27 / 10 * mV
    wi = -20 * 4.5 / 10 * mV
    for pre, w in ((exc, we), (inh, wi)):
        for post in (exc, inh):
            if fixed_indegree:
                k = int(round(indegree * pre.n / N))
                net.connect(pre, post, weight=w, indegree=k)
            else:
                net.connect(pre, post, weight=w, p=indegree / N)
    return exc, inh
