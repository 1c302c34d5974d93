"""CUBA in Brian2 (runtime or cpp_standalone), the same network as benchmarks/cuba.py.

    python benchmarks/peers/brian2_cuba.py --target cpp_standalone --N 4000 --duration 1

Prints one JSON line like benchmarks/cuba.py. sim_s is the simulation loop only: Brian2's own
measurement of the C++ main loop for cpp_standalone (device._last_run_time), and for the runtime
target the wall time of a second run() call after a short first one (so code generation and
Cython compilation, cached on disk, are not counted). build_s covers network construction.

Threads (cpp_standalone): --threads 1 is Brian2's default build, openmp_threads = 0, which
generates plain single-threaded code; --threads N > 1 sets openmp_threads = N. (openmp_threads
= 1 is not one thread of the default build: Brian2 then generates OpenMP code, which issue 17
measured about 1.5x slower on CUBA; --openmp-threads 1 runs it, for comparison.) Every row names its build
and the Brian2 version.
"""

import argparse
import contextlib
import io
import json
import sys
import tempfile
import time

from _report import report


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--N", type=int, default=4000)
    ap.add_argument("--indegree", type=int, default=80)
    ap.add_argument("--duration", type=float, default=1.0)
    ap.add_argument("--target", choices=("runtime", "cpp_standalone"), default="runtime")
    ap.add_argument("--threads", type=int, default=1,
                    help="threads (cpp_standalone): 1 = default build (openmp_threads = 0), "
                         "N > 1 = openmp_threads N")
    ap.add_argument("--openmp-threads", type=int, default=None,
                    help="set Brian2's openmp_threads directly (overrides --threads)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    t_proc = time.perf_counter()
    import brian2 as b2
    from brian2 import NeuronGroup, Synapses, SpikeMonitor, ms, mV, second
    b2.seed(args.seed)
    if args.target == "cpp_standalone":
        workdir = tempfile.mkdtemp(prefix="brian2_cuba_")
        b2.set_device("cpp_standalone", directory=workdir, build_on_run=False)
        omp = (args.openmp_threads if args.openmp_threads is not None
               else (0 if args.threads <= 1 else args.threads))
        b2.prefs.devices.cpp_standalone.openmp_threads = omp
        threads = max(omp, 1)
        build = f"cpp_standalone (openmp_threads={omp})"
    else:
        b2.prefs.codegen.target = "cython"
        threads = 1
        build = "runtime (cython)"
    b2.defaultclock.dt = 0.1 * ms
    N, n_exc = args.N, int(round(0.8 * args.N))
    p = args.indegree / N
    eqs = """
    dv/dt  = (ge+gi-(v-El))/taum : volt (unless refractory)
    dge/dt = -ge/taue : volt
    dgi/dt = -gi/taui : volt
    """
    ns = dict(taum=20 * ms, taue=5 * ms, taui=10 * ms, Vt=-50 * mV, Vr=-60 * mV, El=-49 * mV,
              we=(60 * 0.27 / 10) * mV, wi=(-20 * 4.5 / 10) * mV)
    t0 = time.perf_counter()
    P = NeuronGroup(N, eqs, threshold="v>Vt", reset="v = Vr", refractory=5 * ms,
                    method="exact", namespace=ns)
    P.v = "Vr + rand() * (Vt - Vr)"
    # subgroups and connect(p=...) without a condition: Brian2 then samples with jumps
    # instead of testing every pair (as Brian2's own CUBA example does).
    Ce = Synapses(P[:n_exc], P, on_pre="ge += we", namespace=ns)
    Ci = Synapses(P[n_exc:], P, on_pre="gi += wi", namespace=ns)
    Ce.connect(p=p)
    Ci.connect(p=p)
    mon = SpikeMonitor(P, record=False)
    net = b2.Network(P, Ce, Ci, mon)
    if args.target == "cpp_standalone":
        net.run(args.duration * second)
        b2.device.build(directory=workdir, compile=True, run=True, debug=False)
        build_s = time.perf_counter() - t0 - b2.device._last_run_time
        sim_s = b2.device._last_run_time
        n_syn = int(len(Ce) + len(Ci))
    else:
        net.run(0.1 * ms)
        build_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        net.run(args.duration * second)
        sim_s = time.perf_counter() - t1
        n_syn = int(len(Ce) + len(Ci))
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        report(f"brian2-{args.target}", N, threads, n_syn, build_s, sim_s,
               int(mon.num_spikes), args.duration, t_proc)
    row = json.loads(buf.getvalue().strip().splitlines()[-1])
    row.update(build=build, brian2_version=b2.__version__)
    print(json.dumps(row))


if __name__ == "__main__":
    sys.exit(main())
