"""The CUBA network (Vogels & Abbott 2005, as in Brian2's example) simulated with neurosim.

    python examples/cuba.py [--N 4000] [--duration 1.0] [--out out] [--brian2]
    mpiexec -n 2 python examples/cuba.py        # the same network over 2 MPI ranks

Writes OUT/cuba_raster.png, OUT/cuba_traces.png and OUT/cuba_summary.json; with --brian2 it
also runs the same network in Brian2 and reports whether the spikes are identical. Under
mpiexec every rank simulates its share and rank 0 writes the (identical) results.
"""

import argparse
import json
import os
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import neurosim as ns  # noqa: E402
from neurosim.nets import cuba  # noqa: E402
from neurosim.plot import raster_figure, traces  # noqa: E402
from neurosim.units import ms  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--N", type=int, default=4000)
    ap.add_argument("--duration", type=float, default=1.0, help="seconds")
    ap.add_argument("--out", default="out")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--brian2", action="store_true", help="cross-check against Brian2")
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)

    t0 = time.perf_counter()
    net = ns.Network(dt=0.1 * ms, seed=args.seed)
    exc, inh = cuba(net, N=args.N)
    sp_e, sp_i = net.spike_monitor(exc), net.spike_monitor(inh)
    vm = net.state_monitor(exc, "v", indices=[0, 1, 2])
    finished = net.run(args.duration, progress=True)
    wall = time.perf_counter() - t0

    if net.rank != 0:           # under mpiexec: every rank holds the same spikes and traces
        return
    summary = dict(N=args.N, duration_s=net.t, finished=finished, ranks=net.n_ranks,
                   synapses=sum(p.n_synapses for p in net.projections),
                   rate_exc_hz=sp_e.rate(), rate_inh_hz=sp_i.rate(),
                   spikes=sp_e.num_spikes + sp_i.num_spikes, wall_s=round(wall, 3))
    if args.brian2:
        from neurosim.export import run_in_brian2
        ref = run_in_brian2(net, net.t)
        summary["identical_to_brian2"] = all(
            (ref[m.pop.name][0].tolist(), ref[m.pop.name][1].tolist())
            == (m.steps.tolist(), m.indices.tolist()) for m in (sp_e, sp_i))

    fig = raster_figure([sp_e, sp_i], title=f"CUBA, N = {args.N}: {summary['spikes']:,} "
                        f"spikes, {summary['rate_exc_hz']:.2f} Hz (exc)")
    fig.savefig(os.path.join(args.out, "cuba_raster.png"), dpi=120)
    fig, ax = plt.subplots(figsize=(9, 3.5))
    traces(vm, ax=ax, title="membrane potential of three excitatory neurons")
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "cuba_traces.png"), dpi=120)
    with open(os.path.join(args.out, "cuba_summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    print(json.dumps(summary, indent=2))
    print(f"figures and summary written to {args.out}/")


if __name__ == "__main__":
    main()
