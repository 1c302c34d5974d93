"""COBA (Vogels & Abbott 2005; Brette et al. 2007, benchmark 1) in Brian2 cpp_standalone,
the network of ``neurosim.nets.coba``.

    python benchmarks/peers/brian2_coba.py --N 4000 --duration 1 --presim 0.2 --spikes OUT.npz

N neurons (80 % excitatory), ``C_m dv/dt = g_L (E_L - v) + g_e (E_e - v) + g_i (E_i - v)``
(unless refractory, 5 ms), ``dg_x/dt = -g_x/tau_x``, threshold -50 mV, reset -60 mV;
C_m = 200 pF, g_L = 10 nS, E_L = -60 mV, E_e = 0, E_i = -80 mV, tau_e = 5 ms, tau_i = 10 ms,
``g_e += 6 nS`` / ``g_i += 67 nS`` on a presynaptic spike, every pair connected with
p = indegree/N (0.02 at N = 4000), delay 0.1 ms (one step: NEST's smallest, used by all
three simulators). method='exponential_euler' (neurosim's integration of cond_exp). Initial
state as Brette et al.'s Brian script: v = E_L + (randn()*5 - 5) mV,
g_e = (randn()*1.5 + 4)*10 nS, g_i = (randn()*12 + 20)*10 nS, negative conductances set to 0
(the same draws' distributions in every simulator: neurosim.nets.coba).

Timing, threads, memory and output as brian2_brunel.py. Prints one JSON line.
"""

import sys

from _models_peer import brian2_finish, brian2_prepare, parse_args


def main():
    args = parse_args("coba")
    b2, st = brian2_prepare(args, "brian2_coba_")
    from brian2 import NeuronGroup, Synapses, SpikeMonitor, ms, mV, nS, pF
    n, n_e = args.N, int(round(0.8 * args.N))
    ns = dict(C_m=200 * pF, g_L=10 * nS, E_L=-60 * mV, E_e=0 * mV, E_i=-80 * mV,
              tau_e=5 * ms, tau_i=10 * ms, V_t=-50 * mV, V_r=-60 * mV, w_e=6 * nS, w_i=67 * nS)
    eqs = """
    dv/dt = (g_L*(E_L - v) + g_e*(E_e - v) + g_i*(E_i - v))/C_m : volt (unless refractory)
    dg_e/dt = -g_e/tau_e : siemens
    dg_i/dt = -g_i/tau_i : siemens
    """
    P = NeuronGroup(n, eqs, threshold="v > V_t", reset="v = V_r", refractory=5 * ms,
                    method="exponential_euler", namespace=ns)
    P.v = "E_L + (randn()*5 - 5)*mV"
    P.g_e = "clip((randn()*1.5 + 4)*10*nS, 0*nS, inf*nS)"
    P.g_i = "clip((randn()*12 + 20)*10*nS, 0*nS, inf*nS)"
    p = args.indegree / n
    ce = Synapses(P[:n_e], P, on_pre="g_e_post += w_e", delay=0.1 * ms, namespace=ns)
    ci = Synapses(P[n_e:], P, on_pre="g_i_post += w_i", delay=0.1 * ms, namespace=ns)
    ce.connect(p=p)
    ci.connect(p=p)
    mon = SpikeMonitor(P)
    net = b2.Network(P, ce, ci, mon)
    brian2_finish(b2, args, st, net, mon, n, "coba", synapses=lambda: int(len(ce) + len(ci)),
                  extra=dict(indegree=args.indegree))


if __name__ == "__main__":
    sys.exit(main())
