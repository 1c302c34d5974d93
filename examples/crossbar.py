"""Memristor crossbar synapses: accuracy vs programming noise, drift and IR drop; energy.

    python examples/crossbar.py [--out out/crossbar] [--samples 360] [--steps 25]
                                [--jobs N] [--store FOLDER]

Trains a 64-64-10 MLP on scikit-learn's digits, converts it to a spiking network and runs
every layer on crossbar synapses (neurosim.crossbar). Writes to --out:

- noise.png / drift.png / irdrop.png: test accuracy against programming noise (one-shot
  and write-verify), against time since programming for PCM (with and without global
  drift compensation), and against wire resistance;
- report.md: the tables behind the plots, energy per inference of the default chip (the
  arrays' own counters: cell reads, DACs, ADC conversions) and its area, and what each
  number assumes.

The programming-noise sweep runs through ``ns.sweep``: in this process by default, in N
worker processes with ``--jobs N``, and with ``--store FOLDER`` every finished point is kept
there, so a run stopped by Ctrl-C resumes where it was (the key holds samples and steps, so
other values of those run anew).
"""

import argparse
import dataclasses
import functools
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import neurosim as ns  # noqa: E402
from neurosim.crossbar import Crossbar, load_device  # noqa: E402

SIGMAS = (0.0, 0.02, 0.05, 0.1, 0.2)                 # programming sigma, fraction of range
TIMES = (1.0, 3600.0, 86400.0, 30 * 86400.0, 365 * 86400.0)
TIME_LABELS = ("1 s", "1 h", "1 day", "1 month", "1 year")
WIRES = (0.0, 2.0, 5.0, 10.0, 20.0)                        # ohm per cell


def _accuracy(snn, x, y, steps, xbar):
    res = snn.evaluate(x, y, steps=(steps,), crossbars=snn.program(xbar), progress=False)
    return res.accuracy[steps], res


def _noise_point(snn, data, rram, mode, sigma, seed, samples, steps):
    """One point of the programming-noise sweep (module level: worker processes import it)."""
    dev = dataclasses.replace(rram, noise={"model": "relative", "sigma": sigma,
                                           "status": "swept", "source": "example"})
    x, y = data.x_test[:samples], data.y_test[:samples]
    return {"accuracy": _accuracy(snn, x, y, steps,
                                  Crossbar(device=dev, programming=mode, seed=seed))[0]}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="out/crossbar")
    ap.add_argument("--samples", type=int, default=360, help="test images simulated")
    ap.add_argument("--steps", type=int, default=25, help="timesteps per inference")
    ap.add_argument("--seeds", type=int, default=3, help="chips programmed per point")
    ap.add_argument("--jobs", type=int, default=1, help="worker processes of the noise sweep")
    ap.add_argument("--store", default=None, help="folder keeping the noise sweep's points")
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)

    data = ns.convert.load_digits()
    ann = ns.convert.train_mlp(data.x_train, data.y_train, hidden=(64,))
    x, y = data.x_test[:args.samples], data.y_test[:args.samples]
    snn = ns.convert.convert(ann, data.x_train)
    acc_ann = ann.accuracy(x, y)
    acc_ideal, _ = _accuracy(snn, x, y, args.steps, Crossbar.ideal())
    seeds = range(args.seeds)

    # 1. programming noise: the RRAM preset with a relative sigma swept
    rram = load_device("rram_hfox_1t1r")
    grid = {"mode": ["one_shot", "write_verify"], "sigma": list(SIGMAS), "seed": list(seeds),
            "samples": [args.samples], "steps": [args.steps]}
    rows = ns.sweep(functools.partial(_noise_point, snn, data, rram), grid,
                    executor="serial" if args.jobs == 1 else None,
                    workers=None if args.jobs == 1 else args.jobs, store=args.store,
                    raise_errors=True)
    noise = {}
    for r in rows:                                   # the grid's order: seeds in turn
        noise.setdefault((r["mode"], r["sigma"]), []).append(r["accuracy"])
    # 2. PCM drift, with and without compensation
    drift = {}
    for comp in (True, False):
        for t in TIMES:
            drift[comp, t] = [_accuracy(snn, x, y, args.steps,
                                        Crossbar(device="pcm_gst", time=t, seed=k,
                                                 drift_compensation=comp))[0] for k in seeds]
    # 3. IR drop (64 x 64 arrays, default RRAM)
    wires = {r: _accuracy(snn, x, y, args.steps, Crossbar(r_wire=r, array=(64, 64)))[0]
             for r in WIRES}
    # 4. energy and area of the default chip
    acc_default, res = _accuracy(snn, x, y, args.steps, Crossbar())
    rep = ns.energy.estimate(res.counts, "crossbar_rram")
    chip = snn.program(Crossbar())
    area = sum(xb.area()["total"] for xb in chip)

    mean = lambda v: float(np.mean(v))  # noqa: E731
    fig, ax = plt.subplots(figsize=(5, 3.4))
    for mode, style in (("one_shot", "o-"), ("write_verify", "s-")):
        ax.plot([100 * s for s in SIGMAS], [mean(noise[mode, s]) for s in SIGMAS], style,
                label=mode.replace("_", "-"))
    ax.axhline(acc_ideal, color="gray", ls="--", label="ideal crossbar")
    ax.set(xlabel="programming noise sigma (% of conductance range)", ylabel="test accuracy",
           title=f"Digits SNN on RRAM crossbars ({args.steps} steps)", ylim=(0, 1.02))
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "noise.png"), dpi=120)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(5, 3.4))
    for comp, style in ((True, "o-"), (False, "s--")):
        ax.semilogx(TIMES, [mean(drift[comp, t]) for t in TIMES], style,
                    label="global drift compensation" if comp else "no compensation")
    ax.axhline(acc_ideal, color="gray", ls="--", label="ideal crossbar")
    ax.set(xlabel="time since programming (s)", ylabel="test accuracy", ylim=(0, 1.02),
           title="PCM drift")
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "drift.png"), dpi=120)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(5, 3.4))
    ax.plot(WIRES, [wires[r] for r in WIRES], "o-")
    ax.set(xlabel="wire resistance per cell (ohm)", ylabel="test accuracy", ylim=(0, 1.02),
           title="IR drop, 64 x 64 RRAM arrays")
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "irdrop.png"), dpi=120)
    plt.close(fig)

    fmt = ns.energy.fmt_energy
    lines = ["# Digits SNN on memristor crossbar synapses", "",
             f"MLP {'-'.join(map(str, ann.sizes))}, {len(x)} test images, {args.steps} steps "
             f"per inference, {args.seeds} programmed chips per point (mean accuracy).", "",
             f"- ANN accuracy {acc_ann:.3f}; SNN on ideal crossbars {acc_ideal:.3f}; on the "
             f"default chip (rram_hfox_1t1r, 4-bit levels, write-verify, 1 % read noise, "
             f"8-bit ADC, 128 x 128 arrays) {acc_default:.3f}.", "",
             "## Accuracy vs programming noise (relative sigma, RRAM preset otherwise)", "",
             "| sigma (% of range) | one-shot | write-verify |", "|---|---|---|"]
    lines += [f"| {100 * s:g} | {mean(noise['one_shot', s]):.3f} | "
              f"{mean(noise['write_verify', s]):.3f} |" for s in SIGMAS]
    lines += ["", "## Accuracy vs time since programming (pcm_gst)", "",
              "| time | compensated | uncompensated |", "|---|---|---|"]
    lines += [f"| {lab} | {mean(drift[True, t]):.3f} | {mean(drift[False, t]):.3f} |"
              for t, lab in zip(TIMES, TIME_LABELS)]
    lines += ["", "## Accuracy vs wire resistance (64 x 64 arrays)", "",
              "| ohm per cell | accuracy |", "|---|---|"]
    lines += [f"| {r:g} | {wires[r]:.3f} |" for r in WIRES]
    lines += ["", "## Energy per inference and area of the default chip", "",
              f"Energy per inference {fmt(rep.per_inference)} "
              f"(crossbar synapses and digital LIF neurons); area {area * 1e6:.3f} mm^2.", "",
              "| component | operation | count per inference | energy |", "|---|---|---|---|"]
    n = res.counts.runs
    lines += [f"| {i.component} | {i.operation} | {i.count / n:.4g} | {fmt(i.energy / n)} |"
              for i in rep.items if i.energy]
    lines += ["", "## Assumptions", ""] + [f"- {a}" for a in rep.assumptions]
    lines += ["- Programming noise sweep: G = G_target + N(0, sigma (g_max - g_min)) per "
              "device, then write-verify retries devices outside +-1 uS (up to 10 writes).",
              "- Drift: G(t) = G (t/t0 + 1)^-nu with nu drawn per device (aihwkit's PCM "
              "model); compensation rescales each array's output by one factor measured "
              "with one-hot reads at time t.",
              "- IR drop: the network solves each array's circuit at every read (rows of "
              "spiking neurons at v_read, others at 0 V)."]
    with open(os.path.join(args.out, "report.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines[:8]))
    print(f"wrote {args.out}/report.md, noise.png, drift.png, irdrop.png")
    return dict(noise=noise, drift=drift, wires=wires, ideal=acc_ideal, default=acc_default)


if __name__ == "__main__":
    main()
