"""neurosim's fixed-point engine against Lava's CPU simulator (Loihi2SimCfg, fixed_pt).

Same networks, same results (spikes compared step by step), time per step:

* ``dense``: a 1000-neuron source (RingBuffer) -> 1000x1000 Dense -> 1000 LIF, 1000 steps;
* ``chain``: source -> 4 x (Dense 256x256 -> 256 LIF), 1000 steps.

neurosim's time is the median of ``--repeat`` runs of a fresh network (the first, which
compiles or loads Numba's cache, is reported separately); Lava's is one run (its build,
start-up, run and read-back reported apart: the first 10 steps run as a separate call in
which Lava compiles and starts its processes, and Lava's time per step is taken over the
remaining steps). "End to end" is Lava's build + start-up + run + read-back over
neurosim's build + run of all steps. Needs Python 3.10 + numpy<2 with lava-nc (the .venv of
``make test``). Prints JSON and writes benchmarks/loihi_results.{md,json}.

    python benchmarks/loihi_vs_lava.py [--steps 1000] [--repeat 5] [--out benchmarks]
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import neurosim as ns  # noqa: E402
from neurosim.export import run_in_lava  # noqa: E402


def _input(seed, steps, n, rate):
    """A network with a source of n Bernoulli(rate) spike trains, its generator."""
    rng = np.random.default_rng(seed)
    net = ns.Network(dt=1e-3, seed=seed)
    t, i = np.nonzero(rng.random((steps, n)) < rate)
    return net, net.spike_source(n, times=t * 1e-3, indices=i, name="input"), rng


def dense_net(steps, n_in=1000, n=1000, rate=0.05, seed=0):
    net, src, rng = _input(seed, steps, n_in, rate)
    lif = net.loihi_lif(n, du=400, dv=200, vth=1200, name="layer")
    net.connect(src, lif, weight=rng.integers(-40, 41, (n_in, n)), weight_exp=-1)
    return net, [lif]


def chain_net(steps, n=256, layers=4, rate=0.1, seed=1):
    net, pre, rng = _input(seed, steps, n, rate)
    lifs = []
    for k in range(layers):
        lif = net.loihi_lif(n, du=800, dv=300, vth=300, name=f"layer{k}")
        net.connect(pre, lif, weight=rng.integers(-20, 21, (n, n)))
        lifs.append(lif)
        pre = lif
    return net, lifs


NETS = {"dense": dense_net, "chain": chain_net}
WARMUP = 10


def run_neurosim(make, steps):
    t0 = time.perf_counter()
    net, lifs = make(steps)
    mons = [net.spike_monitor(p) for p in lifs]
    net.build()
    t1 = time.perf_counter()
    net.run(steps * net.dt, progress=False)
    t2 = time.perf_counter()
    spikes = {}
    for m in mons:
        s = np.zeros((steps, m.pop.n), np.int8)
        s[m.steps, m.indices] = 1
        spikes[m.pop.name] = s
    return net, spikes, t1 - t0, t2 - t1


def bench(name, steps, repeat):
    make = NETS[name]
    _, _, _, first = run_neurosim(make, steps)                  # compile or cache load
    runs = [run_neurosim(make, steps) for _ in range(repeat)]
    net, ours = runs[0][0], runs[0][1]
    sim_s = statistics.median(r[3] for r in runs)
    build_s = statistics.median(r[2] for r in runs)
    lava = run_in_lava(net.copy(), steps, warmup=WARMUP)
    identical = all(np.array_equal(ours[k], lava.spikes[k]) for k in ours)
    n_spikes = int(sum(s.sum() for s in ours.values()))
    n_procs = len(net.populations) + len(net.projections) + len(ours)
    return dict(
        network=name, steps=steps, lava_processes=n_procs, spikes=n_spikes,
        identical_spikes=bool(identical),
        neurosim_build_s=build_s, neurosim_first_run_s=first, neurosim_sim_s=sim_s,
        neurosim_us_per_step=sim_s / steps * 1e6,
        lava_build_s=lava.timings["build_s"], lava_startup_s=lava.timings["startup_s"],
        lava_run_s=lava.timings["run_s"], lava_readback_s=lava.timings["readback_s"],
        lava_us_per_step=lava.timings["run_s"] / (steps - WARMUP) * 1e6,
        speedup_run=lava.timings["run_s"] / (steps - WARMUP) / (sim_s / steps),
        speedup_total=sum(lava.timings.values()) / (build_s + sim_s),
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--nets", default="dense,chain")
    ap.add_argument("--out", default=HERE)
    args = ap.parse_args()
    rows = [bench(n, args.steps, args.repeat) for n in args.nets.split(",")]
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, " \
              f"Python {platform.python_version()}, numpy {np.__version__}"
    print(json.dumps(rows, indent=1))
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "loihi_results.json"), "w") as f:
        json.dump({"machine": machine, "rows": rows}, f, indent=1)
    lines = [f"Measured on: {machine}.", "",
             "| network | steps | spikes | identical | neurosim us/step | Lava us/step | "
             "speed-up per step | Lava build + start-up s | Lava read-back s | "
             "speed-up (end to end) |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(
            f"| {r['network']} | {r['steps']} | {r['spikes']} | {r['identical_spikes']} | "
            f"{r['neurosim_us_per_step']:.1f} | {r['lava_us_per_step']:.0f} | "
            f"{r['speedup_run']:.0f}x | {r['lava_build_s'] + r['lava_startup_s']:.2f} | "
            f"{r['lava_readback_s']:.2f} | "
            f"{r['speedup_total']:.0f}x |")
    with open(os.path.join(args.out, "loihi_results.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
