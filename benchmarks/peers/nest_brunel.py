"""Brunel (2000) model A in NEST 3, the network of ``neurosim.nets.brunel``.

    python benchmarks/peers/nest_brunel.py --scale 1 --g 5 --eta 2 --duration 1 \
        --presim 0.2 --threads 1 --spikes OUT.npz

As NEST's example brunel_delta_nest.py: iaf_psc_delta neurons (tau_m 20 ms, C_m 1 pF, E_L 0,
V_th 20 mV, V_reset 10 mV, t_ref 2 ms, V_m = 0 at the start; inputs arriving during the
refractory period are discarded: refractory_input False), static synapses whose weight is
the jump of V_m (J = 0.1 mV, -g*J from inhibitory neurons) with delay D = 1.5 ms, one
poisson_generator of rate C_E * eta * nu_thr connected to every neuron (weight J, delay D).
Connectivity: fixed_indegree C_E and C_I, without multapses (NEST's default allows them;
neurosim and Brian2 draw distinct sources), autapses allowed. neurosim's
``convention="nest"`` is this model (NEST holds a neuron one step longer than Brian2 and
adds an input before the threshold of its step).

build_s = Create + Connect + Prepare; sim_s = one Run of presim + duration. Writes the spikes
of the last ``duration`` seconds to ``--spikes`` and prints one JSON line (as
brian2_brunel.py). Runs in NEST's virtual environment (benchmarks/run_suite.py makes it).
"""

import time

from _models_peer import brunel_sizes, nest_finish, nest_prepare, parse_args


def main():
    args = parse_args("brunel")
    nest, t_proc = nest_prepare(args)
    n_e, n_i, c_e, c_i = brunel_sizes(args.scale)
    J, D, tau_m, theta = 0.1, 1.5, 20.0, 20.0
    nu_thr = theta / (J * c_e * tau_m) * 1000.0          # Hz
    t0 = time.perf_counter()
    pop = nest.Create("iaf_psc_delta", n_e + n_i, params={
        "C_m": 1.0, "tau_m": tau_m, "t_ref": 2.0, "E_L": 0.0, "V_reset": 10.0, "V_m": 0.0,
        "V_th": theta, "refractory_input": False})
    noise = nest.Create("poisson_generator", params={"rate": args.eta * nu_thr * c_e})
    rec = nest.Create("spike_recorder")
    rule = dict(rule="fixed_indegree", allow_autapses=True, allow_multapses=False)
    nest.Connect(pop[:n_e], pop, dict(rule, indegree=c_e), {"weight": J, "delay": D})
    nest.Connect(pop[n_e:], pop, dict(rule, indegree=c_i), {"weight": -args.g * J, "delay": D})
    nest.Connect(noise, pop, "all_to_all", {"weight": J, "delay": D})
    nest.Connect(pop, rec)
    nest_finish(nest, args, t_proc, t0, pop, rec, "brunel", "iaf_psc_delta",
                n_other=2 * (n_e + n_i),                  # the drive's and the recorder's
                extra=dict(g=args.g, eta=args.eta, scale=args.scale))


if __name__ == "__main__":
    main()
