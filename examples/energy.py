"""Energy of an SNN against a dense ANN: digits, ANN-to-SNN conversion, hardware profiles.

    python examples/energy.py [--out out/energy] [--steps 10 25 50] [--samples 360]

Trains a 64-64-10 MLP on scikit-learn's digits (plain numpy), converts it to a spiking
network, simulates the test images, and writes to --out:

- report.md: accuracy per timestep budget, energy per inference of the SNN on every
  profile and of the ANN on cpu/gpu/arm/45 nm, with the assumptions of each estimate;
- energy.png (bars), accuracy.png (accuracy vs timesteps), raster.png (one inference).
"""

import argparse
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import neurosim as ns  # noqa: E402
import neurosim.plot  # noqa: E402,F401

SNN_HW = "loihi,loihi2,spinnaker2,truenorth,crossbar_rram,digital45"
ANN_HW = ("cpu", "gpu", "arm", "digital45")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="out/energy")
    ap.add_argument("--steps", type=int, nargs="+", default=[10, 25, 50])
    ap.add_argument("--samples", type=int, default=360, help="test images simulated")
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)

    data = ns.convert.load_digits()
    ann = ns.convert.train_mlp(data.x_train, data.y_train, hidden=(64,))
    x, y = data.x_test[:args.samples], data.y_test[:args.samples]
    acc_ann = ann.accuracy(x, y)
    snn = ns.convert.convert(ann, data.x_train)
    res = snn.evaluate(x, y, steps=args.steps)
    budget = next((b for b in sorted(res.accuracy) if res.accuracy[b] >= acc_ann - 0.01),
                  max(res.accuracy))

    cmp_ = ns.energy.estimate(res.counts_at[budget], SNN_HW)
    anns = {hw: ns.energy.dense_ann(ann.sizes, hw) for hw in ANN_HW}
    lines = ["# Energy per inference: converted SNN vs dense ANN (digits)", "",
             f"ANN {'-'.join(map(str, ann.sizes))}: accuracy {acc_ann:.3f} on {len(x)} test "
             "images. SNN accuracy by timestep budget: "
             + ", ".join(f"{b} steps {a:.3f}" for b, a in res.accuracy.items()) + ".", "",
             f"## SNN at {budget} steps (the first budget within 1 point of the ANN)", "",
             cmp_.to_markdown(), "", "## Dense ANN (one pass)", "",
             "| hardware | energy per inference |", "|---|---|"]
    lines += [f"| {r.name} | {ns.energy.fmt_energy(r.per_inference)} |" for r in anns.values()]
    lines += ["", "## Assumptions", ""]
    for r in cmp_.reports + list(anns.values()):
        lines += [f"### {r.name}", ""] + [f"- {a}" for a in r.assumptions] + [""]
    with open(os.path.join(args.out, "report.md"), "w") as f:
        f.write("\n".join(lines) + "\n")

    vals = {f"ANN {k}": r.per_inference for k, r in anns.items()}
    vals.update({f"SNN {r.hardware}": r.per_inference for r in cmp_.reports})
    vals.update({f"SNN {k}": None for k in cmp_.unavailable})
    fig, ax = plt.subplots(figsize=(8, 5))
    ns.plot.energy_bars(vals, ax=ax, title=f"energy per inference (SNN at {budget} steps)",
                        colors=["tab:gray" if k.startswith("ANN") else "tab:blue"
                                for k in vals])
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "energy.png"), dpi=110)

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(list(res.accuracy), list(res.accuracy.values()), "o-", label="SNN")
    ax.axhline(acc_ann, color="k", ls="--", label="ANN")
    ax.set_xlabel("timesteps per inference")
    ax.set_ylabel("test accuracy")
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "accuracy.png"), dpi=110)

    net, mons, _ = snn.network(x[0])
    net.run(budget * snn.dt, progress=False)
    fig, _ = ns.plot.classifier_raster(mons, label=y[0],
                                       title=f"one inference, {budget} steps")
    fig.savefig(os.path.join(args.out, "raster.png"), dpi=110)
    print(f"ANN {acc_ann:.3f}; SNN {res.accuracy}; report: {args.out}/report.md")


if __name__ == "__main__":
    main()
