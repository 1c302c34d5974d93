"""CUBA benchmark (Vogels-Abbott network of Brian2's example) for neurosim.

    python benchmarks/cuba.py --N 4000 --duration 1.0 [--dtype float32] [--monitor]

Prints one JSON line: N, synapses, build_s, sim_s, spikes, rate_hz, events_per_s, and the
compile_s of the first run in this process (0 when Numba's on-disk cache is warm). The
in-degree stays at 80 for every N (p = 80/N), as in the issue's scaling study.
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numpy as np  # noqa: E402

import neurosim as ns  # noqa: E402
from neurosim.nets import cuba  # noqa: E402
from neurosim.units import ms  # noqa: E402


def run(N=4000, duration=1.0, dtype="float64", seed=1, monitor=False, indegree=80):
    t_start = time.perf_counter()
    net = ns.Network(dt=0.1 * ms, seed=seed, dtype=dtype)
    exc, inh = cuba(net, N=N, indegree=indegree)
    mons = [net.spike_monitor(exc), net.spike_monitor(inh)] if monitor else []
    net.build()
    build_s = time.perf_counter() - t_start
    # Compile (or load from the on-disk cache) with a one-step run, timed separately.
    t0 = time.perf_counter()
    net.run(0.0, progress=False)
    net.run(net.dt, progress=False)
    compile_s = time.perf_counter() - t0
    spikes0 = sum(int(net.spike_counts(p).sum()) for p in (exc, inh))
    events0 = net.synaptic_events()
    t0 = time.perf_counter()
    net.run(duration, progress=False)
    sim_s = time.perf_counter() - t0
    spikes = sum(int(net.spike_counts(p).sum()) for p in (exc, inh)) - spikes0
    events = net.synaptic_events() - events0
    del mons
    return dict(simulator="neurosim", N=N, dtype=dtype,
                synapses=int(sum(p.n_synapses for p in net.projections)),
                build_s=round(build_s, 4), compile_s=round(compile_s, 4),
                sim_s=round(sim_s, 4), spikes=spikes,
                rate_hz=round(spikes / (N * duration), 3),
                events_per_s=round(events / sim_s, 1) if sim_s > 0 else None,
                monitor=monitor)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--N", type=int, default=4000, help="number of neurons (in-degree 80)")
    ap.add_argument("--duration", type=float, default=1.0, help="simulated time (s)")
    ap.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--monitor", action="store_true", help="record all spikes")
    args = ap.parse_args(argv)
    print(json.dumps(run(args.N, args.duration, args.dtype, args.seed, args.monitor)))


if __name__ == "__main__":
    main()
