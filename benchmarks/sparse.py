"""Sparse activity: the event-driven engine against the clock-driven one, Brian2 and NEST.

    python benchmarks/sparse.py                 # the table and figure (about 20-40 minutes)
    python benchmarks/sparse.py --quick         # 10k and 100k neurons, neurosim only (~1 min)
    python benchmarks/sparse.py --child event --N 100000 --rate 0.1 --duration 1
    python benchmarks/sparse.py --child event --N 100000 --rate 0.1 --inputs drive

The network (the same in every simulator; benchmarks/peers/brian2_sparse.py, nest_sparse.py):
N current-based LIF neurons with exponential synapses (tau_m 20 ms, tau_syn 5 ms, v_rest =
v_reset = -65 mV, v_th = -50 mV, t_ref 2 ms, dt 0.1 ms), each driven by its own Poisson train
at --rate Hz through a synapse of 110 mV (one input spike makes the neuron fire once), and a
recurrent fixed in-degree K = 100 (random partners, 0.1 mV, delay 1.5 ms). The neurons fire at
about the input rate, so the rate sets the number of synaptic events: N x rate x (K + 1) per
simulated second.

Simulators, each run in a fresh process, taking turns round by round (medians over
--rounds): neurosim ``backend="event"`` and ``backend="numba"`` (the clock-driven engine),
one thread; Brian2 cpp_standalone, default build (openmp_threads = 0); NEST 3 (its own venv,
benchmarks/.venv-nest, made on first use), one thread. Peers run only at the sizes given by
--peers-at (a full microcircuit-scale peer run takes minutes each).

sim s is the simulation loop per simulated second (neurosim: after an untimed first step
that loads the compiled kernels); build s the construction and connection; peak RSS the
largest resident set of the process.

The memory bound: the time of a dependent random read of one 64-byte row (pointer chasing
through a random cycle over an array of N rows, the size of the event engine's neuron
rows), measured here in the same process as the table; the event engine's cost per
synaptic event is compared with it.
"""

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))

import numpy as np  # noqa: E402

K = 100                 # recurrent in-degree
W_EXT = 110e-3          # V: one input spike, one output spike
W_REC = 0.1e-3          # V
SIMS = ("event", "numba", "brian2", "nest")


def network(backend, N, rate, seed=1, inputs="source"):
    """The benchmark network in neurosim (see the module docstring); ``inputs``: the
    Poisson trains as a source population connected one to one ("source", as in the
    peers' scripts) or as a Poisson drive (``net.poisson_input``, drawn as arrivals below
    rate * dt = 0.1: "drive")."""
    import neurosim as ns
    from neurosim.units import ms, mV
    net = ns.Network(seed=seed, backend=backend)
    pop = net.lif(N, tau_m=20 * ms, tau_syn=5 * ms, v_rest=-65 * mV, v_th=-50 * mV,
                  v_reset=-65 * mV, t_ref=2 * ms, name="pop")
    if inputs == "drive":
        net.poisson_input(pop, rate, W_EXT, delay=0.1 * ms, name="drive")
    else:
        drive = net.poisson(N, rate=rate, name="drive")
        net.connect(drive, pop, weight=W_EXT, one_to_one=True, delay=0.1 * ms)
    net.connect(pop, pop, weight=W_REC, indegree=K, multapses=True, delay=1.5 * ms)
    return net, pop


def child(backend, N, rate, duration, seed, inputs="source"):
    """One neurosim run (a process of its own): one JSON line."""
    t0 = time.perf_counter()
    net, pop = network(backend, N, rate, seed, inputs)
    net.build()
    build_s = time.perf_counter() - t0
    net.run(net.dt, progress=False)                   # loads the compiled kernels
    s0, e0 = int(net.spike_counts(pop).sum()), net.synaptic_events()
    t1, c1 = time.perf_counter(), time.process_time()
    net.run(duration, progress=False)
    sim_s, cpu_s = time.perf_counter() - t1, time.process_time() - c1
    spikes = int(net.spike_counts(pop).sum()) - s0
    events = int(net.synaptic_events() - e0)
    print(json.dumps(dict(sim=backend, N=N, input_rate_hz=rate, inputs=inputs,
                          duration_s=duration,
                          build_s=round(build_s, 3), sim_s=round(sim_s / duration, 4),
                          cpu_s=round(cpu_s / duration, 4),
                          rate_hz=round(spikes / (N * duration), 4), events=events,
                          ns_per_event=round(sim_s / max(events, 1) * 1e9, 2),
                          peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF)
                                            .ru_maxrss / 1024, 1),
                          build="neurosim " + ("event-driven" if backend == "event"
                                               else "clock-driven") + ", 1 thread")))


def latency_ns(n_rows, hops=2_000_000, seed=0):
    """ns per dependent random read of a 64-byte row among ``n_rows`` (pointer chasing)."""
    from numba import njit

    @njit(cache=False)
    def chase(nxt, hops):
        i = 0
        for _ in range(hops):
            i = nxt[i * 8]
        return i

    rng = np.random.default_rng(seed)
    order = rng.permutation(n_rows)
    rows = np.zeros(n_rows * 8, np.int64)            # 8 int64 = 64 bytes a row
    rows[order * 8] = np.roll(order, -1)             # one cycle through every row
    chase(rows, 10)
    best = np.inf
    for _ in range(3):
        t0 = time.perf_counter()
        chase(rows, hops)
        best = min(best, (time.perf_counter() - t0) / hops * 1e9)
    return best


def _duration(sim, N, rate, cap):
    """Simulated seconds: at most ``cap``, about 2e8 synaptic events at most, and for the
    clock-driven simulators about 2e9 neuron updates at most (their cost per simulated
    second is reported, which the length of the run does not change)."""
    d = min(cap, 2e8 / max(N * max(rate, 1e-3) * (K + 1), 1.0))
    if sim != "event":
        d = min(d, 2e9 / (N * 1e4))
    return float(max(0.05, d))


def _peer_cmd(sim, N, rate, duration, seed, nest_py):
    if sim == "brian2":
        return [sys.executable, os.path.join(HERE, "peers", "brian2_sparse.py"), "--N",
                str(N), "--rate", str(rate), "--duration", str(duration), "--seed", str(seed)]
    return [nest_py, os.path.join(HERE, "peers", "nest_sparse.py"), "--N", str(N), "--rate",
            str(rate), "--duration", str(duration), "--seed", str(seed)]


def run(cmd, timeout=3600):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:        # the exit status too: a process killed for memory (-9)
        return dict(error=[f"exit status {r.returncode}"]    # ends on whatever it printed
                    + (r.stderr or r.stdout).strip().splitlines()[-1:])
    return json.loads(r.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--child", choices=("event", "numba"))
    ap.add_argument("--N", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--rate", type=float, nargs="+", default=[0.01, 0.1, 1.0, 10.0])
    ap.add_argument("--duration", type=float, default=1.0, help="at most (s)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--peers-at", nargs="*", default=["1000000:0.1", "100000:1"],
                    help="N:rate points where Brian2 and NEST run too")
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--nest-max-N", type=int, default=500_000,
                    help="largest N at which NEST runs: NEST 3.10 needs more than this "
                         "machine's 24 GB at 1M neurons (killed for memory at 23.7 GB "
                         "resident, during Connect)")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--from-log", help="make the tables from the printed lines of a run "
                    "that was stopped (its JSON lines)")
    ap.add_argument("--out", default=HERE)
    ap.add_argument("--inputs", choices=("source", "drive"), default="source",
                    help="--child only: the Poisson inputs as a source population "
                    "connected one to one (the table's) or as a poisson_input drive")
    args = ap.parse_args()
    if args.child:
        return child(args.child, args.N[0], args.rate[0], args.duration, args.seed,
                     args.inputs)
    if args.from_log:
        return finish(from_log(args.from_log), args)
    if args.quick:
        args.N, args.rounds, args.no_peers = [10_000, 100_000], 1, True
        args.rate = [0.1, 1.0, 10.0]
    nest_py = None
    if not args.no_peers:
        from run_suite import nest_python
        nest_py = nest_python()
    peers_at = set() if args.no_peers else {(int(p.split(":")[0]), float(p.split(":")[1]))
                                            for p in args.peers_at}
    rows = []
    for N in args.N:
        for rate in args.rate:
            sims = ["event", "numba"] + (["brian2"] + (["nest"] if nest_py and
                                                       N <= args.nest_max_N else [])
                                         if (N, rate) in peers_at else [])
            got = {s: [] for s in sims}
            for r in range(args.rounds):
                for s in sims[r % len(sims):] + sims[:r % len(sims)]:   # take turns
                    dur = _duration(s, N, rate, args.duration)
                    cmd = ([sys.executable, os.path.abspath(__file__), "--child", s, "--N",
                            str(N), "--rate", str(rate), "--duration", str(dur), "--seed",
                            str(args.seed + r)] if s in ("event", "numba")
                           else _peer_cmd(s, N, rate, dur, args.seed + r, nest_py))
                    row = dict(run(cmd), input_rate_hz=rate)
                    if s in ("brian2", "nest") and "sim_s" in row:   # per simulated second
                        row.update(sim_s=row["sim_s"] / dur, duration_s=dur,
                                   ns_per_event=round(row["sim_s"] / max(
                                       row.get("events", 0), 1) * 1e9, 2))
                    print(json.dumps(dict(row, sim=s, N=N, round=r)), flush=True)
                    got[s].append(row)
            for s, rs in got.items():
                rows.append(aggregate(s, N, rate, rs))
    finish(rows, args)


def aggregate(sim, N, rate, rs):
    """One table row from the rounds ``rs`` of a simulator at (N, rate): medians."""
    ok = [x for x in rs if "error" not in x]
    if not ok:
        return dict(sim=sim, N=N, input_rate_hz=rate, error=rs[0]["error"])
    med = {k: float(np.median([x[k] for x in ok])) for k in
           ("sim_s", "build_s", "peak_rss_mb", "rate_hz", "ns_per_event") if k in ok[0]}
    return dict(ok[0], **med, sim=sim, N=N, input_rate_hz=rate, rounds=len(ok))


def from_log(path):
    """The rows of a run from its printed lines (a run stopped before its tables)."""
    got = {}
    for line in open(path):
        try:
            r = json.loads(line)
        except ValueError:
            continue
        if "round" in r:
            rate = r.get("input_rate_hz", r.get("rate"))
            if rate is None:                      # an error line: its rate is not known
                continue
            got.setdefault((r["sim"], r["N"], float(rate)), []).append(r)
    return [aggregate(s, N, rate, rs) for (s, N, rate), rs in got.items()]


def finish(rows, args):
    lat = {N: round(latency_ns(N), 2) for N in sorted({r["N"] for r in rows})}
    summary = summarize(rows, lat)
    print(json.dumps(dict(summary=summary)))
    if not args.quick:
        write(rows, summary, lat, args)


def _row(rows, sim, N, rate):
    return next((r for r in rows if r["sim"] == sim and r["N"] == N
                 and r["input_rate_hz"] == rate and "error" not in r), None)


def crossover(rows, N):
    """The input rate (Hz) at which the event engine's time equals the clock-driven
    engine's, by log-log interpolation between the rates measured (None outside)."""
    pts = []
    for r in sorted({x["input_rate_hz"] for x in rows if x["N"] == N}):
        e, c = _row(rows, "event", N, r), _row(rows, "numba", N, r)
        if e and c:
            pts.append((r, np.log(e["sim_s"] / c["sim_s"])))
    for (r0, y0), (r1, y1) in zip(pts, pts[1:]):
        if y0 <= 0 < y1:
            f = -y0 / (y1 - y0)
            return float(np.exp(np.log(r0) + f * (np.log(r1) - np.log(r0))))
    return None


def summarize(rows, lat):
    out = {}
    for N in sorted({r["N"] for r in rows}):
        d = dict(crossover_rate_hz=crossover(rows, N), latency_ns=lat.get(N))
        for rate in sorted({r["input_rate_hz"] for r in rows if r["N"] == N}):
            e = _row(rows, "event", N, rate)
            if e is None:
                continue
            sp = {s: round(r["sim_s"] / e["sim_s"], 2) for s in SIMS[1:]
                  if (r := _row(rows, s, N, rate))}
            d[f"{rate:g} Hz"] = dict(event_speedup=sp, ns_per_event=e["ns_per_event"],
                                     per_event_over_latency=round(
                                         e["ns_per_event"] / lat[N], 2) if lat.get(N) else None)
        out[N] = d
    return out


def write(rows, summary, lat, args):
    meta = dict(date=time.strftime("%Y-%m-%d"), python=platform.python_version(),
                cpus=os.cpu_count(), rounds=args.rounds, latency_ns=lat)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "sparse_results.json"), "w") as f:
        json.dump(dict(meta=meta, rows=rows, summary=summary), f, indent=1)
    lines = ["# Sparse activity: event-driven against clock-driven, Brian2 and NEST", "",
             f"`python benchmarks/sparse.py` on {platform.node()} ({os.cpu_count()} CPUs, "
             f"Python {platform.python_version()}), {meta['date']}; medians of the "
             f"rounds (taken in turn between the simulators). sim s per simulated second; "
             f"peak RSS of the simulating process (Brian2: of its Python process, which "
             f"also builds).", "",
             "| N | input Hz | simulator | build | rounds | rate Hz | sim s | build s | "
             "peak RSS MB | ns/event |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['N']:,} | {r['input_rate_hz']:g} | {r['sim']} | error: "
                         f"{r['error']} | | | | | | |")
            continue
        lines.append(f"| {r['N']:,} | {r['input_rate_hz']:g} | {r['sim']} | "
                     f"{r.get('build', '')} | {r.get('rounds', '')} | "
                     f"{r.get('rate_hz', 0):.3g} | {r['sim_s']:.4g} | "
                     f"{r['build_s']:.3g} | {r.get('peak_rss_mb', 0):.0f} | "
                     f"{r.get('ns_per_event', '')} |")
    lines += ["", "## Speed-ups of the event engine, crossover, memory bound", ""]
    for N, d in summary.items():
        lines.append(f"- N = {N:,}: crossover with the clock-driven engine at "
                     + (f"{d['crossover_rate_hz']:.3g} Hz" if d["crossover_rate_hz"]
                        else "(outside the rates measured)")
                     + f"; dependent random read of a 64-byte row: {d['latency_ns']} ns")
        for k, v in d.items():
            if k.endswith("Hz") and isinstance(v, dict):
                lines.append(f"  - {k}: event engine {v['ns_per_event']} ns per synaptic "
                             f"event ({v['per_event_over_latency']}x the latency); faster "
                             f"than {v['event_speedup']}")
    with open(os.path.join(args.out, "sparse_results.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    plot(rows, args.out)


def plot(rows, out):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    Ns = sorted({r["N"] for r in rows})
    fig, axes = plt.subplots(1, len(Ns), figsize=(4.2 * len(Ns), 3.6), squeeze=False)
    for ax, N in zip(axes[0], Ns):
        for s, style in zip(SIMS, ("o-", "s--", "^:", "v:")):
            pts = sorted((r["input_rate_hz"], r["sim_s"]) for r in rows
                         if r["sim"] == s and r["N"] == N and "error" not in r)
            if pts:
                ax.loglog(*zip(*pts), style, label=s)
        ax.set_title(f"N = {N:,}")
        ax.set_xlabel("rate (Hz)")
        ax.set_ylabel("s per simulated s")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "sparse.png"), dpi=110)


if __name__ == "__main__":
    main()
