"""CUBA benchmark (Vogels-Abbott network of Brian2's example) for neurosim.

    python benchmarks/cuba.py --N 4000 --duration 1.0 [--dtype float32] [--monitor]

Prints one JSON line: N, synapses, build_s, sim_s, spikes, rate_hz, events_per_s, the
compile_s of the first run in this process (near 0 when Numba's on-disk cache is warm),
process_s (import + build + compile or cache load + run: the time to first result) and
peak_rss_mb (peak resident memory of the process). The
in-degree stays at 80 for every N (p = 80/N), as in the issue's scaling study.
"""

import time

T_PROCESS = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


import neurosim as ns  # noqa: E402
from neurosim.nets import cuba  # noqa: E402
from neurosim.units import ms  # noqa: E402


def run(N=4000, duration=1.0, dtype="float64", seed=1, monitor=False, indegree=80, threads=1):
    t_start = time.perf_counter()
    net = ns.Network(dt=0.1 * ms, seed=seed, dtype=dtype, threads=threads)
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
    c = net.plan.conn
    n_syn = int(c.target.shape[0])
    conn_bytes = c.target.nbytes + c.weight.nbytes + c.syn_delay.nbytes + c.indptr.nbytes
    return dict(simulator="neurosim", N=N, dtype=dtype,
                bytes_per_synapse=round(conn_bytes / max(n_syn, 1), 2),
                bytes_per_synapse_static=round((c.target.nbytes + c.weight.nbytes
                                                + c.syn_delay.nbytes) / max(n_syn, 1), 2),
                synapses=int(sum(p.n_synapses for p in net.projections)),
                build_s=round(build_s, 4), compile_s=round(compile_s, 4),
                sim_s=round(sim_s, 4), spikes=spikes,
                rate_hz=round(spikes / (N * duration), 3),
                events_per_s=round(events / sim_s, 1) if sim_s > 0 else None,
                monitor=monitor, threads=threads,
                process_s=round(time.perf_counter() - T_PROCESS, 3),
                peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--N", type=int, default=4000, help="number of neurons (in-degree 80)")
    ap.add_argument("--indegree", type=int, default=80)
    ap.add_argument("--duration", type=float, default=1.0, help="simulated time (s)")
    ap.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--monitor", action="store_true", help="record all spikes")
    ap.add_argument("--threads", type=int, default=1, help="parallel mode with this many threads")
    args = ap.parse_args(argv)
    print(json.dumps(run(args.N, args.duration, args.dtype, args.seed, args.monitor,
                         args.indegree, args.threads)))


if __name__ == "__main__":
    main()
