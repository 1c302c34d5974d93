"""First use (issue 16, point 5): a cold start says that it compiles, before the progress
bar; the warm-up of ``make`` covers the README's Quick start; a network compiles only the
kernel variant it runs; ``prepare`` is free once the kernel is ready. No timing asserts
(speed: benchmarks/first_result.py)."""

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import neurosim as ns
from neurosim.units import mV, ms

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COMPILING = "compiling the engine"


def _python(code, cache_dir):
    """Run ``code`` in a fresh interpreter with Numba's cache in ``cache_dir``."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache_dir))
    p = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True,
                       text=True, timeout=900)
    assert p.returncode == 0, p.stderr
    return p.stdout, p.stderr


def _quickstart_code():
    text = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    m = re.search(r"^## Quick start\s*$.*?^```python\n(.*?)^```", text, re.M | re.S)
    assert m, "README.md has a python block under '## Quick start'"
    return m.group(1)


# The warm-up as make runs it, then which kernels were compiled in that process.
_WARM_AND_LIST = """
import json, sys
from numba.core.registry import CPUDispatcher
from neurosim import warmup
from neurosim.engine import crossbar, lif, loihi, poisson
warmup.main([])
compiled = {f"{m.__name__}.{k}": len(d.signatures) for m in (lif, crossbar, loihi, poisson)
            for k, d in vars(m).items() if isinstance(d, CPUDispatcher)}
print(json.dumps(compiled))
"""


@pytest.fixture(scope="module")
def cold_then_quickstart(tmp_path_factory):
    """A cold cache warmed as ``make`` does, then the README's Quick start (progress bar on)
    in a second process on that cache."""
    cache = tmp_path_factory.mktemp("numba-cache")
    out1, err1 = _python(_WARM_AND_LIST, cache)
    code = _quickstart_code().replace("net.run(200*ms)", "net.run(200*ms, progress=True)")
    assert "progress=True" in code
    out2, err2 = _python(code, cache)
    return json.loads(out1.strip().splitlines()[-1]), err1, out2, err2


def test_a_cold_start_says_it_compiles(cold_then_quickstart):
    _, err1, _, _ = cold_then_quickstart
    lines = err1.splitlines()
    first = next(i for i, ln in enumerate(lines) if COMPILING in ln)
    assert "once" in lines[first]
    assert re.search(r"engine compiled in [0-9.]+ s", "\n".join(lines[first + 1:]))
    assert "engine ready for" in err1 and "Quick start" in err1


def test_the_warm_up_covers_the_quickstart(cold_then_quickstart):
    """After the warm-up, the Quick start loads its kernel: nothing is said, its result is
    printed, and the progress bar ran."""
    _, _, out2, err2 = cold_then_quickstart
    assert COMPILING not in err2
    assert "simulating" in err2                 # the bar was on (and nothing before it)
    assert re.match(r"\d+ \[", out2.strip())    # "330 [1 3 3 4 4] (2000, 2)"


def test_a_network_without_crossbars_compiles_no_crossbar_code(cold_then_quickstart):
    compiled = cold_then_quickstart[0]
    assert compiled["neurosim.engine.lif.advance"] == 1
    assert compiled["neurosim.engine.lif._deliver"] >= 1      # the check can see compiles
    for name in ("neurosim.engine.crossbar.deliver_crossbars",
                 "neurosim.engine.crossbar.stdp_crossbars",
                 "neurosim.engine.lif._crossbars", "neurosim.engine.lif.advance_parallel",
                 "neurosim.engine.poisson.deliver_drives",
                 "neurosim.engine.loihi.advance_fixed"):
        assert compiled[name] == 0, name


def _small(crossbar=False, threads=1):
    net = ns.Network(seed=3, threads=threads)
    src = net.spike_source(n=3, times=[0.0, 1 * ms, 2 * ms], indices=[0, 1, 2])
    out = net.lif(n=4, tau_m=10 * ms, tau_syn=5 * ms, v_rest=-70 * mV, v_th=-50 * mV,
                  v_reset=-70 * mV)
    if crossbar:
        from neurosim.crossbar import Crossbar
        net.connect(src, out, weight=np.full((3, 4), 80 * mV), synapse=Crossbar.ideal())
    else:
        net.connect(src, out, weight=80 * mV)
    mon = net.spike_monitor(out)
    return net, mon


def test_the_kernel_variant_follows_the_network():
    """No crossbar projection: the kernel gets None for them (its variant without the
    crossbar stage); with one, the crossbars; threads > 1: the parallel kernel."""
    from neurosim.engine.lif import advance, advance_parallel
    net, _ = _small()
    net.build()
    assert net._runner._extra()[:2] == (None, None) and net._runner._kernel is advance
    xnet, _ = _small(crossbar=True)
    xnet.build()
    xc, xs = xnet._runner._extra()[:2]
    assert xc is xnet.plan.xbar and xs is xnet._runner.xstate
    pnet, _ = _small(threads=2)
    pnet.build()
    assert pnet._runner._kernel is advance_parallel


def test_prepare_is_a_no_op_once_ready(capsys):
    net, mon = _small()
    net.run(5 * ms, progress=False)
    runner = net._runner

    def boom(*args):
        raise AssertionError("compiled again")

    runner._call = boom
    runner.prepare(net._record)                  # this runner: ready, nothing called
    twin, _ = _small()
    twin.build()
    twin._runner._compile = boom                 # same types: the kernel is in memory
    twin.run(5 * ms, progress=False)
    assert COMPILING not in capsys.readouterr().err
    assert mon.num_spikes > 0


def test_prepare_runs_nothing():
    """prepare calls the kernel for zero steps: the state does not move."""
    net, mon = _small()
    net.run(0.0, progress=False)                 # builds the record, runs no step
    runner = net._runner
    before = [a.copy() for a in runner.state]
    runner._ready = False
    runner.prepare(net._record)
    for a, b in zip(before, runner.state):
        np.testing.assert_array_equal(a, b)
    net.run(3 * ms, progress=False)
    assert mon.num_spikes > 0


@pytest.mark.parametrize("cached, slow, said", [(False, False, True), (True, True, False),
                                               (None, True, True), (None, False, False)])
def test_what_prepare_says(monkeypatch, capsys, cached, slow, said):
    """Not in the cache: announced before compiling. In it: silent. Cannot tell (another
    Numba's cache internals): announced once the call has taken longer than a cache load."""
    import time
    from neurosim.backends import numba_backend as nb
    net, _ = _small()
    net.run(0.0, progress=False)
    runner = net._runner
    monkeypatch.setattr(nb, "kernel_cached_on_disk", lambda kernel, argtypes: cached)
    monkeypatch.setattr(nb, "_ANNOUNCE_AFTER_S", 0.1)
    runner._call = lambda args: time.sleep(0.6 if slow else 0.0)
    runner._compile(runner._kernel, (), ())
    err = capsys.readouterr().err
    assert (COMPILING in err) == said
    assert ("engine compiled in" in err) == said
