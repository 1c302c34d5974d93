"""PyNN's Vogels-Abbott benchmark script on neurosim.pynn, pyNN.brian2 and pyNN.nest, taking
turns.

    python benchmarks/pynn_va.py                              # CUBA and COBA, 3 rounds
    python benchmarks/pynn_va.py --benchmarks CUBA --rounds 5 --simulators neurosim nest

The script is examples/pynn_va.py: PyNN 0.13.0's examples/VAbenchmarks.py unchanged but for
the name ``neurosim`` (4,000 cells, 2 % connectivity, 1 s at dt = 0.1 ms, one thread, the
script's own seeds). Each run is a fresh process (benchmarks/peers/pynn_va_run.py) that runs
the script and reports the script's own timers: build (populations, initial values,
connections, recording set-up) and run (``sim.run(1000.0)``), its rates, the time to import
the backend and the process's peak memory. Every backend runs the way the script and its
users run it, with its defaults:

* neurosim.pynn in this environment (Numba; its kernels from Numba's on-disk cache after the
  warm-up run);
* pyNN.brian2 in this environment: Brian2's runtime mode with its default code generation
  target (Cython; compiled extensions from Brian2's on-disk cache after the warm-up run);
* pyNN.nest in NEST's environment (benchmarks/.venv-nest: Python 3.11, the nest-simulator
  wheel, made on first use as for run_suite.py; PyNN 0.13.0 is installed into it here if
  missing): pyNN.nest's default ``spike_precision="off_grid"``, so IF_curr_exp is NEST's
  ``iaf_psc_exp_ps`` (precise spike times), IF_cond_exp is ``iaf_cond_exp``.

``--warmup`` untimed runs of each backend come first (disk caches filled, as for a user's
second run). Then ``--rounds`` rounds, the backends taking turns in an order that rotates
each round; medians per backend and the ratios backend / neurosim of build + run and of run
alone. Writes pynn_results.json and pynn_results.md into ``--out`` (default: this folder) and
prints each run as a JSON line. The machine may be shared: compare the ratios of one run.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RUNNER = os.path.join(HERE, "peers", "pynn_va_run.py")
PYNN = "PyNN==0.13.0"
sys.path.insert(0, HERE)


def pythons(simulators):
    """{simulator: python executable} (NEST's environment made / completed if needed)."""
    out = {}
    for s in simulators:
        if s in ("neurosim", "brian2"):
            out[s] = sys.executable
        elif s == "nest":
            from run_suite import nest_python
            py = nest_python()
            if py is None:
                print("NEST is not available (no Python 3.11 or pip install nest-simulator "
                      "failed): skipping pyNN.nest", file=sys.stderr)
                continue
            if subprocess.run([py, "-c", "import pyNN.nest"], capture_output=True).returncode:
                print(f"installing {PYNN} into NEST's environment ...", file=sys.stderr)
                r = subprocess.run([py, "-m", "pip", "install", "-q", PYNN])
                if r.returncode or subprocess.run([py, "-c", "import pyNN.nest"],
                                                  capture_output=True).returncode:
                    print("pyNN.nest does not import in NEST's environment: skipping it",
                          file=sys.stderr)
                    continue
            out[s] = py
        else:
            out[s] = sys.executable
    return out


def neurosim_source(note):
    """Where the neurosim measured comes from: its git commit and uncommitted files, or
    ``note`` (for a copy outside a checkout, e.g. on PYTHONPATH)."""
    r = subprocess.run([sys.executable, "-c", "import os, neurosim; "
                        "print(os.path.dirname(os.path.abspath(neurosim.__file__)))"],
                       capture_output=True, text=True, cwd=HERE)  # not ROOT: -c puts
    where = r.stdout.strip()                                   # the cwd first on sys.path
    git = subprocess.run(["git", "-C", where, "rev-parse", "--short", "HEAD"],
                         capture_output=True, text=True)
    if git.returncode or not where:
        return note or f"{where} (not a git checkout)"
    dirty = subprocess.run(["git", "-C", where, "status", "--porcelain", "--", "."],
                           capture_output=True, text=True).stdout.split("\n")
    dirty = [ln[3:] for ln in dirty if ln.strip()]
    text = f"commit {git.stdout.strip()}"
    if dirty:
        text += f" with uncommitted changes to {', '.join(dirty)}"
    return text + (f"; {note}" if note else "")


def run_one(py, simulator, benchmark, timeout):
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    try:
        r = subprocess.run([py, RUNNER, simulator, benchmark], capture_output=True, text=True,
                           timeout=timeout, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return dict(simulator=simulator, benchmark=benchmark, error=f"timeout {timeout} s")
    wall = time.perf_counter() - t0
    lines = [ln for ln in r.stdout.strip().splitlines() if ln.startswith("{")]
    if r.returncode != 0 or not lines:
        err = [ln for ln in (r.stderr or "").strip().splitlines() if ln.strip()][-3:]
        return dict(simulator=simulator, benchmark=benchmark,
                    error=f"exit {r.returncode}: " + " | ".join(err))
    row = json.loads(lines[-1])
    row["wall_s"] = round(wall, 3)
    row["load_1min"] = round(load, 2)
    return row


def median(rows, key):
    vals = [r[key] for r in rows if key in r]
    return statistics.median(vals) if vals else None


def summarize(runs, simulators, benchmarks):
    summary = {}
    for b in benchmarks:
        for s in simulators:
            ok = [r for r in runs if r["benchmark"] == b and r["simulator"] == s
                  and "error" not in r and not r.get("warmup")]
            if not ok:
                errs = [r["error"] for r in runs if r["benchmark"] == b and
                        r["simulator"] == s and "error" in r]
                summary[f"{b}/{s}"] = dict(error=errs[-1] if errs else "no run")
                continue
            summary[f"{b}/{s}"] = dict(
                rounds=len(ok), **{k: median(ok, k) for k in (
                    "import_s", "build_s", "run_s", "build_run_s", "process_s", "wall_s",
                    "peak_rss_mb", "rate_exc_hz", "rate_inh_hz", "synapses")},
                build_run_s_all=[r["build_run_s"] for r in ok],
                versions=ok[-1]["versions"])
        ref = summary.get(f"{b}/neurosim", {})
        for s in simulators:
            row = summary[f"{b}/{s}"]
            if "error" in row or "error" in ref or not ref:
                continue
            row["ratio_build_run"] = round(row["build_run_s"] / ref["build_run_s"], 2)
            row["ratio_run"] = round(row["run_s"] / ref["run_s"], 2)
            row["ratio_build"] = round(row["build_s"] / ref["build_s"], 2)
    return summary


def fmt(x, digits=3):
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:.{digits}g}" if abs(x) < 1000 else f"{x:,.0f}"
    return f"{x:,}" if isinstance(x, int) else str(x)


def markdown(result):
    m = result["meta"]
    lines = [f"# PyNN Vogels-Abbott benchmark: neurosim.pynn, pyNN.brian2, pyNN.nest "
             f"({m['date']})", "",
             f"Machine: {m['machine']}; {m['load_note']} (a shared machine: compare the "
             "ratios of one run rather than absolute times across runs)", "",
             f"Reproduce: `{m['command']}`", "",
             "Protocol: PyNN 0.13.0's examples/VAbenchmarks.py (examples/pynn_va.py: unchanged "
             "but for the simulator name `neurosim` and a raster for --plot-figure, not used "
             "here), 4,000 IF cells (3,200 exc, 800 inh), "
             "2 % connectivity (about 319,000 synapses), 1 s at dt = 0.1 ms, delay 0.2 ms, "
             "one thread (the script's `threads = 1`); COBA adds 20 Poisson sources for the "
             "first 50 ms. Each run a fresh process; times are the script's own timers: "
             "build = populations + initial values + connections + recording set-up, "
             "run = `sim.run(1000.0)`. "
             f"{m['warmup']} untimed warm-up run(s) per backend first (disk caches of Numba "
             f"and Cython filled); then {m['rounds']} rounds, the backends taking turns in a "
             "rotating order; medians. Ratios: backend / neurosim (above 1: neurosim "
             "faster). Each backend with its defaults (see the versions). neurosim.pynn "
             "builds its network at the first `run()` (PyNN scripts may add structure until "
             "then), so its run time includes that build and the load of the compiled kernels "
             "from Numba's cache; pyNN.brian2 and pyNN.nest create their objects during the "
             "build. Brian2's default method for IF_curr_exp is `exact`, for IF_cond_exp "
             "(not linear) `euler`.", ""]
    for b in m["benchmarks"]:
        lines += [f"## {b}", "",
                  "| backend | build s | run s | build + run s | ratio build + run | ratio run "
                  "| import s | process s | peak RSS MB | exc Hz | inh Hz | synapses | "
                  "rounds |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for s in m["simulators"]:
            r = result["summary"].get(f"{b}/{s}", {})
            name = {"neurosim": "neurosim.pynn", "brian2": "pyNN.brian2",
                    "nest": "pyNN.nest"}.get(s, s)
            if "error" in r:
                lines.append(f"| {name} | failed: {r['error']} |" + " |" * 11)
                continue
            lines.append(
                f"| {name} | {fmt(r['build_s'])} | {fmt(r['run_s'])} | "
                f"{fmt(r['build_run_s'])} | {fmt(r.get('ratio_build_run'))} | "
                f"{fmt(r.get('ratio_run'))} | {fmt(r['import_s'])} | {fmt(r['process_s'])} | "
                f"{fmt(r['peak_rss_mb'])} | {fmt(r['rate_exc_hz'])} | "
                f"{fmt(r['rate_inh_hz'])} | {fmt(int(r['synapses']))} | {r['rounds']} |")
        lines.append("")
    lines += ["## Versions", "", f"* neurosim source: {m['neurosim_source']}"]
    seen = set()
    for key, r in result["summary"].items():
        s = key.split("/")[1]
        if s in seen or "versions" not in r:
            continue
        seen.add(s)
        v = ", ".join(f"{k} {val}" for k, val in r["versions"].items() if val is not None)
        lines.append(f"* {s}: {v}")
    lines += ["", "Each run's numbers are in pynn_results.json (`runs`).", ""]
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--simulators", nargs="+", default=["neurosim", "brian2", "nest"])
    ap.add_argument("--benchmarks", nargs="+", default=["CUBA", "COBA"])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--out", default=HERE)
    ap.add_argument("--neurosim-note", default="",
                    help="where the neurosim measured comes from, if not a git checkout")
    ap.add_argument("--from-json", help="only rewrite the markdown from this results file")
    args = ap.parse_args(argv)
    if args.from_json:
        with open(args.from_json) as f:
            result = json.load(f)
        with open(os.path.join(args.out, "pynn_results.md"), "w") as f:
            f.write(markdown(result))
        return
    pys = pythons(args.simulators)
    sims = [s for s in args.simulators if s in pys]
    runs = []
    for b in args.benchmarks:
        for w in range(args.warmup):
            for s in sims:
                row = run_one(pys[s], s, b, args.timeout)
                row["warmup"] = True
                print(json.dumps(row), flush=True)
                runs.append(row)
        for k in range(args.rounds):
            order = sims[k % len(sims):] + sims[:k % len(sims)]
            for s in order:
                row = run_one(pys[s], s, b, args.timeout)
                row["round"] = k
                print(json.dumps(row), flush=True)
                runs.append(row)
    loads = [r["load_1min"] for r in runs if "load_1min" in r]
    meta = dict(
        date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        machine=f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()}",
        load_note=(f"1-minute load average at the start of the runs "
                   f"{min(loads):.2f}-{max(loads):.2f}" if loads else ""),
        command="python benchmarks/pynn_va.py " + " ".join(argv if argv is not None
                                                            else sys.argv[1:]),
        simulators=sims, benchmarks=args.benchmarks, rounds=args.rounds,
        warmup=args.warmup, neurosim_source=neurosim_source(args.neurosim_note))
    result = dict(meta=meta, summary=summarize(runs, sims, args.benchmarks), runs=runs)
    print(json.dumps(result["summary"]))
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "pynn_results.json"), "w") as f:
        json.dump(result, f, indent=1)
    with open(os.path.join(args.out, "pynn_results.md"), "w") as f:
        f.write(markdown(result))


if __name__ == "__main__":
    main()
