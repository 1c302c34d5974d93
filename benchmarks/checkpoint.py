"""Write and read time of a checkpoint of the full-scale PD14 microcircuit (issue 23).

Builds ``ns.nets.microcircuit(net, scale=1.0)`` (77,169 neurons, about 0.3 billion
synapses: about 1-2 minutes and 4.5 GB), runs it briefly with spike monitors on every
population, writes a checkpoint (``net.save_checkpoint``) and reads it back into the same
network (``net.restore_checkpoint``: the file read, checked against the network's
fingerprint and copied into the engine's state), several times each; then checks that
the run continued from the restored state equals the run continued without it.
Connectivity is not part of a checkpoint (the script rebuilds it from the seed), so the
file holds the state of the neurons, the delay rings, the Poisson streams, monitors and
counters. Prints the figures as JSON and writes benchmarks/checkpoint_results.md.

    python benchmarks/checkpoint.py [--scale 1.0] [--repeat 3] [--dir /tmp]
"""

import argparse
import json
import os
import platform
import tempfile
import time

import numpy as np

import neurosim as ns
from neurosim.units import ms

HERE = os.path.dirname(os.path.abspath(__file__))


def _span(times):
    return f"{min(times):.2f} s best, {max(times):.2f} s worst of {len(times)}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--run-ms", type=float, default=20.0)
    ap.add_argument("--dir", default=None, help="folder of the checkpoint (default: a "
                    "temporary folder on the disk of benchmarks/)")
    ap.add_argument("--out", default=HERE)
    a = ap.parse_args()
    folder = tempfile.mkdtemp(prefix="ckpt-bench-", dir=a.dir or HERE)
    path = os.path.join(folder, "microcircuit.ckpt.npz")
    t0 = time.perf_counter()
    net = ns.Network(dt=0.1 * ms, seed=1)
    ns.nets.microcircuit(net, scale=a.scale)
    mons = [net.spike_monitor(p) for p in net.populations if p.kind == "lif"]
    net.build()
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    net.run(a.run_ms * ms, progress=False)
    run_s = time.perf_counter() - t0
    writes, reads = [], []
    for _ in range(a.repeat):
        t0 = time.perf_counter()
        net.save_checkpoint(path)
        writes.append(time.perf_counter() - t0)
        os.sync() if hasattr(os, "sync") else None
        t0 = time.perf_counter()
        net.restore_checkpoint(path)
        reads.append(time.perf_counter() - t0)
    size = os.path.getsize(path)
    # the restored state continues exactly as the state it was saved from
    spikes = [m.num_spikes for m in mons]
    state_before = net._runner.state
    ref = [np.array(a, copy=True) for a in state_before]
    net.run(2 * ms, progress=False)
    after = [m.steps[-50:].copy() for m in mons]
    net.restore_checkpoint(path)
    same_state = all(np.array_equal(x, y) for x, y in zip(ref, net._runner.state))
    net.run(2 * ms, progress=False)
    same_run = all(np.array_equal(x, m.steps[-50:]) for x, m in zip(after, mons))
    os.unlink(path)
    os.rmdir(folder)
    n_syn = sum(int(p.n_synapses) for p in net.projections)
    res = dict(scale=a.scale, neurons=sum(p.n for p in net.populations), synapses=n_syn,
               build_s=round(build_s, 1), run_ms=a.run_ms, run_s=round(run_s, 2),
               spikes_recorded=int(sum(spikes)), file_mb=round(size / 1e6, 1),
               write_s=[round(x, 3) for x in writes], read_s=[round(x, 3) for x in reads],
               restored_state_equal=same_state, continued_run_equal=same_run,
               machine=f"{platform.machine()}, {os.cpu_count()} cores, "
                       f"numpy {np.__version__}, neurosim {ns.__version__}")
    print(json.dumps(res))
    with open(os.path.join(a.out, "checkpoint_results.md"), "w") as f:
        f.write(f"""# Checkpoint write and read: PD14 microcircuit, scale {a.scale:g}

Written by `python benchmarks/checkpoint.py` ({res['machine']}).

| | |
| --- | --- |
| network | {res['neurons']:,} neurons, {n_syn:,} synapses (built in {build_s:.0f} s) |
| state | after {a.run_ms:g} ms ({res['spikes_recorded']:,} spikes recorded by the monitors) |
| checkpoint file | {res['file_mb']} MB (uncompressed .npz; connectivity not included) |
| write (`net.save_checkpoint`) | {_span(writes)} |
| read (`net.restore_checkpoint`) | {_span(reads)} |
| restored state equals saved state | {same_state} |
| run continued from the restore equals the run continued before it | {same_run} |

Goal of issue 23: under 10 s each. A checkpoint holds the state of the run, not the
network: the script that built the network builds it again (same seed: same synapses)
and restores the state into it; only learned (plastic) weights and crossbar conductances
are saved with the state, and the microcircuit has none. Reading is timed into the built
network: building it again is the script's cost ({build_s:.0f} s here), the same as
for the first run.
""")


if __name__ == "__main__":
    main()
