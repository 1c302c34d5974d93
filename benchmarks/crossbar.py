"""Crossbar synapses: cost against ideal synapses, and the IR-drop solvers' time per read.

    python benchmarks/crossbar.py [--quick] [--repeats 5] [--out benchmarks]

1. A dense layer (Poisson inputs -> LIF, all-to-all; 256 or 1024 wide, 20 or 100 Hz) simulated with ideal synapses and with
   crossbar synapses (ideal arrays; read noise + 8-bit ADC; + IR drop), same spikes in, same
   process. Reported: median simulation time and the ratio to ideal synapses (goal: < 3x
   with noise and ADC on, IR drop off).
2. IR drop of one array (random conductances 1-40 uS, 1 or 0.1 ohm per cell, rows driven by
   spikes at rate 0.2 and by analog inputs): time per read of the iterative solver (compiled
   sweeps) and of the exact nodal solve (SuperLU), their agreement, and the drop.

Writes crossbar_results.json and crossbar_results.md (the table) to --out.
"""

import argparse
import json
import os
import platform
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import neurosim as ns  # noqa: E402
from neurosim.crossbar import Crossbar, solve_exact, solve_iterative  # noqa: E402


def _layer(n_in, n_out, rate, synapse, T, seed=1):
    net = ns.Network(dt=1e-4, seed=seed)
    src = net.poisson(n_in, rate)
    out = net.lif(n_out, 20e-3, 5e-3, -60e-3, -50e-3, -60e-3, t_ref=2e-3)
    W = np.random.default_rng(0).uniform(0, 2 * 10e-3 / (n_in * rate * 5e-3), (n_in, n_out))
    net.connect(src, out, W, synapse=synapse)
    mon = net.spike_monitor(out)
    t0 = time.perf_counter()
    net.build()
    build = time.perf_counter() - t0
    net.run(1e-3, progress=False)                 # compile / cache load outside the timing
    t0 = time.perf_counter()
    net.run(T, progress=False)
    return build, time.perf_counter() - t0, mon.num_spikes


VARIANTS = {
    "ideal synapses": lambda: None,
    "crossbar, ideal arrays": lambda: Crossbar.ideal(),
    "crossbar, read noise + 8-bit ADC": lambda: Crossbar(adc_bits=8),
    "crossbar, noise + ADC + IR drop (1 ohm)": lambda: Crossbar(adc_bits=8, r_wire=1.0),
}


def network_rows(cases, T, repeats):
    rows = []
    for n, rate in cases:
        times = {k: [] for k in VARIANTS}
        spikes = {}
        for _ in range(repeats):
            for key, make in VARIANTS.items():
                if "IR" in key and n > 512:
                    continue
                _, sim, sp = _layer(n, n, rate, make(), T)
                times[key].append(sim)
                spikes[key] = sp
        base = float(np.median(times["ideal synapses"]))
        for key, ts in times.items():
            if not ts:
                continue
            med = float(np.median(ts))
            rows.append(dict(n_in=n, n_out=n, rate_hz=rate, duration_s=T, variant=key,
                             sim_s=med, ratio_to_ideal=med / base, output_spikes=spikes[key],
                             input_spikes_per_step=n * rate * 1e-4))
    return rows


def ir_rows(cases, repeats):
    rows = []
    rng = np.random.default_rng(0)
    for m, r in cases:
        g = rng.uniform(1e-6, 40e-6, (m, m))
        for kind in ("spikes, rate 0.2", "analog"):
            v = (0.1 * (rng.random(m) < 0.2) if kind.startswith("spikes")
                 else 0.1 * rng.random(m))
            solve_iterative(g, v, r, r, warn=1.0)     # compile
            t_it, t_ex = [], []
            for _ in range(repeats):
                t0 = time.perf_counter()
                cur, info = solve_iterative(g, v, r, r, warn=1.0)
                t_it.append(time.perf_counter() - t0)
            for _ in range(max(1, repeats // 2) if m <= 256 else 1):
                t0 = time.perf_counter()
                ref = solve_exact(g, v, r, r)
                t_ex.append(time.perf_counter() - t0)
            rows.append(dict(array=f"{m}x{m}", r_ohm=r, inputs=kind, iterative_ms=1e3 * np.median(t_it),
                             sweeps=info["sweeps"], exact_ms=1e3 * np.median(t_ex),
                             max_rel_error=float(np.max(np.abs(cur - ref) / np.abs(ref))),
                             drop=info["drop"]))
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes, fewer repeats")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
    args = ap.parse_args(argv)
    reps = 2 if args.quick else args.repeats
    cases = ((256, 20.0),) if args.quick else ((256, 20.0), (1024, 20.0), (1024, 100.0))
    net = network_rows(cases, T=0.2 if args.quick else 1.0, repeats=reps)
    ir = ir_rows(((128, 1.0),) if args.quick else ((128, 1.0), (512, 0.1), (512, 1.0)), reps)
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, " \
              f"Python {platform.python_version()}"
    result = dict(machine=machine, command="python benchmarks/crossbar.py"
                  + (" --quick" if args.quick else ""), network=net, ir_drop=ir)
    print(json.dumps(result, indent=1))
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "crossbar_results.json"), "w") as f:
        json.dump(result, f, indent=1)
    lines = ["# Crossbar synapses: cost and IR-drop solver", "",
             f"Measured with `{result['command']}` on {machine}; medians of {reps} runs.", "",
             "## Dense layer, Poisson inputs -> LIF, all-to-all (1 thread, dt 0.1 ms)", "",
             "| n_in x n_out | input rate | input spikes per step | variant | simulation s "
             "| ratio to ideal synapses | output spikes |", "|---|---|---|---|---|---|---|"]
    lines += [f"| {r['n_in']} x {r['n_out']} | {r['rate_hz']:g} Hz | "
              f"{r['input_spikes_per_step']:.2g} | {r['variant']} | {r['sim_s']:.3f} | "
              f"{r['ratio_to_ideal']:.2f} | {r['output_spikes']} |" for r in net]
    lines += ["", "## IR drop, one array, G uniform in 1-40 uS", "",
              "| array | ohm per cell | inputs | iterative ms/read | sweeps | exact ms/read "
              "| max rel. error | drop |", "|---|---|---|---|---|---|---|---|"]
    lines += [f"| {r['array']} | {r['r_ohm']:g} | {r['inputs']} | {r['iterative_ms']:.2f} | "
              f"{r['sweeps']} | "
              f"{r['exact_ms']:.1f} | {r['max_rel_error']:.1e} | {100 * r['drop']:.1f}% |"
              for r in ir]
    with open(os.path.join(args.out, "crossbar_results.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    return result


if __name__ == "__main__":
    main()
