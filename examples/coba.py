"""The COBA network (Vogels & Abbott 2005; Brette et al. 2007, benchmark 1): LIF neurons
with conductance-based exponential synapses, simulated with neurosim.

    python examples/coba.py [--N 4000] [--duration 0.4] [--out out] [--brian2]
    python examples/coba.py --full        # N = 4000, 1 s (the benchmark's run)

Writes OUT/coba_raster.png (spikes and the population rate), OUT/coba_traces.png (v,
g_exc and g_inh of three excitatory neurons) and OUT/coba_summary.json (rates, CV(ISI)).
With --brian2 it also runs the same network in Brian2 (runtime, method
'exponential_euler'; its own draws of connectivity and initial state) and compares the
rates. The network has no input: its activity sustains itself from the initial state, and
in some realisations (seeds) it dies out; the summary says so.
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
from neurosim.nets import coba  # noqa: E402
from neurosim.plot import raster_figure, traces  # noqa: E402
from neurosim.units import ms, nS  # noqa: E402


def mean_cv(trains):
    """Mean CV of the inter-spike intervals over the spike trains with >= 3 spikes."""
    cvs = [np.std(d) / np.mean(d) for d in (np.diff(t) for t in trains) if d.size >= 2]
    return round(float(np.mean(cvs)), 4) if cvs else None


def brian2_rates(N, duration, seed):
    """Rates (Hz) of the same network in Brian2 (runtime), excitatory and inhibitory."""
    import brian2 as b2
    b2.seed(seed)
    b2.defaultclock.dt = 0.1 * b2.ms
    n_e = int(round(0.8 * N))
    nsp = dict(C_m=200 * b2.pF, g_L=10 * b2.nS, E_L=-60 * b2.mV, E_e=0 * b2.mV,
               E_i=-80 * b2.mV, tau_e=5 * b2.ms, tau_i=10 * b2.ms)
    P = b2.NeuronGroup(N, """
        dv/dt = (g_L*(E_L - v) + g_e*(E_e - v) + g_i*(E_i - v))/C_m : volt (unless refractory)
        dg_e/dt = -g_e/tau_e : siemens
        dg_i/dt = -g_i/tau_i : siemens""", threshold="v > -50*mV", reset="v = -60*mV",
                       refractory=5 * b2.ms, method="exponential_euler", namespace=nsp)
    P.v = "E_L + (randn()*5 - 5)*mV"
    P.g_e = "clip((randn()*1.5 + 4)*10*nS, 0*nS, inf*nS)"
    P.g_i = "clip((randn()*12 + 20)*10*nS, 0*nS, inf*nS)"
    ce = b2.Synapses(P[:n_e], P, on_pre="g_e_post += 6*nS")
    ci = b2.Synapses(P[n_e:], P, on_pre="g_i_post += 67*nS")
    ce.connect(p=80 / N)
    ci.connect(p=80 / N)
    me, mi = b2.SpikeMonitor(P[:n_e]), b2.SpikeMonitor(P[n_e:])
    b2.run(duration * b2.second)
    return me.num_spikes / (n_e * duration), mi.num_spikes / ((N - n_e) * duration)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--N", type=int, default=4000)
    ap.add_argument("--duration", type=float, default=0.4, help="seconds")
    ap.add_argument("--full", action="store_true", help="N = 4000 and 1 s")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default="out")
    ap.add_argument("--brian2", action="store_true", help="compare the rates with Brian2's")
    args = ap.parse_args(argv)
    if args.full:
        args.N, args.duration = 4000, 1.0
    os.makedirs(args.out, exist_ok=True)

    t0 = time.perf_counter()
    net = ns.Network(dt=0.1 * ms, seed=args.seed)
    exc, inh = coba(net, N=args.N)
    sp_e, sp_i = net.spike_monitor(exc), net.spike_monitor(inh)
    rec = [0, 1, 2]
    mons = {var: net.state_monitor(exc, var, indices=rec) for var in ("v", "g_exc", "g_inh")}
    finished = net.run(args.duration, progress=True)
    wall = time.perf_counter() - t0

    late = args.duration / 2                      # after the initial transient
    trains = [t[t >= late] for m in (sp_e, sp_i) for t in m.spike_trains().values()]
    summary = dict(N=args.N, duration_s=net.t, finished=finished,
                   synapses=sum(p.n_synapses for p in net.projections
                                if not p.name.startswith("init_")),
                   rate_exc_hz=round(sp_e.rate(), 3), rate_inh_hz=round(sp_i.rate(), 3),
                   rate_second_half_hz=round(sum(t.size for t in trains)
                                             / (args.N * (args.duration - late)), 3),
                   cv_isi_second_half=mean_cv(trains),
                   spikes=sp_e.num_spikes + sp_i.num_spikes, wall_s=round(wall, 3))
    summary["activity_died_out"] = bool(summary["rate_second_half_hz"] == 0)
    if args.brian2:
        r_e, r_i = brian2_rates(args.N, args.duration, args.seed)
        summary["brian2_rate_exc_hz"], summary["brian2_rate_inh_hz"] = round(r_e, 3), \
            round(r_i, 3)

    fig = raster_figure([sp_e, sp_i], title=f"COBA, N = {args.N}: {summary['spikes']:,} "
                        f"spikes, {summary['rate_exc_hz']:.1f} Hz (exc), "
                        f"{summary['rate_inh_hz']:.1f} Hz (inh)")
    fig.savefig(os.path.join(args.out, "coba_raster.png"), dpi=120)
    fig, axes = plt.subplots(3, 1, figsize=(9, 7), sharex=True)
    traces(mons["v"], ax=axes[0], title="three excitatory neurons")
    for ax, var in zip(axes[1:], ("g_exc", "g_inh")):
        m = mons[var]
        for k, i in enumerate(rec):
            ax.plot(m.t / ms, m.values[:, k] / nS, lw=0.8, color=f"C{k}", label=f"neuron {i}")
        ax.set_ylabel(f"{exc.name}: {var}\n(nS)")
        ax.margins(x=0)
    axes[-1].set_xlabel("time (ms)")
    for ax in axes[:-1]:
        ax.set_xlabel("")
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "coba_traces.png"), dpi=120)
    with open(os.path.join(args.out, "coba_summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    print(json.dumps(summary, indent=2))
    print(f"figures and summary written to {args.out}/")


if __name__ == "__main__":
    main()
