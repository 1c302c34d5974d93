"""Brunel (2000): the four regimes of a sparse network of excitatory and inhibitory LIF
neurons with delta synapses (Fig. 8), simulated with neurosim.

    python examples/brunel.py [--scale 0.25] [--duration 0.6] [--out out]
    python examples/brunel.py --full          # 12,500 neurons, 1.2 s per regime

For each regime (SR: g = 3, eta = 2; AI: g = 5, eta = 2; SI fast: g = 6, eta = 4; SI slow:
g = 4.5, eta = 0.9) the network of ``neurosim.nets.brunel`` runs for --duration seconds;
the last --window seconds are drawn: a raster of 50 excitatory neurons and the population
rate of all neurons (0.5 ms bins). The mean rate and the mean CV of the inter-spike
intervals (over neurons with at least 3 spikes) are computed from the last half of the run.
Writes OUT/brunel_regimes.png and OUT/brunel_summary.json.

Below full scale the example keeps the paper's in-degrees (C_E = 1000, C_I = 250: the
input of each neuron has the full network's mean and variance, ``keep_indegree=True``), so
that the regimes look like the paper's at a quarter of its size; --scaled-indegree scales
them with N instead (C_E = 1000 scale: the regimes drift towards regular firing at small
scales). --full runs the paper's size.
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
from neurosim.nets import BRUNEL_REGIMES, brunel, brunel_params  # noqa: E402
from neurosim.plot import raster  # noqa: E402
from neurosim.units import ms  # noqa: E402

#: Fig. 8's panels, in the paper's order.
PANELS = {"SR": "A", "SI-fast": "B", "AI": "C", "SI-slow": "D"}
N_RASTER = 50


def cv_isi(times, indices, n):
    """Mean CV of the inter-spike intervals over the neurons with >= 3 spikes, and how many
    neurons that is."""
    order = np.lexsort((times, indices))
    t, i = times[order], indices[order]
    starts = np.searchsorted(i, np.arange(n + 1))
    cvs = [np.std(d) / np.mean(d) for d in (np.diff(t[a:b]) for a, b in
                                               zip(starts[:-1], starts[1:])) if d.size >= 2]
    return (float(np.mean(cvs)) if cvs else float("nan")), len(cvs)


def simulate(regime, scale, duration, seed, convention, keep_indegree):
    """One regime: its monitors and summary."""
    net = ns.Network(dt=0.1 * ms, seed=seed)
    exc, inh = brunel(net, regime, scale=scale, convention=convention,
                      keep_indegree=keep_indegree)
    sp_e, sp_i = net.spike_monitor(exc), net.spike_monitor(inh)
    t0 = time.perf_counter()
    net.run(duration, progress=False)
    wall = time.perf_counter() - t0
    t = np.concatenate([sp_e.times, sp_i.times])
    i = np.concatenate([sp_e.indices, sp_i.indices + exc.n])
    later = t >= duration / 2                      # after the initial transient
    n = exc.n + inh.n
    cv, n_cv = cv_isi(t[later], i[later], n)
    g, eta = BRUNEL_REGIMES[regime]
    summary = dict(regime=regime, panel=PANELS[regime], g=g, eta=eta, neurons=n,
                   rate_hz=round(float(later.sum()) / (n * (duration / 2)), 3),
                   cv_isi=round(cv, 4), cv_neurons=n_cv,
                   synapses=int(sum(p.n_synapses for p in net.projections)),
                   run_s=round(wall, 3))
    return sp_e, t, summary


def draw(axes, sp_e, t_all, summary, duration, window, n_total):
    """Raster of the first 50 excitatory neurons and the population rate, last window."""
    ax_r, ax_p = axes
    t0 = duration - window
    sub = sp_e.indices < N_RASTER
    # a monitor-like view of the first neurons, for neurosim.plot.raster
    view = _Subset(sp_e, sub)
    raster([view], ax=ax_r, duration=duration)
    ax_r.set_xlim(t0 / ms, duration / ms)
    ax_r.set_xlabel("")
    ax_r.set_title(f"{summary['panel']}: {summary['regime']} (g = {summary['g']:g}, "
                   f"eta = {summary['eta']:g})\n{summary['rate_hz']:.1f} Hz, "
                   f"CV(ISI) {summary['cv_isi']:.2f}", fontsize=9)
    width = 0.5 * ms
    edges = np.arange(t0, duration + width / 2, width)
    counts, _ = np.histogram(t_all, bins=edges)
    ax_p.plot(edges[:-1] / ms, counts / (n_total * width), lw=0.7, color="k")
    ax_p.set_xlim(t0 / ms, duration / ms)
    ax_p.set_xlabel("time (ms)")
    ax_p.set_ylabel("population rate (Hz)")


class _Subset:
    """The spikes of a SpikeMonitor's first neurons, shaped like a SpikeMonitor for
    neurosim.plot.raster (times, indices, num_spikes, pop with n, name and net)."""

    def __init__(self, mon, keep):
        self.times, self.indices = mon.times[keep], mon.indices[keep]
        self.num_spikes = int(keep.sum())
        self.pop = _Pop(mon.pop, N_RASTER)


class _Pop:
    def __init__(self, pop, n):
        self.name, self.n, self.net = f"{pop.name} (first {n})", min(n, pop.n), pop.net


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=0.25,
                    help="fraction of the 12,500 neurons (default 0.25)")
    ap.add_argument("--scaled-indegree", action="store_true",
                    help="in-degrees 0.1 N (default: the full network's 1000 and 250)")
    ap.add_argument("--duration", type=float, default=0.6, help="seconds per regime")
    ap.add_argument("--window", type=float, default=0.2, help="seconds drawn (the last ones)")
    ap.add_argument("--full", action="store_true", help="scale 1 and 1.2 s (the paper's size)")
    ap.add_argument("--regimes", nargs="*", choices=tuple(PANELS), default=list(PANELS))
    ap.add_argument("--convention", choices=("nest", "brian2"), default="nest")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default="out")
    args = ap.parse_args(argv)
    if args.full:
        args.scale, args.duration = 1.0, 1.2
    window = min(args.window, args.duration)
    os.makedirs(args.out, exist_ok=True)
    keep = not args.scaled_indegree
    prm = brunel_params(scale=args.scale, keep_indegree=keep)
    n_total = prm["n_exc"] + prm["n_inh"]
    fig, axes = plt.subplots(2, len(args.regimes), figsize=(3.2 * len(args.regimes) + 1, 5.2),
                             squeeze=False, gridspec_kw=dict(height_ratios=[3, 1.4]))
    summaries = []
    for k, regime in enumerate(args.regimes):
        sp_e, t_all, summary = simulate(regime, args.scale, args.duration, args.seed,
                                        args.convention, keep)
        summaries.append(summary)
        print(json.dumps(summary))
        draw(axes[:, k], sp_e, t_all, summary, args.duration, window, n_total)
    fig.suptitle(f"Brunel (2000), Fig. 8 regimes: {n_total:,} neurons (scale {args.scale:g}), "
                 f"in-degrees {prm['c_exc']} + {prm['c_inh']}, last {window / ms:.0f} ms of "
                 f"{args.duration:g} s", fontsize=10)
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "brunel_regimes.png"), dpi=120)
    with open(os.path.join(args.out, "brunel_summary.json"), "w") as f:
        json.dump(dict(scale=args.scale, duration_s=args.duration, convention=args.convention,
                       c_exc=prm["c_exc"], c_inh=prm["c_inh"], regimes=summaries), f, indent=2)
    print(f"figure and summary written to {args.out}/")


if __name__ == "__main__":
    main()
