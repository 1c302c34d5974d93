"""Sparse activity in NEST 3 (iaf_psc_exp), the same network as benchmarks/sparse.py.

    python benchmarks/peers/nest_sparse.py --N 100000 --rate 0.1 --duration 1 --threads 1

Runs in its own virtual environment (benchmarks/run_suite.py makes it with Python 3.11).
iaf_psc_exp with tau_m 20 ms, tau_syn_ex = tau_syn_in = 5 ms, C_m 250 pF, E_L = V_reset
= -65 mV, V_th -50 mV, t_ref 2 ms, V_m = -65 mV at the start, dt 0.1 ms. A weight of w
volts in Brian2's model (dI/dt = -I/tau_syn with I in volts) is w*C_m/tau_m amperes here:
w_pA = 12.5 * w_mV. One poisson_generator at --rate Hz connected all_to_all to the N
neurons (NEST draws an independent train for each target), weight --w-ext (110 mV), delay
0.1 ms; recurrent: fixed_indegree --indegree K, autapses and multapses allowed, weight
--w-rec (0.1 mV), delay 1.5 ms.

build_s = Create + Connect + Prepare; sim_s = one Run of --duration after Prepare (the
simulation loop only). Prints one JSON line like nest_cuba.py plus rate_hz, events and the
build. "synapses" are the recurrent ones (the N generator connections and the N recorder
connections are not counted). events = recurrent events (spikes x K) + the expected number
of external input spikes, N x rate x duration (NEST does not count the generator's
per-target spikes cheaply); events_per_s = events / sim_s.
"""

import argparse
import json
import sys
import time

from _report import report


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--N", type=int, default=100_000)
    ap.add_argument("--indegree", type=int, default=100)
    ap.add_argument("--rate", type=float, default=0.1, help="Poisson input rate per neuron, Hz")
    ap.add_argument("--w-ext", type=float, default=110.0, help="input weight, mV (Brian2 units)")
    ap.add_argument("--w-rec", type=float, default=0.1, help="recurrent weight, mV (Brian2 units)")
    ap.add_argument("--duration", type=float, default=1.0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    t_proc = time.perf_counter()
    import nest
    try:                                   # NEST >= 3.9 (set_verbosity is deprecated)
        nest.verbosity = nest.VerbosityLevel.ERROR
    except AttributeError:
        nest.set_verbosity("M_ERROR")
    nest.ResetKernel()
    nest.SetKernelStatus({"resolution": 0.1, "local_num_threads": args.threads,
                          "rng_seed": args.seed})
    N, K = args.N, args.indegree
    c_m, tau_m = 250.0, 20.0
    w_ext = args.w_ext * c_m / tau_m          # pA
    w_rec = args.w_rec * c_m / tau_m
    t0 = time.perf_counter()
    params = {"C_m": c_m, "tau_m": tau_m, "tau_syn_ex": 5.0, "tau_syn_in": 5.0,
              "t_ref": 2.0, "E_L": -65.0, "V_th": -50.0, "V_reset": -65.0, "V_m": -65.0,
              "I_e": 0.0}
    pop = nest.Create("iaf_psc_exp", N, params=params)
    noise = nest.Create("poisson_generator", params={"rate": args.rate})
    nest.Connect(noise, pop, "all_to_all", {"weight": w_ext, "delay": 0.1})
    nest.Connect(pop, pop, {"rule": "fixed_indegree", "indegree": K, "allow_autapses": True,
                            "allow_multapses": True}, {"weight": w_rec, "delay": 1.5})
    rec = nest.Create("spike_recorder")
    nest.Connect(pop, rec)
    t_prep = time.perf_counter()
    nest.Prepare()
    build_s = time.perf_counter() - t0
    prepare_s = time.perf_counter() - t_prep
    t1 = time.perf_counter()
    nest.Run(args.duration * 1000.0)
    sim_s = time.perf_counter() - t1
    nest.Cleanup()
    spikes = int(rec.n_events)
    n_syn = int(nest.GetKernelStatus("num_connections")) - 2 * N
    import contextlib
    import io
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        report(f"nest-{args.threads}t", N, args.threads, n_syn, build_s, sim_s, spikes,
               args.duration, t_proc)
    row = json.loads(buf.getvalue().strip().splitlines()[-1])
    ext = int(round(N * args.rate * args.duration))
    events = spikes * K + ext
    row.update(synapses_ext=N, indegree=K, input_rate_hz=args.rate, w_ext_mV=args.w_ext,
               w_rec_mV=args.w_rec, ext_spikes_expected=ext, events=events,
               events_counted="recurrent (spikes x indegree) + external input spikes "
                              "(expected N x rate x duration, not counted)",
               events_per_s=round(events / sim_s, 1), prepare_s=round(prepare_s, 4),
               build=f"NEST {nest.__version__}, {args.threads} thread"
                     + ("s" if args.threads > 1 else ""),
               nest_version=nest.__version__, seed=args.seed)
    print(json.dumps(row))


if __name__ == "__main__":
    sys.exit(main())
