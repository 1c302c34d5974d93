"""Sparse activity: does the event-driven path cost follow the number of events?

    python benchmarks/sparse.py [--N 100000] [--duration 1.0]

N LIF neurons far below threshold (firing about 0.1 Hz) driven by 1000 Poisson sources at
several rates, each source projecting to 100 random neurons. For each input rate the script
measures the simulation time and subtracts the time of the same network with silent inputs
(the clock-driven neuron update, N x steps, which every rate pays); the remainder is the
event-driven path (source spikes, delivery, ring buffer) and is compared with the number of
synaptic events. Prints one JSON line per rate and a summary line with the cost per event.
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numpy as np  # noqa: E402

import neurosim as ns  # noqa: E402
from neurosim.units import Hz, mV, ms  # noqa: E402


def one(N, rate, duration, seed=1):
    net = ns.Network(seed=seed)
    src = net.poisson(n=1000, rate=rate)
    pop = net.lif(n=N, tau_m=20 * ms, tau_syn=5 * ms, v_rest=-65 * mV, v_th=-50 * mV,
                  v_reset=-65 * mV, t_ref=2 * ms)
    rng = np.random.default_rng(seed)
    import scipy.sparse as sp
    rows = np.repeat(np.arange(1000), 100)
    cols = rng.integers(0, N, rows.size)
    w = sp.csr_matrix((rng.uniform(1.0, 9.0, rows.size) * mV, (rows, cols)), shape=(1000, N))
    net.connect(src, pop, weight=w, delay=1 * ms)
    net.run(1 * ms, progress=False)
    s0 = net.spike_counts(pop).sum()
    e0 = net.synaptic_events()
    t0 = time.perf_counter()
    net.run(duration, progress=False)
    sim_s = time.perf_counter() - t0
    return dict(N=N, input_rate_hz=rate, sim_s=round(sim_s, 4),
                events=int(net.synaptic_events() - e0),
                rate_hz=round(float(net.spike_counts(pop).sum() - s0) / (N * duration), 4))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--N", type=int, default=100_000)
    ap.add_argument("--duration", type=float, default=1.0)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    rows = []
    for rate in (0.0, 1.0, 10.0, 50.0, 200.0):
        reps = [one(args.N, rate * Hz, args.duration) for _ in range(args.repeat)]
        row = dict(reps[0], sim_s=float(np.median([r["sim_s"] for r in reps])))
        rows.append(row)
        print(json.dumps(row), flush=True)
    base = rows[0]["sim_s"]
    per_event = [(r["sim_s"] - base) / r["events"] * 1e9 for r in rows[1:] if r["events"]]
    print(json.dumps(dict(summary=True, clock_driven_update_s=base,
                          ns_per_neuron_step=round(base / (args.N * args.duration / 1e-4) * 1e9, 3),
                          event_path_ns_per_event=[round(x, 2) for x in per_event])))


if __name__ == "__main__":
    main()
