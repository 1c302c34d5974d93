"""One network over several MPI ranks (neurosim.mpi): bitwise the results of one process.

Each test runs tests/mpi_scenarios.py in subprocesses, plainly (one process) and under
``mpiexec -n K`` (the mpich wheel's Hydra from the venv, ranks oversubscribing the cores),
and compares every recorded array byte for byte.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("mpi4py", reason="the mpi extra (mpi4py, mpich) is not installed")

HERE = Path(__file__).parent
SCENARIOS = HERE / "mpi_scenarios.py"
MPIEXEC = shutil.which("mpiexec", path=str(Path(sys.executable).parent)) or \
    shutil.which("mpiexec")
pytestmark = pytest.mark.skipif(MPIEXEC is None, reason="no mpiexec (pip install mpich)")
TIMEOUT = 900      # first launches compile the kernel variants (minutes on a busy machine)


def _env(**extra):
    env = dict(os.environ, NUMBA_NUM_THREADS="2", PYTHONUNBUFFERED="1", **extra)
    for var in ("PMI_SIZE", "PMI_RANK", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK"):
        env.pop(var, None)       # a test process started by a launcher must not pass it on
    return env


def _launch(ranks, args, env=None):
    cmd = [sys.executable, str(SCENARIOS), *map(str, args)]
    if ranks:
        cmd = [MPIEXEC, "-n", str(ranks), *cmd]
    return cmd, env or _env()


def _run(tmp_path, scenario, ranks, *more, env=None, expect_ok=True):
    out = tmp_path / f"{scenario}-{ranks}-{'-'.join(map(str, more))}.npz"
    cmd, env = _launch(ranks, [scenario, out, *more], env)
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    if expect_ok:
        assert proc.returncode == 0, proc.stderr[-3000:]
        with np.load(out, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}, proc
    return None, proc


_META = {"n_ranks", "edges", "target_types"}


def _assert_identical(a, b):
    keys = sorted(set(a) - _META)
    assert keys == sorted(set(b) - _META)
    differ = [k for k in keys if a[k].dtype != b[k].dtype or a[k].shape != b[k].shape
              or a[k].tobytes() != b[k].tobytes()]
    assert not differ, f"differ: {differ}"


def test_every_model_rule_source_and_plasticity_identical_for_1_to_4_ranks(tmp_path):
    ref, _ = _run(tmp_path, "random", 0)
    assert int(ref["n_ranks"]) == 1
    assert all(ref[f"spikes/{k}"].shape[1] > 10 for k in
               ("exp", "alpha_adapt", "delta", "delta_nest", "cond", "pois_window"))
    assert ref["spikes/gen"].shape[1] == 6
    assert not np.all(ref["state/0"] == ref["state/0"][0])       # traces move
    for k in (1, 2, 3, 4):
        got, _ = _run(tmp_path, "random", k)
        assert int(got["n_ranks"]) == k
        _assert_identical(ref, got)


def test_exchange_once_per_minimum_delay_identical_for_1_to_4_ranks(tmp_path):
    """Every delay >= 5 steps, then one edited down to 3: the ranks swap spikes once per
    interval of that many steps, and every recorded array equals one process's."""
    ref, _ = _run(tmp_path, "intervals", 0)
    assert ref["intervals"].tolist() == [5, 3]
    assert all(ref[f"spikes/{k}"].shape[1] > 10 for k in
               ("exp", "alpha_adapt", "delta", "delta_nest", "cond", "pois_window"))
    for k in (2, 3, 4):
        got, proc = _run(tmp_path, "intervals", k)
        assert int(got["n_ranks"]) == k
        _assert_identical(ref, got)
        exchanges = int(re.search(r"exchanges=(\d+)", proc.stdout).group(1))
        assert 160 <= exchanges <= 400, exchanges         # 800 steps: 800 swaps per step


def test_exchange_once_per_minimum_delay_with_threads_inside_ranks(tmp_path):
    ref, _ = _run(tmp_path, "intervals", 0)
    got, proc = _run(tmp_path, "intervals", 2, 2)          # 2 ranks x 2 threads
    _assert_identical(ref, got)
    assert int(re.search(r"exchanges=(\d+)", proc.stdout).group(1)) <= 400


def test_exchange_interval_is_the_shortest_delay_unless_something_needs_every_step():
    import neurosim as ns
    from neurosim.plasticity import STDP
    from neurosim.units import mV, ms

    def net_with(delays, drive=None, threads=1, **connect):
        net = ns.Network(dt=0.1 * ms, threads=threads, mpi=False)
        a = net.lif(10, tau_m=10 * ms, tau_syn=5 * ms, v_th=-50 * mV, v_rest=-65 * mV,
                    v_reset=-65 * mV)
        for d in delays:
            net.connect(a, a, weight=0.1 * mV, p=0.5, delay=d, **connect)
        if drive is not None:
            net.poisson_input(a, rate=100.0, weight=0.1 * mV, delay=drive)
        return net

    assert net_with([]).exchange_interval == 1                    # nothing to deliver
    assert net_with([1.5 * ms]).exchange_interval == 15
    assert net_with([1.5 * ms, 0.7 * ms]).exchange_interval == 7
    assert net_with([1.5 * ms], drive=0.4 * ms).exchange_interval == 4
    assert net_with([1.5 * ms], drive=0.0).exchange_interval == 1
    assert net_with([0.0]).exchange_interval == 1
    assert net_with([ns.random.uniform(0.5 * ms, 3 * ms)]).exchange_interval == 5
    assert net_with([ns.random.normal(2 * ms, 1 * ms, low=0.3 * ms)]).exchange_interval == 3
    assert net_with([1.5 * ms], threads=2).exchange_interval == 15
    assert net_with([1.5 * ms], plasticity=STDP(w_max=1 * mV)).exchange_interval == 1
    net = net_with([1.5 * ms])
    net.projections[0].delay = 0.2 * ms
    assert net.exchange_interval == 2
    net = net_with([1.5 * ms])
    net.exchange_interval = 4                          # a cap (4 < 15), then every step
    assert net.exchange_interval == 4
    net.exchange_interval = 1
    assert net.exchange_interval == 1
    with pytest.raises(ns.ParameterError, match="exchange_interval"):
        net.exchange_interval = 0


def test_microcircuit_identical_on_2_ranks_for_both_splits(tmp_path):
    ref, _ = _run(tmp_path, "microcircuit", 0)
    assert sum(ref[k].shape[1] for k in ref if k.startswith("spikes/")) > 100
    edges = []
    for balance in ("memory", "time", "both"):
        got, _ = _run(tmp_path, "microcircuit", 2, 1, "float64", balance)
        _assert_identical(ref, got)
        edges.append(tuple(got["edges"]))
    assert edges[0] != edges[1]          # the two splits differ, the results do not


def test_rank_local_targets_16_bit_below_65536_neurons_identical_results(tmp_path):
    """A rank stores its synapses' targets relative to its first neuron, in 16 bits when
    it owns at most 65,536 neurons (else 32): results do not depend on it."""
    ref, _ = _run(tmp_path, "wide", 0)
    assert list(ref["target_types"]) == ["int32"]
    assert ref["spikes/exc"].shape[1] > 5000 and ref["spikes/inh"].shape[1] > 200
    seen = set()
    for k in (2, 3):
        got, _ = _run(tmp_path, "wide", k)
        owned = np.diff(got["edges"])
        assert list(got["target_types"]) == ["uint16" if n <= 65536 else "int32"
                                             for n in owned]
        seen.update(got["target_types"])
        _assert_identical(ref, got)
    assert seen == {"uint16", "int32"}     # (140,000 neurons: some rank owns > 65,536)


#: Random networks per run of the rank-count property (two launches each: 10-40 s a case).
PROPERTY_EXAMPLES = max(1, round(6 * float(os.environ.get("NEUROSIM_PROPERTY_SCALE", "1"))))


def _busy(desc):
    """Cases worth two launches: at least 20 steps and a projection (hypothesis starts
    from the simplest networks: one step, no synapses)."""
    return desc["steps"] >= 20 and len(desc["projs"]) > 0


def test_random_networks_identical_for_any_rank_count():
    """Property (hypothesis, tests/_strategies.networks: every LIF model, rule, delay,
    source, drive, current source and plasticity it draws): the spikes, traces, final
    state and counters of 2, 3 or 4 ranks equal one process's, bit for bit."""
    import json
    import tempfile
    from hypothesis import HealthCheck, given, settings, strategies as st
    from _strategies import networks

    @settings(max_examples=PROPERTY_EXAMPLES, deadline=None, derandomize=True,
              database=None, suppress_health_check=list(HealthCheck))
    @given(desc=networks(max_steps=60).filter(_busy), ranks=st.integers(2, 4),
           dtype=st.sampled_from(("float64", "float32")))
    def check(desc, ranks, dtype):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "desc.json"
            path.write_text(json.dumps(desc, default=lambda o: o.item()))
            env = _env(NEUROSIM_PROPERTY_DESC=str(path))
            ref, _ = _run(Path(tmp), "property", 0, 1, dtype, env=env)
            got, _ = _run(Path(tmp), "property", ranks, 1, dtype, env=env)
            assert int(got["n_ranks"]) == ranks
            _assert_identical(ref, got)

    check()


def test_checkpoint_of_a_split_network_continues_bitwise():
    """Property: a network split over 2 or 3 ranks, checkpointed after k steps (each rank
    its part) and continued in a network built again, equals the straight run, which
    equals one process's."""
    import json
    import tempfile
    from hypothesis import HealthCheck, given, settings, strategies as st
    from _strategies import networks

    @settings(max_examples=max(1, PROPERTY_EXAMPLES // 2), deadline=None, derandomize=True,
              database=None, suppress_health_check=list(HealthCheck))
    @given(desc=networks(max_steps=60).filter(_busy), ranks=st.integers(2, 3), data=st.data())
    def check(desc, ranks, data):
        k = data.draw(st.integers(0, desc["steps"]))
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "desc.json"
            path.write_text(json.dumps(desc, default=lambda o: o.item()))
            env = _env(NEUROSIM_PROPERTY_DESC=str(path), NEUROSIM_CHECKPOINT_AT=str(k))
            ref, _ = _run(Path(tmp), "property", 0, env=env)
            got, _ = _run(Path(tmp), "checkpoint", ranks, env=env)
            assert int(got["n_ranks"]) == ranks
            parts = sorted(p.name for p in Path(tmp).glob("*.ckpt.npz*"))
            assert len(parts) == ranks, parts         # rank 0's file and one per other rank
            straight = {key[len("final/straight/"):]: v for key, v in got.items()
                        if key.startswith("final/straight/")}
            continued = {key: v for key, v in got.items() if "straight/" not in key}
            _assert_identical(ref, continued)
            _assert_identical(ref, straight | {"n_ranks": ranks, "edges": got["edges"]})

    check()


class _TwoRanks:
    size, rank = 2, 0


def test_memory_split_balances_synapses_time_split_balances_work():
    """Two populations of equal size, in-degrees 400 and 40, the second one driven: the
    memory split gives each rank about the same synapses (the first rank holds fewer
    neurons), the time split about the same work (updates, drive draws, events)."""
    import neurosim as ns
    from neurosim.units import ms, mV
    lif = dict(tau_m=10 * ms, tau_syn=5 * ms, v_th=-50 * mV, v_rest=-65 * mV,
               v_reset=-65 * mV)
    splits = {}
    for balance in ("memory", "time", "both"):
        net = ns.Network(seed=1, mpi=False, mpi_balance=balance)
        src = net.poisson(1000, rate=5.0)
        a, b = net.lif(1000, **lif), net.lif(1000, **lif)
        net.connect(src, a, weight=0.1 * mV, indegree=400)
        net.connect(src, b, weight=0.1 * mV, indegree=40)
        net.poisson_input(b, rate=1000.0, weight=0.1 * mV)
        net._ranks = _TwoRanks()
        splits[balance] = net._rank_edges()
    cut = splits["memory"][1]
    assert 0 < cut < 1000 and abs(cut * 404 - (1000 * 404 + 1000 * 44) / 2) < 404
    cut = splits["time"][1]   # per neuron-step: a 1 + 400 * 5 Hz * 0.1 ms * 0.3, b 2 + ...
    work_a, work_b = 1 + 400 * 5e-4 * 0.3, 2 + 40 * 5e-4 * 0.3
    assert 1000 < cut < 2000
    assert abs(1000 * work_a + (cut - 1000) * work_b - 1000 * (work_a + work_b) / 2) < work_b
    # both: between the two, where each rank's share of synapses plus share of work is 1
    cut = splits["both"][1]
    assert splits["memory"][1] < cut < splits["time"][1]
    syn = np.where(np.arange(2000) < 1000, 404.0, 44.0)
    work = np.where(np.arange(2000) < 1000, work_a, work_b)
    first = syn[:cut].sum() / syn.sum() + work[:cut].sum() / work.sum()
    assert abs(first - 1.0) < 2 * (404 / syn.sum() + work_a / work.sum())
    with pytest.raises(ns.validation.ParameterError, match="mpi_balance must be one of"):
        ns.Network(mpi=False, mpi_balance="speed")


def test_crossbar_with_every_nonideality_identical_on_2_and_3_ranks(tmp_path):
    ref, _ = _run(tmp_path, "crossbar", 0)
    assert ref["spikes/a"].shape[1] > 20
    for k in (2, 3):
        got, _ = _run(tmp_path, "crossbar", k)
        _assert_identical(ref, got)


@pytest.mark.parametrize("threads, dtype", [(2, "float64"), (1, "float32")])
def test_threads_inside_ranks_and_float32(tmp_path, threads, dtype):
    ref, _ = _run(tmp_path, "cuba", 0, 1, dtype)
    got, _ = _run(tmp_path, "cuba", 3, threads, dtype)
    assert ref["spikes/exc"].shape[1] > 100
    _assert_identical(ref, got)


def test_fixed_point_refused_on_every_rank(tmp_path):
    _, proc = _run(tmp_path, "fixed", 2, expect_ok=False)
    assert proc.returncode != 0
    # every rank raises it; the first to finish printing aborts the job (the other may be
    # stopped before its own traceback is written)
    assert proc.stderr.count("NetworkError: fixed-point (loihi_lif) networks run in one "
                             "process; this script was launched with 2 MPI ranks") >= 1


def test_error_on_one_rank_stops_every_rank(tmp_path):
    """A memory refusal on rank 1 only (its own limit, while it adds populations) must not
    leave rank 0 waiting in a collective: the job ends, with rank 1's error."""
    out = tmp_path / "fail.npz"
    py = [sys.executable, str(SCENARIOS), "cuba", str(out)]
    cmd = [MPIEXEC, "-n", "1", *py, ":", "-n", "1", "-env", "NEUROSIM_MEMORY_LIMIT", "1kB",
           *py]
    proc = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    assert "InsufficientMemoryError" in proc.stderr
    assert not out.exists()


def test_a_failure_on_another_rank_is_raised_on_this_one():
    """The vote after a collective step (the build, the compile): a rank that succeeded
    raises RankError naming the first rank that failed and its error."""
    from neurosim.mpi import RankError, Ranks

    class Comm:                       # rank 0 of 2, whose partner failed
        def Get_rank(self):
            return 0

        def Get_size(self):
            return 2

        def allgather(self, mine):
            return [mine, "InsufficientMemoryError: building needs 9 GB"]

    ranks = Ranks(Comm())
    with pytest.raises(RankError, match=r"building the network failed on rank 1 of 2: "
                                        r"InsufficientMemoryError: building needs 9 GB"):
        ranks.collective("building the network", lambda: 5)
    with pytest.raises(ValueError, match="its own"):          # the failing rank: its own
        ranks.collective("building the network", lambda: (_ for _ in ()).throw(
            ValueError("its own")))


def test_sigint_stops_every_rank_at_the_same_step(tmp_path):
    out = tmp_path / "stop.npz"
    cmd, env = _launch(2, ["interrupt", out])
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        seen = 0
        while seen < 2:                  # both ranks built the network and are running
            line = proc.stdout.readline()
            assert line, proc.stderr.read()[-3000:]
            seen += line.count("running")   # two ranks' lines may arrive merged
        time.sleep(3.0)
        proc.send_signal(signal.SIGINT)  # Hydra forwards it to every rank
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 0, err[-3000:]
    lines = [(tmp_path / f"stop.npz.rank{r}.txt").read_text().split() for r in (0, 1)]
    assert lines[0][:3] == lines[1][:3]            # same step, not finished, interrupted
    step, finished, interrupted = map(int, lines[0][:3])
    assert finished == 0 and interrupted == 1 and 0 < step < 10_000_000
    with np.load(out, allow_pickle=False) as z:    # rank 0 kept what was recorded
        assert z["spikes/exc"].shape[1] == int(lines[0][3]) > 0


def test_fresh_numba_cache_compiled_once_per_node(tmp_path):
    """Three ranks start together on an empty cache folder: one compiles and writes, the
    others load (no concurrent writers); a second launch compiles nothing."""
    env = _env(NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    ref, first = _run(tmp_path, "cuba", 3, 1, "float64", env=env)
    assert first.stderr.count("compiling the engine") == 1
    again, second = _run(tmp_path, "cuba", 3, 1, "float64", env=env)
    assert "compiling the engine" not in second.stderr
    _assert_identical(ref, again)


def test_sweep_points_run_in_one_process_inside_an_mpi_job(monkeypatch):
    """An mpi4py.futures worker is a rank of the job's world: a network made by a sweep
    point must not try to split itself over the other workers."""
    import neurosim as ns
    from neurosim.mpi import launched_under_mpi
    monkeypatch.setenv("PMI_SIZE", "4")
    assert launched_under_mpi()
    res = ns.sweep(_point_sees_mpi, {"a": [1, 2]}, executor="serial")
    assert res.column("sees_mpi") == [False, False] and res.failed == []
    assert launched_under_mpi()                   # outside the points: as launched


def _point_sees_mpi(a):
    from neurosim.mpi import launched_under_mpi
    return {"sees_mpi": launched_under_mpi()}
