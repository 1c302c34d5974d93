"""NIR import: agreement with the NIR paper's platform traces, and time to a first result.

    python benchmarks/nir_import.py [--rounds 5] [--out benchmarks]

1. Agreement: the NIR paper's single-LIF graph (lif_norse.nir, dt = 1e-4 s, the paper's
   input pulses) read with ``ns.nir.read`` and each option set that models a platform,
   against that platform's trace (tests/data/nir/reference/lif/*.csv): spike steps equal or
   not, max |v - v_platform| (snnTorch's mem is v x 25 = v / (r dt / tau)).
2. Time to a first result, each in a fresh process with Numba's cache warm (one untimed
   process first): ``import neurosim`` + ``import neurosim.nir``, ``ns.nir.read`` (parse,
   lower, build), and the first 100-step run, for the single LIF and the Sinabs N-MNIST CNN
   (cnn_sinabs.nir, 2x34x34 input at 5 % density); medians over --rounds processes.
3. Throughput of the CNN: steps per second over 1,000 steps (5 % input density).

Prints JSON and writes nir_results.json and nir_results.md to --out.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
REF = os.path.join(ROOT, "tests", "data", "nir", "reference")
GRAPHS = os.path.join(REF, "graphs")

PLATFORMS = {                 # platform -> (read options, v scale of its CSV)
    "norse": (dict(), 1.0),
    "snntorch": (dict(), 25.0),
    "exact": (dict(method="exact"), 1.0),
}

CHILD = r"""
import time, sys, json
t0 = time.perf_counter()
import numpy as np
import neurosim as ns
import neurosim.nir
t1 = time.perf_counter()
m = ns.nir.read(sys.argv[1], dt=1e-3)
t2 = time.perf_counter()
shape = next(iter(m.inputs.values())).shape
x = (np.random.default_rng(0).random((100,) + shape) < 0.05).astype(float)
out = m.run(x)
t3 = time.perf_counter()
print(json.dumps(dict(import_s=t1 - t0, read_s=t2 - t1, first_run_s=t3 - t2, total_s=t3 - t0)))
"""


def trace(name):
    d = np.loadtxt(os.path.join(REF, "lif", f"lif_{name}.csv"), delimiter=",")
    return d[:, 0], d[:, 1], d[:, 2]


def agreement():
    import neurosim as ns
    import neurosim.nir  # noqa: F401
    rows = {}
    x, _, _ = trace("norse")
    for name, (opts, scale) in PLATFORMS.items():
        for dtype in ("float64", "float32"):
            m = ns.nir.read(os.path.join(GRAPHS, "lif_norse.nir"), dt=1e-4, dtype=dtype, **opts)
            out = m.run(x[:, None], record=[("1", "v")])
            _, v, s = trace(name)
            rows[f"{name} {dtype}"] = dict(
                options=opts or "defaults (euler, zero, same)", dtype=dtype,
                spikes=np.nonzero(out["output"][:, 0])[0].tolist(),
                platform_spikes=np.nonzero(s)[0].tolist(),
                spikes_equal=bool(np.array_equal(out["output"][:, 0] != 0, s != 0)),
                max_abs_v=float(np.abs(out["1", "v"][:, 0] - v / scale).max()))
    return rows


def first_result(rounds):
    out = {}
    for graph in ("lif_norse.nir", "cnn_sinabs.nir"):
        path = os.path.join(GRAPHS, graph)
        subprocess.run([sys.executable, "-c", CHILD, path], check=True, capture_output=True)
        runs = [json.loads(subprocess.run([sys.executable, "-c", CHILD, path], check=True,
                                          capture_output=True, text=True).stdout)
                for _ in range(rounds)]
        out[graph] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    return out


def throughput(steps=1000):
    import neurosim as ns
    import neurosim.nir  # noqa: F401
    m = ns.nir.read(os.path.join(GRAPHS, "cnn_sinabs.nir"), dt=1e-3)
    x = (np.random.default_rng(1).random((steps, 2, 34, 34)) < 0.05).astype(float)
    m.run(x[:10])
    t0 = time.perf_counter()
    m.run(x)
    dt = time.perf_counter() - t0
    c = m.counts()
    return dict(steps=steps, seconds=dt, steps_per_s=steps / dt,
                synapses=sum(q.n_synapses for q in m.net.projections),
                synaptic_events=c.synaptic_events, ns_per_event=1e9 * dt / c.synaptic_events,
                neurons=sum(p.n for p in m.net.populations))


def markdown(res):
    lines = ["# NIR import: agreement and time to a first result", "",
             f"Machine: {res['machine']}; measured {res['date']} with "
             "`python benchmarks/nir_import.py`.", "",
             "## Single LIF (lif_norse.nir, dt = 1e-4 s) against the NIR paper's traces", "",
             "| platform | dtype | read options | spikes equal | max abs v error (V) |",
             "|---|---|---|---|---|"]
    for k, r in res["agreement"].items():
        lines.append(f"| {k.split()[0]} | {r['dtype']} | {r['options']} | "
                     f"{'yes' if r['spikes_equal'] else 'NO'} | {r['max_abs_v']:.2e} |")
    lines += ["", "Spike steps (neurosim): " + str(res["agreement"]["norse float64"]["spikes"]),
              "", "## Time to a first result (fresh process, warm Numba cache; medians)", "",
              "| graph | import s | read + build s | first 100 steps s | total s |",
              "|---|---|---|---|---|"]
    for g, r in res["first_result"].items():
        lines.append(f"| {g} | {r['import_s']:.2f} | {r['read_s']:.3f} | "
                     f"{r['first_run_s']:.3f} | {r['total_s']:.2f} |")
    t = res["throughput"]
    lines += ["", "## Sinabs CNN throughput", "",
              f"{t['neurons']:,} neurons, {t['synapses']:,} synapses: {t['steps']} steps in "
              f"{t['seconds']:.2f} s ({t['steps_per_s']:.0f} steps/s, "
              f"{t['ns_per_event']:.1f} ns per synaptic event, {t['synaptic_events']:,} events)."]
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--out", default=HERE)
    args = ap.parse_args(argv)
    res = dict(machine=f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
               f"Python {platform.python_version()}",
               date=time.strftime("%Y-%m-%d"), agreement=agreement(),
               first_result=first_result(args.rounds), throughput=throughput())
    print(json.dumps(res, indent=1))
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "nir_results.json"), "w") as f:
        json.dump(res, f, indent=1)
    with open(os.path.join(args.out, "nir_results.md"), "w") as f:
        f.write(markdown(res))


if __name__ == "__main__":
    main()
