"""One run of PyNN's Vogels-Abbott benchmark script (examples/pynn_va.py) on one PyNN backend;
prints one JSON line.

    python benchmarks/peers/pynn_va_run.py neurosim CUBA
    benchmarks/.venv-nest/bin/python benchmarks/peers/pynn_va_run.py nest COBA

Runs in any environment with PyNN and the backend (it imports nothing from neurosim unless
the backend is neurosim): the NEST environment has no neurosim. The script runs unchanged
(``runpy``, as ``python examples/pynn_va.py <simulator> <benchmark>``) in a temporary working
directory (it writes its Results/ pickles there); its own output goes to stderr. The numbers
are the script's own timers, read from its globals after it finishes: ``buildCPUTime`` (from
creating the populations to setting up recording, connections included) and ``simCPUTime``
(``sim.run(1000 ms)``), its spike counts and its synapse counts; plus the time to import the
backend (``pyNN.<simulator>``, before the script starts), the process's peak RSS, and the
versions.
"""

import contextlib
import importlib
import json
import os
import platform
import re
import resource
import runpy
import sys
import tempfile
import time

T_PROC = time.perf_counter()
HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(os.path.dirname(os.path.dirname(HERE)), "examples", "pynn_va.py")


def _version(name):
    try:
        from importlib.metadata import version
        return version(name)
    except Exception:
        return None


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) < 2:
        sys.exit(__doc__)
    simulator, benchmark, extra = argv[0], argv[1], argv[2:]
    t0 = time.perf_counter()
    if simulator == "neurosim":
        import neurosim.pynn
        sys.modules["pyNN.neurosim"] = neurosim.pynn
    importlib.import_module(f"pyNN.{simulator}")
    import_s = time.perf_counter() - t0
    old_argv, cwd = sys.argv, os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        sys.argv = [SCRIPT, simulator, benchmark] + extra
        try:
            with contextlib.redirect_stdout(sys.stderr):
                g = runpy.run_path(SCRIPT, run_name="__main__")
        finally:
            sys.argv = old_argv
            os.chdir(cwd)
    tstop = float(g["tstop"])
    counts = [int(x) for x in re.findall(r"(\d+) [ei]\u2192", g["connections"])]
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    versions = {"python": platform.python_version(), "PyNN": _version("PyNN"),
                "numpy": _version("numpy"), "neo": _version("neo")}
    if simulator == "neurosim":
        versions["neurosim"] = _version("neurosim")
        versions["neurosim_path"] = os.path.dirname(sys.modules["neurosim"].__file__)
        versions["numba"] = _version("numba")
    elif simulator == "brian2":
        import brian2
        versions["brian2"] = brian2.__version__
        versions["brian2_codegen_target"] = str(brian2.prefs.codegen.target)
        net = g["sim"].simulator.state.network
        kinds = sorted({c.__class__.__name__ for o in net.objects
                        for sub in [o, *o.contained_objects] for c in sub._code_objects})
        versions["brian2_code_objects"] = "+".join(kinds)  # what "auto" chose
        versions["cython"] = _version("Cython")
    elif simulator == "nest":
        import nest
        versions["nest"] = nest.__version__
        versions["nest_spike_precision"] = g["sim"].simulator.state.spike_precision
        versions["nest_threads"] = int(nest.GetKernelStatus("local_num_threads"))
    row = dict(
        simulator=simulator, benchmark=benchmark, N=int(g["n"]),
        n_exc=int(g["n_exc"]), n_inh=int(g["n_inh"]), synapses=int(sum(counts)),
        synapses_by_projection=counts, threads=int(g["threads"]), dt_ms=float(g["dt"]),
        tstop_ms=tstop,
        import_s=round(import_s, 4), build_s=round(float(g["buildCPUTime"]), 4),
        run_s=round(float(g["simCPUTime"]), 4), write_s=round(float(g["writeCPUTime"]), 4),
        rate_exc_hz=round(float(g["E_count"]) * 1000.0 / tstop, 4),
        rate_inh_hz=round(float(g["I_count"]) * 1000.0 / tstop, 4),
        process_s=round(time.perf_counter() - T_PROC, 3), peak_rss_mb=round(rss_mb, 1),
        versions=versions)
    row["build_run_s"] = round(row["build_s"] + row["run_s"], 4)
    print(json.dumps(row))


if __name__ == "__main__":
    main()
