"""The NIR paper's two-neuron graph: one spike's effect depends on dt unless spikes are Diracs.

Research script for issue 20 (docs/nir-design.md), not part of the package.

    pip install nir
    python docs/nir/scripts/two_lif.py [--ref ../shared/reference/nir]

graphs/two_lif_neurons.nir: in -> Linear(1) -> LIF1(tau 10 ms, v_leak 1.2 > v_th 1: fires on
its own) -> Linear(1) -> LIF2(tau 10 ms, v_th 20: never fires). Forward Euler, same-step
feed-forward, reset to v_reset, over 0.1 s, for several dt. LIF1's spike count barely moves
with dt; LIF2's peak voltage scales with dt when a spike is "1 for one step" (the frameworks'
convention), and stays put when a spike is a Dirac of area 1 (value 1/dt for one step).
LIF2's threshold is not applied here (its subthreshold response is the point; with Dirac
spikes each spike adds r w / tau = 100 V and LIF2 would cross 20 V).
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_REF = os.path.normpath(os.path.join(HERE, "..", "..", "..", "..", "shared", "reference", "nir"))


def run(g, dt, t_end=0.1, dirac=False):
    l1, l2 = g.nodes["lif1"], g.nodes["lif2"]
    w1, w2 = float(g.nodes["linear1"].weight[0, 0]), float(g.nodes["linear2"].weight[0, 0])
    v1 = v2 = 0.0
    n1, v2max = 0, 0.0
    for _ in range(int(round(t_end / dt))):
        x = 0.0                                            # the graph's input is a dummy
        v1 += dt / l1.tau[0] * (l1.v_leak[0] - v1 + l1.r[0] * w1 * x)
        s1 = v1 > l1.v_threshold[0]
        if s1:
            v1, n1 = l1.v_reset[0], n1 + 1
        z = float(s1) / dt if dirac else float(s1)         # same step into LIF2
        v2 += dt / l2.tau[0] * (l2.v_leak[0] - v2 + l2.r[0] * w2 * z)
        v2max = max(v2max, v2)
    return n1, v2max


def main(argv=None):
    import nir

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ref", default=os.environ.get("NIR_REF", DEFAULT_REF))
    args = ap.parse_args(argv)
    g = nir.read(os.path.join(args.ref, "graphs", "two_lif_neurons.nir"))
    print(f"{'dt':>8s} {'LIF1 spikes':>12s} {'LIF2 max v (unit)':>18s} {'LIF2 max v (Dirac)':>19s}")
    for dt in (1e-3, 5e-4, 1e-4, 1e-5):
        n1, vu = run(g, dt)
        _, vd = run(g, dt, dirac=True)
        print(f"{dt:8.0e} {n1:12d} {vu:18.5f} {vd:19.5f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
