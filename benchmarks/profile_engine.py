"""What bounds the engine at each size: neuron update vs the event-driven path.

    python benchmarks/profile_engine.py [--sizes 4000 64000 ...]

For each N: the CUBA simulation time (1 s, median of 3), the time of the same populations
with no synapses and no spikes (pure neuron update: N x steps), and the remainder (threshold
spikes, delivery, resets). The neuron update streams v, I_exc, I_inh and ref_until (32
bytes read and 24 written per neuron and step in float64; the shared bias is not read); the
achieved bandwidth of that stream is compared with a numpy copy measured here (STREAM-like).
Prints JSON lines.
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numpy as np  # noqa: E402

import neurosim as ns  # noqa: E402
from neurosim.nets import cuba  # noqa: E402
from neurosim.units import mV, ms  # noqa: E402


def _time(make, duration, repeat=3):
    out = []
    for _ in range(repeat):
        net = make()
        net.run(net.dt, progress=False)
        t0 = time.perf_counter()
        net.run(duration, progress=False)
        out.append(time.perf_counter() - t0)
    return float(np.median(out))


def copy_bandwidth(n_bytes):
    """GB/s of a numpy array copy of n_bytes (read + write counted)."""
    a = np.ones(n_bytes // 8)
    b = np.empty_like(a)
    best = min(_once(a, b) for _ in range(5))
    return 2 * a.nbytes / best / 1e9


def _once(a, b):
    t0 = time.perf_counter()
    np.copyto(b, a)
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=[4000, 16000, 64000, 256000])
    ap.add_argument("--duration", type=float, default=1.0)
    args = ap.parse_args()
    for N in args.sizes:
        def full():
            net = ns.Network(seed=1)
            cuba(net, N=N)
            return net

        def update_only():
            net = ns.Network(seed=1)
            net.lif(n=N, tau_m=20 * ms, tau_syn=(5 * ms, 10 * ms), v_rest=-70 * mV,
                    v_th=-50 * mV, v_reset=-60 * mV, t_ref=5 * ms)
            return net
        t_full = _time(full, args.duration)
        t_upd = _time(update_only, args.duration)
        steps = int(round(args.duration / 1e-4))
        stream = 56 * N * steps / t_upd / 1e9
        print(json.dumps(dict(
            N=N, sim_s=round(t_full, 4), neuron_update_s=round(t_upd, 4),
            event_path_s=round(t_full - t_upd, 4),
            update_share=round(t_upd / t_full, 3),
            ns_per_neuron_step=round(t_upd / (N * steps) * 1e9, 3),
            update_stream_gb_s=round(stream, 2),
            copy_gb_s_same_size=round(copy_bandwidth(56 * N), 2))), flush=True)


if __name__ == "__main__":
    main()
