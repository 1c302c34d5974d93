"""Brunel (2000, AI regime) and COBA (Vogels & Abbott 2005): neurosim against Brian2
cpp_standalone and NEST 3, taking turns.

    python benchmarks/models.py --quick          # small sizes, one round, 1 thread (~2 min)
    python benchmarks/models.py                  # Brunel 12,500 neurons, COBA 4,000; 1 and 2
                                                 # threads, 3 rounds (the suite's table)
    python benchmarks/models.py --child neurosim --model brunel --scale 0.1 --spikes X.npz

Every run is a fresh process: neurosim (``--child neurosim`` here), Brian2 cpp_standalone
(benchmarks/peers/brian2_brunel.py, brian2_coba.py; one thread is Brian2's default build,
openmp_threads = 0; two threads openmp_threads = 2) and NEST (peers/nest_brunel.py,
nest_coba.py in NEST's virtual environment, made on first use as for the CUBA suite:
benchmarks/.venv-nest, Python 3.11, ``pip install nest-simulator``). In each round every
simulator runs once, in an order that rotates from round to round, so all see the same load;
the tables give medians over the rounds (round r uses seed --seed + r).

The same model in every simulator (``neurosim.nets.brunel`` and ``coba`` say how):

* Brunel, model A, regime AI (g = 5, eta = 2), 10,000 + 2,500 neurons times --brunel-scale,
  fixed in-degrees C_E = 1000, C_I = 250 (times the scale), J = 0.1 mV, D = 1.5 ms, Poisson
  drive C_E * eta * nu_thr per neuron, all neurons start at v = 0. Delta synapses: neurosim
  ``synapse="delta"``, Brian2 ``v_post += J`` with a PoissonInput (as its example), NEST
  iaf_psc_delta + poisson_generator. Both peers discard inputs that arrive during the
  refractory period (Brunel's model), but their timing differs by a step (NEST holds a
  neuron one step longer and lets an input make it spike in the step it arrives). neurosim
  runs both (``convention="brian2"`` and ``"nest"``), and each ratio compares neurosim with
  the peer whose convention it ran.
* COBA, N = --coba-n (80 % excitatory, in-degree 80 by p = 80/N), conductance-based
  exponential synapses, delay 0.1 ms in all three, initial state as Brette et al.'s Brian
  script. neurosim ``synapse="cond_exp"`` and Brian2 ``method='exponential_euler'`` (the
  same integration), NEST iaf_cond_exp (GSL's adaptive RK45: another solver).

Timing. build s: network construction and connection (neurosim: + build(); Brian2: code
generation, compilation and the binary's set-up, i.e. the whole run less its main loop;
NEST: Create + Connect + Prepare). sim s: one run of --presim + --duration seconds of
biological time (neurosim: after one untimed step that loads the compiled kernels), given
per simulated second. Peak memory: the largest resident set of the simulating process
(Brian2: of its Python process or its binary, whichever is larger; not the compiler). Rates
and CV(ISI) are computed here, from the spikes of the last --duration seconds, the same way
for all: rate = spikes / (N duration); CV = mean over neurons with >= 3 spikes of
sd(ISI) / mean(ISI).

Writes models_results.json and models_results.md into --out (default: this folder; --quick:
out/bench) and prints each row as JSON. Timings on a shared machine are noisy: compare the
ratios of one run, not absolute times across runs.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
sys.path.insert(0, HERE)

from run_suite import nest_python, run_one  # noqa: E402

#: neurosim's convention for each peer it is compared with (Brunel: where the peers differ).
CONVENTION_OF = {"brian2": "brian2", "nest": "nest"}


# ----------------------------------------------------------------------------- one run
def run_neurosim(args):
    """Build and run one model in this process; writes the spikes, returns the row."""
    t_proc = time.perf_counter()
    import resource

    import numpy as np
    import neurosim as ns
    from neurosim.nets import brunel, coba
    from neurosim.units import ms
    t0 = time.perf_counter()
    net = ns.Network(dt=0.1 * ms, seed=args.seed, threads=args.threads)
    if args.model == "brunel":
        exc, inh = brunel(net, "AI", scale=args.scale, convention=args.convention)
        extra = dict(g=5.0, eta=2.0, scale=args.scale, convention=args.convention)
    else:
        exc, inh = coba(net, N=args.N, delay=0.1 * ms)
        extra = dict(indegree=80, convention=args.convention)
    mons = [net.spike_monitor(exc), net.spike_monitor(inh)]
    net.build()
    build_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    net.run(0.0, progress=False)
    net.run(net.dt, progress=False)                # loads (or compiles) the kernels
    compile_s = time.perf_counter() - t1
    total = args.presim + args.duration
    t1 = time.perf_counter()
    net.run(total - net.dt, progress=False)
    sim_s = time.perf_counter() - t1
    t = np.concatenate([m.times for m in mons])
    i = np.concatenate([mons[0].indices, mons[1].indices + exc.n])
    keep = t >= args.presim - 1e-9
    n = exc.n + inh.n
    np.savez(args.spikes, t=t[keep], i=i[keep], n=n, t0=args.presim, duration=args.duration)
    syn = sum(p.n_synapses for p in net.projections if not p.name.startswith("init_"))
    return dict(simulator="neurosim", model=args.model, version=ns.__version__,
                build=f"numba {__import__('numba').__version__}", threads=args.threads, N=n,
                synapses=int(syn), build_s=round(build_s, 4), compile_s=round(compile_s, 3),
                sim_s=round(sim_s, 4), simulated_s=round(total - net.dt, 6),
                sim_per_simulated_s=round(sim_s / (total - net.dt), 4),
                spikes=int(keep.sum()), seed=args.seed,
                process_s=round(time.perf_counter() - t_proc, 3),
                peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                **extra)


def spike_stats(path):
    """(rate Hz, mean CV of the ISIs, neurons with >= 3 spikes) of a spike file."""
    import numpy as np
    d = np.load(path)
    t, i, n, dur = d["t"], d["i"], int(d["n"]), float(d["duration"])
    rate = t.size / (n * dur)
    order = np.lexsort((t, i))
    t, i = t[order], i[order]
    isi = np.diff(t)
    same = i[1:] == i[:-1]                      # consecutive spikes of one neuron
    isi, who = isi[same], i[1:][same]
    counts = np.bincount(who, minlength=n)      # ISIs per neuron
    ok = counts >= 2
    s1 = np.bincount(who, weights=isi, minlength=n)
    s2 = np.bincount(who, weights=isi * isi, minlength=n)
    mean = s1[ok] / counts[ok]
    sd = np.sqrt(np.maximum(s2[ok] / counts[ok] - mean * mean, 0.0))
    cv = float(np.mean(sd / mean)) if ok.any() else float("nan")
    return round(rate, 3), round(cv, 4), int(ok.sum())


# ----------------------------------------------------------------------------- the suite
def commands(args, model, threads, seed, spikes):
    """Simulator name -> command line, for one model and thread count."""
    size = (["--scale", str(args.brunel_scale)] if model == "brunel"
            else ["--N", str(args.coba_n)])
    common = size + ["--duration", str(args.duration), "--presim", str(args.presim),
                     "--threads", str(threads), "--seed", str(seed)]
    me = [sys.executable, os.path.abspath(__file__), "--child", "neurosim", "--model", model]
    cmds = {}
    convs = ("brian2", "nest") if model == "brunel" else ("brian2",)
    for conv in convs:
        cmds[f"neurosim-{conv}"] = me + common + ["--convention", conv,
                                                  "--spikes", spikes(f"neurosim-{conv}")]
    if not args.no_brian2:
        cmds["brian2"] = [sys.executable, os.path.join(HERE, "peers", f"brian2_{model}.py")] \
            + common + ["--spikes", spikes("brian2")]
    if args.nest_python:
        cmds["nest"] = [args.nest_python, os.path.join(HERE, "peers", f"nest_{model}.py")] \
            + common + ["--spikes", spikes("nest")]
    return cmds


def summarize(runs):
    """Medians over the successful rounds of one simulator, model and thread count."""
    ok = [r for r in runs if "error" not in r]
    if not ok:
        return dict(error=runs[0]["error"] if runs else "not run")
    silent = [r for r in ok if r["spikes"] == 0]
    if len(silent) < len(ok):        # COBA's activity can die out: such rounds time a silent
        ok = [r for r in ok if r["spikes"] > 0]       # network, they are left out (counted)
    med = lambda key: round(statistics.median(r[key] for r in ok), 4)  # noqa: E731
    out = {k: v for k, v in ok[0].items() if k not in ("seed", "spikes", "process_wall_s",
                                                         "load_1min")}
    for key in ("build_s", "compile_s", "sim_s", "sim_per_simulated_s", "peak_rss_mb",
                "rate_hz", "cv_isi", "process_s"):
        if all(key in r for r in ok):
            out[key] = med(key)
    out.update(rounds=len(ok), seeds=[r["seed"] for r in ok],
               sim_per_simulated_s_all=[r["sim_per_simulated_s"] for r in ok],
               rate_hz_all=[r["rate_hz"] for r in ok], cv_isi_all=[r["cv_isi"] for r in ok],
               load_1min=[r.get("load_1min") for r in ok])
    errors = [r["error"] for r in runs if "error" in r]
    if errors:
        out["failed"] = errors
    if silent:
        out["silent_rounds"] = [r["seed"] for r in silent]
    return out


def warm_up(args):
    """One small untimed neurosim run per model, convention and thread count, so that
    Numba's cache is warm before anything is timed."""
    with tempfile.TemporaryDirectory() as tmp:
        for model in args.models:
            for t in args.threads:
                for conv in (("brian2", "nest") if model == "brunel" else ("brian2",)):
                    size = ["--scale", "0.02"] if model == "brunel" else ["--N", "200"]
                    r = run_one([sys.executable, os.path.abspath(__file__), "--child",
                                 "neurosim", "--model", model, "--threads", str(t),
                                 "--convention", conv, "--duration", "0.01", "--presim",
                                 "0.01", "--spikes", os.path.join(tmp, "w.npz")] + size, 1800)
                    if "error" in r:
                        print(f"warm-up failed ({model}, {t} threads, {conv}): {r['error']}",
                              file=sys.stderr)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help="Brunel scale 0.1, COBA N = 4000, 0.2 s after 0.1 s, 1 thread, 1 round")
    ap.add_argument("--models", nargs="*", choices=("brunel", "coba"),
                    default=["brunel", "coba"])
    ap.add_argument("--brunel-scale", type=float, default=None, help="default 1 (quick 0.1)")
    ap.add_argument("--coba-n", type=int, default=None, help="default 4000")
    ap.add_argument("--duration", type=float, default=None,
                    help="seconds of which rates are measured (default 1; quick 0.2)")
    ap.add_argument("--presim", type=float, default=None,
                    help="seconds simulated first (timed, spikes not counted; default 0.2)")
    ap.add_argument("--threads", type=int, nargs="*", default=None, help="default 1 2 (quick 1)")
    ap.add_argument("--rounds", type=int, default=None, help="default 3 (quick 1)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-nest", action="store_true")
    ap.add_argument("--no-brian2", action="store_true")
    ap.add_argument("--out", default=None)
    # one run in this process
    ap.add_argument("--child", choices=("neurosim",))
    ap.add_argument("--model", choices=("brunel", "coba"))
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--N", type=int, default=4000)
    ap.add_argument("--convention", choices=("brian2", "nest"), default="brian2")
    ap.add_argument("--spikes")
    args = ap.parse_args(argv)
    if args.child:                                 # one run: --threads is one number
        args.threads = args.threads[0] if args.threads else 1
        args.duration = 1.0 if args.duration is None else args.duration
        args.presim = 0.2 if args.presim is None else args.presim
        print(json.dumps(run_neurosim(args)), flush=True)
        return
    q = args.quick
    for key, full, quick in (("brunel_scale", 1.0, 0.1), ("coba_n", 4000, 4000),
                             ("duration", 1.0, 0.2), ("presim", 0.2, 0.1),
                             ("threads", [1, 2], [1]), ("rounds", 3, 1)):
        if getattr(args, key) is None:
            setattr(args, key, quick if q else full)
    out_dir = args.out or (os.path.join(ROOT, "out", "bench") if q else HERE)
    os.makedirs(out_dir, exist_ok=True)
    args.nest_python = None if args.no_nest else nest_python()
    if not args.no_nest and args.nest_python is None:
        print("NEST unavailable: its rows are left out", file=sys.stderr)
    warm_up(args)
    rows = []
    with tempfile.TemporaryDirectory(prefix="neurosim_models_") as tmp:
        for model in args.models:
            for threads in args.threads:
                runs = {}
                for r in range(args.rounds):
                    seed = args.seed + r

                    def spikes(name):
                        return os.path.join(tmp, f"{model}_{threads}_{name}_{r}.npz")

                    cmds = commands(args, model, threads, seed, spikes)
                    names = list(cmds)
                    names = names[r % len(names):] + names[:r % len(names)]   # rotate
                    for name in names:
                        row = run_one(cmds[name], timeout=3600)
                        if "error" not in row:
                            row["rate_hz"], row["cv_isi"], row["cv_neurons"] = \
                                spike_stats(spikes(name))
                        else:
                            row = dict(row, error=" ".join(row["error"]), seed=seed)
                        runs.setdefault(name, []).append(row)
                for name, rs in runs.items():
                    row = dict(summarize(rs), key=name, model=model, threads=threads)
                    rows.append(row)
                    print(json.dumps(row), flush=True)
    _ratios(rows)
    meta = dict(machine=f"{platform.machine()} {platform.processor() or ''} "
                        f"{os.cpu_count()} cores", python=sys.version.split()[0],
                date=time.strftime("%Y-%m-%d"), duration_s=args.duration,
                presim_s=args.presim, rounds=args.rounds, quick=q,
                brunel_scale=args.brunel_scale, coba_n=args.coba_n,
                command=" ".join(["python", "benchmarks/models.py"] + (argv or sys.argv[1:])))
    with open(os.path.join(out_dir, "models_results.json"), "w") as f:
        json.dump(dict(meta=meta, rows=rows), f, indent=1)
    write_markdown(rows, meta, os.path.join(out_dir, "models_results.md"))
    print(f"wrote {out_dir}/models_results.md, models_results.json", file=sys.stderr)


def _ratios(rows):
    """neurosim's time per simulated second over each peer's (same model and threads), the
    neurosim row of the peer's convention; and the same for rates and CVs."""
    by = {(r["key"], r["model"], r["threads"]): r for r in rows if "error" not in r}
    for r in rows:
        if "error" in r or r["key"] not in ("brian2", "nest"):
            continue
        ns_row = by.get((f"neurosim-{CONVENTION_OF[r['key']]}", r["model"], r["threads"])) \
            or by.get(("neurosim-brian2", r["model"], r["threads"]))
        if ns_row is None:
            continue
        r["neurosim_row"] = ns_row["key"]
        r["ratio_sim"] = round(ns_row["sim_per_simulated_s"] / r["sim_per_simulated_s"], 3)
        r["ratio_build"] = round(ns_row["build_s"] / r["build_s"], 3)
        r["ratio_memory"] = round(ns_row["peak_rss_mb"] / r["peak_rss_mb"], 3)
        r["ratio_rate"] = round(ns_row["rate_hz"] / r["rate_hz"], 3) if r["rate_hz"] else None
        r["ratio_cv"] = round(ns_row["cv_isi"] / r["cv_isi"], 3) if r["cv_isi"] else None


def _name(r):
    if r["key"].startswith("neurosim"):
        return f"neurosim {r.get('version', '')} (convention={r['convention']})"
    if r["key"] == "brian2":
        return f"Brian2 {r.get('version', '')} {r.get('build', '')}"
    return f"NEST {r.get('version', '')} {r.get('build', '')}"


def write_markdown(rows, meta, path):
    size = {"brunel": f"Brunel AI (g = 5, eta = 2), scale {meta['brunel_scale']}",
            "coba": f"COBA, N = {meta['coba_n']}"}
    lines = ["# Brunel and COBA: neurosim, Brian2 cpp_standalone, NEST", "",
             f"Machine: {meta['machine']}; Python {meta['python']}; {meta['date']}; "
             f"{meta['presim_s']} s + {meta['duration_s']} s simulated per run (dt 0.1 ms), "
             f"rates and CV(ISI) from the last {meta['duration_s']} s; medians of "
             f"{meta['rounds']} round(s), the simulators taking turns in each round. "
             f"Command: `{meta['command']}`." + (" **Quick run: small sizes, one round; "
                                                  "the figures are noisy.**" if meta["quick"]
                                                  else ""), "",
             "Brian2 on one thread is its default cpp_standalone build (openmp_threads = 0), "
             "on two openmp_threads = 2. Ratio = neurosim / peer (below 1: neurosim faster or "
             "smaller); for Brunel each peer is compared with the neurosim run of its "
             "convention (NEST holds a refractory neuron one step longer than Brian2 and "
             "adds an input before the threshold of its step).", "",
             "| model | threads | simulator | N | synapses | build s | s per simulated s | "
             "peak MB | rate Hz | CV ISI | neurosim / peer: time, build, memory, rate, CV |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        head = f"| {size[r['model']]} | {r['threads']} | "
        if "error" in r:
            lines.append(head + f"{r['key']} | failed: {r['error'][:100]} |||||||| |")
            continue
        ratio = ""
        if "ratio_sim" in r:
            ratio = (f"**{r['ratio_sim']:.2f}**, {r['ratio_build']:.2f}, "
                     f"{r['ratio_memory']:.2f}, {r['ratio_rate']}, {r['ratio_cv']} "
                     f"(vs {r['neurosim_row']})")
        lines.append(head + f"{_name(r)} | {r['N']} | {r['synapses']:,} | {r['build_s']:.2f} | "
                     f"{r['sim_per_simulated_s']:.3f} | {r['peak_rss_mb']:.0f} | "
                     f"{r['rate_hz']:.2f} | {r['cv_isi']:.3f} | {ratio} |")
    lines += ["", "Per round (s per simulated second; rate Hz; CV):", ""]
    for r in rows:
        if "error" not in r:
            lines.append(f"- {r['model']}, {r['threads']} thread(s), {r['key']}: "
                         f"{r['sim_per_simulated_s_all']}; {r['rate_hz_all']}; "
                         f"{r['cv_isi_all']}; machine load {r['load_1min']}"
                         + (f"; activity died out in the rounds of seeds {r['silent_rounds']} "
                            "(left out)" if r.get("silent_rounds") else ""))
    lines += ["", "Notes: Brian2's build includes generating and compiling its C++ code "
              "(every run compiles afresh in a new folder); neurosim's excludes its compiled "
              "kernels, which load from Numba's on-disk cache (compile_s in the JSON). NEST "
              "integrates iaf_cond_exp with an adaptive RK45 (GSL), Brian2 and neurosim COBA "
              "with exponential Euler: COBA's rates are compared with Brian2's, and NEST's "
              "differ by the solver as well as the realisation. All three set COBA's initial "
              "conductances before the run. Each simulator draws its own connectivity and "
              "initial state."]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
