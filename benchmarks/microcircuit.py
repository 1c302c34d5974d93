"""Cortical microcircuit (Potjans & Diesmann 2014): neurosim against NEST, taking turns.

    python benchmarks/microcircuit.py                       # 0.1 scale, DC and Poisson, 1 and 2 threads
    python benchmarks/microcircuit.py --scales 0.1 1 --backgrounds dc --threads 2 --repeats 1
    python benchmarks/microcircuit.py --child neurosim --scale 0.1 --background dc   # one run

Each run is a fresh process (``--child neurosim`` here, or benchmarks/peers/nest_microcircuit.py
in NEST's virtual environment, made on first use as for the CUBA suite: Python 3.11,
``pip install nest-simulator``), started with the same derived parameters
(``neurosim.nets.microcircuit_params``) and the same protocol: build (construct + connect +
prepare: ``net.build()`` / ``nest.Prepare()``), an untimed pre-simulation of ``--presim`` s
(the initial transient; for neurosim also the load of the compiled kernels), then
``--duration`` s timed, whose spikes give the rates per population. Peak memory is the
child's ``ru_maxrss`` (``os.wait4``). Repeat r uses seed ``--seed`` + r (another
realization of the model) and alternates which simulator goes first; the tables give
medians, and the rates' lowest and highest repeat: the model's own spread.

Full scale (NEST needs 3 or more threads there; a run is stopped above ``--rss-cap-gb``)::

    python benchmarks/microcircuit.py --simulators nest --scales 1 --backgrounds dc \
        --threads 4 --repeats 1 --duration 0.1 --presim 0.05 --append

Writes ``microcircuit_results.json``, ``microcircuit_results.md`` and ``microcircuit.png``
into ``--out`` (default: this folder). The machine is shared and timings are noisy: compare
the ratios of one run, not absolute times across runs.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

POPS = ("L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I")


# ----------------------------------------------------------------------------- one run
def run_neurosim(scale, k_scale, background, threads, duration, presim, seed, dtype):
    """Build and run the microcircuit in this process; a dict of timings and rates."""
    t_proc = time.perf_counter()
    import numpy as np
    import neurosim as ns
    from neurosim.nets import microcircuit
    from neurosim.units import ms
    t0 = time.perf_counter()
    net = ns.Network(dt=0.1 * ms, seed=seed, dtype=dtype, threads=threads)
    pops = microcircuit(net, scale=scale, k_scale=k_scale, background=background)
    connect_s = time.perf_counter() - t0
    net.build()
    build_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    net.run(presim, progress=False)
    presim_s = time.perf_counter() - t1
    c0 = {k: net.spike_counts(p).sum() for k, p in pops.items()}
    t1 = time.perf_counter()
    net.run(duration, progress=False)
    sim_s = time.perf_counter() - t1
    counts = {k: int(net.spike_counts(p).sum() - c0[k]) for k, p in pops.items()}
    return dict(simulator="neurosim", version=ns.__version__, threads=threads, dtype=dtype,
                scale=scale, k_scale=k_scale, background=background,
                neurons=int(sum(p.n for p in pops.values())),
                synapses=int(sum(p.n_synapses for p in net.projections)),
                connect_s=round(connect_s, 3), build_s=round(build_s, 3),
                presim_s=round(presim_s, 3), sim_s=round(sim_s, 3), duration=duration,
                spikes=int(sum(counts.values())),
                rates={k: round(counts[k] / (pops[k].n * duration), 4) for k in pops},
                seed=seed, process_s=round(time.perf_counter() - t_proc, 3),
                numba=__import__("numba").__version__, numpy=np.__version__)


def nest_params(scale, k_scale, background, dt_ms=0.1):
    """The derived parameters in NEST's units (pA, ms, mV), for the NEST peer."""
    from neurosim.nets import microcircuit_params
    p = microcircuit_params(scale, k_scale, background)
    pA, ms_, mV = 1e-12, 1e-3, 1e-3
    nrn = p["neuron"]
    return dict(
        names=list(p["names"]), n=p["n"].tolist(), n_synapses=p["n_synapses"].tolist(),
        psc_mean=(p["psc_mean"] / pA).tolist(), weight_rel_sd=p["weight_rel_sd"],
        delay_mean=(p["delay_mean"] / ms_).tolist(), delay_sd=(p["delay_sd"] / ms_).tolist(),
        k_ext=p["k_ext"].tolist(), bg_rate=p["bg_rate"], psc_ext=p["psc_ext"] / pA,
        delay_poisson=p["delay_poisson"] / ms_, dc=(p["dc"] / pA).tolist(),
        v0_mean=(p["v0_optimized"][0] / mV).tolist(), v0_sd=(p["v0_optimized"][1] / mV).tolist(),
        neuron=dict(C_m=nrn["C_m"] / pA, tau_m=nrn["tau_m"] / ms_, tau_syn=nrn["tau_syn"] / ms_,
                    t_ref=nrn["t_ref"] / ms_, E_L=nrn["E_L"] / mV, V_th=nrn["V_th"] / mV,
                    V_reset=nrn["V_reset"] / mV),
        background=background, scale=scale, k_scale=k_scale, dt_ms=dt_ms)


def _rss_guard(proc, cap_mb, hit):
    """Kill ``proc`` when its resident memory passes ``cap_mb`` (a shared machine: a run
    that would take the memory of other jobs is stopped instead)."""
    while proc.poll() is None:
        try:
            with open(f"/proc/{proc.pid}/status") as f:
                rss = next(int(ln.split()[1]) for ln in f if ln.startswith("VmRSS"))
        except (OSError, StopIteration, ValueError):
            return
        if rss / 1024 > cap_mb:
            hit.append(rss / 1024)
            proc.kill()
            return
        time.sleep(0.1)


def spawn(cmd, timeout, env=None, rss_cap_mb=None):
    """Run ``cmd``; its last JSON line plus the child's peak RSS (MB) and wall time."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env)
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    hit = []
    if rss_cap_mb:
        threading.Thread(target=_rss_guard, args=(proc, rss_cap_mb, hit), daemon=True).start()
    out, err = [], []
    threads = [threading.Thread(target=lambda s, b: b.extend(s), args=(s, b))
               for s, b in ((proc.stdout, out), (proc.stderr, err))]
    for t in threads:
        t.start()
    _, status, usage = os.wait4(proc.pid, 0)
    for t in threads:
        t.join()
    timer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    rss_mb = round(usage.ru_maxrss / 1024, 1)
    if proc.returncode != 0:
        why = (f"killed by signal {-proc.returncode}" if proc.returncode < 0
               else f"exit {proc.returncode}")
        if proc.returncode == -9 and wall >= timeout:
            why += f" (timeout {timeout:.0f} s)"
        if hit:
            why += f" (resident memory passed the cap of {rss_cap_mb / 1024:.1f} GB)"
        last = [ln.strip() for ln in err if ln.strip()][-1:]
        return dict(error=" ".join([why] + last), peak_rss_mb=rss_mb, wall_s=round(wall, 2))
    row = json.loads([ln for ln in out if ln.startswith("{")][-1])
    row["peak_rss_mb"] = rss_mb
    row["wall_s"] = round(wall, 2)
    return row


# ----------------------------------------------------------------------------- the suite
def commands(args, scale, background, threads, params_dir, seed):
    """Simulator name -> command line for one configuration."""
    common = ["--duration", str(args.duration), "--presim", str(args.presim),
              "--threads", str(threads)]
    cmds = {"neurosim": [sys.executable, os.path.abspath(__file__), "--child", "neurosim",
                         "--scale", str(scale), "--k-scale", str(args.k_scale),
                         "--background", background, "--seed", str(seed),
                         "--dtype", args.dtype] + common}
    if args.nest_python:
        path = os.path.join(params_dir, f"params_{scale}_{args.k_scale}_{background}.json")
        with open(path, "w") as f:
            json.dump(nest_params(scale, args.k_scale, background), f)
        cmds["nest"] = [args.nest_python, os.path.join(HERE, "peers", "nest_microcircuit.py"),
                        "--params", path, "--seed", str(seed)] + common
    return cmds


def summarize(runs):
    """Medians over the successful repeats of one simulator and configuration."""
    ok = [r for r in runs if "error" not in r]
    if not ok:
        return dict(error=runs[0]["error"] if runs else "not run",
                    peak_rss_mb=max((r.get("peak_rss_mb", 0) for r in runs), default=None))
    med = lambda key: round(statistics.median(r[key] for r in ok), 3)  # noqa: E731
    out = {k: ok[0][k] for k in ("simulator", "version", "threads", "scale", "k_scale",
                                 "background", "neurons", "synapses", "duration")}
    out.update(repeats=len(ok), build_s=med("build_s"), presim_s=med("presim_s"),
               sim_s=med("sim_s"), peak_rss_mb=med("peak_rss_mb"),
               s_per_sim_s=round(statistics.median(r["sim_s"] / r["duration"] for r in ok), 3))
    out["rates"] = {p: round(statistics.median(r["rates"][p] for r in ok), 3) for p in POPS}
    out["rates_min"] = {p: min(r["rates"][p] for r in ok) for p in POPS}
    out["rates_max"] = {p: max(r["rates"][p] for r in ok) for p in POPS}
    out["seeds"] = sorted({r["seed"] for r in ok})
    out["sim_s_all"] = [r["sim_s"] for r in ok]
    out["build_s_all"] = [r["build_s"] for r in ok]
    if len(ok) < len(runs):
        out["failed"] = [r["error"] for r in runs if "error" in r]
    return out


def warm_up(args):
    """One small untimed neurosim run per thread count: Numba's cache is then warm."""
    for t in sorted(set(args.threads)):
        for bg in args.backgrounds:
            cmd = [sys.executable, os.path.abspath(__file__), "--child", "neurosim",
                   "--scale", "0.01", "--background", bg, "--threads", str(t),
                   "--duration", "0.01", "--presim", "0.01", "--dtype", args.dtype]
            r = spawn(cmd, 900)
            if "error" in r:
                print(f"warm-up failed: {r['error']}", file=sys.stderr)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--child", choices=("neurosim",), help=argparse.SUPPRESS)
    ap.add_argument("--scale", type=float, default=0.1, help=argparse.SUPPRESS)
    ap.add_argument("--background", default="dc", help=argparse.SUPPRESS)
    ap.add_argument("--scales", type=float, nargs="+", default=[0.1])
    ap.add_argument("--k-scale", type=float, default=1.0)
    ap.add_argument("--backgrounds", nargs="+", default=["dc", "poisson"],
                    choices=("dc", "poisson"))
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--duration", type=float, default=1.0, help="timed simulation (s)")
    ap.add_argument("--presim", type=float, default=0.1, help="untimed warm-up (s)")
    ap.add_argument("--seed", type=int, default=55,
                    help="seed of the first repeat; repeat r uses seed + r")
    ap.add_argument("--dtype", default="float64", choices=("float64", "float32"))
    ap.add_argument("--timeout", type=float, default=1800, help="per run (s)")
    ap.add_argument("--rss-cap-gb", type=float, default=17.0,
                    help="kill a run whose resident memory passes this (shared machine)")
    ap.add_argument("--no-nest", action="store_true")
    ap.add_argument("--simulators", nargs="+", default=["nest", "neurosim"])
    ap.add_argument("--out", default=HERE)
    ap.add_argument("--tag", default="microcircuit_results",
                    help="file name stem of the results (json, md)")
    ap.add_argument("--render", action="store_true", help="only redraw from the JSON")
    ap.add_argument("--append", action="store_true",
                    help="keep the rows of the existing JSON that this run does not redo")
    args = ap.parse_args(argv)
    if args.child:
        threads = args.threads[0]
        print(json.dumps(run_neurosim(args.scale, args.k_scale, args.background, threads,
                                      args.duration, args.presim, args.seed, args.dtype)))
        return
    json_path = os.path.join(args.out, args.tag + ".json")
    if args.render:
        with open(json_path) as f:
            data = json.load(f)
        write_outputs(data, args)
        return
    args.nest_python = None
    if not args.no_nest and "nest" in args.simulators:
        from run_suite import nest_python
        args.nest_python = nest_python()
        if args.nest_python is None:
            print("NEST unavailable: its rows are left out", file=sys.stderr)
    if "neurosim" in args.simulators:
        warm_up(args)
    meta = dict(date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                machine=f"{platform.machine()}, {os.cpu_count()} cores, "
                        f"{_mem_gb():.0f} GB (shared with other jobs)",
                python=platform.python_version(), command=" ".join(
                    ["python", "benchmarks/microcircuit.py"] + (argv or sys.argv[1:])),
                duration=args.duration, presim=args.presim, seed=args.seed, dtype=args.dtype,
                k_scale=args.k_scale)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for scale in args.scales:
            for bg in args.backgrounds:
                for t in args.threads:
                    runs = {k: [] for k in args.simulators}
                    for rep in range(args.repeats):
                        cmds = {k: v for k, v in commands(args, scale, bg, t, tmp,
                                                          args.seed + rep).items()
                                if k in args.simulators}
                        order = list(cmds) if rep % 2 == 0 else list(cmds)[::-1]
                        for name in order:
                            if runs[name] and all("error" in r for r in runs[name]):
                                continue          # failed once (memory, timeout): not again
                            r = spawn(cmds[name], args.timeout,
                                      rss_cap_mb=args.rss_cap_gb * 1024)
                            runs[name].append(r)
                            print(f"scale {scale} {bg} {t}t {name} #{rep}: "
                                  + (r["error"] if "error" in r else
                                     f"build {r['build_s']} s, sim {r['sim_s']} s, "
                                     f"{r['peak_rss_mb']:.0f} MB"), file=sys.stderr)
                    for name, rs in runs.items():
                        if not rs:
                            continue
                        row = summarize(rs)
                        row.update(simulator=name, scale=scale, background=bg, threads=t)
                        results.append(row)
    if args.append and os.path.exists(json_path):
        with open(json_path) as f:
            old = json.load(f)
        new = {_key(r) for r in results}
        results = [r for r in old["rows"] if _key(r) not in new] + results
        meta["commands"] = old["meta"].get("commands", [old["meta"]["command"]]) + [
            meta["command"]]
        meta = dict(old["meta"], commands=meta["commands"], date=meta["date"])
    data = dict(meta=meta, rows=results)
    os.makedirs(args.out, exist_ok=True)
    with open(json_path, "w") as f:
        json.dump(data, f, indent=1)
    print(json.dumps(data))
    write_outputs(data, args)


def _durations(rows, meta):
    """The timed durations of the rows (the appended runs may differ from the first)."""
    by = {}
    for r in rows:
        if "duration" in r:
            by.setdefault(r["duration"], set()).add(f"scale {r['scale']:g}")
    if len(by) <= 1:
        return f"{meta['duration']} s"
    return ", ".join(f"{d:g} s at {'/'.join(sorted(sc))}" for d, sc in sorted(by.items()))


def _key(row):
    return (row["scale"], row["background"], row["threads"], row["simulator"])


def _mem_gb():
    try:
        with open("/proc/meminfo") as f:
            return int(f.readline().split()[1]) / 2**20
    except OSError:
        return float("nan")


# ----------------------------------------------------------------------------- outputs
REFERENCE_RATES = {  # the PyNEST example's full-scale rates (Hz), Poisson background
    "L23E": 0.943, "L23I": 3.026, "L4E": 4.368, "L4I": 5.882,
    "L5E": 7.733, "L5I": 8.664, "L6E": 1.096, "L6I": 7.851}


def _pairs(rows):
    """(scale, background, threads) -> {simulator: row}."""
    out = {}
    for r in rows:
        out.setdefault((r["scale"], r["background"], r["threads"]), {})[r["simulator"]] = r
    return out


def _fmt(x, unit=""):
    return "-" if x is None else f"{x:.3g}{unit}"


def write_outputs(data, args):
    meta = data["meta"]
    rows = sorted(data["rows"], key=lambda r: (r["scale"], r["background"], r["threads"],
                                               r["simulator"]))
    versions = sorted({f"{r['simulator']} {r['version']}" for r in rows if "version" in r})
    lines = [f"# Cortical microcircuit: neurosim vs NEST ({meta['date']})", "",
             f"Machine: {meta['machine']}; Python {meta['python']} (neurosim), "
             f"{', '.join(versions)}.", "",
             "Reproduce: " + "; ".join(f"`{c}`" for c in meta.get("commands",
                                                                 [meta["command"]])), "",
             f"Protocol: each run a fresh process; build = construct + connect + prepare; "
             f"{meta['presim']} s untimed pre-simulation, then the timed simulation "
             f"({_durations(rows, meta)}); "
             f"medians of the repeats (the simulators take turns); peak memory = the "
             f"child's ru_maxrss; repeat r uses seed {meta['seed']} + r (NEST's rng_seed, "
             f"neurosim's network seed: each repeat is another realization of the model, "
             f"drawn differently by the two simulators), neurosim in {meta['dtype']}, "
             f"k_scale {meta['k_scale']}. The machine is shared: absolute times are noisy, "
             f"the ratios of one run less so.", "",
             "| scale | background | threads | simulator | neurons | synapses | build s | "
             "s per simulated s | peak memory | repeats |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for (scale, bg, t), sims in _pairs(rows).items():
        for name, r in sorted(sims.items()):
            if "error" in r:
                lines.append(f"| {scale} | {bg} | {t} | {name} | | | | | "
                             f"{_fmt((r.get('peak_rss_mb') or 0) / 1024, ' GB')} | "
                             f"failed: {r['error']} |")
                continue
            lines.append(
                f"| {scale} | {bg} | {t} | {name} | {r['neurons']:,} | {r['synapses']:,} | "
                f"{r['build_s']:.3g} | {r['s_per_sim_s']:.3g} | "
                f"{r['peak_rss_mb'] / 1024:.2f} GB | {r['repeats']} |")
    lines += ["", "Ratios neurosim / NEST (same configuration, medians):", "",
              "| scale | background | threads | build | time per simulated s | peak memory |",
              "|---|---|---|---|---|---|"]
    for (scale, bg, t), sims in _pairs(rows).items():
        a, b = sims.get("neurosim"), sims.get("nest")
        if a and b and "error" not in a and "error" not in b:
            lines.append(f"| {scale} | {bg} | {t} | {a['build_s'] / b['build_s']:.2f} | "
                         f"{a['s_per_sim_s'] / b['s_per_sim_s']:.2f} | "
                         f"{a['peak_rss_mb'] / b['peak_rss_mb']:.2f} |")
    lines += ["", "Rates per population (Hz; median over the repeats' realizations and, in "
              "brackets, the lowest and highest: the model's own spread), against the PyNEST example's full-scale rates "
              "(Poisson background; nest-simulator pynest/examples/Potjans_2014/"
              "network_params.py, `full_mean_rates`):", "",
              "| scale | background | threads | simulator | seeds | " + " | ".join(POPS) + " |",
              "|---|---|---|---|---|" + "---|" * len(POPS),
              "| 1 | poisson | - | published (NEST example) | - | "
              + " | ".join(f"{REFERENCE_RATES[p]:.3g}" for p in POPS) + " |"]
    for (scale, bg, t), sims in _pairs(rows).items():
        for name, r in sorted(sims.items()):
            if "error" in r:
                continue
            cells = [f"{r['rates'][p]:.3g} [{r['rates_min'][p]:.3g}-{r['rates_max'][p]:.3g}]"
                     if len(r.get("seeds", [])) > 1 else f"{r['rates'][p]:.3g}" for p in POPS]
            seeds = ", ".join(str(x) for x in r.get("seeds", [meta["seed"]]))
            lines.append(f"| {scale} | {bg} | {t} | {name} | {seeds} | " + " | ".join(cells)
                         + " |")
    lines += ["", "Notes:", "",
              "- neurosim draws the same network and spikes for any thread count; NEST's "
              "draws depend on the number of virtual processes, so its rows for 1 and 2 "
              "threads are different realizations.",
              "- With 2 threads on this 2-core machine shared with other jobs, both "
              "simulators slow down and vary from run to run (each step waits for both "
              "threads, one of which waits for a core); the 1-thread rows are the steadier "
              "comparison.",
              "- Full scale: NEST refuses more than 134M connections per thread, so it runs "
              "with 4 threads (on the 2 cores); a run whose resident memory passes "
              "`--rss-cap-gb` is stopped (the machine is shared) and reported as failed."]
    md = os.path.join(args.out, args.tag + ".md")
    with open(md, "w") as f:
        f.write("\n".join(lines) + "\n")
    try:
        _plot(rows, os.path.join(args.out, "microcircuit.png" if args.tag ==
                                 "microcircuit_results" else args.tag + ".png"))
    except ImportError:
        pass
    print(f"wrote {md}", file=sys.stderr)


def _plot(rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    pairs = {k: v for k, v in _pairs(rows).items()
             if all("error" not in r for r in v.values())}
    if not pairs:
        return
    fig, axes = plt.subplots(1, 4, figsize=(17, 4.2),
                             gridspec_kw=dict(width_ratios=[1, 1, 1, 1.4]))
    keys = list(pairs)
    sims = sorted({s for v in pairs.values() for s in v})
    width = 0.8 / len(sims)
    for ax, key, label, f in ((axes[0], "s_per_sim_s", "wall-clock s per simulated s", 1),
                              (axes[1], "build_s", "build (s)", 1),
                              (axes[2], "peak_rss_mb", "peak memory (GB)", 1 / 1024)):
        for k, sim in enumerate(sims):
            vals = [pairs[c][sim][key] * f if sim in pairs[c] else 0 for c in keys]
            ax.bar([i + k * width for i in range(len(keys))], vals, width, label=sim,
                   color=f"C{k}")
        ax.set_xticks([i + width * (len(sims) - 1) / 2 for i in range(len(keys))])
        ax.set_xticklabels([f"{s:g}\n{bg}\n{t} thr" for s, bg, t in keys], fontsize=8)
        ax.set_ylabel(label)
        ax.legend(fontsize=8)
    ax = axes[3]
    x = range(len(POPS))
    ax.plot(x, [REFERENCE_RATES[p] for p in POPS], "k*", ms=10,
            label="published full scale (NEST example)")
    markers = {"neurosim": "o", "nest": "s"}
    for k, ((s, bg, t), v) in enumerate(pairs.items()):
        for sim, r in v.items():
            ax.plot([i + 0.08 * (k - len(pairs) / 2) for i in x], [r["rates"][p] for p in POPS],
                    markers.get(sim, "^"), mfc="none" if sim == "nest" else None,
                    color=f"C{k}", label=f"{sim} {s:g} {bg} {t}t")
    ax.set_xticks(list(x))
    ax.set_xticklabels(POPS)
    ax.set_ylabel("rate (Hz)")
    ax.legend(fontsize=6, ncol=2)
    fig.suptitle("Potjans & Diesmann microcircuit: neurosim vs NEST", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()
