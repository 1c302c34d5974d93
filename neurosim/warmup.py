"""Compile the engine's kernels into Numba's on-disk cache ahead of the first real run.

    python -m neurosim.warmup          # the kernels of the README's Quick start
    python -m neurosim.warmup layers   # the same-step kernel of NIR graphs
    python -m neurosim.warmup --all    # also float32, threads=2, crossbars, plasticity,
                                       # Loihi fixed point

``make`` set-up runs the first form, so the Quick start after ``make demo`` / ``make test``
loads its kernels from the cache (under a second) instead of compiling them (tens of
seconds, once per environment). Each variant is compiled by running a tiny network of its
kind for one step through the public API, so the kernels cached are exactly those a real
network of that kind calls (the kernel variant is chosen by the types of its arguments:
dtype, threads > 1, crossbar synapses or not, fixed point).

Numba's cache lives next to the sources (``__pycache__``) or in ``NUMBA_CACHE_DIR``; it is
per machine and per Numba version, and the engine drops it when its sources change.
"""

import argparse
import sys
import time

import numpy as np

__all__ = ["VARIANTS", "warm"]


def _quickstart(dtype="float64", threads=1, crossbar=False, plastic=False):
    """A network with every element of the Quick start (spike source, Poisson source,
    delays, p and indegree connections, monitors): what its run compiles."""
    import neurosim as ns
    from neurosim.units import Hz, mV, ms

    net = ns.Network(dt=0.1 * ms, seed=1, dtype=dtype, threads=threads)
    inp = net.spike_source(n=4, times=np.arange(4) * ms, indices=np.arange(4))
    noise = net.poisson(n=8, rate=5 * Hz)
    exc = net.lif(n=6, tau_m=20 * ms, tau_syn=(5 * ms, 10 * ms), v_rest=-49 * mV,
                  v_th=-50 * mV, v_reset=-60 * mV, t_ref=2 * ms)
    net.connect(inp, exc, weight=2 * mV, p=0.5, delay=1.5 * ms)
    net.connect(noise, exc, weight=0.5 * mV, indegree=2)
    net.connect(exc, exc, weight=-1 * mV, p=0.3)
    if crossbar:
        from neurosim.crossbar import Crossbar
        net.connect(inp, exc, weight=np.full((4, 6), 1 * mV), synapse=Crossbar())
    if plastic:
        from neurosim.plasticity import STDP
        proj = net.connect(noise, exc, weight=0.5 * mV, p=0.5, plasticity=STDP(w_max=1 * mV))
        net.weight_monitor(proj, indices=[0])
    net.spike_monitor(exc)
    net.state_monitor(exc, "v", indices=[0, 1])
    return net


def _fixed_point():
    import neurosim as ns

    net = ns.Network(seed=1)
    src = net.spike_source(n=2, times=[0.0, 0.0], indices=[0, 1])
    out = net.loihi_lif(2, du=400, dv=300, vth=200)
    net.connect(src, out, weight=np.full((2, 2), 100.0))
    net.spike_monitor(out)
    net.state_monitor(out, "v", indices=[0])
    return net


class _Layered:
    """A LayerNetwork behind the Network.run(duration, progress) call that warm() makes."""

    def __init__(self, dtype):
        import neurosim as ns
        ln = ns.LayerNetwork(dt=1e-3, dtype=dtype)
        x = ln.input(2)
        h = ln.neurons("CubaLIF", 3, tau_syn=5e-3, tau_mem=1e-2, v_threshold=0.5)
        ln.connect(x, h, np.ones((2, 3)))
        ln.connect(h, h, np.ones((3, 3)), delay=1)
        self.net, self.dt = ln, ln.dt

    def run(self, duration, progress=False):
        self.net.run(steps=1, record=[(self.net.populations[1], "v")], progress=progress)


#: name -> (what it covers, network factory). "quickstart" is the default.
VARIANTS = {
    "quickstart": ("float64, one thread, no crossbars (the Quick start, CUBA examples)",
                   _quickstart),
    "float32": ("float32, one thread, no crossbars", lambda: _quickstart("float32")),
    "threads": ("float64, threads=2 (the parallel kernel)", lambda: _quickstart(threads=2)),
    "crossbar": ("float64, one thread, crossbar synapses",
                 lambda: _quickstart(crossbar=True)),
    "plastic": ("float64, one thread, plastic synapses (neurosim.plasticity)",
                lambda: _quickstart(plastic=True)),
    "fixed": ("Loihi fixed point (loihi_lif)", _fixed_point),
    "layers": ("layer networks and NIR graphs (same-step schedule, float64)",
               lambda: _Layered("float64")),
}


def warm(names=("quickstart",), out=sys.stderr):
    """Compile (or load from Numba's cache) the kernels of each variant in ``names``;
    returns {name: seconds}. Prints one line per variant to ``out`` (None: silent)."""
    took = {}
    for name in names:
        what, make = VARIANTS[name]
        t0 = time.perf_counter()
        net = make()
        net.run(net.dt, progress=False)
        took[name] = time.perf_counter() - t0
        if out is not None:
            print(f"neurosim: engine ready for {what}: {took[name]:.1f} s", file=out,
                  flush=True)
    return took


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m neurosim.warmup",
                                 description=__doc__.splitlines()[0])
    ap.add_argument("variants", nargs="*", metavar="VARIANT",
                    help=f"any of {', '.join(VARIANTS)} (default: quickstart)")
    ap.add_argument("--all", action="store_true", help="every variant")
    args = ap.parse_args(argv)
    for name in args.variants:
        if name not in VARIANTS:
            ap.error(f"VARIANT must be one of {', '.join(VARIANTS)}; got {name!r}")
    names = list(VARIANTS) if args.all else (args.variants or ["quickstart"])
    warm(names)
    return 0


if __name__ == "__main__":
    sys.exit(main())
