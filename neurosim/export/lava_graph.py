"""Build and run a Lava process graph from a neurosim network description (manifest + arrays).

This module is self-contained on purpose: it imports only numpy, scipy and Lava, so the Loihi
bundle written by :func:`neurosim.export.lava.write_loihi_bundle` ships a copy of it and runs
where neurosim is not installed (an Intel Neuromorphic Research Cloud host).

Manifest (a JSON-able dict)::

    {"steps": T,
     "populations": [{"name", "kind": "loihi_lif" | "spike_source", "n",
                      "du", "dv", "vth"}],                         # LIF parameters
     "projections": [{"key", "pre", "post", "process": "Dense" | "Sparse" | "DelayDense",
                      "weight_exp", "num_weight_bits", "sign_mode"}],
     "probes": [{"pop", "var": "u" | "v"}]}

Arrays: ``{name}.bias_mant``, ``{name}.bias_exp``, ``{name}.u``, ``{name}.v`` per LIF
population, ``{name}.data`` (n, T) int32 per spike source, ``{key}.weights`` (n_post, n_pre)
int32 per projection (for Sparse: ``{key}.data``, ``{key}.indices``, ``{key}.indptr``), and
``{key}.delays`` for DelayDense.
"""

import numpy as np

__all__ = ["build_graph", "run_graph", "lava_loihi_installed", "LAVA_LOIHI_HELP"]

LAVA_LOIHI_HELP = (
    "Running on Loihi 2 hardware needs Intel's proprietary lava-loihi extension, which is "
    "not on PyPI. Join the Intel Neuromorphic Research Community (email "
    "inrc_interest@intel.com with a research proposal); members get cloud Loihi 2 systems "
    "with lava-loihi installed. On such a host, call lava.utils.loihi.use_slurm_host() (or "
    "use_ethernet_host()) and run this script with --hw. Without --hw the same graph runs "
    "on Lava's CPU simulator (Loihi2SimCfg, fixed_pt).")


def lava_loihi_installed():
    """True when Intel's lava-loihi extension (NeuroCore models, runtime) is importable."""
    try:
        from lava.utils import loihi
    except ImportError:
        return False
    return bool(loihi.is_installed())


def _sign_mode(name):
    from lava.utils.weightutils import SignMode
    return {"excitatory": SignMode.EXCITATORY, "inhibitory": SignMode.INHIBITORY,
            "mixed": SignMode.MIXED}[name]


def build_graph(manifest, arrays, hw=False):
    """Create the Lava processes and connect them.

    Returns ``(procs, sinks, monitors)``: population name -> process, LIF name -> spike sink
    (RingBuffer), (pop, var) -> Monitor. With ``hw=True`` the lava-loihi adapters are
    inserted between CPU processes (sources, sinks) and chip processes, and no state probes
    are created (probing u/v on the chip goes through lava-loihi's own probes).
    """
    from lava.proc.dense.process import Dense, DelayDense
    from lava.proc.io.sink import RingBuffer as Sink
    from lava.proc.io.source import RingBuffer as Source
    from lava.proc.lif.process import LIF
    from lava.proc.monitor.process import Monitor
    from lava.proc.sparse.process import Sparse
    from scipy.sparse import csr_matrix

    if hw:
        if not lava_loihi_installed():
            raise RuntimeError(LAVA_LOIHI_HELP)
        from lava.proc.embedded_io.spike import NxToPyAdapter, PyToNxAdapter

    steps = int(manifest["steps"])
    procs, sinks, monitors, out_port = {}, {}, {}, {}
    for pop in manifest["populations"]:
        name, n = pop["name"], int(pop["n"])
        if pop["kind"] == "spike_source":
            src = Source(data=np.asarray(arrays[f"{name}.data"], np.int32))
            procs[name] = src
            out_port[name] = src.s_out
            if hw:
                adapter = PyToNxAdapter(shape=(n,))
                src.s_out.connect(adapter.inp)
                out_port[name] = adapter.out
        else:
            lif = LIF(shape=(n,), du=int(pop["du"]), dv=int(pop["dv"]), vth=int(pop["vth"]),
                      bias_mant=np.asarray(arrays[f"{name}.bias_mant"], np.int64),
                      bias_exp=np.asarray(arrays[f"{name}.bias_exp"], np.int64),
                      u=np.asarray(arrays[f"{name}.u"], np.int64),
                      v=np.asarray(arrays[f"{name}.v"], np.int64), name=name)
            procs[name] = lif
            out_port[name] = lif.s_out
            sink = Sink(shape=(n,), buffer=steps)
            if hw:
                adapter = NxToPyAdapter(shape=(n,))
                lif.s_out.connect(adapter.inp)
                adapter.out.connect(sink.a_in)
            else:
                lif.s_out.connect(sink.a_in)
            sinks[name] = sink
    for proj in manifest["projections"]:
        key = proj["key"]
        common = dict(weight_exp=int(proj["weight_exp"]),
                      num_weight_bits=int(proj["num_weight_bits"]),
                      sign_mode=_sign_mode(proj["sign_mode"]), name=key)
        if proj["process"] == "Sparse":
            w = csr_matrix((arrays[f"{key}.data"], arrays[f"{key}.indices"],
                            arrays[f"{key}.indptr"]),
                           shape=tuple(int(x) for x in arrays[f"{key}.shape"]))
            conn = Sparse(weights=w, **common)
        elif proj["process"] == "DelayDense":
            conn = DelayDense(weights=np.asarray(arrays[f"{key}.weights"]),
                              delays=np.asarray(arrays[f"{key}.delays"]), **common)
        else:
            conn = Dense(weights=np.asarray(arrays[f"{key}.weights"]), **common)
        out_port[proj["pre"]].connect(conn.s_in)
        conn.a_out.connect(procs[proj["post"]].a_in)
        procs[key] = conn
    if not hw:
        for probe in manifest["probes"]:
            mon = Monitor()
            mon.probe(getattr(procs[probe["pop"]], probe["var"]), steps)
            monitors[(probe["pop"], probe["var"])] = mon
    return procs, sinks, monitors


def _components(manifest):
    """Groups of populations connected by projections (Lava compiles one group per run)."""
    parent = {p["name"]: p["name"] for p in manifest["populations"]}

    def find(x):
        while parent[x] != x:
            x = parent[x]
        return x
    for proj in manifest["projections"]:
        parent[find(proj["pre"])] = find(proj["post"])
    groups = {}
    for p in manifest["populations"]:
        groups.setdefault(find(p["name"]), []).append(p["name"])
    return list(groups.values())


def run_graph(manifest, arrays, hw=False, warmup=0):
    """Build, run ``manifest["steps"]`` steps with Loihi2SimCfg (or Loihi2HwCfg with
    ``hw=True``), read back and stop.

    With ``warmup`` > 0 the first ``warmup`` steps run as a separate call (Lava compiles and
    starts its processes there; timed as ``startup_s``), so ``run_s`` covers only the
    remaining ``steps - warmup`` steps.

    Returns ``(spikes, traces, timings)``: LIF name -> (T, n) int8 spike array; (pop, var)
    -> (T, n) int64 trace (after each step's reset); seconds for build, startup, run and
    read-back.
    """
    import time

    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2HwCfg, Loihi2SimCfg

    steps = int(manifest["steps"])
    t0 = time.perf_counter()
    procs, sinks, monitors = build_graph(manifest, arrays, hw=hw)
    cfg = Loihi2HwCfg(select_tag="fixed_pt") if hw else Loihi2SimCfg(select_tag="fixed_pt")
    timings = {"build_s": time.perf_counter() - t0, "startup_s": 0.0, "run_s": 0.0,
               "readback_s": 0.0}
    warmup = min(int(warmup), steps)
    spikes, traces = {}, {}
    for group in _components(manifest):
        lifs = [name for name in group if name in sinks]
        if not lifs or steps == 0:
            continue
        anchor = procs[lifs[0]]
        t0 = time.perf_counter()
        if warmup:
            anchor.run(condition=RunSteps(num_steps=warmup), run_cfg=cfg)
        ts = time.perf_counter()
        if steps > warmup:
            anchor.run(condition=RunSteps(num_steps=steps - warmup), run_cfg=cfg)
        t1 = time.perf_counter()
        try:
            for name in lifs:
                spikes[name] = np.asarray(sinks[name].data.get()).T.astype(np.int8)
            for (pop, var), mon in monitors.items():
                if pop in group:
                    traces[(pop, var)] = np.asarray(
                        mon.get_data()[procs[pop].name][var]).astype(np.int64)
        finally:
            anchor.stop()
        timings["startup_s"] += ts - t0
        timings["run_s"] += t1 - ts
        timings["readback_s"] += time.perf_counter() - t1
    return spikes, traces, timings
