"""The Potjans & Diesmann (2014) microcircuit in NEST 3, as NEST's PyNEST example builds it.

    python benchmarks/peers/nest_microcircuit.py --params PARAMS.json --threads 2 \
        --duration 1 --presim 0.1

Runs in NEST's own virtual environment (benchmarks/microcircuit.py makes it: Python 3.11,
``pip install nest-simulator``). The derived numbers (neurons and synapse totals per
population pair, mean PSCs, DC, external in-degrees, initial potentials) come in a JSON file
that benchmarks/microcircuit.py writes from ``neurosim.nets.microcircuit_params`` in NEST's
units (pA, ms, mV); this script builds them the way the example's network.py does:
iaf_psc_exp populations, ``fixed_total_number`` (NEST's defaults: autapses and multapses
allowed), weights ``redraw(normal(J, 0.1|J|))`` within their sign, delays
``redraw(normal(d, d/2), min=dt/2)`` (NEST rounds them to the grid), one
``poisson_generator`` per population of rate K_ext * 8 Hz connected all-to-all (or the DC
in I_e), V_m from ``normal(mean, sd)`` per population.

Timing as the example's: build = Create + Connect + Prepare (the connection infrastructure is
finished in Prepare); then a pre-simulation of ``--presim`` s (the initial transient) and the
timed simulation of ``--duration`` s, whose spikes give the rates. Prints one JSON line.
"""

import argparse
import json
import resource
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--params", required=True, help="JSON of the derived parameters")
    ap.add_argument("--duration", type=float, default=1.0, help="timed simulation (s)")
    ap.add_argument("--presim", type=float, default=0.1, help="untimed warm-up (s)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=55)
    args = ap.parse_args()
    with open(args.params) as f:
        prm = json.load(f)
    t_proc = time.perf_counter()
    import nest
    import numpy as np
    nest.set_verbosity("M_ERROR")
    nest.ResetKernel()
    nest.local_num_threads = args.threads
    nest.resolution = dt = prm["dt_ms"]
    nest.rng_seed = args.seed
    t0 = time.perf_counter()
    nrn = prm["neuron"]
    pops = []
    for i, n in enumerate(prm["n"]):
        pop = nest.Create("iaf_psc_exp", n)
        pop.set(C_m=nrn["C_m"], tau_m=nrn["tau_m"], tau_syn_ex=nrn["tau_syn"],
                tau_syn_in=nrn["tau_syn"], E_L=nrn["E_L"], V_th=nrn["V_th"],
                V_reset=nrn["V_reset"], t_ref=nrn["t_ref"], I_e=prm["dc"][i])
        pop.set(V_m=nest.random.normal(prm["v0_mean"][i], prm["v0_sd"][i]))
        pops.append(pop)
    recs = nest.Create("spike_recorder", len(pops))
    for i, post in enumerate(pops):
        for j, pre in enumerate(pops):
            n_syn = prm["n_synapses"][i][j]
            if n_syn == 0:
                continue
            w, d = prm["psc_mean"][i][j], prm["delay_mean"][i][j]
            w_min, w_max = (0.0, np.inf) if w > 0 else (-np.inf, 0.0)
            syn = {"synapse_model": "static_synapse",
                   "weight": nest.math.redraw(nest.random.normal(
                       mean=w, std=abs(w) * prm["weight_rel_sd"]), min=w_min, max=w_max),
                   "delay": nest.math.redraw(nest.random.normal(
                       mean=d, std=prm["delay_sd"][i][j]), min=0.5 * dt, max=np.inf)}
            nest.Connect(pre, post, {"rule": "fixed_total_number", "N": n_syn}, syn)
    if prm["background"] == "poisson":
        gens = nest.Create("poisson_generator", len(pops))
        gens.rate = [prm["bg_rate"] * k for k in prm["k_ext"]]
        for i, post in enumerate(pops):
            nest.Connect(gens[i], post, {"rule": "all_to_all"},
                         {"synapse_model": "static_synapse", "weight": prm["psc_ext"],
                          "delay": prm["delay_poisson"]})
    for pop, rec in zip(pops, recs):
        nest.Connect(pop, rec)
    nest.Prepare()
    build_s = time.perf_counter() - t0
    n_conn = int(nest.num_connections)
    t1 = time.perf_counter()
    nest.Run(args.presim * 1000.0)
    presim_s = time.perf_counter() - t1
    n0 = [int(r.n_events) for r in recs]
    t1 = time.perf_counter()
    nest.Run(args.duration * 1000.0)
    sim_s = time.perf_counter() - t1
    nest.Cleanup()
    counts = [int(r.n_events) - c for r, c in zip(recs, n0)]
    rates = {name: round(c / (n * args.duration), 4)
             for name, c, n in zip(prm["names"], counts, prm["n"])}
    n_rec = sum(prm["n"]) + (sum(prm["n"]) if prm["background"] == "poisson" else 0)
    print(json.dumps(dict(
        simulator="nest", version=nest.__version__, threads=args.threads,
        scale=prm["scale"], k_scale=prm["k_scale"], background=prm["background"],
        neurons=int(sum(prm["n"])), synapses=n_conn - n_rec, build_s=round(build_s, 3),
        presim_s=round(presim_s, 3), sim_s=round(sim_s, 3), duration=args.duration,
        spikes=int(sum(counts)), rates=rates, seed=args.seed,
        process_s=round(time.perf_counter() - t_proc, 3),
        peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1))))


if __name__ == "__main__":
    main()
