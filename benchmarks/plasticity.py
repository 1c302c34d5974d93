"""Plasticity benchmark (issue 19): the Song, Miller & Abbott (2000) example in neurosim and
Brian2 cpp_standalone, and plastic against static synapses in neurosim.

    python benchmarks/plasticity.py                  # 3 rounds, Song 20 s, recurrent 1 s
    python benchmarks/plasticity.py --quick          # 1 round, Song 5 s, recurrent 0.3 s,
                                                     # into out/bench/
    python benchmarks/plasticity.py --child song --duration 20 --seed 1 --out X.npz
    python benchmarks/plasticity.py --stage [--repeat 5]   # the plastic stage alone (ns/update)

(a) **Song et al.** (examples/stdp.py: 1000 Poisson inputs at 15 Hz onto one
conductance-based LIF neuron, all synapses with additive pair STDP, weights uniform in
[0, w_max] at first, as Brian2's example brian2/examples/synapses/STDP.py) in neurosim
(``--child song``, the example's ``song_network``) and in Brian2 cpp_standalone's default
one-thread build (openmp_threads = 0; benchmarks/peers/brian2_stdp.py: the same model
with exponential Euler and the example's event-driven traces). Timed: build (neurosim:
construction + build(); Brian2: code generation, compilation and the binary's set-up, i.e.
the whole run less its main loop), simulation time per simulated second (one run of
--song-duration; neurosim after one untimed step that loads its compiled kernels; Brian2's
own timer of the C++ main loop), peak resident memory. The learned weights are compared:
the fraction near 0 (w < 0.1 w_max), near w_max (w > 0.9 w_max) and the mean w / w_max
after --song-duration seconds, and the output rate, each as mean and sd over the rounds
(each round has its own seed, so the sd is the sampling spread of one run); the two
simulators draw their own inputs and initial weights, so they can only agree within that
spread.

(b) **Plastic vs static** in neurosim: the same network with every synapse plastic and
with every synapse static (``plasticity=None``, the same initial weights): the Song network
(``--child song --static``: its output rate stays at the static weights' level) and a
recurrent network (``--child recurrent``: the CUBA network of ``neurosim.nets.cuba``,
--rec-n neurons, in-degree --rec-indegree (p = indegree / N), all four projections with
additive pair STDP, w_max = 2 |w0|, lam = --rec-lam, alpha = 1.05, so that the activity
barely changes over the run and both variants spike alike; the rates are reported). Ratio
= plastic / static time per simulated second (the issue's goal: <= 3). For scale, Brian2
cpp_standalone runs the recurrent network both ways too (peers/brian2_stdp.py --model
recurrent [--static]: Brian2's CUBA example with the same rule on every synapse), giving
its own plastic / static ratio and neurosim / Brian2 for each variant.

``--stage`` times the engine's plastic stage alone on the recurrent network: the spikes of a
static run (--duration, default 1 s) replayed through ``engine.plastic.plastic_step`` of
the plastic network from a compiled loop (best of --repeat; prints ns per plasticity
update). It uses the engine's internals (the plan's PlasticConn, the runner's states) and
follows them when they change.

Every run is a fresh process; in each round every run takes its turn in an order that
rotates from round to round (round r uses seed --seed + r); the tables give medians over
the rounds. Writes plasticity_results.json and plasticity_results.md into --out (default:
this folder; --quick: out/bench) and prints each row as JSON. The machine load (1-minute
average as each run began) is recorded with every run.
"""

import argparse
import importlib.util
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

from run_suite import run_one  # noqa: E402

NEAR = 0.1


def _example():
    """examples/stdp.py as a module (its song_network and PARAMS)."""
    spec = importlib.util.spec_from_file_location("stdp_example",
                                                  os.path.join(ROOT, "examples", "stdp.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def recurrent_network(net, N, indegree, plastic, lam):
    """The CUBA network (neurosim.nets.cuba's parameters and initial state) with every
    projection plastic (additive pair STDP, w_max = 2 |w|) or static. Returns
    (populations, projections)."""
    import numpy as np
    from neurosim.plasticity import STDP
    from neurosim.units import mV, ms
    n_exc = int(round(0.8 * N))
    rng = np.random.default_rng(np.random.SeedSequence(net.seed, spawn_key=(9,)))
    vr, vt = -60 * mV, -50 * mV
    v0 = vr + rng.random(N) * (vt - vr)
    prm = dict(tau_m=20 * ms, tau_syn=(5 * ms, 10 * ms), v_rest=-49 * mV, v_th=vt,
               v_reset=vr, t_ref=5 * ms)
    exc = net.lif(n_exc, v_init=v0[:n_exc], name="exc", **prm)
    inh = net.lif(N - n_exc, v_init=v0[n_exc:], name="inh", **prm)
    projs = []
    for pre, w in ((exc, 60 * 0.27 / 10 * mV), (inh, -20 * 4.5 / 10 * mV)):
        for post in (exc, inh):
            rule = STDP(w_max=2 * abs(w), lam=lam, alpha=1.05) if plastic else None
            projs.append(net.connect(pre, post, weight=w, p=indegree / N, plasticity=rule,
                                     name=f"{pre.name}->{post.name}"))
    return (exc, inh), projs


# ----------------------------------------------------------------------------- one run
def run_neurosim(args):
    """Build and run one network in this process; writes the npz, returns the row."""
    t_proc = time.perf_counter()
    import resource

    import numpy as np
    import neurosim as ns
    from neurosim.units import ms
    plastic = not args.static
    t0 = time.perf_counter()
    net = ns.Network(dt=0.1 * ms, seed=args.seed)
    if args.child == "song":
        ex = _example()
        inputs, neuron, proj, rule = ex.song_network(net, args.inputs, args.rate, plastic)
        pops, projs = (neuron,), [proj]
        extra = dict(inputs=args.inputs, input_rate_hz=args.rate)
    else:
        pops, projs = recurrent_network(net, args.N, args.indegree, plastic, args.lam)
        extra = dict(indegree=args.indegree, lam=args.lam if plastic else None)
    mons = [net.spike_monitor(p) for p in pops]
    net.build()
    build_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    net.run(net.dt, progress=False)                 # loads (or compiles) the kernels
    compile_s = time.perf_counter() - t1
    t1 = time.perf_counter()
    net.run(args.duration - net.dt, progress=False)
    sim_s = time.perf_counter() - t1
    simulated = args.duration - net.dt
    n = sum(p.n for p in pops)
    spikes = sum(m.num_spikes for m in mons)
    counts = net.counts()
    updates = sum(int(counts.projections[p.name].plastic_updates) for p in projs)
    if args.child == "song":
        w_max = ex.PARAMS["g_max"] * ex.PARAMS["g_L"]
        np.savez(args.out, w=proj.weight / w_max, t=mons[0].times, duration=args.duration)
    else:
        np.savez(args.out, w_rel=[float(np.mean(np.abs(p.weight)) / p.plasticity.w_max)
                                  if p.plasticity else float("nan") for p in projs])
    return dict(simulator="neurosim", model=args.child, plastic=plastic,
                version=ns.__version__, build=f"numba {__import__('numba').__version__}",
                threads=1, N=n, synapses=int(sum(p.n_synapses for p in projs)),
                build_s=round(build_s, 4), compile_s=round(compile_s, 3),
                sim_s=round(sim_s, 4), simulated_s=round(simulated, 6),
                sim_per_simulated_s=round(sim_s / simulated, 5),
                output_spikes=int(spikes), rate_hz=round(spikes / (n * (net.t)), 3),
                plastic_updates=updates, seed=args.seed,
                process_s=round(time.perf_counter() - t_proc, 3),
                peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                **extra)


def stage(args):
    """ns per plasticity update of engine.plastic.plastic_step alone (see the docstring)."""
    import numpy as np
    from numba import njit
    import neurosim as ns
    from neurosim.engine.plastic import plastic_step
    from neurosim.units import ms
    net = ns.Network(dt=0.1 * ms, seed=args.seed)
    pops, _ = recurrent_network(net, args.N, args.indegree, False, args.lam)
    mons = [net.spike_monitor(p) for p in pops]
    net.run(args.duration, progress=False)
    steps = np.concatenate([m.steps for m in mons]).astype(np.int64)
    nodes = np.concatenate([mons[0].indices, mons[1].indices + pops[0].n])
    order = np.lexsort((nodes, steps))
    steps, nodes = steps[order], nodes[order]
    n_steps = int(round(args.duration / net.dt))
    ptr = np.searchsorted(steps, np.arange(n_steps + 1)).astype(np.int64)

    @njit
    def replay(pc, ps, st, nodes, ptr, n_steps, dt, n_slots, fired):
        for step in range(n_steps):
            nf = ptr[step + 1] - ptr[step]
            for f in range(nf):
                fired[f] = nodes[ptr[step] + f]
            plastic_step(pc, ps, st, fired, nf, step, dt, n_slots)

    best = None
    for rep in range(args.repeat + 1):                 # the first call compiles
        plastic = ns.Network(dt=0.1 * ms, seed=args.seed)
        recurrent_network(plastic, args.N, args.indegree, True, args.lam)
        plastic.build()
        runner = plastic._runner
        pc, ps, st = plastic._plan.plastic, runner.pstate, runner.state
        fired = np.zeros(args.N, st.fired.dtype)
        nodes_t = nodes.astype(st.fired.dtype)
        t0 = time.perf_counter()
        replay(pc, ps, st, nodes_t, ptr, n_steps, net.dt, st.ring_exc.shape[0], fired)
        el = time.perf_counter() - t0
        if rep:
            best = el if best is None else min(best, el)
    updates = int(ps.updates.sum())
    return dict(stage="plastic_step", N=args.N, indegree=args.indegree,
                simulated_s=args.duration, spikes=int(steps.size), updates=updates,
                best_s=round(best, 5), ns_per_update=round(best / updates * 1e9, 2),
                repeat=args.repeat, load_1min=round(os.getloadavg()[0], 2))


def song_stats(path):
    """Final weight statistics and output rate of a Song run's npz (either simulator)."""
    import numpy as np
    d = np.load(path)
    w, dur = d["w"], float(d["duration"])
    return dict(near_0=round(float(np.mean(w < NEAR)), 4),
                near_w_max=round(float(np.mean(w > 1 - NEAR)), 4),
                w_mean=round(float(np.mean(w)), 4),
                rate_hz=round(d["t"].size / dur, 3),
                rate_last_quarter_hz=round(float(np.sum(d["t"] >= 0.75 * dur)) / (0.25 * dur), 3))


# ----------------------------------------------------------------------------- the suite
def commands(args, seed, path):
    """Run name -> command line, for one round."""
    me = [sys.executable, os.path.abspath(__file__)]
    song = ["--duration", str(args.song_duration), "--seed", str(seed)]
    rec = ["--duration", str(args.rec_duration), "--seed", str(seed), "--N", str(args.rec_n),
           "--indegree", str(args.rec_indegree), "--lam", str(args.rec_lam)]
    cmds = {"song-neurosim": me + ["--child", "song"] + song + ["--out", path("song-neurosim")]}
    if not args.no_brian2:
        cmds["song-brian2"] = [sys.executable, os.path.join(HERE, "peers", "brian2_stdp.py")] \
            + song + ["--out", path("song-brian2")]
    cmds["song-neurosim-static"] = me + ["--child", "song", "--static"] + song + \
        ["--out", path("song-neurosim-static")]
    if not args.no_recurrent:
        cmds["recurrent-neurosim"] = me + ["--child", "recurrent"] + rec + \
            ["--out", path("recurrent-neurosim")]
        cmds["recurrent-neurosim-static"] = me + ["--child", "recurrent", "--static"] + rec \
            + ["--out", path("recurrent-neurosim-static")]
        if not args.no_brian2:
            peer = [sys.executable, os.path.join(HERE, "peers", "brian2_stdp.py"), "--model",
                    "recurrent"] + rec
            cmds["recurrent-brian2"] = peer + ["--out", path("recurrent-brian2")]
            cmds["recurrent-brian2-static"] = peer + ["--static", "--out",
                                                      path("recurrent-brian2-static")]
    return cmds


def _mean_sd(xs):
    xs = [x for x in xs if x is not None]
    if not xs:
        return None, None
    return (round(statistics.mean(xs), 4),
            round(statistics.stdev(xs), 4) if len(xs) > 1 else None)


def summarize(key, runs):
    """Medians of the timings over the successful rounds; mean and sd of the statistics."""
    ok = [r for r in runs if "error" not in r]
    if not ok:
        return dict(key=key, error=runs[0]["error"] if runs else "not run")
    med = lambda k: round(statistics.median(r[k] for r in ok), 5)  # noqa: E731
    out = {k: v for k, v in ok[0].items() if k not in (
        "seed", "process_wall_s", "load_1min", "output_spikes", "near_0", "near_w_max",
        "w_mean", "rate_hz", "rate_last_quarter_hz", "plastic_updates", "w_rel")}
    out["key"] = key
    for k in ("build_s", "compile_s", "sim_s", "sim_per_simulated_s", "peak_rss_mb",
              "process_s", "plastic_updates"):
        if all(k in r for r in ok):
            out[k] = med(k)
    for k in ("near_0", "near_w_max", "w_mean", "rate_hz", "rate_last_quarter_hz"):
        if all(k in r for r in ok):
            out[k], out[k + "_sd"] = _mean_sd([r[k] for r in ok])
            out[k + "_all"] = [r[k] for r in ok]
    if all("w_rel" in r for r in ok):
        out["w_rel_final"] = ok[0]["w_rel"]
    out.update(rounds=len(ok), seeds=[r["seed"] for r in ok],
               sim_per_simulated_s_all=[r["sim_per_simulated_s"] for r in ok],
               load_1min=[r.get("load_1min") for r in ok])
    errors = [r["error"] for r in runs if "error" in r]
    if errors:
        out["failed"] = errors
    return out


def comparisons(rows):
    """The ratios: neurosim / Brian2 on the Song example (time, build, memory; the
    statistics' difference against their spread) and plastic / static in neurosim."""
    by = {r["key"]: r for r in rows if "error" not in r}
    out = {}
    a, b = by.get("song-neurosim"), by.get("song-brian2")
    if a and b:
        stats = {}
        for k in ("near_0", "near_w_max", "w_mean", "rate_hz"):
            sa, sb = a.get(k + "_sd"), b.get(k + "_sd")
            se = ((sa ** 2 / a["rounds"] + sb ** 2 / b["rounds"]) ** 0.5
                  if sa is not None and sb is not None else None)
            diff = round(a[k] - b[k], 4)
            stats[k] = dict(neurosim=a[k], brian2=b[k], diff=diff,
                            se=round(se, 4) if se is not None else None,
                            within_2se=(abs(diff) <= 2 * se) if se else None)
        out["song_vs_brian2"] = dict(
            time=round(a["sim_per_simulated_s"] / b["sim_per_simulated_s"], 3),
            build=round(a["build_s"] / b["build_s"], 3),
            memory=round(a["peak_rss_mb"] / b["peak_rss_mb"], 3), stats=stats,
            goal_time="<= 0.5")
    for model in ("song", "recurrent", "recurrent-brian2"):
        key = model if model.endswith("brian2") else f"{model}-neurosim"
        p, s = by.get(key), by.get(f"{key}-static")
        if p and s:
            extra = p["sim_s"] - s["sim_s"]
            out[f"{model}_plastic_vs_static"] = dict(
                time=round(p["sim_per_simulated_s"] / s["sim_per_simulated_s"], 3),
                goal="<= 3", rate_plastic_hz=p["rate_hz"], rate_static_hz=s["rate_hz"],
                plastic_updates=p.get("plastic_updates"),
                ns_per_update=(round(extra / p["plastic_updates"] * 1e9, 2)
                               if p.get("plastic_updates") else None))
    for variant in ("", "-static"):
        a, b = by.get(f"recurrent-neurosim{variant}"), by.get(f"recurrent-brian2{variant}")
        if a and b:
            out[f"recurrent{variant or '-plastic'}_neurosim_vs_brian2"] = round(
                a["sim_per_simulated_s"] / b["sim_per_simulated_s"], 3)
    return out


def warm_up(args):
    """One short untimed run of each neurosim child, so that Numba's cache is warm."""
    with tempfile.TemporaryDirectory() as tmp:
        me = [sys.executable, os.path.abspath(__file__)]
        for extra in (["--child", "song"], ["--child", "song", "--static"],
                      ["--child", "recurrent", "--N", "400"],
                      ["--child", "recurrent", "--N", "400", "--static"]):
            r = run_one(me + extra + ["--duration", "0.01", "--out",
                                      os.path.join(tmp, "w.npz")], 1800)
            if "error" in r:
                print(f"warm-up failed ({' '.join(extra)}): {r['error']}", file=sys.stderr)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help="1 round, Song 5 s, recurrent 0.3 s (into out/bench)")
    ap.add_argument("--rounds", type=int, default=None, help="default 3 (quick 1)")
    ap.add_argument("--song-duration", type=float, default=None,
                    help="seconds simulated (default 20; quick 5)")
    ap.add_argument("--rec-duration", type=float, default=None,
                    help="seconds simulated (default 1; quick 0.3)")
    ap.add_argument("--rec-n", type=int, default=4000)
    ap.add_argument("--rec-indegree", type=int, default=80)
    ap.add_argument("--rec-lam", type=float, default=0.01)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-brian2", action="store_true")
    ap.add_argument("--no-recurrent", action="store_true")
    ap.add_argument("--out", default=None)
    # one run in this process
    ap.add_argument("--child", choices=("song", "recurrent"))
    ap.add_argument("--static", action="store_true")
    ap.add_argument("--duration", type=float, default=1.0)
    ap.add_argument("--inputs", type=int, default=1000)
    ap.add_argument("--rate", type=float, default=15.0)
    ap.add_argument("--N", type=int, default=4000)
    ap.add_argument("--indegree", type=int, default=80)
    ap.add_argument("--lam", type=float, default=0.01)
    ap.add_argument("--stage", action="store_true", help="time the plastic stage alone")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    if args.stage:
        print(json.dumps(stage(args)), flush=True)
        return
    if args.child:
        print(json.dumps(run_neurosim(args)), flush=True)
        return
    q = args.quick
    for key, full, quick in (("rounds", 3, 1), ("song_duration", 20.0, 5.0),
                             ("rec_duration", 1.0, 0.3)):
        if getattr(args, key) is None:
            setattr(args, key, quick if q else full)
    out_dir = args.out or (os.path.join(ROOT, "out", "bench") if q else HERE)
    os.makedirs(out_dir, exist_ok=True)
    commit = _git("rev-parse", "--short", "HEAD")             # the code the runs use
    modified = [ln[3:] for ln in _git("status", "--porcelain", "--", "neurosim").splitlines()]
    warm_up(args)
    runs = {}
    with tempfile.TemporaryDirectory(prefix="neurosim_plasticity_") as tmp:
        for r in range(args.rounds):
            seed = args.seed + r

            def path(name):
                return os.path.join(tmp, f"{name}_{r}.npz")

            cmds = commands(args, seed, path)
            names = list(cmds)
            names = names[r % len(names):] + names[:r % len(names)]       # rotate
            for name in names:
                row = run_one(cmds[name], timeout=3600)
                if "error" in row:
                    row = dict(row, error=" ".join(row["error"]), seed=seed)
                elif name.startswith("song"):
                    row.update(song_stats(path(name)))
                elif name == "recurrent-neurosim":
                    import numpy as np
                    row["w_rel"] = [round(x, 4) for x in np.load(path(name))["w_rel"].tolist()]
                runs.setdefault(name, []).append(row)
                print(json.dumps(dict(row, key=name, round=r)), flush=True)
    rows = [summarize(name, rs) for name, rs in runs.items()]
    for row in rows:
        print(json.dumps(row), flush=True)
    comp = comparisons(rows)
    print(json.dumps(comp), flush=True)
    loads = [x for r in rows for x in r.get("load_1min", []) if x is not None]
    meta = dict(commit=commit, neurosim_modified=modified,
                machine=f"{platform.machine()} {platform.processor() or ''} "
                        f"{os.cpu_count()} cores", python=sys.version.split()[0],
                date=time.strftime("%Y-%m-%d"), rounds=args.rounds,
                song_duration_s=args.song_duration, rec_duration_s=args.rec_duration,
                rec_n=args.rec_n, rec_indegree=args.rec_indegree, rec_lam=args.rec_lam,
                quick=q, load_1min=[min(loads), max(loads)] if loads else None,
                command=" ".join(["python", "benchmarks/plasticity.py"]
                                 + (argv if argv is not None else sys.argv[1:])))
    with open(os.path.join(out_dir, "plasticity_results.json"), "w") as f:
        json.dump(dict(meta=meta, rows=rows, comparisons=comp), f, indent=1)
    write_markdown(rows, comp, meta, os.path.join(out_dir, "plasticity_results.md"))
    print(f"wrote {out_dir}/plasticity_results.md, plasticity_results.json", file=sys.stderr)


def _git(*cmd):
    """Output of a git command in the repository ('' if git is unavailable)."""
    import subprocess
    try:
        return subprocess.run(["git", *cmd], cwd=ROOT, capture_output=True, text=True,
                              timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def _pm(r, k, fmt="{:.3f}"):
    sd = r.get(k + "_sd")
    return fmt.format(r[k]) + (" ± " + fmt.format(sd) if sd is not None else "")


def write_markdown(rows, comp, meta, path):
    by = {r["key"]: r for r in rows}
    load = meta["load_1min"]
    lines = ["# Plasticity: Song et al. (2000) in neurosim and Brian2 cpp_standalone; plastic "
             "vs static synapses", "",
             f"Commit {meta['commit']}" + (f" (modified in the working tree: "
                                            f"{', '.join(meta['neurosim_modified'])})"
                                            if meta["neurosim_modified"] else "") + "; "
             f"machine: {meta['machine']}; Python {meta['python']}; {meta['date']}; "
             f"machine load (1-minute average at the start of each run) "
             f"{load[0]:.1f}-{load[1]:.1f} on {os.cpu_count()} cores (shared with other jobs)"
             if load else "", "",
             f"{meta['rounds']} round(s), every run a fresh process, the runs taking turns "
             f"(order rotating); timings are medians over the rounds, weight statistics and "
             f"rates mean ± sd over the rounds (one seed per round). dt = 0.1 ms, one thread. "
             f"Command: `{meta['command']}`." + (" **Quick run: the figures are noisy.**"
                                                 if meta["quick"] else ""), "",
             f"## (a) Song et al. example, {meta['song_duration_s']:g} s simulated", "",
             "| simulator | build s | s per simulated s | peak MB | near 0 | near w_max | "
             "mean w / w_max | output rate Hz |", "|---|---|---|---|---|---|---|---|"]
    for key in ("song-neurosim", "song-brian2"):
        r = by.get(key)
        if r is None:
            continue
        if "error" in r:
            lines.append(f"| {key} | failed: {r['error'][:100]} |||||||")
            continue
        name = (f"neurosim {r['version']}" if key == "song-neurosim"
                else f"Brian2 {r['version']} {r['build']}")
        lines.append(f"| {name} | {r['build_s']:.2f} | {r['sim_per_simulated_s']:.4f} | "
                     f"{r['peak_rss_mb']:.0f} | {_pm(r, 'near_0')} | {_pm(r, 'near_w_max')} | "
                     f"{_pm(r, 'w_mean')} | {_pm(r, 'rate_hz', '{:.2f}')} |")
    c = comp.get("song_vs_brian2")
    if c:
        lines += ["", f"neurosim / Brian2: time per simulated second **{c['time']:.3f}** "
                  f"(goal <= 0.5), build {c['build']:.3f}, peak memory {c['memory']:.3f}.", "",
                  "Weight statistics, neurosim - Brian2 against the standard error of that "
                  "difference (from the spread over the rounds):", ""]
        for k, s in c["stats"].items():
            se = f"{s['se']:.4f}" if s["se"] is not None else "n/a (one round)"
            verdict = ("" if s["within_2se"] is None else
                       " (within 2 SE)" if s["within_2se"] else " (**outside 2 SE**)")
            lines.append(f"- {k}: {s['neurosim']} vs {s['brian2']}, difference {s['diff']:+.4f}"
                         f", SE {se}{verdict}")
    lines += ["", "## (b) plastic vs static synapses", "",
              "| network | synapses | simulator, variant | s per simulated s | rate Hz | "
              "plasticity updates | build s | peak MB |", "|---|---|---|---|---|---|---|---|"]
    song = f"Song et al., {meta['song_duration_s']:g} s"
    rec = (f"CUBA N = {meta['rec_n']}, in-degree {meta['rec_indegree']}, "
           f"{meta['rec_duration_s']:g} s")
    for key, label, variant in (("song-neurosim", song, "neurosim, plastic"),
                                ("song-neurosim-static", song, "neurosim, static"),
                                ("recurrent-neurosim", rec, "neurosim, plastic"),
                                ("recurrent-neurosim-static", rec, "neurosim, static"),
                                ("recurrent-brian2", rec, "Brian2 cpp_standalone, plastic"),
                                ("recurrent-brian2-static", rec,
                                 "Brian2 cpp_standalone, static")):
        r = by.get(key)
        if r is None or "error" in r:
            if r is not None:
                lines.append(f"| {label} | | {variant} | failed: {r['error'][:80]} ||||")
            continue
        upd = r.get("plastic_updates")
        lines.append(f"| {label} | {r['synapses']:,} | {variant} | "
                     f"{r['sim_per_simulated_s']:.4f} | {_pm(r, 'rate_hz', '{:.2f}')} | "
                     f"{'' if upd is None else format(int(upd), ',')} | {r['build_s']:.2f} | "
                     f"{r['peak_rss_mb']:.0f} |")
    lines.append("")
    for model, name in (("song", "Song, neurosim"), ("recurrent", "recurrent, neurosim"),
                        ("recurrent-brian2", "recurrent, Brian2")):
        c = comp.get(f"{model}_plastic_vs_static")
        if c:
            per = (f"; extra time per plasticity update {c['ns_per_update']} ns"
                   if c["ns_per_update"] is not None else "")
            goal = "" if "brian2" in model else " (goal <= 3)"
            lines.append(f"- {name}: plastic / static **{c['time']:.2f}**{goal}; rates "
                         f"{c['rate_plastic_hz']} / {c['rate_static_hz']} Hz{per}")
    for variant in ("plastic", "static"):
        key = f"recurrent{'-plastic' if variant == 'plastic' else '-static'}_neurosim_vs_brian2"
        if key in comp:
            lines.append(f"- recurrent, {variant}: neurosim / Brian2 time per simulated second "
                         f"{comp[key]:.3f}")
    r = by.get("recurrent-neurosim")
    if r and "w_rel_final" in r:
        lines.append(f"- recurrent, neurosim plastic: mean |w| / w_max per projection at the "
                     f"end (first round; 0.5 at the start): {r['w_rel_final']}")
    lines += ["", "Per round (s per simulated second; machine load at its start):", ""]
    for r in rows:
        if "error" not in r:
            lines.append(f"- {r['key']}: {r['sim_per_simulated_s_all']}; load {r['load_1min']}")
    lines += ["", "Notes: Brian2's build includes generating and compiling its C++ code (every "
              "run compiles afresh in a new folder); neurosim's excludes its compiled kernels, "
              "which load from Numba's on-disk cache (compile_s in the JSON). Song: both "
              "integrate the neuron with exponential Euler (Brian2's example uses 'euler'); "
              "recurrent: exact integration in both (current-based exponential synapses). "
              "Brian2 keeps the STDP traces per synapse (event-driven), neurosim per neuron "
              "of each projection (the same values: one delay per projection). Each simulator "
              "draws its own inputs, connectivity and initial weights. The static Song "
              "network keeps its uniform initial weights, so its neuron fires faster than "
              "the plastic one, whose weights depress; the recurrent network's learning rate "
              "is small enough that both variants fire alike."]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
