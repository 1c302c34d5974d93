"""Cost of the energy counters on CUBA (same process, same network, medians of repeats).

    python benchmarks/counting_overhead.py [--N 4000 16000] [--repeats 5]

Variants, each a fresh run of 1 s from t = 0 of the same built network:

- ``off``: the kernel's per-population active-step counter disabled (a record without
  population bounds); per-node spike counts stay (they existed before the counters);
- ``on``: the default (``net.counts()`` exact after any run);
- ``bins_10ms`` / ``bins_1ms``: plus a count monitor with 10 ms / 1 ms bins (a snapshot of
  every counter at each bin boundary).

Prints JSON and writes benchmarks/counting_results.md/.json.
"""

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))

import neurosim as ns  # noqa: E402
from neurosim.nets import cuba  # noqa: E402
from neurosim.units import ms  # noqa: E402


def _time_run(net, variant, duration):
    net.reset()
    net.count_monitors.clear()
    if variant.startswith("bins_"):
        net.count_monitor(float(variant[5:-2]) * ms)
    net.run(0.0, progress=False)  # builds the record
    if variant == "off":
        empty = np.zeros(0, np.int64)
        net._record = net._record._replace(pop_bounds=empty)
    t0 = time.perf_counter()
    net.run(duration, progress=False)
    return time.perf_counter() - t0, net.counts().synaptic_events


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--N", type=int, nargs="+", default=[4000, 16000])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--duration", type=float, default=1.0)
    args = ap.parse_args(argv)
    variants = ["off", "on", "bins_10ms", "bins_1ms"]
    rows = []
    for n in args.N:
        net = ns.Network(dt=0.1 * ms, seed=1)
        cuba(net, N=n)
        net.run(net.dt, progress=False)       # compile
        times = {v: [] for v in variants}
        rng = np.random.default_rng(0)
        for _ in range(args.repeats):         # interleaved in random order: drifts hit all
            for v in rng.permutation(variants):
                t, _ = _time_run(net, v, args.duration)
                times[v].append(t)
        med = {v: statistics.median(ts) for v, ts in times.items()}
        # overhead: median over repeats of the paired ratio variant / off (same repeat)
        pair = {v: statistics.median(a / b for a, b in zip(times[v], times["off"]))
                for v in variants[1:]}
        row = dict(N=n, duration_s=args.duration, repeats=args.repeats,
                   **{f"{v}_s": round(med[v], 4) for v in variants},
                   **{f"{v}_overhead_pct": round(100 * (pair[v] - 1), 2)
                      for v in variants[1:]})
        print(json.dumps(row), flush=True)
        rows.append(row)
    lines = ["# Counting overhead (CUBA, 1 s of simulated time, median of "
             f"{args.repeats} interleaved runs)", "",
             "Command: `python benchmarks/counting_overhead.py --N "
             + " ".join(map(str, args.N)) + f" --repeats {args.repeats}`. `off` disables the "
             "per-population active-step counter; `on` is the default; `bins_*` add a count "
             "monitor. Overheads are medians of the paired ratios to `off` within each repeat "
             "(variants interleaved in random order); run-to-run noise on this 2-core machine "
             "is several %, so single-digit figures of either sign are within noise.",
             "", "| N | off s | on s | bins 10 ms s | bins 1 ms s | on % | bins 10 ms % | "
             "bins 1 ms % |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['N']} | {r['off_s']} | {r['on_s']} | {r['bins_10ms_s']} | "
                     f"{r['bins_1ms_s']} | {r['on_overhead_pct']} | "
                     f"{r['bins_10ms_overhead_pct']} | {r['bins_1ms_overhead_pct']} |")
    with open(os.path.join(HERE, "counting_results.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(HERE, "counting_results.json"), "w") as f:
        json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
