"""Sparse activity in Brian2 (runtime or cpp_standalone), the same network as benchmarks/sparse.py.

    python benchmarks/peers/brian2_sparse.py --N 100000 --rate 0.1 --duration 1

N current-based LIF neurons with exponential synapses (tau_m 20 ms, tau_syn 5 ms, v_rest =
v_reset = -65 mV, v_th -50 mV, t_ref 2 ms, v = v_rest and I = 0 at the start, dt 0.1 ms).
Each neuron has its own Poisson input (a PoissonGroup of N connected one-to-one) at --rate
Hz, weight --w-ext (110 mV: one input spike makes the neuron fire), delay 0.1 ms, and
--indegree K recurrent inputs from random neurons of the population (drawn with numpy;
multapses and autapses allowed), weight --w-rec, delay 1.5 ms.

Prints one JSON line like brian2_cuba.py (timings as there: sim_s is the simulation loop
only, device._last_run_time for cpp_standalone and a second run() for the runtime target),
plus rate_hz, events and the build. "synapses" are the recurrent ones (N*K; the N external
ones are "synapses_ext"). events = recurrent events (spikes x K) + external input spikes,
the latter counted by a SpikeMonitor(record=False) on the PoissonGroup (its cost is in
sim_s); events_per_s = events / sim_s. For cpp_standalone, binary_peak_rss_mb is the peak
memory of the standalone binary alone (peak_rss_mb also counts the C++ compiler).
"""

import argparse
import contextlib
import io
import json
import os
import sys
import tempfile
import time

from _models_peer import _RSS_WRAPPER
from _report import report


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--N", type=int, default=100_000)
    ap.add_argument("--indegree", type=int, default=100)
    ap.add_argument("--rate", type=float, default=0.1, help="Poisson input rate per neuron, Hz")
    ap.add_argument("--w-ext", type=float, default=110.0, help="input weight, mV")
    ap.add_argument("--w-rec", type=float, default=0.1, help="recurrent weight, mV")
    ap.add_argument("--duration", type=float, default=1.0)
    ap.add_argument("--target", choices=("runtime", "cpp_standalone"), default="cpp_standalone")
    ap.add_argument("--threads", type=int, default=1,
                    help="threads (cpp_standalone): 1 = default build (openmp_threads = 0), "
                         "N > 1 = openmp_threads N")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    t_proc = time.perf_counter()
    import brian2 as b2
    import numpy as np
    from brian2 import (Hz, NeuronGroup, PoissonGroup, SpikeMonitor, Synapses, mV, ms,
                        second)
    rss_file = None
    if args.target == "cpp_standalone":
        workdir = tempfile.mkdtemp(prefix="brian2_sparse_")
        b2.set_device("cpp_standalone", directory=workdir, build_on_run=False)
        omp = 0 if args.threads <= 1 else args.threads
        b2.prefs.devices.cpp_standalone.openmp_threads = omp
        rss_file = os.path.join(workdir, "binary_maxrss_kb")
        b2.prefs.devices.cpp_standalone.run_cmd_unix = [sys.executable, "-c", _RSS_WRAPPER,
                                                        rss_file, "./main"]
        threads = max(omp, 1)
        build = f"cpp_standalone (openmp_threads={omp})"
    else:
        b2.prefs.codegen.target = "cython"
        threads = 1
        build = "runtime (cython)"
    b2.seed(args.seed)       # after set_device: only then does the seed reach the binary
    b2.defaultclock.dt = 0.1 * ms
    N, K = args.N, args.indegree
    eqs = """
    dv/dt = (I - (v - El))/taum : volt (unless refractory)
    dI/dt = -I/taus : volt
    """
    ns = dict(taum=20 * ms, taus=5 * ms, El=-65 * mV, Vt=-50 * mV, Vr=-65 * mV,
              w_ext=args.w_ext * mV, w_rec=args.w_rec * mV)
    t0 = time.perf_counter()
    P = NeuronGroup(N, eqs, threshold="v > Vt", reset="v = Vr", refractory=2 * ms,
                    method="exact", namespace=ns)
    P.v = -65 * mV
    P.I = 0 * mV
    inp = PoissonGroup(N, rates=args.rate * Hz)
    Se = Synapses(inp, P, on_pre="I += w_ext", delay=0.1 * ms, namespace=ns)
    Se.connect(j="i")
    mon = SpikeMonitor(P, record=False)
    mon_in = SpikeMonitor(inp, record=False)
    net = b2.Network(P, inp, Se, mon, mon_in)
    Sr = None
    if K > 0:                # (Brian2 cannot connect empty index arrays)
        rng = np.random.default_rng(args.seed)
        pre = rng.integers(0, N, N * K)
        post = np.repeat(np.arange(N), K)
        Sr = Synapses(P, P, on_pre="I += w_rec", delay=1.5 * ms, namespace=ns)
        Sr.connect(i=pre, j=post)
        del pre, post
        net.add(Sr)
    extra = {}
    if args.target == "cpp_standalone":
        net.run(args.duration * second)
        b2.device.build(directory=workdir, compile=True, run=True, debug=False)
        sim_s = float(b2.device._last_run_time)
        build_s = time.perf_counter() - t0 - sim_s
        with open(rss_file) as f:
            extra["binary_peak_rss_mb"] = round(int(f.read()) / 1024.0, 1)
        timers = b2.device.timers.get("compile", {})
        extra["compile_s"] = round(sum(v for v in timers.values() if v), 3)
        spikes, ext = int(mon.num_spikes), int(mon_in.num_spikes)
    else:
        net.run(0.1 * ms)
        build_s = time.perf_counter() - t0
        s0, e0 = int(mon.num_spikes), int(mon_in.num_spikes)
        t1 = time.perf_counter()
        net.run(args.duration * second)
        sim_s = time.perf_counter() - t1
        spikes, ext = int(mon.num_spikes) - s0, int(mon_in.num_spikes) - e0
    n_syn = int(len(Sr)) if Sr is not None else 0
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        report(f"brian2-{args.target}", N, threads, n_syn, build_s, sim_s, spikes,
               args.duration, t_proc)
    row = json.loads(buf.getvalue().strip().splitlines()[-1])
    events = spikes * K + ext
    row.update(synapses_ext=int(len(Se)), indegree=K, input_rate_hz=args.rate,
               w_ext_mV=args.w_ext, w_rec_mV=args.w_rec, ext_spikes=ext,
               events=events, events_counted="recurrent (spikes x indegree) + external input "
                                             "spikes (counted)",
               events_per_s=round(events / sim_s, 1), **extra,
               build=build, brian2_version=b2.__version__, seed=args.seed)
    print(json.dumps(row))


if __name__ == "__main__":
    sys.exit(main())
