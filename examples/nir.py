"""NIR: import a trained network, run it, put it on crossbars, estimate energy, export to Lava.

    python examples/nir.py [--out out/nir] [--samples 200] [--steps 25]

1. A trained graph: a 64-64-10 MLP trained on scikit-learn's digits and converted to
   integrate-and-fire layers (ns.convert), written as the NIR graph a training framework
   exports for it (Input -> Affine -> IF -> Affine -> IF -> Output; pixel values fed as an
   input current each step): ``mlp.nir``. Any NIR file reads the same way, e.g. the NIR
   paper's Sinabs N-MNIST CNN (tests/data/nir/reference/graphs/cnn_sinabs.nir), which is run
   on random events below (it ships without data).
2. ``ns.nir.read(path, dt, reset="subtract")``, then the test images: accuracy of the
   spiking network against the ANN's.
3. The same network with every projection on memristor crossbars (ideal, and the default
   RRAM device with programming noise): accuracy.
4. Energy per inference from the run's counts on the hardware profiles (energy.png).
5. Loihi: the NIR paper's single-LIF graph in Loihi fixed point (``ns.nir.to_loihi``), against
   the paper's Lava trace, exported as a Lava process graph / INRC bundle and run in Lava
   (the Lava run needs the ``loihi`` extra: Python 3.10, numpy < 2).

Writes to --out: mlp.nir, report.md, accuracy.png, energy.png, raster.png, loihi_bundle/.
"""

import argparse
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
# this file is called nir.py: keep its folder off the path so that `import nir` finds the
# nir package, not this script
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != HERE]
sys.path.insert(0, os.path.join(HERE, ".."))

import neurosim as ns  # noqa: E402
import neurosim.export  # noqa: E402,F401
import neurosim.nir  # noqa: E402,F401
from neurosim.crossbar import Crossbar  # noqa: E402

GRAPHS = os.path.normpath(os.path.join(HERE, "..", "tests", "data", "nir", "reference", "graphs"))
HW = "loihi,spinnaker2,truenorth,crossbar_rram,cpu"


def trained_graph(path):
    """Train the MLP, convert it, write it as a NIR graph; returns (graph, data, ann acc)."""
    import nir
    data = ns.convert.load_digits()
    ann = ns.convert.train_mlp(data.x_train, data.y_train, hidden=(64,))
    snn = ns.convert.convert(ann, data.x_train, reset="subtract")
    nodes = {"input": nir.Input(input_type={"input": np.array([64])})}
    edges, prev = [], "input"
    for i, (w, b) in enumerate(zip(snn.weights, snn.biases)):
        n = w.shape[1]
        nodes[f"fc{i}"] = nir.Affine(weight=w.T.astype(np.float32), bias=b.astype(np.float32))
        nodes[f"if{i}"] = nir.IF(r=np.ones(n, np.float32), v_threshold=np.ones(n, np.float32),
                                 v_reset=np.zeros(n, np.float32))
        edges += [(prev, f"fc{i}"), (f"fc{i}", f"if{i}")]
        prev = f"if{i}"
    nodes["output"] = nir.Output(output_type={"output": np.array([10])})
    edges.append((prev, "output"))
    graph = nir.NIRGraph(nodes=nodes, edges=edges)
    nir.write(path, graph)
    return data, ann.accuracy(data.x_test, data.y_test)


def evaluate(model, x, y, steps, crossbars=None):
    """Accuracy after each budget in 1..steps (argmax of output spike counts, first index on
    ties) and the counts of all samples."""
    correct = np.zeros(steps)
    counts = None
    for xi, yi in zip(x, y):
        out = model.run(np.repeat(xi[None, :], steps, axis=0), crossbars=crossbars)["output"]
        cum = np.cumsum(out, axis=0)
        correct += np.argmax(cum, axis=1) == yi
        c = model.counts()
        counts = c if counts is None else counts + c
    return correct / len(x), counts


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="out/nir")
    ap.add_argument("--samples", type=int, default=200, help="test images simulated")
    ap.add_argument("--steps", type=int, default=25, help="timesteps per inference")
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    report = ["# NIR example", ""]

    # 1-2. a trained graph, imported and run
    path = os.path.join(args.out, "mlp.nir")
    data, acc_ann = trained_graph(path)
    model = ns.nir.read(path, dt=1e-3, reset="subtract")
    x, y = data.x_test[:args.samples], data.y_test[:args.samples]
    acc, counts = evaluate(model, x, y, args.steps)
    report += [f"Imported {path}: {model}", "",
               f"ANN test accuracy {acc_ann:.3f}; spiking network after {args.steps} steps "
               f"{acc[-1]:.3f} ({len(x)} test images).", ""]
    print(report[-3], report[-1], sep="\n")

    # 3. crossbars
    ideal = model.program(Crossbar.ideal())
    acc_ideal, _ = evaluate(model, x, y, args.steps, ideal)
    noisy = model.program(Crossbar(seed=1))
    acc_noisy, counts_xbar = evaluate(model, x, y, args.steps, noisy)
    report += [f"On crossbars: ideal devices {acc_ideal[-1]:.3f}, default RRAM "
               f"(programming noise, 1T1R HfOx) {acc_noisy[-1]:.3f}.", ""]
    print(report[-2])

    # 4. energy per inference
    cmp = ns.energy.compare(counts, HW, inferences=len(x))
    xb = ns.energy.estimate(counts_xbar, "crossbar_rram", inferences=len(x))
    report += ["## Energy per inference (float run's counts; crossbar: the arrays' own "
               "counters)", "", cmp.to_markdown(), "",
               f"Crossbar run, measured counters: {ns.energy.fmt_energy(xb.per_inference)} "
               "per inference.", ""]
    ax = cmp.plot()
    ax.figure.savefig(os.path.join(args.out, "energy.png"), dpi=120, bbox_inches="tight")
    plt.close(ax.figure)

    fig, ax = plt.subplots(figsize=(5, 3.5))
    k = np.arange(1, args.steps + 1)
    for a, label in ((acc, "float"), (acc_ideal, "ideal crossbar"), (acc_noisy, "RRAM crossbar")):
        ax.plot(k, a, label=label)
    ax.axhline(acc_ann, color="k", ls="--", label="ANN")
    ax.set(xlabel="timesteps", ylabel="test accuracy", title="Imported NIR graph")
    ax.legend()
    fig.savefig(os.path.join(args.out, "accuracy.png"), dpi=120, bbox_inches="tight")
    plt.close(fig)

    # the Sinabs CNN from the NIR paper: loads, runs on random events
    cnn = ns.nir.read(os.path.join(GRAPHS, "cnn_sinabs.nir"), dt=1e-3)
    ev = (np.random.default_rng(0).random((50, 2, 34, 34)) < 0.05).astype(float)
    rec = [(p.name, "out") for p in cnn.net.populations if p.model.spiking]
    out = cnn.run({"input": ev}, record=rec)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    off = 0
    for name, var in rec:
        s = out[name, var].reshape(50, -1)
        t, i = np.nonzero(s)
        ax.plot(t, i + off, ".", ms=0.6, label=f"layer {name}")
        off += s.shape[1]
    ax.set(xlabel="step", ylabel="neuron (layers stacked)", title="Sinabs CNN, random events")
    ax.legend(markerscale=12, fontsize=7, loc="upper right", ncol=2)
    fig.savefig(os.path.join(args.out, "raster.png"), dpi=120, bbox_inches="tight")
    plt.close(fig)
    report += [f"Sinabs CNN: {cnn}; output spikes in 50 steps of 5 % random events: "
               f"{int(out['output'].sum())}.", ""]

    # 5. Loihi fixed point and Lava
    report += loihi_part(args.out)
    with open(os.path.join(args.out, "report.md"), "w") as f:
        f.write("\n".join(report) + "\n")
    print(f"wrote {args.out}/report.md, accuracy.png, energy.png, raster.png")


def loihi_part(out_dir):
    """The NIR paper's single LIF in Loihi fixed point (its integer mapping), checked against
    the Lava trace the paper published; a bundle for Intel's cloud; Lava itself if present."""
    path = os.path.join(GRAPHS, "lif_norse.nir")
    d = np.loadtxt(os.path.join(GRAPHS, "..", "lif", "lif_lava_cpu_fixed.csv"), delimiter=",")
    x = d[:, :1]
    model = ns.nir.read(path, dt=1e-4)
    lm = ns.nir.to_loihi(model, inputs=x, mapping="paper")
    run = lm.run(x, record_v=True)
    raw_v = run.raw[("1", "v")][:len(x), 0]
    raw_s = run.raw[("1", "spikes")][:len(x), 0]
    float_s = np.nonzero(model.run(x)["output"][:, 0])[0]
    lines = ["## Loihi", "",
             f"{path}: Loihi spikes at steps {np.nonzero(raw_s)[0].tolist()} (the float "
             f"network's {float_s.tolist()} one step later: one step per connection); v and "
             "spikes identical to the NIR paper's Lava fixed-point trace: "
             f"{bool(np.array_equal(raw_v, d[:, 1]) and np.array_equal(raw_s, d[:, 2]))}.", ""]
    steps = lm.loihi_steps(len(x))
    bundle = ns.export.write_loihi_bundle(lm.net, os.path.join(out_dir, "loihi_bundle"), steps,
                                          overwrite=True)
    lines += [f"Lava process graph and INRC bundle: {bundle}", ""]
    try:
        cmp = ns.export.compare_with_lava(lm.net, steps)
        lines += [f"Lava (CPU, fixed point) against neurosim's Loihi engine: "
                  f"{ {k: v['identical'] for k, v in cmp['populations'].items()} }.", ""]
    except ImportError as e:
        lines += [f"Lava not run here ({e}).", ""]
    print(*[ln for ln in lines if ln], sep="\n")
    return lines


if __name__ == "__main__":
    main()
