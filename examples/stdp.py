"""Song, Miller & Abbott (2000): competitive Hebbian learning through spike-timing-dependent
plasticity. 1000 Poisson inputs drive one conductance-based LIF neuron through additive
pair STDP; the weights, uniform at first, split into two groups at 0 and at w_max.

    python examples/stdp.py [--duration 100] [--out out] [--seed 1]

The model is Brian2's example of the paper (brian2/examples/synapses/STDP.py), in neurosim:

* inputs: N = 1000 Poisson trains at F = 15 Hz (``net.poisson``);
* neuron: ``tau_m dv/dt = (E_L - v) + (g_exc / g_L) (E_exc - v)``, tau_m = 10 ms,
  E_L = -74 mV, threshold -54 mV, reset -60 mV, no refractory period, E_exc = 0 mV,
  ``tau_exc dg_exc/dt = -g_exc`` with tau_exc = 5 ms (``synapse="cond_exp"``, exponential
  Euler; g_L = c_m / tau_m = 10 nS, so a conductance of g_L is Brian2's ``ge = 1``);
* synapses: all-to-all, weights (S) uniform in [0, w_max], w_max = 0.01 g_L (Brian2's
  gmax = 0.01), no delay;
* rule: :class:`neurosim.plasticity.STDP` with mu_plus = mu_minus = 0 (additive),
  tau_plus = tau_minus = 20 ms, lam = 0.01 (a pre-before-post pair at zero lag adds
  0.01 w_max: Brian2's dApre) and alpha = 1.05 (depression 5 % stronger: Brian2's
  dApost = -1.05 dApre), all-to-all pairing, traces decayed between the events of each
  synapse (Brian2's event-driven Apre, Apost).

Writes OUT/stdp_song.png (final weight histogram with the initial one, weight trajectories
of eight synapses from a weight monitor, the output rate over time) and
OUT/stdp_summary.json: output rate (whole run, first and last tenth), fraction of weights
near 0 (< 0.1 w_max) and near w_max (> 0.9 w_max), at the bounds, mean w / w_max, the
histogram, plasticity updates and wall time.
"""

import argparse
import json
import os
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import neurosim as ns  # noqa: E402
from neurosim.plasticity import STDP  # noqa: E402
from neurosim.units import mV, ms, nS  # noqa: E402

#: Brian2's example (and Song et al.'s model with its parameters).
PARAMS = dict(N=1000, F=15.0, tau_m=10 * ms, E_L=-74 * mV, v_th=-54 * mV, v_reset=-60 * mV,
              E_exc=0.0, tau_exc=5 * ms, g_L=10 * nS, g_max=0.01, lam=0.01, alpha=1.05,
              tau_pre=20 * ms, tau_post=20 * ms)
NEAR = 0.1          # "near 0": w < NEAR w_max; "near w_max": w > (1 - NEAR) w_max
N_TRACKED = 8       # synapses whose weights are monitored


def song_network(net, n_inputs=PARAMS["N"], rate=PARAMS["F"], plastic=True):
    """Song et al.'s network in ``net``: (inputs, neuron, projection, rule). ``plastic``
    False keeps the initial weights (the same synapses, static)."""
    p = PARAMS
    w_max = p["g_max"] * p["g_L"]
    rule = STDP(w_max=w_max, lam=p["lam"], alpha=p["alpha"], tau_plus=p["tau_pre"],
                tau_minus=p["tau_post"])
    inputs = net.poisson(n_inputs, rate=rate, name="inputs")
    neuron = net.lif(1, tau_m=p["tau_m"], tau_syn=p["tau_exc"], v_rest=p["E_L"],
                     v_th=p["v_th"], v_reset=p["v_reset"], synapse="cond_exp",
                     e_exc=p["E_exc"], e_inh=p["E_L"],      # no inhibitory inputs
                     c_m=p["g_L"] * p["tau_m"],
                     name="neuron")
    proj = net.connect(inputs, neuron, weight=ns.random.uniform(0.0, w_max),
                       plasticity=rule if plastic else None, name="inputs->neuron")
    return inputs, neuron, proj, rule


def weight_stats(w, w_max):
    """Fractions near 0 / near w_max / at the bounds, mean w / w_max."""
    x = np.asarray(w) / w_max
    return dict(near_0=round(float(np.mean(x < NEAR)), 4),
                near_w_max=round(float(np.mean(x > 1 - NEAR)), 4),
                at_0=round(float(np.mean(x <= 0.0)), 4),
                at_w_max=round(float(np.mean(x >= 1.0)), 4),
                mean=round(float(np.mean(x)), 4))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=100.0, help="seconds (default 100)")
    ap.add_argument("--inputs", type=int, default=PARAMS["N"], help="Poisson inputs")
    ap.add_argument("--rate", type=float, default=PARAMS["F"], help="input rate (Hz)")
    ap.add_argument("--bin", type=float, default=None,
                    help="bin of the output rate (s; default duration / 50)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default="out")
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)

    t0 = time.perf_counter()
    net = ns.Network(dt=0.1 * ms, seed=args.seed)
    inputs, neuron, proj, rule = song_network(net, args.inputs, args.rate)
    w0 = proj.weight.copy()
    tracked = np.linspace(0, proj.n_synapses - 1, N_TRACKED).astype(int)
    every = max(net.dt, round(args.duration / 1000 / net.dt) * net.dt)   # ~1000 samples
    wm = net.weight_monitor(proj, indices=tracked, interval=every)
    spikes = net.spike_monitor(neuron)
    finished = net.run(args.duration, progress=True)
    wall = time.perf_counter() - t0

    T = net.t
    t_out = spikes.times
    tenth = T / 10
    w = proj.weight.copy()
    bins = np.linspace(0, 1, 21)
    summary = dict(
        inputs=inputs.n, input_rate_hz=args.rate, duration_s=round(T, 6), finished=finished,
        seed=args.seed, w_max_nS=rule.w_max / nS, lam=rule.lam, alpha=rule.alpha,
        output_rate_hz=round(spikes.num_spikes / T, 3) if T > 0 else 0.0,
        output_rate_first_tenth_hz=round(float(np.sum(t_out < tenth)) / tenth, 3),
        output_rate_last_tenth_hz=round(float(np.sum(t_out >= T - tenth)) / tenth, 3),
        output_spikes=int(spikes.num_spikes),
        initial=weight_stats(w0, rule.w_max), final=weight_stats(w, rule.w_max),
        near_definition=f"w < {NEAR} w_max / w > {1 - NEAR:g} w_max",
        histogram_edges=[round(b, 3) for b in bins],
        histogram=np.histogram(w / rule.w_max, bins=bins)[0].tolist(),
        plastic_updates=int(net.counts().projections[proj.name].plastic_updates),
        wall_s=round(wall, 3))

    fig, (ax_h, ax_w, ax_r) = plt.subplots(1, 3, figsize=(14, 4))
    ax_h.hist(w0 / rule.w_max, bins=bins, color="0.8", label="initial")
    ax_h.hist(w / rule.w_max, bins=bins, histtype="step", color="C0", lw=2,
              label=f"after {T:g} s")
    ax_h.set_xlabel("w / w_max")
    ax_h.set_ylabel("synapses")
    ax_h.set_title(f"final weights: {summary['final']['near_0']:.0%} near 0, "
                   f"{summary['final']['near_w_max']:.0%} near w_max", fontsize=10)
    ax_h.legend(loc="upper center")
    vals = wm.values / rule.w_max
    for k, idx in enumerate(tracked):
        ax_w.plot(wm.t, vals[:, k], lw=0.8, label=f"synapse {idx}")
    ax_w.set_xlabel("time (s)")
    ax_w.set_ylabel("w / w_max")
    ax_w.set_ylim(-0.03, 1.03)
    ax_w.set_title(f"weights of {len(tracked)} synapses (weight monitor)", fontsize=10)
    ax_w.legend(fontsize=7, ncol=2, loc="center left")
    width = args.bin or T / 50
    edges = np.arange(0.0, T + width / 2, width)
    counts, _ = np.histogram(t_out, bins=edges)
    ax_r.step(edges[:-1], counts / width, where="post", color="k", lw=1)
    ax_r.set_xlabel("time (s)")
    ax_r.set_ylabel("output rate (Hz)")
    ax_r.set_ylim(bottom=0)
    ax_r.set_title(f"output rate ({width:g} s bins): {summary['output_rate_hz']:.1f} Hz "
                   f"overall", fontsize=10)
    fig.suptitle(f"Song, Miller & Abbott (2000): {inputs.n} Poisson inputs at {args.rate:g} Hz,"
                 f" additive STDP (alpha = {rule.alpha:g}), {T:g} s", fontsize=11)
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "stdp_song.png"), dpi=120)
    with open(os.path.join(args.out, "stdp_summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    print(json.dumps(summary, indent=2))
    print(f"figure and summary written to {args.out}/")
    return summary


if __name__ == "__main__":
    main()
