"""COBA (Vogels & Abbott 2005; Brette et al. 2007, benchmark 1) in NEST 3, the network of
``neurosim.nets.coba``.

    python benchmarks/peers/nest_coba.py --N 4000 --duration 1 --presim 0.2 --threads 1 \
        --spikes OUT.npz

iaf_cond_exp neurons: C_m 200 pF, g_L 10 nS (tau_m 20 ms), E_L -60 mV, V_th -50 mV,
V_reset -60 mV, t_ref 5 ms, E_ex 0, E_in -80 mV, tau_syn_ex 5 ms, tau_syn_in 10 ms; weights
6 nS (excitatory) and -67 nS (inhibitory: NEST's sign selects g_in), pairwise_bernoulli with
p = indegree/N, delay 0.1 ms (NEST's smallest; Brian2 and neurosim use the same). Initial
state drawn as in neurosim.nets.coba (Brette et al.'s Brian script, negative conductances set
to 0). The solver differs: NEST integrates iaf_cond_exp with GSL's adaptive RK45 (error
1e-3), Brian2 and neurosim with exponential Euler at dt = 0.1 ms; NEST holds V for t_ref after
the step of a spike, one step longer than Brian2.

Timing and output as nest_brunel.py. Prints one JSON line.
"""

import time

from _models_peer import nest_finish, nest_prepare, parse_args


def main():
    args = parse_args("coba")
    nest, t_proc = nest_prepare(args)
    import numpy as np
    n, n_e = args.N, int(round(0.8 * args.N))
    t0 = time.perf_counter()
    pop = nest.Create("iaf_cond_exp", n, params={
        "C_m": 200.0, "g_L": 10.0, "E_L": -60.0, "V_th": -50.0, "V_reset": -60.0,
        "t_ref": 5.0, "E_ex": 0.0, "E_in": -80.0, "tau_syn_ex": 5.0, "tau_syn_in": 10.0})
    rng = np.random.default_rng(args.seed)
    pop.set(V_m=list(-60.0 + rng.standard_normal(n) * 5 - 5),
            g_ex=list(np.maximum((rng.standard_normal(n) * 1.5 + 4) * 10, 0.0)),
            g_in=list(np.maximum((rng.standard_normal(n) * 12 + 20) * 10, 0.0)))
    rec = nest.Create("spike_recorder")
    rule = {"rule": "pairwise_bernoulli", "p": args.indegree / n, "allow_autapses": True}
    nest.Connect(pop[:n_e], pop, rule, {"weight": 6.0, "delay": 0.1})
    nest.Connect(pop[n_e:], pop, rule, {"weight": -67.0, "delay": 0.1})
    nest.Connect(pop, rec)
    nest_finish(nest, args, t_proc, t0, pop, rec, "coba", "iaf_cond_exp (GSL RK45)",
                n_other=n, extra=dict(indegree=args.indegree))      # less the recorder's


if __name__ == "__main__":
    main()
