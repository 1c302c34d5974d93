"""From a float network to Loihi: quantize, compare, map onto cores, check against Lava, bundle.

    python examples/loihi.py [--out out/loihi] [--no-lava]

1. a float LIF network (Poisson input -> 200 LIF -> 50 LIF, one synaptic time constant);
2. ``ns.loihi.quantize``: the fixed-point network and the report (rounding errors, spike
   agreement between the float and fixed-point runs);
3. ``ns.loihi.map_to_cores``: neurocores and chips on Loihi 2;
4. the fixed-point network's input recorded as a spike source (Lava has no Poisson
   source), run in neurosim and in Lava's CPU simulator: identical spikes;
5. ``write_loihi_bundle``: the folder to take to Intel's Neuromorphic Research Cloud.

Writes report.md, raster.png and the bundle under --out.
"""

import argparse
import os
import sys

import matplotlib
import numpy as np

matplotlib.use("Agg")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import neurosim as ns  # noqa: E402
from neurosim.units import mV, ms  # noqa: E402

STEPS = 500


def float_network(seed=1):
    rng = np.random.default_rng(seed)
    net = ns.Network(dt=1 * ms, seed=seed)
    inp = net.poisson(100, rate=rng.uniform(5, 40, 100), name="input")
    hid = net.lif(200, tau_m=20 * ms, tau_syn=5 * ms, v_rest=-65 * mV, v_th=-50 * mV,
                  v_reset=-65 * mV, bias=rng.uniform(0, 12, 200) * mV, name="hidden")
    out = net.lif(50, tau_m=10 * ms, tau_syn=5 * ms, v_rest=-65 * mV, v_th=-52 * mV,
                  v_reset=-65 * mV, name="output")
    net.connect(inp, hid, weight=rng.normal(1.0, 2.0, (100, 200)) * mV,
                delay=rng.integers(0, 5, (100, 200)) * ms)
    net.connect(hid, out, weight=rng.normal(1.5, 2.5, (200, 50)) * mV)
    net.connect(out, hid, weight=-1.5 * mV, p=0.2)
    return net


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="out/loihi")
    ap.add_argument("--no-lava", action="store_true", help="skip the run in Lava")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    net = float_network()
    q = ns.loihi.quantize(net, duration=STEPS * net.dt)
    mapping = ns.loihi.map_to_cores(q.net, "loihi2")
    fixed = ns.loihi.freeze_inputs(q.net, STEPS)
    mons = {p.name: fixed.spike_monitor(p) for p in fixed.populations
            if p.kind == "loihi_lif"}
    fixed.state_monitor(fixed.population("output"), "v", indices=range(5))
    lines = ["# From float to Loihi", "", "## Quantization", "", q.report.to_markdown(), "",
             "## Neurocores (Loihi 2)", "", mapping.to_markdown(), ""]
    if not args.no_lava:
        from neurosim.export import compare_with_lava
        cmp_ = compare_with_lava(fixed, STEPS)
        lines += ["## neurosim vs Lava (Loihi2SimCfg, fixed_pt)", ""]
        for name, c in cmp_["populations"].items():
            lines.append(f"- {name}: {c['neurosim_spikes']} spikes in {STEPS} steps, "
                         f"{'identical to' if c['identical'] else 'DIFFERENT from'} Lava's")
        lines.append("")
    fixed.run(STEPS * fixed.dt, progress=False)
    from neurosim.export import write_loihi_bundle
    bundle = write_loihi_bundle(fixed, os.path.join(args.out, "bundle"), STEPS, overwrite=True)
    lines += [f"Bundle for the Intel Neuromorphic Research Cloud: `{bundle}` "
              "(see its README.md)."]
    with open(os.path.join(args.out, "report.md"), "w") as f:
        f.write("\n".join(lines) + "\n")

    import matplotlib.pyplot as plt
    from neurosim.plot import raster
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    ref = net.copy()
    fm = ref.spike_monitor(ref.population("hidden"))
    ref.run(STEPS * ref.dt, progress=False)
    raster(fm, ax=axes[0], title="float (hidden)")
    raster(mons["hidden"], ax=axes[1], title="Loihi fixed point (hidden)")
    axes[1].set_ylabel("")
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "raster.png"), dpi=120)
    print("\n".join(lines))
    print("wrote", args.out)


if __name__ == "__main__":
    main()
