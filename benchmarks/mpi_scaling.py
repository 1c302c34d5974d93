"""MPI scaling study: one network over K ranks (neurosim.mpi), strong and weak scaling.

    python benchmarks/mpi_scaling.py                  # the study (writes mpi_results.*)
    python benchmarks/mpi_scaling.py --quick          # small sizes, one repeat
    python benchmarks/mpi_scaling.py --full-microcircuit   # adds scale 1.0 (K = 1, 2)

Each configuration runs in fresh processes: K = 1 is a plain ``python`` (no MPI at all),
K >= 2 is ``mpiexec -n K python`` with the venv's mpich (Hydra). The configurations take
turns within each repeat; the tables report medians. This machine has 2 cores: K = 3 and 4
oversubscribe them and are labelled so (their time is not a model of a cluster).

Per run and rank: build time (construct + connect + lower), simulation time of the timed
run (after an untimed pre-run that loads the kernel from Numba's cache), the time spent in
the exchange's collectives (wall, so it includes waiting for the slowest rank), the number
of exchanges (one per step: the spike exchange runs every step), the spikes exchanged, and
peak resident memory. Printed as JSON lines; written to benchmarks/mpi_results.{md,json}
and mpi_scaling.png.
"""

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

CORES = os.cpu_count() or 1
_LABEL = {"cuba": "CUBA", "brunel": "Brunel 2000", "microcircuit": "microcircuit"}


# ---------------------------------------------------------------------------- worker
def worker(kind, size, duration, presim, threads, seed, balance="memory", exchange="interval"):
    """Build and run one network in this process (one rank of K); rank 0 prints a JSON line
    with every rank's figures."""
    import numpy as np
    import neurosim as ns
    from neurosim.units import ms
    t0 = time.perf_counter()
    net = ns.Network(dt=0.1 * ms, seed=seed, threads=threads, mpi_balance=balance)
    if kind == "cuba":
        ns.nets.cuba(net, N=int(size))
    elif kind == "brunel":
        ns.nets.brunel(net, scale=float(size))
    else:
        ns.nets.microcircuit(net, scale=float(size))
    if exchange == "step":
        net.exchange_interval = 1
    net.build()
    build_s = time.perf_counter() - t0
    net.run(presim, progress=False)
    ranks = net._ranks
    if ranks is not None:
        ranks.comm.Barrier()
        ranks.reset_stats()
    spikes0 = sum(int(net.spike_counts(p).sum()) for p in net.populations if p.kind == "lif")
    t0 = time.perf_counter()
    net.run(duration, progress=False)
    sim_s = time.perf_counter() - t0
    spikes = sum(int(net.spike_counts(p).sum()) for p in net.populations
                 if p.kind == "lif") - spikes0
    mine = dict(rank=net.rank, build_s=build_s, sim_s=sim_s,
                exchange_s=ranks.exchange_s if ranks else 0.0,
                exchanges=ranks.exchanges if ranks else 0,
                spikes_exchanged=ranks.spikes_exchanged if ranks else 0,
                local_synapses=int(net.plan.conn.target.shape[0]),
                rss_bytes=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
    every = ranks.comm.gather(mine, root=0) if ranks else [mine]
    if net.rank == 0:
        n_lif = sum(p.n for p in net.populations if p.kind == "lif")
        print("RESULT " + json.dumps(dict(
            kind=kind, size=size, ranks=net.n_ranks, threads=threads, neurons=n_lif,
            balance=balance, exchange=exchange, interval=net.exchange_interval,
            synapses=int(sum(p.n_synapses for p in net.projections)),
            steps=int(round(duration / net.dt)), spikes=spikes, duration=duration,
            per_rank=every)), flush=True)
    del np


# ---------------------------------------------------------------------------- driver
def _mpiexec():
    exe = Path(sys.executable).parent / "mpiexec"
    return str(exe) if exe.exists() else "mpiexec"


def launch(kind, size, ranks, duration, presim, threads=1, seed=11, balance="memory",
           exchange="interval", timeout=3600):
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", kind, str(size),
           str(duration), str(presim), str(threads), str(seed), balance, exchange]
    if ranks > 1:
        cmd = [_mpiexec(), "-n", str(ranks)] + cmd
    env = dict(os.environ, NUMBA_NUM_THREADS=str(max(threads, 1)))
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
    if proc.returncode != 0 or not line:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr[-2000:]}")
    return json.loads(line[0][len("RESULT "):])


def summarize(runs):
    """Medians of the repeats of one configuration."""
    r0 = runs[0]
    med = lambda f: statistics.median(f(r) for r in runs)  # noqa: E731
    sim = med(lambda r: max(p["sim_s"] for p in r["per_rank"]))
    ex_max = med(lambda r: max(p["exchange_s"] for p in r["per_rank"]))
    ex_min = med(lambda r: min(p["exchange_s"] for p in r["per_rank"]))
    steps = r0["steps"]
    return dict(kind=r0["kind"], size=r0["size"], ranks=r0["ranks"], threads=r0["threads"],
                balance=r0.get("balance", "memory"),
                exchange=r0.get("exchange", "step"), interval=r0.get("interval", 1),
                exchanges=med(lambda r: max(p["exchanges"] for p in r["per_rank"])),
                neurons=r0["neurons"], synapses=r0["synapses"], steps=steps,
                oversubscribed=r0["ranks"] * r0["threads"] > CORES,
                repeats=len(runs),
                build_s=med(lambda r: max(p["build_s"] for p in r["per_rank"])),
                sim_s=sim,
                s_per_sim_s=sim / r0["duration"],
                exchange_s_max=ex_max, exchange_s_min=ex_min,
                comm_fraction=ex_max / sim if sim else 0.0,
                comm_fraction_pacing=ex_min / sim if sim else 0.0,
                us_per_exchange_min=(1e6 * ex_min / max(p["exchanges"] for p in r0["per_rank"])
                                     if r0["ranks"] > 1 else 0.0),
                spikes_per_step=med(lambda r: r["spikes"]) / steps,
                rss_max_bytes=med(lambda r: max(p["rss_bytes"] for p in r["per_rank"])),
                local_synapses_max=max(p["local_synapses"] for p in r0["per_rank"]),
                spikes=[r["spikes"] for r in runs])


def cluster_model(rows):
    """Cost of the exchange on a cluster, fitted where it can be and stated where not.

    Per step, one Allgather of a block of 65 int32 per rank (a count and up to 64 spike
    indices; a busier step adds an Allgatherv): T_comm ~ alpha * ceil(log2 K) + beta *
    260 B * K (every rank receives every block). alpha here = the cheapest K = 2 exchange
    measured in this study (shared memory, neurosim's per-step call out of compiled code,
    and whatever waiting the machine's other jobs caused); on a cluster, InfiniBand's
    small-message latency is about 1-2 us per hop (assumed, not measured here).
    Distribution pays off in time when the compute saved per step, T_step(1) * (1 - 1/K),
    exceeds T_comm; it is needed, whatever the time, when the synapses do not fit in one
    node's memory. A network whose delays are all L > 1 steps exchanges once per L steps
    (Network.exchange_interval; L = 15 for Brunel 2000's 1.5 ms): its latency term is paid
    once per L steps, so the break-even sizes below (for L = 1) divide by L."""
    import math
    k2 = [r for r in rows if r["ranks"] == 2 and r["us_per_exchange_min"] > 0]
    alpha_here = min(r["us_per_exchange_min"] for r in k2) if k2 else float("nan")
    out = dict(alpha_here_us=alpha_here, alpha_cluster_us=1.5, beta_ns_per_byte=0.1,
               note="alpha_here: fitted (the cheapest K=2 exchange of this study); "
                    "alpha_cluster and beta: assumed InfiniBand figures")
    ones = {(r["kind"], r["size"]): r for r in rows if r["ranks"] == 1}
    per_neuron_step = [ones[k]["sim_s"] / (ones[k]["neurons"] * ones[k]["steps"])
                       for k in ones]
    c = statistics.median(per_neuron_step) if per_neuron_step else float("nan")
    out["cost_per_neuron_step_ns"] = c * 1e9
    for alpha_key in ("alpha_here_us", "alpha_cluster_us"):
        a = out[alpha_key] * 1e-6
        for K in (2, 4, 16, 64):
            t_comm = a * math.ceil(math.log2(K)) + out["beta_ns_per_byte"] * 1e-9 * 260 * K
            # neurons at which the compute saved per step equals the exchange's latency
            out[f"break_even_neurons_{alpha_key}_K{K}"] = t_comm / (c * (1 - 1 / K))
    return out


def write(rows, model, out_dir, argv):
    from datetime import datetime, timezone
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    import mpi4py
    import numba
    import numpy
    try:
        from importlib.metadata import version
        mpich = version("mpich")
    except Exception:  # noqa: BLE001
        mpich = "system"
    base = {(r["kind"], r["size"]): r for r in rows if r["ranks"] == 1}
    lines = [f"# MPI scaling (neurosim.mpi), {stamp}", "",
             f"Machine: {platform.machine()}, {CORES} cores, shared with other jobs; Python "
             f"{platform.python_version()}, numpy {numpy.__version__}, numba "
             f"{numba.__version__}, mpi4py {mpi4py.__version__}, mpich {mpich} (PyPI wheel, "
             f"Hydra), one thread per rank.", "",
             f"Reproduce: `python benchmarks/mpi_scaling.py {' '.join(argv)}`", "",
             "K = 1 runs in a plain process (no MPI); K >= 2 under `mpiexec -n K`. Times are "
             "the slowest rank's; comm = wall time inside the exchange's collectives on the "
             "slowest rank (it includes waiting for the others: load imbalance); exchange "
             "us (min) = the rank that waited least, per exchange; memory = the largest rank's "
             "peak RSS. **K > cores is oversubscribed** (marked *): MPICH's ranks "
             "busy-wait, so those rows measure the machine, not a cluster. load avg = the "
             "machine's 1-minute load average after the run (other jobs share it: above 2, "
             "a rank waiting in a collective is often waiting for a partner that another "
             "process has taken the core from).", "",
             "exchange = how often the ranks swap spikes: every L steps (L = the network's "
             "shortest delay in steps, Network.exchange_interval) or every step; exchanges "
             "= collectives in the timed run.", "",
             "split = Network(mpi_balance=...): 'memory' gives the ranks equal synapses, "
             "'time' equal work per step; comm % pacing = the share of the time inside the "
             "collectives on the rank that waited least (the exchange itself, without load "
             "imbalance).", "",
             "| network | neurons | synapses | K | split | exchange | exchanges | build s | "
             "s per sim. s | speed-up | "
             "comm % | comm % pacing | exchange us (min) | spikes/step | peak RSS/rank | "
             "RSS vs K=1 | synapses/rank | load avg |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        b = base.get((r["kind"], r["size"]))
        speed = b["sim_s"] / r["sim_s"] if b else float("nan")
        mem = r["rss_max_bytes"] / b["rss_max_bytes"] if b else float("nan")
        name = (f"CUBA N={int(r['size']):,}" if r["kind"] == "cuba"
                else f"Brunel 2000 scale {r['size']}" if r["kind"] == "brunel"
                else f"microcircuit scale {r['size']}")
        every = ("-" if r["ranks"] == 1 else "every step" if r["interval"] == 1
                 else f"every {r['interval']} steps")
        star = "*" if r["oversubscribed"] else ""
        lines.append(
            f"| {name} | {r['neurons']:,} | {r['synapses']:,} | {r['ranks']}{star} | "
            f"{r['balance'] if r['ranks'] > 1 else '-'} | {every} | "
            f"{r['exchanges'] if r['ranks'] > 1 else '-'} | "
            f"{r['build_s']:.2f} | {r['s_per_sim_s']:.3g} | {speed:.2f} | "
            f"{100 * r['comm_fraction']:.1f} | {100 * r['comm_fraction_pacing']:.1f} | "
            f"{r['us_per_exchange_min']:.1f} | "
            f"{r['spikes_per_step']:.1f} | {r['rss_max_bytes'] / 2**30:.2f} GiB | "
            f"{mem:.2f} | {r['local_synapses_max']:,} | {r['load_avg']:.1f} |")
    weak = {r["ranks"]: r for r in rows if r["kind"] == "cuba" and r["balance"] == "memory"
            and int(r["size"]) == 32000 * r["ranks"]}
    if 1 in weak and len(weak) > 1:
        lines += ["", "Weak scaling (CUBA, 32,000 neurons per rank, in-degree 80): efficiency = "
                  "time at K = 1 / time at K (1.0 is ideal).", "",
                  "| K | neurons | s per sim. s | efficiency | comm % |", "|---|---|---|---|---|"]
        for k in sorted(weak):
            r = weak[k]
            star = "*" if r["oversubscribed"] else ""
            lines.append(f"| {k}{star} | {r['neurons']:,} | {r['s_per_sim_s']:.3g} | "
                         f"{weak[1]['sim_s'] / r['sim_s']:.2f} | "
                         f"{100 * r['comm_fraction']:.1f} |")
    lines += ["", "Spikes identical for every K of each network: " + ", ".join(
        f"{_LABEL[r['kind']]} {r['size']:g}: "
        f"{r['spikes_identical_across_K']}" for r in rows if r["ranks"] == 1)]
    lines += ["", "## Cluster model", "", cluster_model.__doc__.strip().replace("\n    ", "\n"),
              "", "```", json.dumps(model, indent=1), "```", ""]
    (out_dir / "mpi_results.md").write_text("\n".join(lines))
    (out_dir / "mpi_results.json").write_text(json.dumps(dict(rows=rows, model=model),
                                                         indent=1))
    plot(rows, out_dir / "mpi_scaling.png")


def plot(rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    groups = {}
    for r in rows:
        if r["kind"] == "cuba" and r.get("weak"):
            continue
        groups.setdefault((r["kind"], r["size"]), []).append(r)
    for (kind, size), rs in groups.items():
        rs = sorted(rs, key=lambda r: r["ranks"])
        b = next((r for r in rs if r["ranks"] == 1), None)
        if b is None:
            continue
        ks = [r["ranks"] for r in rs]
        label = f"CUBA {int(size):,}" if kind == "cuba" else f"{_LABEL[kind]} {size}"
        axes[0].plot(ks, [b["sim_s"] / r["sim_s"] for r in rs], "o-", label=label)
        axes[1].plot(ks, [100 * r["comm_fraction"] for r in rs], "o-", label=label)
        axes[2].plot(ks, [r["rss_max_bytes"] / b["rss_max_bytes"] for r in rs], "o-",
                     label=label)
    kmax = max(r["ranks"] for r in rows)
    axes[0].plot([1, kmax], [1, kmax], "k:", lw=0.8, label="ideal")
    axes[2].plot(range(1, kmax + 1), [1 / k for k in range(1, kmax + 1)], "k:", lw=0.8,
                 label="1/K")
    for ax, title in zip(axes, ("speed-up (strong scaling)", "time in exchange (%)",
                                "peak RSS per rank / K=1")):
        ax.set_xlabel("ranks K (K > %d oversubscribed)" % CORES)
        ax.set_title(title)
        ax.axvspan(CORES + 0.5, kmax + 0.5, color="0.9")
        ax.set_xticks(range(1, kmax + 1))
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worker", nargs=8, metavar=("KIND", "SIZE", "DURATION", "PRESIM",
                                                 "THREADS", "SEED", "BALANCE", "EXCHANGE"))
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--ranks", type=int, nargs="+", default=[1, 2, 3, 4])
    ap.add_argument("--full-microcircuit", action="store_true",
                    help="add the full-scale microcircuit at K = 1 and 2 (memory goal)")
    ap.add_argument("--configs", nargs="+", metavar="KIND:SIZE:DURATION",
                    help="only these networks (e.g. microcircuit:1.0:0.2 cuba:64000:0.3)")
    ap.add_argument("--balance", nargs="+", choices=("memory", "time", "both"), default=["memory"],
                    help="the splits to run at K >= 2 (Network(mpi_balance=...))")
    ap.add_argument("--exchange", nargs="+", choices=("interval", "step"),
                    default=["interval"],
                    help="at K >= 2: swap spikes once per minimum delay (Network."
                         "exchange_interval) or at every step")
    ap.add_argument("--out", default=str(HERE))
    args = ap.parse_args()
    if args.worker:
        kind, size, duration, presim, threads, seed, balance, exchange = args.worker
        worker(kind, float(size), float(duration), float(presim), int(threads), int(seed),
               balance, exchange)
        return
    if args.quick:
        strong = [("cuba", 4000, 0.2), ("microcircuit", 0.02, 0.1)]
        weak = []
        repeats = 1
    else:
        strong = [("cuba", 4000, 1.0), ("cuba", 64000, 0.3), ("cuba", 256000, 0.1),
                  ("microcircuit", 0.1, 0.3), ("microcircuit", 0.5, 0.1)]
        weak = [("cuba", 32000 * k, 0.3, k) for k in args.ranks]
        repeats = args.repeats
    if args.configs:
        strong = [(c.split(":")[0], float(c.split(":")[1]), float(c.split(":")[2]))
                  for c in args.configs]
        weak = []
    big = {("cuba", 256000), ("microcircuit", 0.5)}   # one repeat
    configs = [(kind, size, dur, k) for kind, size, dur in strong for k in args.ranks]
    configs += weak
    if args.full_microcircuit:
        configs += [("microcircuit", 1.0, 0.2, k) for k in (1, 2)]
    configs = [(*c, b, x) for c in configs for b in (args.balance if c[3] > 1 else ["memory"])
               for x in (args.exchange if c[3] > 1 else ["interval"])]
    results = {}
    for rep in range(repeats):
        for kind, size, dur, k, balance, exchange in configs:
            if (kind, size) in big and rep > 0:
                continue
            r = launch(kind, size, k, dur, presim=0.05, balance=balance, exchange=exchange)
            r["weak"] = (kind, size, dur, k) in weak
            r["load_avg"] = os.getloadavg()[0]
            print(json.dumps({key: r[key] for key in ("kind", "size", "ranks", "balance",
                                                      "exchange", "interval", "spikes")}
                             | {"sim_s": max(p["sim_s"] for p in r["per_rank"]),
                                "exchange_s": max(p["exchange_s"] for p in r["per_rank"]),
                                "rss_gb": max(p["rss_bytes"] for p in r["per_rank"]) / 2**30}),
                  flush=True)
            results.setdefault((kind, size, k, balance, exchange), []).append(r)
            report(results, args)        # after every run: an interrupted study keeps its rows
    print(json.dumps(dict(model=report(results, args))))


def report(results, args):
    """The tables, JSON and figure of the runs so far; returns the cluster model."""
    rows = []
    for key, runs in results.items():
        row = summarize(runs)
        row["weak"] = runs[0]["weak"]
        row["load_avg"] = statistics.median(r["load_avg"] for r in runs)
        rows.append(row)
    for row in rows:      # the same network gives the same spikes for every K
        same = [r["spikes"] for r in rows if (r["kind"], r["size"]) == (row["kind"],
                                                                        row["size"])]
        row["spikes_identical_across_K"] = all(s == same[0] for s in same)
    model = cluster_model(rows)
    Path(args.out).mkdir(parents=True, exist_ok=True)
    write(rows, model, Path(args.out), sys.argv[1:])
    return model


if __name__ == "__main__":
    main()
