"""What the model peers (brian2_brunel/coba.py, nest_brunel/coba.py) share: the Brian2
cpp_standalone set-up and run, and the row and spike file every peer writes.

Imports nothing outside the standard library and numpy at module level, so that NEST's
virtual environment (no Brian2) can use it too.
"""

import json
import os
import resource
import sys
import tempfile
import time

# Run the standalone binary under a small Python wrapper that writes the binary's own peak
# resident memory (ru_maxrss of its children, kB) to a file: the C++ compiler, also a child
# of the Brian2 process, does not count.
_RSS_WRAPPER = ("import resource, subprocess, sys\n"
                "r = subprocess.call(sys.argv[2:])\n"
                "open(sys.argv[1], 'w').write(str(resource.getrusage("
                "resource.RUSAGE_CHILDREN).ru_maxrss))\n"
                "sys.exit(r)\n")


def parse_args(model, argv=None):
    """The command line every model peer takes: the size (Brunel: --scale, --g, --eta;
    COBA: --N, --indegree), --duration, --presim, --threads, --seed and --spikes."""
    import argparse
    ap = argparse.ArgumentParser(description=f"{model} in one peer simulator")
    if model == "brunel":
        ap.add_argument("--scale", type=float, default=1.0)
        ap.add_argument("--g", type=float, default=5.0)
        ap.add_argument("--eta", type=float, default=2.0)
    else:
        ap.add_argument("--N", type=int, default=4000)
        ap.add_argument("--indegree", type=int, default=80)
    ap.add_argument("--duration", type=float, default=1.0, help="seconds measured")
    ap.add_argument("--presim", type=float, default=0.2, help="seconds before them")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--spikes", required=True, help="npz file for the measured spikes")
    return ap.parse_args(argv)


def brunel_sizes(scale):
    """(N_E, N_I, C_E, C_I) of Brunel's model at ``scale`` (neurosim.nets.brunel_params)."""
    n_e, n_i = int(round(10000 * scale)), int(round(2500 * scale))
    return n_e, n_i, int(round(0.1 * n_e)), int(round(0.1 * n_i))


def peak_rss_mb(*extra_kb):
    """Peak resident memory (MB) of this process, or of ``extra_kb`` if larger."""
    return round(max([resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, *extra_kb]) / 1024.0,
                 1)


def save_spikes(path, t, i, n, presim, duration):
    """Spikes of the timed window [presim, presim + duration) into ``path`` (npz: t in s,
    i, n, t0, duration); the number of them."""
    import numpy as np
    t = np.asarray(t, dtype=float)
    i = np.asarray(i, dtype=np.int64)
    keep = t >= presim - 1e-9
    np.savez(path, t=t[keep], i=i[keep], n=n, t0=presim, duration=duration)
    return int(keep.sum())


def emit(row, t_proc):
    """Print one JSON row (with process_s: the time since ``t_proc``)."""
    row["process_s"] = round(time.perf_counter() - t_proc, 3)
    print(json.dumps(row), flush=True)


def brian2_prepare(args, prefix):
    """Import Brian2 and set up cpp_standalone (threads as in brian2_cuba.py) and dt 0.1 ms.
    Returns (brian2 module, state dict with the timers and paths)."""
    t_proc = time.perf_counter()
    import brian2 as b2
    workdir = tempfile.mkdtemp(prefix=prefix)
    b2.set_device("cpp_standalone", directory=workdir, build_on_run=False)
    b2.seed(args.seed)       # after set_device: only then does the seed reach the binary
    omp = 0 if args.threads <= 1 else args.threads
    b2.prefs.devices.cpp_standalone.openmp_threads = omp
    rss_file = os.path.join(workdir, "binary_maxrss_kb")
    b2.prefs.devices.cpp_standalone.run_cmd_unix = [sys.executable, "-c", _RSS_WRAPPER,
                                                    rss_file, "./main"]
    b2.defaultclock.dt = 0.1 * b2.ms
    return b2, dict(t_proc=t_proc, t0=time.perf_counter(), workdir=workdir, omp=omp,
                    rss_file=rss_file)


def brian2_finish(b2, args, st, net, mon, n, model, synapses, extra=None):
    """Run ``net`` for presim + duration in one run, build and run the binary, save the
    spikes of the timed window and print the row."""
    total = args.presim + args.duration
    net.run(total * b2.second)
    b2.device.build(directory=st["workdir"], compile=True, run=True, debug=False)
    wall = time.perf_counter() - st["t0"]
    sim_s = float(b2.device._last_run_time)
    with open(st["rss_file"]) as f:
        binary_kb = int(f.read())
    n_spikes = save_spikes(args.spikes, mon.t[:] / b2.second, mon.i[:], n, args.presim,
                           args.duration)
    timers = b2.device.timers.get("compile", {})
    row = dict(simulator="brian2-cpp_standalone", model=model, version=b2.__version__,
               build=f"cpp_standalone (openmp_threads={st['omp']})",
               threads=max(st["omp"], 1), N=n, synapses=synapses(),
               build_s=round(wall - sim_s, 4),
               compile_s=round(sum(v for v in timers.values() if v), 3),
               sim_s=round(sim_s, 4), simulated_s=round(total, 6),
               sim_per_simulated_s=round(sim_s / total, 4), spikes=n_spikes,
               peak_rss_mb=peak_rss_mb(binary_kb), binary_peak_rss_mb=round(binary_kb / 1024, 1),
               seed=args.seed, **(extra or {}))
    emit(row, st["t_proc"])


def nest_prepare(args):
    """Import NEST and reset its kernel (dt 0.1 ms, threads, seed); (nest, t_proc)."""
    t_proc = time.perf_counter()
    import nest
    nest.set_verbosity("M_ERROR")
    nest.ResetKernel()
    nest.SetKernelStatus({"resolution": 0.1, "local_num_threads": args.threads,
                          "rng_seed": args.seed})
    return nest, t_proc


def nest_finish(nest, args, t_proc, t0, pop, rec, model, build, n_other, extra):
    """After Create and Connect (begun at ``t0``): Prepare, one timed run of presim +
    duration, the spikes of the timed window and the row (``n_other``: connections that
    are not synapses between the neurons)."""
    nest.Prepare()
    build_s = time.perf_counter() - t0
    total = args.presim + args.duration
    t1 = time.perf_counter()
    nest.Run(total * 1000.0)
    sim_s = time.perf_counter() - t1
    nest.Cleanup()
    ev = rec.get("events")
    n = len(pop)
    n_spikes = save_spikes(args.spikes, ev["times"] / 1000.0, ev["senders"] - pop[0].global_id,
                           n, args.presim, args.duration)
    emit(dict(simulator=f"nest-{args.threads}t", model=model, version=nest.__version__,
              build=build, threads=args.threads, N=n,
              synapses=int(nest.GetKernelStatus("num_connections")) - n_other,
              build_s=round(build_s, 4), sim_s=round(sim_s, 4), simulated_s=round(total, 6),
              sim_per_simulated_s=round(sim_s / total, 4), spikes=n_spikes,
              peak_rss_mb=peak_rss_mb(), seed=args.seed, **extra), t_proc)
