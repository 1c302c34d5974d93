"""Scenarios for tests/test_mpi.py, run as ``[mpiexec -n K] python mpi_scenarios.py NAME OUT
[threads] [dtype]``: each builds a network, runs it and (on rank 0) writes everything it
recorded to OUT (.npz), so that the test can compare the runs of any K bit for bit."""

import sys

import numpy as np

import neurosim as ns
from neurosim.plasticity import STDP
from neurosim.units import mV, ms, pA, pF


def every_model(net):
    """One LIF population of every synapse kind and model variant (exp, alpha with an
    adaptation current, delta with an adaptive threshold, delta in NEST's convention,
    cond_exp), random initial v: shared with tests/test_checkpoint.py."""
    rng = ns.random
    base = dict(v_rest=-65 * mV, v_th=-50 * mV, v_reset=-65 * mV)
    pops = [
        net.lif(37, tau_m=20 * ms, tau_syn=(5 * ms, 10 * ms), t_ref=2 * ms, bias=14 * mV,
                v_init=rng.uniform(-65 * mV, -50 * mV), name="exp", **base),
        net.lif(23, tau_m=15 * ms, tau_syn=3 * ms, synapse="alpha", bias=16 * mV,
                tau_w=100 * ms, b_w=1 * mV, v_init=rng.uniform(-65 * mV, -50 * mV),
                name="alpha_adapt", **base),
        net.lif(29, tau_m=10 * ms, synapse="delta", t_ref=1 * ms, bias=rng.uniform(
                14 * mV, 17 * mV), reset="subtract", tau_a=50 * ms, beta=1 * mV,
                name="delta", **base),
        net.lif(19, tau_m=10 * ms, synapse="delta", t_ref=2 * ms, bias=16 * mV,
                convention="nest", name="delta_nest", **base),
        net.lif(31, tau_m=20 * ms, tau_syn=(5 * ms, 10 * ms), synapse="cond_exp",
                e_exc=0 * mV, e_inh=-80 * mV, c_m=200 * pF, bias=15.5 * mV, t_ref=3 * ms,
                v_init=rng.uniform(-65 * mV, -50 * mV), name="cond", **base),
    ]
    return pops


def _sources(net):
    """A Poisson population of varied rates, one with a time window, a spike generator."""
    return (net.poisson(40, rate=np.linspace(5.0, 60.0, 40), name="pois_rates"),
            net.poisson(25, rate=30.0, start=10 * ms, stop=60 * ms, name="pois_window"),
            net.spike_source(5, times=np.array([1, 3, 3, 7, 20, 41]) * ms,
                             indices=np.array([0, 1, 4, 2, 3, 0]), name="gen"))


def _random(net, dtype_tag):
    """Every neuron model and synapse kind, every connection rule, delays from 0 to many
    steps (scalar and per synapse), every source type, current sources, plasticity."""
    rng = ns.random
    pops = every_model(net)
    poisson, windowed, gen = _sources(net)
    w = lambda scale: rng.normal(0.4 * mV * scale, 0.1 * mV * scale)  # noqa: E731
    cond_w = lambda: rng.uniform(0.5e-9, 2e-9)                       # noqa: E731
    targets = {p.name: p for p in pops}
    for i, pre in enumerate(pops):
        for j, post in enumerate(pops):
            weight = cond_w() if post.name == "cond" else w(1.0)
            if (i + j) % 5 == 0:
                net.connect(pre, post, weight=weight, p=0.15, delay=0.0)
            elif (i + j) % 5 == 1:
                net.connect(pre, post, weight=weight, indegree=4, multapses=True,
                            delay=rng.normal(1.5 * ms, 0.7 * ms, low=0.0))
            elif (i + j) % 5 == 2:
                net.connect(pre, post, weight=-0.6 * mV if post.name != "cond" else -1e-9,
                            indegree=3, multapses=False, delay=0.3 * ms)
            elif (i + j) % 5 == 3:
                net.connect(pre, post, weight=weight, total=40, delay=2.2 * ms)
            else:
                net.connect(pre, post, weight=rng.normal(0.1 * mV, 0.5 * mV) if
                            post.name != "cond" else cond_w(), outdegree=2,
                            delay=rng.uniform(0.0, 4 * ms))
    net.connect(poisson, targets["exp"], weight=0.5 * mV, p=0.2, delay=1 * ms)
    net.connect(windowed, targets["alpha_adapt"], weight=0.7 * mV, p=0.3)
    net.connect(gen, targets["delta"], weight=3 * mV, one_to_one=False,
                pairs=(np.array([0, 1, 2, 3, 4]), np.array([0, 5, 9, 28, 13])), delay=0.5 * ms)
    net.connect(targets["exp"], targets["delta"], weight=0.8 * mV, p=0.3,
                plasticity=STDP(w_max=2 * mV, lam=0.01, alpha=1.05,
                                              tau_plus=16.8 * ms, tau_minus=33.7 * ms),
                delay=1 * ms, name="plastic")
    net.poisson_input(targets["exp"], rate=800.0, weight=0.3 * mV, name="drive0")
    net.poisson_input(targets["cond"], rate=500.0, weight=1e-9, delay=0.7 * ms,
                      name="drive_delayed")
    net.poisson_input(targets["delta_nest"], rate=300.0, weight=-0.4 * mV, delay=2 * ms,
                      name="drive_inh")
    net.current_source(targets["alpha_adapt"], times=np.array([5, 30, 55]) * ms,
                       amplitudes=np.array([2, -1, 3]) * mV, name="steps")
    mons = {p.name: net.spike_monitor(p) for p in net.populations}
    states = [net.state_monitor(targets["exp"], "v", indices=[0, 18, 36]),
              net.state_monitor(targets["exp"], "I_inh", indices=[3, 30]),
              net.state_monitor(targets["alpha_adapt"], "w", indices=[0, 22]),
              net.state_monitor(targets["alpha_adapt"], "I_exc", indices=[11]),
              net.state_monitor(targets["delta"], "a", indices=[2, 28]),
              net.state_monitor(targets["delta"], "v", indices=[0, 14, 28]),
              net.state_monitor(targets["cond"], "g_exc", indices=[1, 30])]
    count = net.count_monitor(5 * ms)
    # split runs: durations off the grid, one compiled step per chunk for a while
    net.run(12.34 * ms)
    edited = net.projections[1]                  # edits between runs: a fresh CSR per rank
    edited.weight = np.asarray(edited.weight) * 1.5
    net.projections[3].delay = 2.3 * ms
    windowed.rate = 45.0
    targets["delta"].v = np.linspace(-65 * mV, -51 * mV, 29)
    net.run(7.5 * ms, chunk_steps=1)
    net.run(60.16 * ms, chunk_steps=37)
    return dict(
        spikes={k: np.stack([m.steps, m.indices]) for k, m in mons.items()},
        states=[m.values for m in states],
        finals={f"{p.name}.{var}": getattr(p, var) for p in pops for var in ("v",)},
        counts=net.counts(), count=count, plastic=np.asarray(
            next(p for p in net.projections if p.name == "plastic").weight),
        spike_counts={p.name: net.spike_counts(p) for p in net.populations})


def _intervals(net, dtype_tag):
    """Every model, source, drive and current source with every delay at least 0.5 ms (5
    steps), so that the ranks swap spikes once per 5 steps; then a delay edited down to
    0.3 ms (3 steps) between runs. Prints the exchanges made on rank 0."""
    rng = ns.random
    pops = every_model(net)
    poisson, windowed, gen = _sources(net)
    targets = {p.name: p for p in pops}
    for i, pre in enumerate(pops):
        for j, post in enumerate(pops):
            weight = (rng.uniform(0.5e-9, 2e-9) if post.name == "cond"
                      else rng.normal(0.5 * mV, 0.2 * mV))
            if (i + j) % 3 == 0:
                net.connect(pre, post, weight=weight, p=0.2, delay=0.5 * ms)
            elif (i + j) % 3 == 1:
                net.connect(pre, post, weight=weight, indegree=4,
                            delay=rng.normal(1.5 * ms, 0.7 * ms, low=0.5 * ms))
            else:
                net.connect(pre, post, weight=-0.6 * mV if post.name != "cond" else -1e-9,
                            indegree=3, delay=rng.uniform(0.5 * ms, 4 * ms))
    net.connect(poisson, targets["exp"], weight=0.5 * mV, p=0.2, delay=1 * ms)
    net.connect(windowed, targets["alpha_adapt"], weight=0.7 * mV, p=0.3, delay=0.6 * ms)
    net.connect(gen, targets["delta"], weight=3 * mV, one_to_one=False,
                pairs=(np.array([0, 1, 2, 3, 4]), np.array([0, 5, 9, 28, 13])), delay=0.5 * ms)
    net.poisson_input(targets["exp"], rate=800.0, weight=0.3 * mV, delay=0.5 * ms)
    net.poisson_input(targets["cond"], rate=500.0, weight=1e-9, delay=0.7 * ms)
    net.poisson_input(targets["delta_nest"], rate=300.0, weight=-0.4 * mV, delay=2 * ms)
    net.current_source(targets["alpha_adapt"], times=np.array([5, 30, 55]) * ms,
                       amplitudes=np.array([2, -1, 3]) * mV, name="steps")
    mons = {p.name: net.spike_monitor(p) for p in net.populations}
    states = [net.state_monitor(targets["exp"], "v", indices=[0, 18, 36]),
              net.state_monitor(targets["delta"], "v", indices=[0, 14, 28]),
              net.state_monitor(targets["cond"], "g_exc", indices=[1, 30])]
    count = net.count_monitor(5 * ms)
    intervals = [net.exchange_interval]
    net.run(12.34 * ms)
    net.run(7.5 * ms, chunk_steps=7)
    net.projections[1].delay = 0.3 * ms
    intervals.append(net.exchange_interval)
    net.run(60.16 * ms, chunk_steps=37)
    if net.n_ranks > 1 and net.rank == 0:
        print(f"exchanges={net._ranks.exchanges}", flush=True)
    return dict(
        spikes={k: np.stack([m.steps, m.indices]) for k, m in mons.items()},
        states=[m.values for m in states],
        finals={f"{p.name}.v": p.v for p in pops},
        counts=net.counts(), count=count,
        spike_counts={p.name: net.spike_counts(p) for p in net.populations},
        intervals=np.array(intervals))


def _microcircuit(net, dtype_tag):
    ns.nets.microcircuit(net, scale=0.02)
    mons = {p.name: net.spike_monitor(p) for p in net.populations if p.kind == "lif"}
    l4 = next(p for p in net.populations if p.name == "L4E")
    states = [net.state_monitor(l4, "v", indices=[0, l4.n // 2, l4.n - 1])]
    net.run(50 * ms)
    return dict(spikes={k: np.stack([m.steps, m.indices]) for k, m in mons.items()},
                states=[m.values for m in states], counts=net.counts(),
                finals={"L4E.I_exc": l4.I_exc})


def _cuba(net, dtype_tag):
    ns.nets.cuba(net, N=3000)
    mons = {p.name: net.spike_monitor(p) for p in net.populations}
    first = net.populations[0]
    states = [net.state_monitor(first, "v", indices=[0, 1499, first.n - 1])]
    net.run(40 * ms)
    return dict(spikes={k: np.stack([m.steps, m.indices]) for k, m in mons.items()},
                states=[m.values for m in states], counts=net.counts(),
                finals={"v": first.v})


def _wide(net, dtype_tag):
    """140,000 neurons: at K = 2 each rank owns more than 65,536 of them (targets stored
    as int32, relative to the rank's first neuron), at K = 3 fewer (uint16); per-synapse
    and shared delays, both channels, a Poisson drive."""
    rng = ns.random
    base = dict(tau_m=20 * ms, tau_syn=5 * ms, v_rest=-65 * mV, v_th=-50 * mV,
                v_reset=-65 * mV, t_ref=2 * ms, v_init=rng.uniform(-65 * mV, -50 * mV))
    exc = net.lif(100_000, bias=rng.uniform(12 * mV, 22 * mV), name="exc", **base)
    inh = net.lif(40_000, bias=14 * mV, name="inh", **base)
    net.connect(exc, exc, weight=rng.normal(1.0 * mV, 0.2 * mV), indegree=8,
                delay=rng.uniform(0.5 * ms, 3 * ms))
    net.connect(exc, inh, weight=1.5 * mV, indegree=6, delay=1 * ms)
    net.connect(inh, exc, weight=-3 * mV, indegree=4, delay=rng.uniform(0.1 * ms, 2 * ms))
    net.poisson_input(inh, rate=200.0, weight=1 * mV)
    mons = {p.name: net.spike_monitor(p) for p in (exc, inh)}
    states = [net.state_monitor(exc, "v", indices=[0, 69_999, 70_000, 99_999]),
              net.state_monitor(inh, "I_inh", indices=[0, 39_999])]
    net.run(30 * ms)
    types = [str(net.plan.conn.target.dtype)]
    if net.n_ranks > 1:
        types = net._ranks.comm.allgather(types[0])
    return dict(spikes={k: np.stack([m.steps, m.indices]) for k, m in mons.items()},
                states=[m.values for m in states], counts=net.counts(),
                finals={"exc.v": exc.v, "inh.I_exc": inh.I_exc}, target_types=types)


def _interrupt(net, dtype_tag):
    """A long run stopped by SIGINT: every rank stops at the same step (written to
    OUT.rank<r>.txt), rank 0 keeps what was recorded."""
    ns.nets.cuba(net, N=3000)
    mon = net.spike_monitor(net.populations[0])
    net.run(1 * ms)                     # compiled (or loaded) before the signal comes
    sys.stdout.write("running\n")      # one write: Hydra interleaves the ranks' writes
    sys.stdout.flush()
    finished = net.run(1000.0, chunk_steps=20)
    with open(f"{sys.argv[2]}.rank{net.rank}.txt", "w") as f:
        f.write(f"{net._step} {int(finished)} {int(net.interrupted)} {mon.num_spikes}\n")
    return dict(spikes={"exc": np.stack([mon.steps, mon.indices])})


def _crossbar(net, dtype_tag):
    """tests/test_crossbar_network.py's network with every crossbar non-ideality (read
    noise, IR drop, ADC), built by that file's own function (its Network finds the ranks)."""
    from test_crossbar_network import _net
    from neurosim.crossbar import Crossbar
    xb = Crossbar(adc_bits=6, r_wire=2.0, array=(32, 32), device="rram_hfox")
    xnet, mon = _net("numba", xb, T=0.08)
    stats = xnet.crossbar_stats()["in"]
    return dict(spikes={"a": np.stack([mon.steps, mon.indices])}, counts=xnet.counts(),
                finals={"a.v": xnet.population("a").v,
                        "stats": np.array([stats[k] for k in ("row_drives", "tile_reads",
                                                              "conversions", "cell_energy")])},
                _net=xnet)


def _fixed(net, dtype_tag):
    net.loihi_lif(4, du=410, dv=200, vth=100, bias_mant=30)
    net.run(1 * ms)
    return {}


def _property(net, dtype_tag):
    """A network drawn by tests/_strategies.networks (its description in the JSON file
    named by NEUROSIM_PROPERTY_DESC), built by that module's own builder."""
    import json
    import os
    from _strategies import build
    with open(os.environ["NEUROSIM_PROPERTY_DESC"]) as f:
        desc = json.load(f)
    pnet, spikes, states = build(desc, dtype=dtype_tag)
    pnet.run(desc["steps"] * pnet.dt)
    finals = {f"{p.name}.{var}": getattr(p, var) for p in pnet.populations
              if p.kind == "lif" for var in p.variables}
    return dict(spikes={k: np.stack([m.steps, m.indices]) for k, m in spikes.items()},
                states=[m.values for m in states.values()], finals=finals,
                counts=pnet.counts(), _net=pnet)


def _checkpoint(net, dtype_tag):
    """The property network (NEUROSIM_PROPERTY_DESC) run straight, with a checkpoint
    written after k = NEUROSIM_CHECKPOINT_AT steps (every rank its part), then built again
    and continued from the checkpoint: the continued run's results, and the straight one's
    under "straight/" (they must be equal, and equal to one process's)."""
    import json
    import os
    from _strategies import build
    with open(os.environ["NEUROSIM_PROPERTY_DESC"]) as f:
        desc = json.load(f)
    k = int(os.environ["NEUROSIM_CHECKPOINT_AT"])
    path = sys.argv[2] + ".ckpt.npz"

    def result(pnet, spikes, states):
        finals = {f"{p.name}.{var}": getattr(p, var) for p in pnet.populations
                  if p.kind == "lif" for var in p.variables}
        return dict(spikes={n: np.stack([m.steps, m.indices]) for n, m in spikes.items()},
                    states=[m.values for m in states.values()], finals=finals,
                    counts=pnet.counts(), _net=pnet)

    straight, spikes, states = build(desc, dtype=dtype_tag)
    straight.run(k * straight.dt)
    straight.save_checkpoint(path)
    straight.run((desc["steps"] - k) * straight.dt)
    first = flatten(result(straight, spikes, states))
    again, spikes, states = build(desc, dtype=dtype_tag)
    again.restore_checkpoint(path)
    again.run((desc["steps"] - k) * again.dt)
    out = result(again, spikes, states)
    out["finals"].update({f"straight/{key}": v for key, v in first.items()})
    return out


SCENARIOS = {"random": _random, "property": _property, "checkpoint": _checkpoint,
             "intervals": _intervals, "microcircuit": _microcircuit, "cuba": _cuba,
             "interrupt": _interrupt, "crossbar": _crossbar, "fixed": _fixed,
             "wide": _wide}


def flatten(result):
    """Every array of a scenario's result, by a flat name (counts as their dict)."""
    out = {}
    for k, v in result.get("spikes", {}).items():
        out[f"spikes/{k}"] = v
    for i, v in enumerate(result.get("states", [])):
        out[f"state/{i}"] = v
    for k, v in result.get("finals", {}).items():
        out[f"final/{k}"] = np.asarray(v)
    for k, v in result.get("spike_counts", {}).items():
        out[f"spike_counts/{k}"] = v
    for k in ("plastic", "intervals", "target_types"):
        if k in result:
            out[k] = np.asarray(result[k])
    if "counts" in result:
        c = result["counts"]
        out["counts/events"] = np.array([p.events for p in c.projections.values()])
        out["counts/spikes"] = np.array([p.spikes for p in c.populations.values()])
        out["counts/active"] = np.array([p.active_steps for p in c.populations.values()])
    if "count" in result:
        out["count/spikes"] = np.asarray(result["count"].series("spikes"))
        out["count/events"] = np.asarray(result["count"].series("events"))
    return out


def main(argv):
    name, out = argv[0], argv[1]
    threads = int(argv[2]) if len(argv) > 2 else 1
    dtype = argv[3] if len(argv) > 3 else "float64"
    balance = argv[4] if len(argv) > 4 else "memory"
    net = ns.Network(dt=0.1 * ms, seed=7, threads=threads, dtype=dtype, mpi_balance=balance)
    result = SCENARIOS[name](net, dtype)
    net = result.pop("_net", net)
    if name == "cuba":                  # results files: rank 0 writes, every rank returns
        saved = ns.save_results(out + ".results.npz", net)
        assert ns.load_results(saved).spikes[net.populations[0].name].num_spikes > 0
    edges = net._rank_edges() if net.n_ranks > 1 else np.zeros(0, np.int64)
    if net.rank == 0:
        np.savez(out, n_ranks=np.array(net.n_ranks), edges=edges, **flatten(result))


if __name__ == "__main__":
    main(sys.argv[1:])
