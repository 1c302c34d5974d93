"""Brunel (2000) model A in Brian2 cpp_standalone, the network of ``neurosim.nets.brunel``.

    python benchmarks/peers/brian2_brunel.py --scale 1 --g 5 --eta 2 --duration 1 \
        --presim 0.2 --spikes OUT.npz

As Brian2's own example (examples/frompapers/Brunel_2000.py): ``dv/dt = -v/tau`` (unless
refractory, method 'exact'), delta synapses ``v_post += J`` (and ``-g*J``) with delay D,
the external drive a ``PoissonInput(N=C_E, rate=nu_ext, weight=J)`` on v; all neurons start
at v = 0. Connectivity is Brunel's fixed in-degree (the example draws p = epsilon): each
neuron gets C_E excitatory and C_I inhibitory sources, distinct, drawn with
``connect(i='k for k in sample(N_pre, size=C)')``. Inputs arriving during the refractory
period are lost: Brian2 writes a variable marked ``(unless refractory)`` only where
``not_refractory`` holds, also from synapses and PoissonInput (its "conditional write"), as
NEST's iaf_psc_delta discards them. neurosim's ``convention="brian2"`` is this model.

One ``run`` of presim + duration, timed by Brian2 (``device._last_run_time``: the C++ main
loop); build_s = everything else from the first object to the end of the run of the binary
(code generation, compilation, synapse creation in the binary). ``--threads 1`` is Brian2's
default build (openmp_threads = 0); N > 1 sets openmp_threads = N. Peak memory is the largest
of this Python process and the simulation binary (measured around it, so the C++ compiler
does not count). The spikes of the last ``duration`` seconds go to ``--spikes`` (npz: t in s,
i, n); benchmarks/models.py computes rates and CV(ISI) from them. Prints one JSON line.
"""

import sys

from _models_peer import brian2_finish, brian2_prepare, brunel_sizes, parse_args


def main():
    args = parse_args("brunel")
    b2, st = brian2_prepare(args, "brian2_brunel_")
    from brian2 import NeuronGroup, PoissonInput, Synapses, SpikeMonitor, ms, mV
    n_e, n_i, c_e, c_i = brunel_sizes(args.scale)
    ns = dict(tau=20 * ms, theta=20 * mV, V_r=10 * mV, J=0.1 * mV, g=args.g)
    nu_thr = (20 * mV) / (ns["J"] * c_e * ns["tau"])
    neurons = NeuronGroup(n_e + n_i, "dv/dt = -v/tau : volt (unless refractory)",
                          threshold="v > theta", reset="v = V_r", refractory=2 * ms,
                          method="exact", namespace=ns)
    exc = Synapses(neurons[:n_e], neurons, on_pre="v_post += J", delay=1.5 * ms, namespace=ns)
    exc.connect(i=f"k for k in sample(N_pre, size={c_e})")
    inh = Synapses(neurons[n_e:], neurons, on_pre="v_post += -g*J", delay=1.5 * ms,
                   namespace=ns)
    inh.connect(i=f"k for k in sample(N_pre, size={c_i})")
    drive = PoissonInput(neurons, "v", N=c_e, rate=args.eta * nu_thr, weight=ns["J"])
    mon = SpikeMonitor(neurons)
    net = b2.Network(neurons, exc, inh, drive, mon)
    brian2_finish(b2, args, st, net, mon, n_e + n_i, "brunel",
                  synapses=lambda: int(len(exc) + len(inh)),
                  extra=dict(g=args.g, eta=args.eta, scale=args.scale))


if __name__ == "__main__":
    sys.exit(main())
