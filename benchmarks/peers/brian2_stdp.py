"""Song, Miller & Abbott (2000) in Brian2 cpp_standalone: the network of examples/stdp.py
(Brian2's own example brian2/examples/synapses/STDP.py, integrated as neurosim does).

    python benchmarks/peers/brian2_stdp.py --duration 20 --seed 1 --out OUT.npz

1000 Poisson inputs (``PoissonGroup``, 15 Hz) onto one neuron,
``dv/dt = (g_L (E_L - v) + g_e (E_e - v)) / C_m``, ``dg_e/dt = -g_e / tau_e`` (siemens;
Brian2's example writes ge = g_e / g_L, dimensionless), tau_m = C_m / g_L = 10 ms,
E_L = -74 mV, threshold ``v > -54 mV``, reset -60 mV, no refractory period, E_e = 0,
tau_e = 5 ms, v starting at E_L. method='exponential_euler' (neurosim's integration of
cond_exp; the example uses 'euler'). Synapses all-to-all, ``w = rand()*gmax`` with
gmax = 0.01 g_L, no delay, additive STDP with the example's event-driven traces::

    on_pre:  g_e_post += w; Apre += dApre; w = clip(w + Apost, 0, gmax)
    on_post: Apost += dApost; w = clip(w + Apre, 0, gmax)

dApre = 0.01 gmax, dApost = -1.05 dApre, taupre = taupost = 20 ms: neurosim's
``STDP(w_max=gmax, lam=0.01, alpha=1.05)``.

One ``run`` of --duration, timed by Brian2 (``device._last_run_time``: the C++ main loop);
build_s is everything else from the first object to the end of the binary's run (code
generation, compilation, set-up). ``--threads 1`` is Brian2's default build
(openmp_threads = 0). Peak memory: the larger of this process and the binary (the
compiler does not count). The final weights (w / gmax) and the output spike times go to
--out (npz); prints one JSON line.

``--model recurrent`` (``--static``: without plasticity) is the recurrent network of
benchmarks/plasticity.py for Brian2's own plastic / static ratio: Brian2's CUBA example
(``dv/dt = (ge + gi - (v - El))/taum``, ``dge/dt = -ge/taue``, ``dgi/dt = -gi/taui``;
taum 20 ms, taue 5 ms, taui 10 ms, El -49 mV, threshold -50 mV, reset -60 mV, refractory
5 ms, v uniform in [-60, -50] mV), --N neurons (80 % excitatory), p = --indegree / N, no
delay, every synapse with the additive pair rule above (w_max = 2 |w0|, dApre = lam w_max;
the inhibitory synapses learn their magnitude: ``gi_post -= w``); one run of --duration.
The output spike count goes to --out.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _models_peer import brian2_prepare, peak_rss_mb  # noqa: E402


def parse(argv=None):
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=20.0, help="seconds simulated")
    ap.add_argument("--inputs", type=int, default=1000)
    ap.add_argument("--rate", type=float, default=15.0, help="input rate (Hz)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--model", choices=("song", "recurrent"), default="song")
    ap.add_argument("--static", action="store_true", help="recurrent: no plasticity")
    ap.add_argument("--N", type=int, default=4000)
    ap.add_argument("--indegree", type=int, default=80)
    ap.add_argument("--lam", type=float, default=0.01)
    ap.add_argument("--out", required=True, help="npz for the final weights and spikes")
    return ap.parse_args(argv)


def recurrent(b2, args):
    """Brian2's CUBA network with every synapse plastic (or static): (network, monitor,
    synapse count)."""
    from brian2 import NeuronGroup, SpikeMonitor, Synapses, ms, mV
    n, n_e = args.N, int(round(0.8 * args.N))
    we, wi = 60 * 0.27 / 10 * mV, 20 * 4.5 / 10 * mV          # magnitudes
    ns = dict(taum=20 * ms, taue=5 * ms, taui=10 * ms, El=-49 * mV, Vt=-50 * mV,
              Vr=-60 * mV, taupre=20 * ms, taupost=20 * ms)
    P = NeuronGroup(n, """dv/dt = (ge + gi - (v - El))/taum : volt (unless refractory)
                          dge/dt = -ge/taue : volt
                          dgi/dt = -gi/taui : volt""", threshold="v > Vt", reset="v = Vr",
                    refractory=5 * ms, method="exact", namespace=ns)
    P.v = "Vr + rand()*(Vt - Vr)"
    syns = []
    for pre, w0, ch, sign in ((P[:n_e], we, "ge", "+"), (P[n_e:], wi, "gi", "-")):
        gmax = 2 * w0
        if args.static:
            S = Synapses(pre, P, "w : volt", on_pre=f"{ch}_post {sign}= w", namespace=ns)
        else:
            ns_s = dict(ns, gmax=gmax, dApre=args.lam * gmax, dApost=-1.05 * args.lam * gmax)
            S = Synapses(pre, P, """w : volt
                                    dApre/dt = -Apre/taupre : volt (event-driven)
                                    dApost/dt = -Apost/taupost : volt (event-driven)""",
                         on_pre=f"""{ch}_post {sign}= w
                                    Apre += dApre
                                    w = clip(w + Apost, 0*mV, gmax)""",
                         on_post="""Apost += dApost
                                    w = clip(w + Apre, 0*mV, gmax)""", namespace=ns_s)
        S.connect(p=args.indegree / n)
        S.w = w0
        syns.append(S)
    mon = SpikeMonitor(P)
    return b2.Network(P, *syns, mon), mon, lambda: int(sum(len(S) for S in syns))


def song(b2, args):
    """The Song et al. network (module docstring): (network, output monitor, synapses,
    g_max)."""
    from brian2 import Hz, NeuronGroup, PoissonGroup, SpikeMonitor, Synapses, ms, mV, nS
    g_L = 10 * nS
    gmax = 0.01 * g_L
    dA_pre = 0.01 * gmax
    ns = dict(C_m=g_L * 10 * ms, g_L=g_L, E_L=-74 * mV, E_e=0 * mV, tau_e=5 * ms,
              v_th=-54 * mV, v_reset=-60 * mV, gmax=gmax, taupre=20 * ms, taupost=20 * ms,
              dApre=dA_pre, dApost=-1.05 * dA_pre)
    inputs = PoissonGroup(args.inputs, rates=args.rate * Hz)
    neuron = NeuronGroup(1, """dv/dt = (g_L*(E_L - v) + g_e*(E_e - v))/C_m : volt
                               dg_e/dt = -g_e/tau_e : siemens""",
                         threshold="v > v_th", reset="v = v_reset",
                         method="exponential_euler", namespace=ns)
    neuron.v = ns["E_L"]
    syn = Synapses(inputs, neuron,
                   """w : siemens
                      dApre/dt = -Apre/taupre : siemens (event-driven)
                      dApost/dt = -Apost/taupost : siemens (event-driven)""",
                   on_pre="""g_e_post += w
                             Apre += dApre
                             w = clip(w + Apost, 0*nS, gmax)""",
                   on_post="""Apost += dApost
                              w = clip(w + Apre, 0*nS, gmax)""", namespace=ns)
    syn.connect()
    syn.w = "rand()*gmax"
    mon = SpikeMonitor(neuron)
    return b2.Network(inputs, neuron, syn, mon), mon, syn, gmax


def main():
    args = parse()
    b2, st = brian2_prepare(args, "brian2_stdp_")
    b2.seed(args.seed)          # again: a seed set before set_device does not reach the binary
    import json

    import numpy as np
    if args.model == "song":
        net, mon, syn, gmax = song(b2, args)
        n_syn = lambda: int(len(syn))  # noqa: E731
    else:
        net, mon, n_syn = recurrent(b2, args)
    net.run(args.duration * b2.second)
    b2.device.build(directory=st["workdir"], compile=True, run=True, debug=False)
    wall = time.perf_counter() - st["t0"]
    sim_s = float(b2.device._last_run_time)
    with open(st["rss_file"]) as f:
        binary_kb = int(f.read())
    spikes = int(mon.num_spikes)
    if args.model == "song":
        np.savez(args.out, w=np.asarray(syn.w[:] / gmax, dtype=float),
                 t=np.asarray(mon.t[:] / b2.second, dtype=float), duration=args.duration)
        extra = dict(inputs=args.inputs)
    else:
        np.savez(args.out, spikes=spikes)
        extra = dict(plastic=not args.static, N=args.N,
                     rate_hz=round(spikes / (args.N * args.duration), 3))
    timers = b2.device.timers.get("compile", {})
    row = dict(simulator="brian2-cpp_standalone", model=args.model, version=b2.__version__,
               build=f"cpp_standalone (openmp_threads={st['omp']})",
               threads=max(st["omp"], 1), synapses=n_syn(), build_s=round(wall - sim_s, 4),
               compile_s=round(sum(v for v in timers.values() if v), 3),
               sim_s=round(sim_s, 4), simulated_s=args.duration,
               sim_per_simulated_s=round(sim_s / args.duration, 5), output_spikes=spikes,
               peak_rss_mb=peak_rss_mb(binary_kb), binary_peak_rss_mb=round(binary_kb / 1024, 1),
               seed=args.seed, **extra)
    row["process_s"] = round(time.perf_counter() - st["t_proc"], 3)
    print(json.dumps(row), flush=True)


if __name__ == "__main__":
    sys.exit(main())
