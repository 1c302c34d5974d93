"""The main job (``make demo``): digits, ANN -> SNN, float / Loihi / crossbar, energy, Lava.

    python examples/demo.py [--out out] [--samples 200] [--no-lava]

1. trains a 64-64-10 MLP on scikit-learn's digits (shipped with scikit-learn: no download);
2. converts it to a spiking network and simulates the test images in neurosim: in float
   arithmetic, in Loihi fixed point (``ns.loihi.quantize``, bit-exact with Lava's models),
   and on memristor crossbar synapses (the default HfOx RRAM preset);
3. accuracy of each, accuracy vs timesteps and vs crossbar programming noise;
4. energy per inference of the ANN (cpu, gpu, 45 nm model) and of the SNN (loihi,
   spinnaker2, truenorth, crossbar) from the engine's exact counts;
5. one inference: raster and membrane traces, saved as a results file;
6. that inference exported to Lava and run in Lava's CPU simulator: spike agreement.

Writes to --out: report.md (every number with what it assumes), results.json, inference.npz
(``ns.load_results``) and the figures accuracy.png, energy.png, raster.png, traces.png,
crossbar.png. About 1.5-3.5 minutes on 2 cores (warm Numba cache). The numbers in README.md are
generated from results.json by docs/readme_numbers.py.
"""

import argparse
import dataclasses
import json
import os
import sys
import time

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from tqdm.auto import tqdm  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import neurosim as ns  # noqa: E402
import neurosim.plot  # noqa: E402,F401
from neurosim.crossbar import Crossbar, load_device  # noqa: E402
from neurosim.export import compare_with_lava  # noqa: E402

STEPS = (5, 10, 15, 25, 50)       # timestep budgets; the last one is simulated
ANN_HW = ("cpu", "gpu", "digital45")
SNN_HW = ("loihi", "spinnaker2", "truenorth")
SIGMAS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3)
SEEDS = 3                         # chips per noise level (mean accuracy)    # programming noise, fraction of the conductance range


def fixed_point_accuracy(snn, x, y, steps, bar):
    """Accuracy of the Loihi fixed-point version of the converted SNN (reset to 0), by
    output spike counts after ``steps`` steps (ties broken by the lowest index)."""
    correct = 0
    for xi, yi in zip(x, y):
        net, _, _ = snn.network(xi, monitor=False)
        fixed = ns.loihi.quantize(net).net
        mon = fixed.spike_monitor(fixed.population("output"))
        fixed.run(steps * snn.dt, progress=False)
        correct += int(np.argmax(mon.counts) == yi)
        bar.update()
    return correct / len(y)


def crossbar_sweep(snn, x, y, steps, bar):
    """Accuracy vs one-shot programming noise (the RRAM preset with a relative sigma)."""
    rram = load_device("rram_hfox_1t1r")
    out = {}
    for s in SIGMAS:
        dev = dataclasses.replace(rram, noise={"model": "relative", "sigma": s,
                                               "status": "swept", "source": "demo"})
        accs = []
        for seed in range(SEEDS):
            chip = snn.program(Crossbar(device=dev, programming="one_shot", seed=seed))
            accs.append(snn.evaluate(x, y, steps=(steps,), crossbars=chip,
                                     progress=False).accuracy[steps])
            bar.update()
        out[s] = float(np.mean(accs))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="out")
    ap.add_argument("--samples", type=int, default=360, help="test images simulated (the test set has 360)")
    ap.add_argument("--no-lava", action="store_true", help="skip the run in Lava")
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    t_start = time.perf_counter()
    T = STEPS[-1]
    stages = tqdm(total=7, desc="demo", unit="stage")

    # 1-2. ANN and conversion
    stages.set_postfix_str("training the ANN")
    data = ns.convert.load_digits()
    ann = ns.convert.train_mlp(data.x_train, data.y_train, hidden=(64,))
    x, y = data.x_test[:args.samples], data.y_test[:args.samples]
    acc_ann = ann.accuracy(x, y)
    snn = ns.convert.convert(ann, data.x_train)                  # reset by subtraction
    snn_l = ns.convert.convert(ann, data.x_train, reset="value")  # Loihi's LIF resets to 0
    stages.update()

    stages.set_postfix_str("SNN, float")
    res = snn.evaluate(x, y, steps=STEPS, progress=True)
    budget = next((b for b in STEPS if res.accuracy[b] >= acc_ann - 0.01), T)
    stages.update()

    stages.set_postfix_str("SNN, Loihi fixed point")
    with tqdm(total=len(x), desc="fixed point", unit="sample", leave=False) as bar:
        acc_fixed = fixed_point_accuracy(snn_l, x, y, T, bar)
    acc_value = snn_l.evaluate(x, y, steps=(T,), progress=False).accuracy[T]
    stages.update()

    stages.set_postfix_str("SNN on crossbars")
    chip = snn.program(Crossbar())
    res_x = snn.evaluate(x, y, steps=(T,), crossbars=chip, progress=True)
    res_xb = res_x if budget == T else snn.evaluate(x, y, steps=(budget,), crossbars=chip,
                                                    progress=True)
    with tqdm(total=len(SIGMAS) * SEEDS, desc="device variation", unit="chip", leave=False) as bar:
        sweep = crossbar_sweep(snn, x, y, T, bar)
    stages.update()

    # 4. energy
    stages.set_postfix_str("energy")
    snn_e = {h: ns.energy.estimate(res.counts_at[budget], h) for h in SNN_HW}
    snn_e["crossbar"] = ns.energy.estimate(res_xb.counts, "crossbar_rram")
    ann_e = {h: ns.energy.dense_ann(ann.sizes, h) for h in ANN_HW}
    stages.update()

    # 5. one inference
    stages.set_postfix_str("one inference")
    net, mons, vmon = snn.network(x[0])
    net.state_monitor(net.population("hidden0"), "v", indices=range(5))
    net.run(T * snn.dt, progress=False)
    ns.save_results(os.path.join(args.out, "inference.npz"), net,
                    extra=dict(label=int(y[0]), steps=T))
    stages.update()

    # 6. Lava
    stages.set_postfix_str("Lava")
    lava, lava_note = None, ""
    fixed = ns.loihi.quantize(snn_l.network(x[0], monitor=False)[0]).net
    if args.no_lava:
        lava_note = "skipped (--no-lava)"
    else:
        try:
            lava = compare_with_lava(fixed, T)["populations"]
        except ImportError as e:
            lava_note = f"not run: {e}"
    stages.update()
    stages.close()
    elapsed = time.perf_counter() - t_start

    # figures
    figs = {}
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(list(res.accuracy), list(res.accuracy.values()), "o-", label="SNN (float)")
    ax.plot([T], [acc_fixed], "s", label="SNN (Loihi fixed point)")
    ax.plot([T], [res_x.accuracy[T]], "^", label="SNN (RRAM crossbar)")
    ax.axhline(acc_ann, color="k", ls="--", label="ANN")
    ax.set(xlabel="timesteps per inference", ylabel="test accuracy",
           title=f"digits, {len(x)} test images")
    ax.legend()
    fig.tight_layout()
    figs["accuracy"] = fig

    vals = {f"ANN {k}": r.per_inference for k, r in ann_e.items()}
    vals.update({f"SNN {k}": r.per_inference for k, r in snn_e.items()})
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ns.plot.energy_bars(vals, ax=ax, title=f"energy per inference (SNN at {budget} steps)",
                        colors=["tab:gray" if k.startswith("ANN") else "tab:blue" for k in vals])
    fig.tight_layout()
    figs["energy"] = fig

    fig, _ = ns.plot.classifier_raster(
        mons, label=y[0], title=f"one inference, {T} steps of {snn.dt * 1e3:g} ms")
    figs["raster"] = fig

    fig, axes = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    hid = net.state_monitors[-1]
    ns.plot.traces(hid, ax=axes[0], title="converted SNN: normalised potentials (threshold "
                   "1 V = 1000 mV), first 5 hidden neurons and every output class")
    ns.plot.traces(vmon, ax=axes[1], labels=[f"class {c}" for c in range(vmon.pop.n)])
    axes[0].set_xlabel("")
    fig.tight_layout()
    figs["traces"] = fig

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot([100 * s for s in sweep], list(sweep.values()), "o-", label="one-shot programming")
    ax.axhline(acc_ann, color="k", ls="--", label="ANN")
    ax.set(xlabel="programming noise sigma (% of the conductance range)",
           ylabel="test accuracy", title=f"RRAM crossbar, {T} steps")
    ax.legend()
    fig.tight_layout()
    figs["crossbar"] = fig
    for name, fig in figs.items():
        fig.savefig(os.path.join(args.out, f"{name}.png"), dpi=110)
        plt.close(fig)

    # results and report
    results = dict(
        samples=len(x), steps=list(STEPS), budget=budget, elapsed_s=round(elapsed, 1),
        accuracy=dict(ann=acc_ann, snn_float={str(k): v for k, v in res.accuracy.items()},
                      snn_float_reset_to_0=acc_value, snn_loihi_fixed_point=acc_fixed, snn_crossbar=res_x.accuracy[T],
                      snn_crossbar_at_budget=res_xb.accuracy[budget],
                      crossbar_vs_programming_noise={str(k): v for k, v in sweep.items()}),
        energy_per_inference_j={**{f"ann_{k}": r.per_inference for k, r in ann_e.items()},
                                **{f"snn_{k}": r.per_inference for k, r in snn_e.items()}},
        lava=lava if lava is not None else lava_note, neurosim_version=ns.__version__)
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    E = ns.energy.fmt_energy
    L = ["# neurosim demo: digits on an SNN, in float, Loihi fixed point and RRAM crossbars",
         "", f"{len(x)} test images of scikit-learn's digits (8x8, 10 classes); "
         f"run time {elapsed:.0f} s. Figures: accuracy.png, energy.png, raster.png, "
         "traces.png, crossbar.png; numbers: results.json; one inference: inference.npz "
         "(`ns.load_results`).", "", "## Accuracy", "",
         "| model | accuracy | assumes |", "|---|---|---|",
         f"| ANN 64-64-10 (ReLU, numpy) | {acc_ann:.3f} | one forward pass in float64 |"]
    L += [f"| SNN, float, {b} steps | {a:.3f} | rate-coded conversion (99.9th percentile "
          "normalisation), pixel values as input currents, reset by subtraction, dt 1 ms |"
          for b, a in res.accuracy.items()]
    L += [f"| SNN, float, reset to 0, {T} steps | {acc_value:.3f} | as above, but v resets "
          "to 0 after a spike (Loihi's LIF), which loses the charge above threshold |",
          f"| SNN, Loihi fixed point, {T} steps | {acc_fixed:.3f} | `ns.loihi.quantize` of "
          "the reset-to-0 SNN: "
          "24-bit v, 12-bit du/dv, 8-bit weights with a shared exponent per layer; "
          "prediction by output spike counts |",
          f"| SNN on RRAM crossbars, {T} steps | {res_x.accuracy[T]:.3f} | default "
          "HfOx 1T1R preset: 16 levels, write-verify programming, read noise on every read, "
          "128x128 arrays, differential pairs, 8-bit ADC, no IR drop |", "",
          "Accuracy vs one-shot programming noise (crossbar.png): "
          + ", ".join(f"sigma {100 * s:g} %: {a:.3f}" for s, a in sweep.items())
          + f" (sigma as a fraction of g_max - g_min; mean of {SEEDS} chips per value).", "",
          f"## Energy per inference (SNN at {budget} steps, the first budget within 1 point "
          f"of the ANN; the crossbar chip scores {res_xb.accuracy[budget]:.3f} there)", "",
          "The SNN figures charge the exact operation counts of the float SNN (reset by "
          "subtraction) on each chip's published per-operation energies; the crossbar figure "
          "charges the arrays' own counters (cells read, row drives, ADC conversions) plus "
          "digital LIF neurons. A Loihi deployment with reset to 0 needs more steps for the "
          f"same accuracy (see above).", "", "| hardware | energy | figures |", "|---|---|---|"]
    L += [f"| ANN on {r.name} | {E(r.per_inference)} | {r.execution} |"
          for r in ann_e.values()]
    L += [f"| SNN on {r.name} | {E(r.per_inference)} | {r.execution} |"
          for r in snn_e.values()]
    L += ["", "What each estimate assumes:", ""]
    for r in list(ann_e.values()) + list(snn_e.values()):
        L += [f"### {r.name}", ""] + [f"- {a}" for a in r.assumptions] + [""]
    L += ["## neurosim vs Lava", ""]
    if lava is None:
        L += [f"Lava: {lava_note}.", ""]
    else:
        L += [f"The fixed-point network of the first test image, exported with "
              f"`neurosim.export.compare_with_lava` and run for {T} steps in Lava's CPU simulator "
              "(Loihi2SimCfg, fixed_pt), against neurosim's fixed-point engine:", "",
              "| population | neurosim spikes | Lava spikes | identical | agreement |",
              "|---|---|---|---|---|"]
        L += [f"| {k} | {v['neurosim_spikes']} | {v['lava_spikes']} | {v['identical']} | "
              f"{v['agreement']:.4f} |" for k, v in lava.items()]
        L += ["", "Agreement is the fraction of (step, neuron) entries with the same spike "
              "or silence.", ""]
    with open(os.path.join(args.out, "report.md"), "w") as f:
        f.write("\n".join(L) + "\n")
    print(f"ANN {acc_ann:.3f} | SNN float {res.accuracy[T]:.3f} | Loihi fixed point "
          f"{acc_fixed:.3f} | crossbar {res_x.accuracy[T]:.3f} | Lava "
          + ("identical" if lava and all(v["identical"] for v in lava.values())
             else str(lava_note or "differs")) + f" | {elapsed:.0f} s")
    print(f"report: {os.path.join(args.out, 'report.md')}")


if __name__ == "__main__":
    main()
