"""Export of fixed-point (loihi_lif) networks to Lava, and the Loihi deployment bundle.

* :func:`to_lava` builds the Lava process graph: a source ``RingBuffer`` per spike source,
  ``Dense`` (``Sparse`` below 10% density, ``DelayDense`` with delays) per projection with
  explicit ``sign_mode``, ``weight_exp`` and ``num_weight_bits``, a ``LIF`` per population,
  a sink ``RingBuffer`` per LIF and a ``Monitor`` per state monitor.
* :func:`run_in_lava` runs it with ``Loihi2SimCfg(select_tag="fixed_pt")`` and returns the
  spikes and traces (step n of neurosim is Lava's time step n + 1).
* :func:`write_loihi_bundle` writes a self-contained folder (arrays, manifest, the graph
  builder, a run script, a README) that runs on Lava's CPU simulator here and on Loihi 2
  through Intel's Neuromorphic Research Cloud.

Lava (lava-nc 0.10) supports only Python 3.10 with numpy < 2; elsewhere these functions raise
:class:`LavaUnavailableError` saying how to get it.
"""

import json
import os
import shutil
import sys
import tempfile
from typing import NamedTuple

import numpy as np

from ..validation import check_int, fail

__all__ = ["LavaUnavailableError", "lava_manifest", "to_lava", "run_in_lava", "compare_with_lava",
           "write_loihi_bundle", "LavaRun", "require_lava"]

_SPARSE_BELOW = 0.1
_LAVA_MP = "lava.magma.runtime.message_infrastructure.multiprocessing"


class LavaUnavailableError(ImportError):
    """Lava cannot be imported here (wrong Python or numpy, or not installed)."""


def require_lava():
    """Import Lava or raise :class:`LavaUnavailableError` with what to do."""
    py = sys.version_info[:2]
    np_major = int(np.__version__.split(".")[0])
    how = ("Lava (lava-nc 0.10) supports only Python 3.10 with numpy < 2: create a Python 3.10 "
           "environment and run  pip install 'neurosim[loihi]'  (or `make test`, which does). ")
    if py != (3, 10) or np_major >= 2:
        raise LavaUnavailableError(how + f"This is Python {py[0]}.{py[1]} with numpy "
                                   f"{np.__version__}.")
    import multiprocessing as mp
    if _LAVA_MP not in sys.modules:
        # Lava calls multiprocessing.set_start_method("fork") when imported, which raises if
        # anything (tqdm's lock, for one) already fixed the start method, even to "fork".
        method = mp.get_start_method(allow_none=True)
        if method == "fork":
            mp.context._default_context._actual_context = None
        elif method is not None:
            raise LavaUnavailableError(f"Lava needs the 'fork' multiprocessing start method; "
                                       f"this process already set {method!r}")
    try:
        import lava.magma.core.process.process  # noqa: F401
        import lava.magma.core.run_configs  # noqa: F401
    except ImportError as err:
        raise LavaUnavailableError(how + f"Importing it failed: {err}.") from err


def _check_fixed(net):
    if not net.fixed_point:
        fail("net", "a network of loihi_lif populations (quantize a float network first: "
             "neurosim.loihi.quantize(net))", repr(net))


def lava_manifest(net, steps):
    """The network as a JSON-able manifest and a dict of arrays (see ``lava_graph``)."""
    _check_fixed(net)
    from . import refuse_unexported_inputs
    refuse_unexported_inputs(net, "Lava")
    steps = check_int("steps", steps, 0)
    pops, projs, arrays = [], [], {}
    for pop in net.populations:
        if pop.kind == "poisson":
            fail("populations", "loihi_lif and spike_source only for Lava (Lava has no Poisson "
                 "source: record the spikes and use net.spike_source)", pop.name)
        entry = {"name": pop.name, "kind": pop.kind, "n": pop.n}
        if pop.kind == "loihi_lif":
            s = pop.spec
            entry.update(du=s.du, dv=s.dv, vth=s.vth)
            arrays[f"{pop.name}.bias_mant"] = s.bias_mant.copy()
            arrays[f"{pop.name}.bias_exp"] = s.bias_exp.copy()
            arrays[f"{pop.name}.u"] = s.u_init.copy()
            arrays[f"{pop.name}.v"] = s.v_init.copy()
        else:
            data = np.zeros((pop.n, steps), np.int32)
            keep = pop.spec.steps < steps
            data[pop.spec.indices[keep], pop.spec.steps[keep]] = 1
            arrays[f"{pop.name}.data"] = data
        pops.append(entry)
    for k, proj in enumerate(net.projections):
        key = f"proj{k}"
        pair = proj.post_index.astype(np.int64) * proj.pre.n + proj.pre_index
        if np.unique(pair).size != pair.size:
            fail(f"projection {proj.name!r}", "at most one synapse per (pre, post) pair for "
                 "Lava's Dense (connect with multapses=False)", "duplicate pairs")
        shape = (proj.post.n, proj.pre.n)
        w = proj._weights().astype(np.int64).astype(np.int32)
        d = np.broadcast_to(np.asarray(proj.delay_steps, np.int64), w.shape)
        density = w.size / max(shape[0] * shape[1], 1)
        if d.size and d.max() > 0:
            process = "DelayDense"
            dense = np.zeros(shape, np.int32)
            dense[proj.post_index, proj.pre_index] = w
            delays = np.zeros(shape, np.int64)
            delays[proj.post_index, proj.pre_index] = d
            arrays[f"{key}.weights"], arrays[f"{key}.delays"] = dense, delays
        elif density < _SPARSE_BELOW:
            import scipy.sparse as sp
            process = "Sparse"
            m = sp.csr_matrix((w, (proj.post_index, proj.pre_index)), shape=shape)
            m.sort_indices()
            arrays[f"{key}.data"], arrays[f"{key}.indices"] = m.data, m.indices
            arrays[f"{key}.indptr"], arrays[f"{key}.shape"] = m.indptr, np.array(shape)
        else:
            process = "Dense"
            dense = np.zeros(shape, np.int32)
            dense[proj.post_index, proj.pre_index] = w
            arrays[f"{key}.weights"] = dense
        syn = proj.loihi
        projs.append({"key": key, "name": proj.name, "pre": proj.pre.name,
                      "post": proj.post.name, "process": process,
                      "weight_exp": syn.weight_exp, "num_weight_bits": syn.num_weight_bits,
                      "sign_mode": syn.sign_mode})
    probes = [{"pop": m.pop.name, "var": m.var} for m in net.state_monitors]
    probes = [dict(t) for t in {tuple(sorted(p.items())) for p in probes}]
    manifest = {"steps": steps, "dt": net.dt, "populations": pops, "projections": projs,
                "probes": sorted(probes, key=lambda p: (p["pop"], p["var"]))}
    return manifest, arrays


class LavaGraph(NamedTuple):
    procs: dict        # population or projection key -> Lava process
    sinks: dict        # LIF population name -> sink RingBuffer
    monitors: dict     # (population name, var) -> Monitor
    manifest: dict


class LavaRun(NamedTuple):
    """What :func:`run_in_lava` returns."""
    spikes: dict       # LIF population name -> (steps, n) int8, 1 where the neuron spiked
    traces: dict       # (population name, "u" | "v") -> (steps, n) int64, after the reset
    timings: dict      # build_s, startup_s, run_s, readback_s (seconds)


def to_lava(net, steps, hw=False):
    """Build the Lava process graph of ``net`` for ``steps`` steps (not run).

    ``hw=True`` inserts the lava-loihi adapters for Loihi2HwCfg (needs lava-loihi).
    """
    require_lava()
    from .lava_graph import build_graph
    manifest, arrays = lava_manifest(net, steps)
    return LavaGraph(*build_graph(manifest, arrays, hw=hw), manifest)


def run_in_lava(net, steps, warmup=0):
    """Run ``net`` from its initial state for ``steps`` steps in Lava's CPU simulator
    (Loihi2SimCfg, fixed_pt); returns a :class:`LavaRun`. State monitors of the network
    become Lava Monitor probes. ``warmup`` steps run as a first call, timed apart (Lava
    compiles and starts its processes there)."""
    require_lava()
    from .lava_graph import run_graph
    manifest, arrays = lava_manifest(net, steps)
    return LavaRun(*run_graph(manifest, arrays, warmup=warmup))


def compare_with_lava(net, steps):
    """Run ``net`` from its initial state in Lava's CPU simulator and in neurosim (a fresh
    copy); per loihi_lif population: ``neurosim_spikes``, ``lava_spikes``, ``identical``
    and ``agreement`` (fraction of (step, neuron) entries with the same spike or silence),
    and per state monitor whether the traces are identical (``traces``)."""
    require_lava()
    from .lava_graph import run_graph
    manifest, arrays = lava_manifest(net, steps)
    lava = LavaRun(*run_graph(manifest, arrays))
    ours = _neurosim_reference(net, steps, manifest)
    out = {}
    for name, theirs in lava.spikes.items():
        mine, theirs = ours[f"spikes/{name}"], np.asarray(theirs, dtype=np.int8)
        out[name] = dict(neurosim_spikes=int(mine.sum()), lava_spikes=int(theirs.sum()),
                         identical=bool(np.array_equal(mine, theirs)),
                         agreement=float(np.mean(mine == theirs)))
    traces = {f"{pop}.{var}": bool(np.array_equal(ours[f"trace/{pop}/{var}"], t))
              for (pop, var), t in lava.traces.items()}
    return dict(populations=out, traces=traces)


_RUN_SCRIPT = '''\
"""Run the exported neurosim network with Lava.

    python run_lava.py            # Lava's CPU simulator (Loihi2SimCfg, fixed_pt)
    python run_lava.py --hw       # Loihi 2 (Loihi2HwCfg), on an INRC host with lava-loihi

Writes spikes_lava.npz (spikes and probed traces) next to this script.
"""
import argparse
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from lava_graph import LAVA_LOIHI_HELP, lava_loihi_installed, run_graph  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hw", action="store_true", help="run on Loihi 2 (needs lava-loihi)")
    ap.add_argument("--out", default=os.path.join(HERE, "spikes_lava.npz"))
    args = ap.parse_args()
    if args.hw and not lava_loihi_installed():
        sys.exit("lava-loihi is not installed here. " + LAVA_LOIHI_HELP)
    with open(os.path.join(HERE, "manifest.json")) as f:
        manifest = json.load(f)
    arrays = dict(np.load(os.path.join(HERE, "network.npz")))
    spikes, traces, timings = run_graph(manifest, arrays, hw=args.hw)
    out = {f"spikes/{k}": v for k, v in spikes.items()}
    out.update({f"trace/{p}/{v}": a for (p, v), a in traces.items()})
    np.savez_compressed(args.out, **out)
    for name, s in spikes.items():
        print(f"{name}: {int(s.sum())} spikes in {s.shape[0]} steps")
    print("timings (s):", json.dumps({k: round(v, 3) for k, v in timings.items()}))
    print("wrote", args.out)


if __name__ == "__main__":
    main()
'''

_README = '''\
# neurosim network exported for Loihi ({name})

Generated by neurosim {version}. {n_pops} populations, {n_projs} projections, {steps} steps.

| file | what |
|---|---|
| `manifest.json` | populations (LIF du, dv, vth), projections (Lava process, weight_exp, num_weight_bits, sign_mode), probes, steps |
| `network.npz` | the integer arrays: bias_mant/bias_exp/u/v per LIF, (n, T) spike data per source, weights (post, pre) and delays per projection |
| `lava_graph.py` | builds the Lava process graph from the two files above (numpy, scipy and Lava only) |
| `run_lava.py` | runs it and writes `spikes_lava.npz` |
| `spikes_neurosim.npz` | neurosim's own spikes and traces for the same steps, to compare with |

## Run on a CPU (Lava's simulator)

Lava needs Python 3.10 and numpy < 2:

    python3.10 -m venv venv && . venv/bin/activate
    pip install "lava-nc==0.10.0" "numpy<2" scipy
    python run_lava.py

`python check_agreement.py` then compares `spikes_lava.npz` with `spikes_neurosim.npz`
step by step (they are identical: neurosim's fixed-point mode is bit-exact with Lava's
`fixed_pt` models).

## Run on Loihi 2 (Intel Neuromorphic Research Cloud)

1. Join the INRC: email inrc_interest@intel.com with a research proposal. Members get
   cloud-hosted Loihi 2 systems with Intel's proprietary `lava-loihi` extension installed.
2. Copy this folder to the INRC host. In your job, before running, select the system, e.g.

       from lava.utils.loihi import use_slurm_host, ChipGeneration
       use_slurm_host(loihi_gen=ChipGeneration.N3B3)

   (or set `SLURM=1` / `PARTITION` / `BOARD` as the INRC instructions say).
3. `python run_lava.py --hw` runs the same graph with `Loihi2HwCfg(select_tag="fixed_pt")`.
   It inserts `PyToNxAdapter` between each source RingBuffer and its connections and
   `NxToPyAdapter` between each LIF and its sink, since CPU processes cannot feed neurocores
   directly. State probes (u, v) are only made in simulation.

Without lava-loihi, `--hw` stops with this explanation instead of Lava's
`NameError: name 'CLoihiProcessModel' is not defined`.

Note: Lava's `fixed_pt` CPU models follow Loihi's arithmetic as Lava documents it; the
chip's microcoded neurons are not guaranteed to match them bit for bit.
'''

_CHECK = '''\
"""Compare spikes_lava.npz (from run_lava.py) with spikes_neurosim.npz, step by step."""
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
a = np.load(os.path.join(HERE, "spikes_lava.npz"))
b = np.load(os.path.join(HERE, "spikes_neurosim.npz"))
bad = [k for k in b.files if k not in a.files or not np.array_equal(a[k], b[k])]
for k in b.files:
    print(("differs: " if k in bad else "identical: ") + k)
sys.exit(1 if bad else 0)
'''


def write_loihi_bundle(net, out_dir, steps, overwrite=False):
    """Write a self-contained Loihi deployment folder for ``net`` run for ``steps`` steps.

    Everything is written to a temporary folder first and moved into place at the end, so an
    error leaves nothing half-written. Returns the folder's path.
    """
    from .. import __version__
    from ..results import apply_umask
    from .lava_graph import __file__ as graph_file
    manifest, arrays = lava_manifest(net, steps)
    out_dir = os.path.abspath(out_dir)
    if os.path.exists(out_dir) and not overwrite:
        fail("out_dir", "a path that does not exist yet (or overwrite=True)", out_dir)
    ref = _neurosim_reference(net, steps, manifest)
    parent = os.path.dirname(out_dir) or "."
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".loihi-bundle-", dir=parent)
    try:
        with open(os.path.join(tmp, "manifest.json"), "w") as f:
            json.dump(manifest, f, indent=1)
        np.savez_compressed(os.path.join(tmp, "network.npz"), **arrays)
        np.savez_compressed(os.path.join(tmp, "spikes_neurosim.npz"), **ref)
        shutil.copyfile(graph_file, os.path.join(tmp, "lava_graph.py"))
        for fname, text in (("run_lava.py", _RUN_SCRIPT), ("check_agreement.py", _CHECK),
                            ("README.md", _README.format(
                                name=os.path.basename(out_dir), version=__version__,
                                n_pops=len(manifest["populations"]),
                                n_projs=len(manifest["projections"]), steps=steps))):
            with open(os.path.join(tmp, fname), "w") as f:
                f.write(text)
        apply_umask(tmp, directory=True)
        if os.path.exists(out_dir):
            shutil.rmtree(out_dir)
        os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def _neurosim_reference(net, steps, manifest):
    """Spikes and probed traces of a fresh copy of the run, in run_lava.py's layout."""
    fresh = net.copy()
    mons = {p.name: fresh.spike_monitor(p) for p in fresh.populations
            if p.kind == "loihi_lif"}
    probes = {(pr["pop"], pr["var"]): fresh.state_monitor(fresh.population(pr["pop"]),
                                                          pr["var"])
              for pr in manifest["probes"]}
    fresh.run(steps * fresh.dt, progress=False)
    out = {}
    for name, m in mons.items():
        s = np.zeros((steps, m.pop.n), np.int8)
        s[m.steps, m.indices] = 1
        out[f"spikes/{name}"] = s
    for (pop, var), m in probes.items():
        out[f"trace/{pop}/{var}"] = m.values.astype(np.int64)
    return out
