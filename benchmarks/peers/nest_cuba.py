"""CUBA in NEST 3 (iaf_psc_exp), the same network as benchmarks/cuba.py.

    python benchmarks/peers/nest_cuba.py --N 4000 --duration 1 --threads 2

Runs in its own virtual environment (benchmarks/run_suite.py makes it with Python 3.11, for
which nest-simulator ships wheels). Conversion of Brian2's voltage-valued currents: with
C_m = 250 pF and tau_m = 20 ms, a jump of w volts in ge is a current jump of w*C_m/tau_m
amperes (we = 1.62 mV -> 20.25 pA, wi = -9 mV -> -112.5 pA). NEST needs delays >= dt, so the
synaptic delay is 0.1 ms (Brian2 and neurosim: 0); rates agree within a few percent.
Above 16k neurons, connections are drawn with fixed_indegree (same mean in-degree), since
pairwise_bernoulli visits all N^2 pairs.
"""

import argparse
import time

from _report import report


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--N", type=int, default=4000)
    ap.add_argument("--indegree", type=int, default=80)
    ap.add_argument("--duration", type=float, default=1.0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    t_proc = time.perf_counter()
    import nest
    import numpy as np
    nest.set_verbosity("M_ERROR")
    nest.ResetKernel()
    nest.SetKernelStatus({"resolution": 0.1, "local_num_threads": args.threads,
                          "rng_seed": args.seed})
    N, n_exc = args.N, int(round(0.8 * args.N))
    c_m, tau_m = 250.0, 20.0
    t0 = time.perf_counter()
    params = {"C_m": c_m, "tau_m": tau_m, "tau_syn_ex": 5.0, "tau_syn_in": 10.0,
              "t_ref": 5.0, "E_L": -49.0, "V_th": -50.0, "V_reset": -60.0, "I_e": 0.0}
    pop = nest.Create("iaf_psc_exp", N, params=params)
    rng = np.random.default_rng(args.seed)
    pop.V_m = list(-60.0 + 10.0 * rng.random(N))
    p = args.indegree / N
    we = 60 * 0.27 / 10 * c_m / tau_m
    wi = -20 * 4.5 / 10 * c_m / tau_m
    if N <= 16000:
        rule_e = rule_i = {"rule": "pairwise_bernoulli", "p": p, "allow_autapses": True}
    else:  # pairwise_bernoulli visits all N^2 pairs: use the same mean in-degree, fixed
        k_e = int(round(args.indegree * n_exc / N))
        rule_e = {"rule": "fixed_indegree", "indegree": k_e}
        rule_i = {"rule": "fixed_indegree", "indegree": args.indegree - k_e}
    nest.Connect(pop[:n_exc], pop, rule_e, {"weight": we, "delay": 0.1})
    nest.Connect(pop[n_exc:], pop, rule_i, {"weight": wi, "delay": 0.1})
    rec = nest.Create("spike_recorder")
    nest.Connect(pop, rec)
    nest.Prepare()
    nest.Run(0.1)
    build_s = time.perf_counter() - t0
    n0 = rec.n_events
    t1 = time.perf_counter()
    nest.Run(args.duration * 1000.0)
    sim_s = time.perf_counter() - t1
    nest.Cleanup()
    spikes = int(rec.n_events - n0)
    n_syn = int(nest.GetKernelStatus("num_connections")) - N
    report(f"nest-{args.threads}t", N, args.threads, n_syn, build_s, sim_s, spikes,
           args.duration, t_proc)


if __name__ == "__main__":
    main()
