"""Mistakes that used to give wrong science silently (issue 16, points 2-4): Bernoulli
sources far from Poisson, unit slips, networks too large for memory, Ctrl-C while
building."""

import os
import signal
import subprocess
import sys
import textwrap
import threading
import warnings

import numpy as np
import pytest

import neurosim as ns
from neurosim.units import Hz, mV, ms
from neurosim.validation import UnitWarning

LIF = dict(tau_m=20 * ms, tau_syn=5 * ms, v_rest=-70 * mV, v_th=-50 * mV, v_reset=-70 * mV)


# ------------------------------------------------------------------ point 2: Bernoulli sources
def test_poisson_source_near_p_1_warns_and_says_why():
    net = ns.Network(dt=0.1 * ms)
    with pytest.warns(UserWarning, match=r"p = rate\*dt = 1 .*no longer a Poisson process"):
        net.poisson(5, rate=10_000 * Hz)
    with pytest.warns(UserWarning, match="no longer a Poisson"):
        net.poisson(5, rate=np.r_[np.zeros(4), 1500.0])


def test_poisson_source_at_usual_rates_does_not_warn():
    net = ns.Network(dt=0.1 * ms)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pop = net.poisson(5, rate=ns.network.POISSON_MAX_P / net.dt)
        pop.rate = 50 * Hz


def test_rate_set_between_runs_warns_too():
    net = ns.Network(dt=0.1 * ms)
    pop = net.poisson(5, rate=10 * Hz)
    with pytest.warns(UserWarning, match="no longer a Poisson"):
        pop.rate = 5000 * Hz


def test_bernoulli_isi_cv_is_what_the_warning_says():
    """The law behind the warning: ISI CV sqrt(1 - p) (0 at p = 1)."""
    net = ns.Network(dt=0.1 * ms, seed=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pops = [net.poisson(200, rate=r) for r in (100 * Hz, 5000 * Hz, 10_000 * Hz)]
    mons = [net.spike_monitor(p) for p in pops]
    net.run(300 * ms)
    for m, p in zip(mons, (0.01, 0.5, 1.0)):
        isi = np.concatenate([np.diff(t) for t in m.spike_trains().values()])
        cv = isi.std() / isi.mean()
        assert cv == pytest.approx(np.sqrt(1 - p), abs=0.03)


# ------------------------------------------------------------------ point 3: units
@pytest.mark.parametrize("kw,name,hint", [
    (dict(tau_m=20), "tau_m", "20 ms"),
    (dict(tau_syn=(5 * ms, 30)), "tau_syn", "30 ms"),
    (dict(t_ref=20), "t_ref", "20 ms"),
    (dict(v_th=-50, v_reset=-70, v_rest=-70), "v_th", "-50 mV"),
    (dict(bias=15), "bias", "15 mV"),
])
def test_implausible_si_values_warn_once_naming_parameter_and_unit(kw, name, hint):
    net = ns.Network()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        net.lif(3, **dict(LIF, **kw))
    mine = [w for w in caught if issubclass(w.category, UnitWarning)
            and str(w.message).startswith(name + " =")]
    assert len(mine) == 1
    assert hint in str(mine[0].message)
    assert mine[0].filename == __file__          # points at the user's line


def test_physiological_values_do_not_warn():
    net = ns.Network()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = net.lif(3, **LIF, t_ref=2 * ms, bias=5 * mV)
        net.connect(a, a, weight=-9 * mV, p=0.5)


def test_implausible_weight_warns():
    net = ns.Network()
    a = net.lif(3, **LIF)
    with pytest.warns(UnitWarning, match=r"weight = 1.62 V.*1.62 mV"):
        net.connect(a, a, weight=1.62)


def _netfile(tmp_path, weight='"1.62 mV"', tau_m='"20 ms"', extra=""):
    path = tmp_path / "net.toml"
    path.write_text(textwrap.dedent(f"""
        [network]
        dt = "0.1 ms"
        duration = "10 ms"
        seed = 1
        [populations.exc]
        model = "lif"
        n = 10
        tau_m = {tau_m}
        tau_syn = ["5 ms", "10 ms"]
        v_rest = "-49 mV"
        v_th = "-50 mV"
        v_reset = "-60 mV"
        {extra}
        [[connections]]
        pre = "exc"
        post = "exc"
        weight = {weight}
        p = 0.2
        """))
    return path


@pytest.mark.parametrize("field,value,msg", [
    ("weight", '"1.62 mA"', r"weight must be a voltage .*got '1.62 mA' \(a current\)"),
    ("weight", '[["1 mV", "2 ms"]]', "different dimensions"),
    ("tau_m", '"20 mV"', r"tau_m must be a time .*got '20 mV' \(a voltage\)"),
    ("extra", 'v_init = {uniform = ["-60 nA", "-50 nA"]}', r"v_init must be a voltage"),
    ("extra", 't_ref = "2 Hz"', r"t_ref must be a time"),
])
def test_network_file_checks_the_dimension_of_every_quantity(tmp_path, field, value, msg):
    kw = {field: value}
    with pytest.raises(ns.NetworkFileError, match=msg):
        ns.load_network(_netfile(tmp_path, **kw))


def test_network_file_checks_dimensions_of_delays_p_and_network_keys(tmp_path):
    path = _netfile(tmp_path)
    text = path.read_text()
    for old, new, msg in (('p = 0.2', 'p = 0.2\ndelay = "1 mV"', "delay must be a time"),
                          ('p = 0.2', 'p = "0.2 ms"', "p must be a plain number"),
                          ('duration = "10 ms"', 'duration = "10 mV"', "duration must be a time")):
        path.write_text(text.replace(old, new, 1))
        with pytest.raises(ns.NetworkFileError, match=msg):
            ns.load_network(path)


def test_network_file_plain_numbers_far_off_warn(tmp_path):
    with pytest.warns(UnitWarning, match="tau_m = 20 s"):
        ns.load_network(_netfile(tmp_path, tau_m="20"))


# ------------------------------------------------------------------ point 4: memory, Ctrl-C
def test_network_too_large_is_refused_before_allocating():
    net = ns.Network()
    a = net.lif(1000, **LIF)
    b = net.lif(1000, **LIF)
    a_big = net.poisson(1_000_000, rate=1.0)
    big = net.lif(1_000_000, **LIF)
    with pytest.raises(ns.InsufficientMemoryError, match=r"10,000,000,000 synapses"):
        net.connect(a_big, big, weight=0.1 * mV, indegree=10_000)
    assert net.projections == []
    net.connect(a, b, weight=0.1 * mV, p=0.1)       # the network is still usable


def test_memory_budget_from_the_environment(monkeypatch):
    monkeypatch.setenv("NEUROSIM_MEMORY_LIMIT", "50MB")
    net = ns.Network()
    a = net.lif(2000, **LIF)
    with pytest.raises(ns.InsufficientMemoryError) as e:
        net.connect(a, a, weight=0.1 * mV)                      # 4M synapses: 116 MB
    need = float(str(e.value).split("needs about ")[1].split(" MB")[0])
    assert 100 < need < 300 and "50 MB" in str(e.value)
    with pytest.raises(MemoryError):                            # also a MemoryError
        net.lif(10_000_000, **LIF)
    net.connect(a, a, weight=0.1 * mV, p=0.2)                   # 0.8M synapses: 23 MB
    monkeypatch.setenv("NEUROSIM_MEMORY_LIMIT", "20MB")
    with pytest.raises(ns.InsufficientMemoryError, match="building this network"):
        net.run(1 * ms)
    assert not net.built
    monkeypatch.delenv("NEUROSIM_MEMORY_LIMIT")
    net.run(1 * ms)


def test_bad_memory_budget_is_an_error(monkeypatch):
    monkeypatch.setenv("NEUROSIM_MEMORY_LIMIT", "lots")
    with pytest.raises(ns.InsufficientMemoryError, match="NEUROSIM_MEMORY_LIMIT"):
        ns.Network().lif(10, **LIF)


@pytest.mark.parametrize("threads", [1, 2])       # 2: the next chunk is drawn in a thread
def test_ctrl_c_while_building_stops_at_once_and_leaves_the_network_unbuilt(monkeypatch,
                                                                            threads):
    """A connect draws nothing; the build draws the synapses in chunks of compiled calls,
    and Python sees Ctrl-C between them: a large build stops before drawing everything,
    and the network is left unbuilt."""
    from neurosim import rules as pr
    calls = []
    kernel = pr.draw_sources

    def counted(*args):
        calls.append(1)
        return kernel(*args)

    monkeypatch.setattr(pr, "draw_sources", counted)
    net = ns.Network(seed=1, threads=threads)
    pre = net.poisson(20_000, rate=1.0)
    post = net.lif(200_000, **LIF)
    for _ in range(3):
        net.connect(pre, post, weight=0.1 * mV, indegree=1000)
    assert calls == []                       # nothing drawn by connect
    chunks = -(-200_000 * 1000 // pr.DRAW_CHUNK)
    timer = threading.Timer(0.5, lambda: signal.raise_signal(signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            net.build()                       # would take a minute without the interrupt
    finally:
        timer.cancel()
    assert not net.built
    assert 0 < len(calls) < 2 * 3 * chunks    # stopped between chunks of the two passes
    assert not [t for t in threading.enumerate() if t.name == "neurosim-draw"]


def test_chunked_connectivity_is_the_same_as_one_draw():
    """Drawing in chunks gives the stream of one draw (pinned by a small network whose
    synapses are independent of the chunk size)."""
    from neurosim import rules as pr
    net = ns.Network(seed=4)
    a = net.lif(300, **LIF)
    b = net.lif(200, **LIF)
    old = pr.DRAW_CHUNK
    try:
        ref = [net.connect(a, b, weight=0.1 * mV, p=0.3), net.connect(a, a, weight=1 * mV,
                                                                     indegree=30,
                                                                     autapses=False)]
        pr.DRAW_CHUNK = 97
        net2 = ns.Network(seed=4)
        a2 = net2.lif(300, **LIF)
        b2 = net2.lif(200, **LIF)
        new = [net2.connect(a2, b2, weight=0.1 * mV, p=0.3),
               net2.connect(a2, a2, weight=1 * mV, indegree=30, autapses=False)]
    finally:
        pr.DRAW_CHUNK = old
    for x, y in zip(ref, new):
        np.testing.assert_array_equal(x.pre_index, y.pre_index)
        np.testing.assert_array_equal(x.post_index, y.post_index)
    assert not np.any(new[1].pre_index == new[1].post_index)


def test_network_file_too_large_is_refused_before_any_synapse_is_drawn(tmp_path, monkeypatch):
    """The loader estimates every connection of the file first (the CLI prints the message
    without a traceback: tests/test_cli.py)."""
    from neurosim import rules as pr
    drawn = []
    monkeypatch.setattr(pr, "_bernoulli", lambda *a: drawn.append(a))
    monkeypatch.setenv("NEUROSIM_MEMORY_LIMIT", "1GB")
    path = _netfile(tmp_path).read_text().replace("n = 10", "n = 100000")
    (tmp_path / "big.toml").write_text(path)
    with pytest.raises(ns.InsufficientMemoryError, match=r"big.toml: building this network "
                       r"\(2,000,[\d,]+ synapses.*needs about [\d.]+ GB.*1 GB is available"):
        ns.load_network(tmp_path / "big.toml")
    assert drawn == []


def test_network_file_crossbar_quantities_are_checked(tmp_path):
    path = _netfile(tmp_path).read_text().replace(
        "p = 0.2", 'synapse = {crossbar = {device = "rram_hfox_1t1r", r_wire = "2 mV"}}')
    (tmp_path / "x.toml").write_text(path)
    with pytest.raises(ns.NetworkFileError, match=r"r_wire.*must be a resistance.*'2 mV'"):
        ns.load_network(tmp_path / "x.toml")


@pytest.mark.parametrize("threads", [1, 3])
def test_memory_estimate_covers_the_plan_it_builds(monkeypatch, threads):
    """The estimate's per-synapse and per-row terms stay true as the plan's structures
    change: without the chunk working set it is at least the bytes the built plan holds and
    at most 30 % more (microcircuit at scale 0.02: normal weights and delays, 64
    projections, per-delay blocks)."""
    from neurosim import memory, rules
    from neurosim.nets import microcircuit

    def nbytes(x):
        if isinstance(x, np.ndarray):
            return x.nbytes
        return sum(nbytes(getattr(x, f)) for f in getattr(x, "_fields", ()))

    net = ns.Network(seed=5, threads=threads)
    microcircuit(net, scale=0.02, background="dc")
    got = []
    monkeypatch.setattr(memory, "require", lambda need, what, detail="": got.append(need))
    net._require_plan()
    plan = net.build()
    n_syn = sum(p.n_synapses for p in net.projections)
    chunk = min(n_syn, rules.DRAW_CHUNK) * (memory.CHUNK_BYTES_PER_SYNAPSE + (
        2 * memory.CHUNK_AHEAD_BYTES_PER_SYNAPSE if threads > 1 else 0))
    held = nbytes(plan.conn) + nbytes(plan.init)
    assert held <= got[0] - chunk <= 1.3 * held
