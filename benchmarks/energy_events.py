"""Energy on sparse event data: when does the "100 to 1,000 times" hold?

    python benchmarks/energy_events.py [--quick] [--out DIR]

1. Saccade digits (scikit-learn's digits moved by three saccades, seen by the DVS model of
   neurosim.events: 28x28 pixels, 90 ms, ON/OFF events).
2. A CNN (conv 5x5 -> avg pool 2 -> conv 5x5 -> avg pool 2 -> dense) trained in numpy on
   the accumulated event frames (ON/OFF counts over the sample: one frame per inference, a
   frame rate of 11.1 Hz); the same weights converted to a spiking CNN on LayerNetwork,
   fed the events binned into 1 ms steps. Accuracy of both.
3. Energy per inference: the SNN from the engine's exact counts on Loihi, TrueNorth,
   SpiNNaker 2, the RRAM crossbar and a CPU; the dense CNN (MACs and memory traffic of one
   frame) on a CPU, a GPU and the 45 nm digital model.
4. Sweeps of input sparsity (motion speed, contrast threshold, background noise, thinning),
   timestep budget (bin width) and network size; crossovers of the SNN's advantage
   (10x, 100x, 1,000x, 1x) for Loihi and the RRAM crossbar against each dense baseline;
   the keyword-spotting shape of Blouw et al. 2019 (390-256-256-29) against its published
   measured figures.

Writes energy_events_results.md, energy_events_results.json, energy_events_ratio.png and
energy_events_accuracy.png into --out (default: benchmarks/ for a full run, out/ for --quick).
"""

import argparse
import json
import math
import os
import sys
import time
from dataclasses import asdict

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))

import neurosim as ns  # noqa: E402
from neurosim import events as ev  # noqa: E402
from neurosim.energy import dense_ann, estimate, fmt_energy  # noqa: E402
from neurosim.events import cnn  # noqa: E402

SNN_HW = ["loihi", "truenorth", "spinnaker2", "crossbar_rram", "cpu"]
DENSE_HW = ["cpu", "gpu", "digital45"]
CROSS_HW = ["loihi", "crossbar_rram"]
TARGETS = [1000, 100, 10, 1]
SPARSITY = ("defaults", "contrast", "speed", "noise", "thinning")
# Blouw et al. 2019 (arXiv:1812.01739), Table 1: measured J per inference
BLOUW = {"loihi": 0.00027, "cpu": 0.0063, "gpu": 0.0298}
KWS_SIZES = [390, 256, 256, 29]
# a point counts as a working inference when the SNN's accuracy is at most this far below
# the dense CNN's on the defaults' sweep set (the crossovers are given with and without it)
ACC_MARGIN = 0.05

FULL = dict(epochs=15, n_sweep=120, channels=[(4, 8), (8, 16), (16, 32)],
            dts=[1e-3, 2e-3, 5e-3, 10e-3], contrast=[0.05, 0.1, 0.2, 0.4, 0.8],
            amplitude=[0.5, 1.0, 2.0, 4.0], noise=[10.0, 100.0, 1000.0],
            thin=[0.3, 0.1, 0.01, 0.0], kws_n=50, kws_steps=[10, 25, 50],
            kws_scale=[1.0, 0.3, 0.1, 0.03], coarse_dt=5e-3)
QUICK = dict(epochs=4, n_sweep=30, channels=[(4, 8), (8, 16)], dts=[1e-3, 5e-3],
             contrast=[0.1, 0.4], amplitude=[1.0, 4.0], noise=[100.0], thin=[0.1, 0.0],
             kws_n=15, kws_steps=[25], kws_scale=[1.0, 0.1], coarse_dt=5e-3)


def snn_energy(counts, n):
    """{profile: J per inference} of the SNN's counts (n inferences)."""
    cmp = estimate(counts, SNN_HW, inferences=n)
    return {r.hardware: r.per_inference for r in cmp.reports}, cmp


def dense_energy(model):
    """{profile: J per inference} of the dense CNN (one frame) and the reports."""
    reps = {hw: dense_ann(cnn.dense_layers(model), hw) for hw in DENSE_HW}
    return {hw: r.per_inference for hw, r in reps.items()}, reps


def activity(counts):
    """Input spikes per input slot (pixel x polarity) and step: 1 - sparsity."""
    p = counts.populations["events"]
    return p.spikes / (p.n * counts.steps)


def point(label, axis, value, snn, model_dense, n, dense_accuracy, dt):
    """One measured point of a sweep: accuracy, input activity, energies, ratios."""
    e, _ = snn_energy(snn.counts, n)
    return dict(sweep=axis, value=value, label=label, dt=dt, accuracy=snn.accuracy,
                dense_accuracy=dense_accuracy,
                activity=activity(snn.counts), events_per_sample=snn.input_events / n,
                merged=snn.merged, steps=snn.steps, snn_J=e,
                ratio={hw: {d: model_dense[d] / e[hw] if e[hw] > 0 else None
                            for d in DENSE_HW} for hw in SNN_HW})   # None: nothing charged


def crossings(points, hw, base, axis="activity", min_accuracy=None):
    """Values of ``axis`` (input activity, or steps) where dense/SNN energy crosses each
    target (log-log interpolation between neighbouring measured points, sorted by it), with
    the SNN's accuracy there (linear between the two); only points whose accuracy is at
    least ``min_accuracy`` when it is given."""
    pts = sorted((p[axis], p["ratio"][hw][base], p["accuracy"]) for p in points
                 if p[axis] > 0 and (min_accuracy is None or p["accuracy"] >= min_accuracy))
    out = {}
    for target in TARGETS:
        found = []
        for (a0, r0, c0), (a1, r1, c1) in zip(pts, pts[1:]):
            if (r0 - target) * (r1 - target) <= 0 and r0 != r1 and a0 != a1:
                f = (math.log(target) - math.log(r0)) / (math.log(r1) - math.log(r0))
                found.append((math.exp(math.log(a0) + f * (math.log(a1) - math.log(a0))),
                              c0 + f * (c1 - c0)))
        if found:
            out[str(target)] = dict(value=found[0][0], accuracy=found[0][1], reached=True)
        else:
            ratios = [r for _, r, _ in pts]
            out[str(target)] = dict(value=None, reached=False,
                                    range=[min(ratios), max(ratios)] if ratios else None,
                                    why="always above" if ratios and min(ratios) > target
                                    else "never reached")
    return out


def all_crossings(points, axis="activity", min_accuracy=None):
    """:func:`crossings` of each of CROSS_HW against each dense baseline."""
    return {hw: {b: crossings(points, hw, b, axis, min_accuracy) for b in DENSE_HW}
            for hw in CROSS_HW}


def kws(steps_list, scales, n, seed=0):
    """Blouw et al.'s keyword-spotting shape (390-256-256-29) with random weights and
    inputs (no audio data ships): converted SNN on the engine, input scaled by ``scales``
    (sparser input), Loihi vs the dense network on a CPU and a GPU."""
    rng = np.random.default_rng(seed)
    ws = [rng.normal(0, np.sqrt(2 / a), (a, b)) for a, b in zip(KWS_SIZES, KWS_SIZES[1:])]
    ann = ns.convert.MLP(ws, [np.zeros(b) for b in KWS_SIZES[1:]])
    x = rng.random((300 + n, KWS_SIZES[0]))
    snn = ns.convert.convert(ann, x[:300])
    dense = {hw: dense_ann(KWS_SIZES, hw).per_inference for hw in ("cpu", "gpu")}
    rows = []
    for s in scales:
        res = snn.evaluate(x[300:] * s, steps=steps_list, progress=False)
        agree = {t: float(np.mean(res.predictions[t] == ann.predict(x[300:] * s)))
                 for t in steps_list}
        for t in steps_list:
            e = estimate(res.counts_at[t], ["loihi", "crossbar_rram"], inferences=n)
            loihi = e["loihi"].per_inference
            rows.append(dict(scale=s, steps=t, input_rate=res.rates["input"],
                             loihi_J=loihi, crossbar_J=e["crossbar_rram"].per_inference,
                             cpu_J=dense["cpu"], gpu_J=dense["gpu"],
                             cpu_over_loihi=dense["cpu"] / loihi,
                             gpu_over_loihi=dense["gpu"] / loihi,
                             agreement_with_ann=agree[t]))
    return dict(rows=rows, published_J=BLOUW,
                published_cpu_over_loihi=BLOUW["cpu"] / BLOUW["loihi"],
                published_gpu_over_loihi=BLOUW["gpu"] / BLOUW["loihi"])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sweeps (under 2 minutes)")
    ap.add_argument("--out", default=None, help="folder for the results")
    ap.add_argument("--cache", default=None, help="npz cache of the data set (optional)")
    args = ap.parse_args(argv)
    cfg = QUICK if args.quick else FULL
    out = args.out or (os.path.join(HERE, "..", "out", "energy_events") if args.quick
                       else HERE)
    os.makedirs(out, exist_ok=True)
    t0 = time.perf_counter()
    timings = {}

    def lap(name):
        timings[name] = round(time.perf_counter() - t0 - sum(timings.values()), 1)

    n_img = 600 if args.quick else None
    data = ev.load_saccade_digits(cache=args.cache, n=n_img)
    ftr, fte = data.train.frames(), data.test.frames()
    lap("data")
    main_ch = (8, 16)
    model = cnn.train_cnn(cnn.build_cnn(channels=main_ch), ftr, data.train.labels,
                          epochs=cfg["epochs"])
    acc_dense = model.accuracy(fte, data.test.labels)
    spiking = cnn.convert_cnn(model, ftr)
    lap("train")
    n_test = len(data.test)
    res = spiking.evaluate(data.test, 1e-3)
    e_snn, cmp = snn_energy(res.counts, n_test)
    e_dense, dense_reps = dense_energy(model)
    lap("main SNN")
    main = dict(dense_accuracy=acc_dense, snn_accuracy=res.accuracy, steps=res.steps,
                dt=1e-3, test_samples=n_test, events_per_sample=res.input_events / n_test,
                merged_events=res.merged, activity=activity(res.counts),
                snn_J=e_snn, dense_J=e_dense,
                dense_macs=sum(x.macs for x in cnn.dense_layers(model)),
                dense_weights=sum(x.weights for x in cnn.dense_layers(model)),
                snn_neurons=model.n_neurons, snn_synapses=model.n_synapses,
                synaptic_events_per_inference=res.counts.synaptic_events / n_test,
                spikes_per_inference=res.counts.spikes / n_test,
                snn_assumptions={r.hardware: r.assumptions for r in cmp.reports},
                dense_assumptions={hw: r.assumptions for hw, r in dense_reps.items()},
                snn_table=cmp.to_markdown())

    # ---- sweeps on a fixed part of the test set, the network trained at the defaults
    x, y, _, idx_te = ev.digit_split(n=n_img)
    sub = idx_te[:cfg["n_sweep"]]
    n_sub = len(sub)
    points = []

    def run(label, axis, value, evset, dt=1e-3, sp=spiking, dense=e_dense, ann=model):
        r = sp.evaluate(evset, dt)
        points.append(point(label, axis, value, r, dense, n_sub,
                            ann.accuracy(evset.frames(), evset.labels), dt))
        return r

    base_dvs = ev.DVS()
    base = ev.saccade_events(x[sub], y[sub], seed=1)
    sets = [("defaults", "defaults", None, base)]
    sets += [(f"contrast {c:g}", "contrast", c,
              ev.saccade_events(x[sub], y[sub], ev.DVS(c_on=c, c_off=c), seed=1))
             for c in cfg["contrast"]]
    sets += [(f"amplitude {a:g} px ({a / 0.03:.0f}-{1.118 * a / 0.03:.0f} px/s)", "speed",
              a / 0.03,
              ev.saccade_events(x[sub], y[sub], base_dvs, amplitude=a, seed=1))
             for a in cfg["amplitude"]]
    sets += [(f"noise {nr:g} Hz", "noise", nr,
              ev.saccade_events(x[sub], y[sub], ev.DVS(noise_rate=nr), seed=1))
             for nr in cfg["noise"]]
    sets += [(f"keep {k:g} of events", "thinning", k, base.thinned(k, seed=2))
             for k in cfg["thin"]]
    for dt in (1e-3, cfg["coarse_dt"]):       # the same event sets at two bin widths
        for label, axis, value, evset in sets:
            run(label, axis, value, evset, dt=dt)
    lap("sparsity sweeps")
    for dt in cfg["dts"][1:]:
        run(f"bins of {dt * 1e3:g} ms", "timestep", dt, base, dt=dt)
    lap("timestep sweep")
    sizes = []
    for ch in cfg["channels"]:
        m = model if ch == main_ch else cnn.train_cnn(cnn.build_cnn(channels=ch), ftr,
                                                      data.train.labels, epochs=cfg["epochs"])
        sp = spiking if ch == main_ch else cnn.convert_cnn(m, ftr)
        d_e, _ = dense_energy(m)
        r = run(f"channels {ch}", "size", list(ch), base, sp=sp, dense=d_e, ann=m)
        sizes.append(dict(channels=list(ch), neurons=m.n_neurons, synapses=m.n_synapses,
                          dense_accuracy=m.accuracy(fte, data.test.labels),
                          dense_accuracy_sweep_set=points[-1]["dense_accuracy"],
                          snn_accuracy_sweep_set=r.accuracy, dense_J=d_e,
                          snn_J=points[-1]["snn_J"]))
    lap("size sweep")
    # working points: accuracy within ACC_MARGIN of the dense CNN at the defaults
    floor = points[0]["dense_accuracy"] - ACC_MARGIN
    cross, cross_working = {}, {}
    for dt in (1e-3, cfg["coarse_dt"]):
        pts = [p for p in points if p["sweep"] in SPARSITY and p["dt"] == dt]
        cross[f"{dt * 1e3:g} ms"] = all_crossings(pts)
        cross_working[f"{dt * 1e3:g} ms"] = all_crossings(pts, min_accuracy=floor)
    step_pts = [p for p in points if p["sweep"] == "timestep"
                or (p["sweep"] == "defaults" and p["dt"] == 1e-3)]
    cross_steps = all_crossings(step_pts, "steps")
    cross_steps_working = all_crossings(step_pts, "steps", floor)
    k = kws(cfg["kws_steps"], cfg["kws_scale"], cfg["kws_n"])
    lap("keyword spotting")
    result = dict(task="saccade digits (sklearn digits x3 upsampled, 28x28, 3 saccades of 30 "
                  "ms, DVS model defaults)", quick=args.quick, main=main, points=points,
                  sizes=sizes, crossovers=cross, crossovers_steps=cross_steps,
                  accuracy_floor=floor, crossovers_working=cross_working,
                  crossovers_steps_working=cross_steps_working, kws=k,
                  dvs_defaults=asdict(base_dvs), sweep_samples=n_sub,
                  timings_s=timings, wall_s=round(time.perf_counter() - t0, 1))
    print(json.dumps({k2: v for k2, v in result.items() if k2 != "main"}
                     | {"main": {k2: v for k2, v in main.items()
                                 if not k2.endswith("assumptions") and k2 != "snn_table"}},
                     default=float))
    with open(os.path.join(out, "energy_events_results.json"), "w") as f:
        json.dump(result, f, indent=1, default=float)
    write_md(result, out)
    plot(result, out)


def _ratio(d, s):
    return f"{d / s:.3g}x less" if s < d else f"{s / d:.3g}x more"


def _cross_table(cross, fmt):
    rows = ["| SNN on | dense baseline | 1,000x | 100x | 10x | 1x (advantage vanishes) |",
            "|---|---|---|---|---|---|"]
    for hw, per in cross.items():
        for base, c in per.items():
            cells = []
            for t in map(str, TARGETS):
                x = c[t]
                if x["reached"]:
                    cells.append(f"{fmt(x['value'])} (acc. {x['accuracy']:.2f})")
                elif x["range"] is None:
                    cells.append("fewer than 2 points")
                else:
                    cells.append(f"{x['why']} ({x['range'][0]:.3g}-{x['range'][1]:.3g}x)")
            rows.append(f"| {hw} | {base} | " + " | ".join(cells) + " |")
    return rows


def write_md(r, out):
    m = r["main"]
    L = ["# Energy on sparse event data: SNN vs dense CNN", "",
         f"Command: `python benchmarks/energy_events.py{' --quick' if r['quick'] else ''}` "
         f"(wall time {r['wall_s']} s on this machine; phases: "
         + ", ".join(f"{k} {v} s" for k, v in r["timings_s"].items()) + ").", "",
         "Task: " + r["task"] + f". Test set {m['test_samples']} samples, "
         f"{m['events_per_sample']:.0f} events per sample on average; the SNN's input is "
         f"{m['activity'] * 100:.2f} % active (spikes per pixel, polarity and 1 ms step; "
         f"{m['merged_events']} events merged into occupied steps).", "",
         "## Accuracy", "",
         f"- Dense CNN on accumulated event frames (one frame per 90 ms sample, 11.1 Hz): "
         f"**{m['dense_accuracy']:.3f}**",
         f"- Spiking CNN (converted, {m['steps']} steps of 1 ms, events as input spikes): "
         f"**{m['snn_accuracy']:.3f}** ({(m['snn_accuracy'] - m['dense_accuracy']) * 100:+.1f} "
         "points)", "",
         f"Network: conv 5x5 (8) -> avg pool 2 -> conv 5x5 (16) -> avg pool 2 -> dense 10; "
         f"{m['snn_neurons']:,} neurons, {m['snn_synapses']:,} synapses; dense pass "
         f"{m['dense_macs']:,} MACs and {m['dense_weights']:,} weights per frame. SNN per "
         f"inference: {m['synaptic_events_per_inference']:,.0f} synaptic events, "
         f"{m['spikes_per_inference']:,.0f} spikes (input events included).", "",
         "## Energy per inference", "",
         "| SNN on | energy | vs dense CNN on CPU | on GPU | on 45 nm model |",
         "|---|---|---|---|---|"]
    for hw, e in m["snn_J"].items():
        L.append(f"| {hw} | {fmt_energy(e)} | "
                 + " | ".join(_ratio(m["dense_J"][d], e) for d in DENSE_HW) + " |")
    L += ["", "Dense CNN, one frame per inference: " + ", ".join(
        f"{hw} {fmt_energy(e)}" for hw, e in m["dense_J"].items())
        + ". A frame-based pipeline at 100 Hz runs 9 frames per 90 ms: 9x these.", "",
        "SNN breakdown:", "", m["snn_table"], "",
        "## Sweeps (the network trained at the defaults; "
        f"{r['sweep_samples']} test samples each)", "",
        "| sweep | setting | accuracy SNN / dense | events/sample | input activity | steps | "
        "Loihi | RRAM | Loihi vs CPU / GPU / 45 nm | RRAM vs CPU / GPU / 45 nm |",
        "|---|---|---|---|---|---|---|---|---|---|"]
    for p in r["points"]:
        rl, rr = p["ratio"]["loihi"], p["ratio"]["crossbar_rram"]
        L.append(f"| {p['sweep']} | {p['label']} | {p['accuracy']:.3f} / "
                 f"{p['dense_accuracy']:.3f} | "
                 f"{p['events_per_sample']:.0f} | {p['activity'] * 100:.3f} % | {p['steps']} | "
                 f"{fmt_energy(p['snn_J']['loihi'])} | {fmt_energy(p['snn_J']['crossbar_rram'])} | "
                 + " / ".join(f"{rl[d]:.3g}" for d in DENSE_HW) + " | "
                 + " / ".join(f"{rr[d]:.3g}" for d in DENSE_HW) + " |")
    L += ["", "Ratios are dense energy / SNN energy (above 1: the SNN needs less). Size "
          "points use the dense CNN of the same size.", "",
          "## Crossovers on the sparsity axis (input activity = 1 - sparsity)", "",
          f"**Working inferences only**: points where the SNN's accuracy is at least "
          f"{r['accuracy_floor']:.3f} (the dense CNN's {r['points'][0]['dense_accuracy']:.3f} "
          f"on the defaults' samples minus {ACC_MARGIN * 100:g} points). Energy saved by a "
          "network that no longer classifies is not an advantage."]
    fmt_act = lambda v: f"{v * 100:.3g} %"   # noqa: E731
    for dt, cross in r["crossovers_working"].items():
        L += ["", f"Bins of {dt}, working points:", ""] + _cross_table(cross, fmt_act)
    L += ["", "Every point, whatever its accuracy (energy alone):"]
    for dt, cross in r["crossovers"].items():
        L += ["", f"Bins of {dt}, every point:", ""] + _cross_table(cross, fmt_act)
    fmt_steps = lambda v: f"{v:.3g} steps"   # noqa: E731
    L += ["", "## Crossovers on the timestep axis (defaults; 90 steps = 1 ms bins)", "",
          "Working points:", ""] + _cross_table(r["crossovers_steps_working"], fmt_steps) \
        + ["", "Every point:", ""] + _cross_table(r["crossovers_steps"], fmt_steps)
    k = r["kws"]
    L += ["", "Crossovers interpolate log-log between measured neighbours (sparsity: the "
          "contrast, speed, noise and thinning sweeps together; where the ratio is not "
          "monotonic the first crossing is given); the dense baseline's cost does not "
          "depend on sparsity (it processes every pixel of every frame). Size sweep (same "
          "sparsity, dense CNN of the same size):", "",
          "| channels | neurons | synapses | accuracy SNN / dense (sweep set) | dense accuracy "
          "(test set) | Loihi vs CPU | RRAM vs CPU |", "|---|---|---|---|---|---|---|"]
    for z in r["sizes"]:
        L.append(f"| {tuple(z['channels'])} | {z['neurons']:,} | {z['synapses']:,} | "
                 f"{z['snn_accuracy_sweep_set']:.3f} / {z['dense_accuracy_sweep_set']:.3f} | "
                 f"{z['dense_accuracy']:.3f} | {z['dense_J']['cpu'] / z['snn_J']['loihi']:.3g}x"
                 f" | {z['dense_J']['cpu'] / z['snn_J']['crossbar_rram']:.3g}x |")
    L += ["",
          "## Keyword-spotting shape (Blouw et al. 2019, 390-256-256-29)", "",
          f"Published, measured: Loihi {fmt_energy(BLOUW['loihi'])}, CPU "
          f"{fmt_energy(BLOUW['cpu'])}, GPU {fmt_energy(BLOUW['gpu'])} per inference: "
          f"CPU/Loihi {k['published_cpu_over_loihi']:.3g}x, GPU/Loihi "
          f"{k['published_gpu_over_loihi']:.3g}x. Here: random weights and inputs "
          "(no audio ships), converted SNN on the engine, dense network one pass.", "",
          "| input scale | steps | input rate (spikes/step) | Loihi | RRAM | CPU / Loihi | "
          "vs published | GPU / Loihi | vs published | agreement with the ANN |",
          "|---|---|---|---|---|---|---|---|---|---|"]
    for x in k["rows"]:
        L.append(f"| {x['scale']:g} | {x['steps']} | {x['input_rate']:.3f} | "
                 f"{fmt_energy(x['loihi_J'])} | {fmt_energy(x['crossbar_J'])} | "
                 f"{x['cpu_over_loihi']:.3g}x | "
                 f"{x['cpu_over_loihi'] / k['published_cpu_over_loihi']:.2f} | "
                 f"{x['gpu_over_loihi']:.3g}x | "
                 f"{x['gpu_over_loihi'] / k['published_gpu_over_loihi']:.2f} | "
                 f"{x['agreement_with_ann']:.2f} |")
    L += ["", "Rows whose agreement with the ANN is below 0.9 do not classify like the ANN "
          "(too few input spikes in that budget): their energy is not that of a working "
          "inference. The dense figures are one pass of KerasSpiking's per-op model "
          f"(CPU {fmt_energy(k['rows'][0]['cpu_J'])}, GPU {fmt_energy(k['rows'][0]['gpu_J'])}),"
          " not the measured system energy, which includes idle and launch overheads.",
          "", "## Assumptions", ""]
    seen = set()
    for who, notes in list(m["snn_assumptions"].items()) + list(m["dense_assumptions"].items()):
        for a in notes:
            if a not in seen and not a.startswith("Counts:"):
                seen.add(a)
                L.append(f"- ({who}) {a}")
    L += ["- Dense CNN: one frame per inference (the events of the whole 90 ms sample "
          "accumulated), batch 1, the 45 nm model fetching fp32 weights from DRAM once per "
          "frame; pooling taps charged as MACs (as the SNN's pooling synapses are charged as "
          "synaptic events); no zero-skipping.",
          "- SNN: integrate-and-fire neurons, every neuron updated at every step (as Loihi "
          "does); input events enter as spikes (their generation by the sensor is not "
          "charged, nor is the frame accumulation of the dense pipeline).", "",
          "![energy ratio vs sparsity](energy_events_ratio.png)",
          "![accuracy vs energy](energy_events_accuracy.png)"]
    with open(os.path.join(out, "energy_events_results.md"), "w") as f:
        f.write("\n".join(L) + "\n")


def plot(r, out):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6), sharey=True)
    dts = sorted({p["dt"] for p in r["points"] if p["sweep"] in SPARSITY})
    for ax, hw in zip(axes, CROSS_HW):
        for dt, ls in zip(dts, ("-", "--")):
            pts = sorted((p for p in r["points"] if p["sweep"] in SPARSITY
                          and p["dt"] == dt and p["activity"] > 0),
                         key=lambda p: p["activity"])
            for base, mk, color in zip(DENSE_HW, "os^", ("tab:blue", "tab:orange",
                                                         "tab:green")):
                xs = [p["activity"] * 100 for p in pts]
                ys = [p["ratio"][hw][base] for p in pts]
                ax.plot(xs, ys, ls, lw=1, color=color,
                        label=f"vs dense CNN on {base}, {dt * 1e3:g} ms steps")
                ok = [p["accuracy"] >= r["accuracy_floor"] for p in pts]
                for want, face in ((True, color), (False, "none")):
                    ax.plot([a for a, o in zip(xs, ok) if o == want],
                            [b for b, o in zip(ys, ok) if o == want], mk, ms=5,
                            color=color, mfc=face, ls="none")
        for t in TARGETS:
            ax.axhline(t, color="gray", lw=0.6, ls="--")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("input activity (% of pixel x polarity x step slots with a spike)")
        ax.set_title(f"SNN on {hw}: dense energy / SNN energy\n(open markers: accuracy "
                     f"below {r['accuracy_floor']:.2f}, not a working inference)", fontsize=9)
        ax.legend(fontsize=7)
    axes[0].set_ylabel("energy ratio (above 1: SNN cheaper)")
    fig.tight_layout()
    fig.savefig(os.path.join(out, "energy_events_ratio.png"), dpi=110)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(7, 4.6))
    for hw, mk in (("loihi", "o"), ("crossbar_rram", "s")):
        for sweep, color in (("timestep", "tab:blue"), ("size", "tab:green"),
                             ("defaults", "tab:red")):
            ps = [p for p in r["points"] if p["sweep"] == sweep and (
                sweep != "defaults" or p["dt"] == 1e-3)]
            ax.plot([p["snn_J"][hw] for p in ps], [p["accuracy"] for p in ps], mk,
                    color=color, label=f"SNN on {hw} ({sweep})")
    m = r["main"]
    for hw, e in m["dense_J"].items():
        ax.plot(e, m["dense_accuracy"], "k*", ms=10)
        ax.annotate(f"dense {hw}", (e, m["dense_accuracy"]), textcoords="offset points",
                    xytext=(4, 4), fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel("energy per inference (J)")
    ax.set_ylabel("test accuracy")
    ax.set_title("saccade digits: accuracy vs energy\n(SNN: sweep samples; dense: test set)",
                 fontsize=10)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "energy_events_accuracy.png"), dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()
