"""The Potjans & Diesmann (2014) cortical microcircuit simulated with neurosim.

    python examples/microcircuit.py [--scale 0.1] [--background dc|poisson] [--duration 1.0]
                                    [--k-scale 1.0] [--threads 1] [--out out]

Builds the model as NEST's PyNEST example does (neurosim.nets.microcircuit: 77,169 neurons
and 3e8 synapses at full scale; ``--scale`` keeps that fraction of the neurons with the
full in-degrees), runs ``--presim`` s of initial transient and ``--duration`` s, prints the
build and simulation times and the rates per population against the published full-scale
rates, and writes OUT/microcircuit_raster.png, OUT/microcircuit_rates.png and
OUT/microcircuit_summary.json.

A scaled-down circuit with full in-degrees fires faster than the full one in some
populations (NEST gives the same: at scale 0.05 with DC, L23E 4.2 Hz and L5E 12.7 Hz); the
published rates are those of the full scale.
"""

import argparse
import json
import os
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import neurosim as ns  # noqa: E402
from neurosim.nets import microcircuit  # noqa: E402
from neurosim.plot import raster_figure  # noqa: E402
from neurosim.units import ms  # noqa: E402

#: Full-scale mean rates (Hz) of the PyNEST example with Poisson background, "obtained by
#: running this PyNEST microcircuit with 12 MPI processes and both N_scaling and K_scaling
#: set to 1" (nest-simulator, pynest/examples/Potjans_2014/network_params.py,
#: full_mean_rates). The model's own repository (INM-6/microcircuit-PD14-model,
#: parameter_definitions.py) lists a later run: 0.903, 2.965, 4.414, 5.876, 7.569, 8.633,
#: 1.105, 7.829 Hz; the spread between the two is the model's own variability.
PUBLISHED_RATES = {"L23E": 0.943, "L23I": 3.026, "L4E": 4.368, "L4I": 5.882,
                   "L5E": 7.733, "L5I": 8.664, "L6E": 1.096, "L6I": 7.851}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=0.1, help="fraction of the neurons")
    ap.add_argument("--k-scale", type=float, default=1.0, help="fraction of the in-degrees")
    ap.add_argument("--background", choices=("dc", "poisson"),
                    default="poisson" if hasattr(ns.Network, "poisson_input") else "dc")
    ap.add_argument("--duration", type=float, default=1.0, help="simulated seconds (timed)")
    ap.add_argument("--presim", type=float, default=0.1, help="initial transient (s)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=55)
    ap.add_argument("--out", default="out")
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)

    t0 = time.perf_counter()
    net = ns.Network(dt=0.1 * ms, seed=args.seed, threads=args.threads)
    pops = microcircuit(net, scale=args.scale, k_scale=args.k_scale,
                        background=args.background)
    mons = {k: net.spike_monitor(p) for k, p in pops.items()}
    net.build()
    build_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    net.run(args.presim, progress=False)
    presim_s = time.perf_counter() - t1
    before = {k: m.num_spikes for k, m in mons.items()}
    t1 = time.perf_counter()
    finished = net.run(args.duration, progress=True)
    sim_s = time.perf_counter() - t1
    T = net.t - args.presim
    rates = {k: (m.num_spikes - before[k]) / (pops[k].n * T) if T > 0 else 0.0
             for k, m in mons.items()}

    summary = dict(scale=args.scale, k_scale=args.k_scale, background=args.background,
                   threads=args.threads, neurons=sum(p.n for p in pops.values()),
                   synapses=sum(p.n_synapses for p in net.projections), finished=finished,
                   build_s=round(build_s, 2), presim_s=round(presim_s, 2),
                   sim_s=round(sim_s, 2), s_per_simulated_s=round(sim_s / max(T, 1e-12), 2),
                   rates_hz={k: round(r, 3) for k, r in rates.items()},
                   published_full_scale_hz=PUBLISHED_RATES)
    print(f"{summary['neurons']:,} neurons, {summary['synapses']:,} synapses, "
          f"{args.background} background, {args.threads} thread(s)")
    print(f"build {build_s:.1f} s (construct + connect + lower); first {args.presim:g} s "
          f"simulated in {presim_s:.1f} s (includes loading or compiling the kernels); "
          f"{T:g} s simulated in {sim_s:.1f} s ({summary['s_per_simulated_s']:g} s per "
          f"simulated s)")
    print(f"{'population':>10} {'neurons':>8} {'rate (Hz)':>10} {'published':>10}")
    for k, r in rates.items():
        print(f"{k:>10} {pops[k].n:>8,} {r:>10.3f} {PUBLISHED_RATES[k]:>10.3f}")

    fig = raster_figure(list(mons.values()),
                        title=f"Potjans & Diesmann microcircuit, scale {args.scale:g}, "
                              f"{args.background} background")
    fig.savefig(os.path.join(args.out, "microcircuit_raster.png"), dpi=110)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(7, 3.5))
    x = np.arange(len(rates))
    ax.bar(x - 0.2, list(rates.values()), 0.4, label=f"neurosim, scale {args.scale:g}, "
           f"{args.background} ({T:g} s)")
    ax.bar(x + 0.2, [PUBLISHED_RATES[k] for k in rates], 0.4, color="0.6",
           label="published full scale (NEST example, Poisson)")
    ax.set_xticks(x)
    ax.set_xticklabels(list(rates))
    ax.set_ylabel("mean rate (Hz)")
    ax.set_title("rates per population")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "microcircuit_rates.png"), dpi=110)
    plt.close(fig)
    with open(os.path.join(args.out, "microcircuit_summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    print(f"figures and summary written to {args.out}/")
    return summary


if __name__ == "__main__":
    main()
