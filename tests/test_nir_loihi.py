"""NIR graphs on Loihi (neurosim.nir.loihi): the NIR paper's single LIF bit for bit, layer
alignment (one step per connection), agreement with the float network, Lava, refusals."""

import os
import sys

import numpy as np
import pytest

import neurosim as ns

nir = pytest.importorskip("nir")

from neurosim.nir.loihi import LoihiMappingError, to_loihi  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REF = os.path.join(HERE, "data", "nir", "reference")
LIF_GRAPH = os.path.join(REF, "graphs", "lif_norse.nir")
LAVA_OK = sys.version_info[:2] == (3, 10) and int(np.__version__.split(".")[0]) < 2


def lif_csv(name):
    """Columns input, v, spike; row k = step k (Lava's time step k + 1)."""
    return np.loadtxt(os.path.join(REF, "lif", f"lif_{name}.csv"), delimiter=",")


def two_layer_graph(seed, n_in=20, n1=30, n2=10):
    rng = np.random.default_rng(seed)
    lif = lambda n, r: nir.LIF(tau=np.full(n, 20e-3), r=np.full(n, r),  # noqa: E731
                               v_leak=np.zeros(n), v_threshold=np.full(n, 0.5),
                               v_reset=np.zeros(n))
    nodes = {"input": nir.Input(np.array([n_in])),
             "fc1": nir.Affine(rng.normal(0.3, 0.5, (n1, n_in)), rng.normal(0, 0.5, n1)),
             "lif1": lif(n1, 1.0),
             "fc2": nir.Affine(rng.normal(0.4, 0.6, (n2, n1)), np.zeros(n2)),
             "lif2": lif(n2, 1.2),
             "output": nir.Output(np.array([n2]))}
    edges = [("input", "fc1"), ("fc1", "lif1"), ("lif1", "fc2"), ("fc2", "lif2"),
             ("lif2", "output")]
    return nir.NIRGraph(nodes, edges)


def poisson_input(seed, steps=500, n=20, p=0.1):
    return (np.random.default_rng(100 + seed).random((steps, n)) < p).astype(float)


# ------------------------------------------------------------------ 1. the paper's LIF
def test_paper_mapping_reproduces_lava_cpu_fixed_point_trace():
    model = ns.nir.read(LIF_GRAPH, dt=1e-4)
    ref = lif_csv("lava_cpu_fixed")
    x = ref[:, :1]
    lm = to_loihi(model, mapping="paper")
    pop, proj = lm.populations["1"], lm.projections[0]
    assert (pop.du, pop.dv, pop.vth) == (4095, 163, 25)            # v spikes above 1600
    assert proj.weight.tolist() == [10] and proj.weight_exp == 0   # u += 640 per pulse
    assert lm.shift == {"input": 0, "1": 1}
    run = lm.run(x, record_v=True)
    # on the Loihi clock (row k = neurosim step k = Lava step k + 1, after the reset) the
    # trace is Lava's, integer for integer, spikes included
    v, s = run.raw[("1", "v")][:1000, 0], run.raw[("1", "spikes")][:1000, 0]
    assert np.array_equal(v, ref[:, 1])
    assert np.array_equal(s, ref[:, 2])
    assert np.flatnonzero(s).tolist() == [461, 511, 711, 761]
    # Loihi silicon differs from the CPU model only in the v it reports at spike steps
    hw = lif_csv("lava_loihi_fixed")
    assert np.array_equal(s, hw[:, 2])
    assert np.array_equal(v[hw[:, 2] == 0], hw[hw[:, 2] == 0, 1])
    # shifted back by the depth (1 connection), the spikes are the float network's
    float_out = model.run(x)["output"][:, 0]
    assert np.flatnonzero(float_out).tolist() == [460, 510, 710, 760]
    assert np.array_equal(run["output"][:, 0], float_out)
    # aligned v (V) is Loihi's v / (64 S), S = 256 / V, one row earlier
    assert np.array_equal(run[("1", "v")][:999, 0] * 64 * 256, ref[1:, 1])
    # the default (neurosim's quantizer: rounded, 14-bit threshold) gives the same spikes
    q = to_loihi(model).run(x, record_v=True)
    assert np.array_equal(q["output"][:, 0], float_out)
    norse = lif_csv("norse")
    assert np.max(np.abs(q[("1", "v")][:, 0] - norse[:, 1])) < 2e-3     # V, threshold 0.1


# ------------------------------------------------------------------ 2. against float
def test_two_layer_lif_graph_agrees_with_the_float_network():
    figures = {}
    for pop in ("lif1", "lif2"):
        figures[pop] = [np.zeros(0, int), np.zeros(0, int)]
    for seed in range(3):
        model = ns.nir.read(two_layer_graph(seed), dt=1e-3)
        x = poisson_input(seed)
        f = model.run(x, record=[("lif1", "out")])
        lm = to_loihi(model)
        assert lm.shift == {"input": 0, "lif1": 1, "lif2": 2}
        r = lm.run(x)
        assert r["output"].shape == f["output"].shape == (500, 10)
        for pop, fl in (("lif1", f[("lif1", "out")]), ("lif2", f["output"])):
            figures[pop][0] = np.concatenate([figures[pop][0], fl.sum(0).astype(int)])
            figures[pop][1] = np.concatenate([figures[pop][1], r[(pop, "out")].sum(0).astype(int)])
    for pop, (cf, cl) in figures.items():
        within1 = np.mean(np.abs(cf - cl) <= 1)
        print(f"{pop}: {cf.size} neurons, float {cf.sum()} spikes, Loihi {cl.sum()}, "
              f"same count {np.mean(cf == cl):.3f}, within 1 spike {within1:.3f}")
        assert within1 >= 0.9, pop
        assert abs(int(cl.sum()) - int(cf.sum())) <= 0.03 * cf.sum(), pop


def exact_if_network(seed=3):
    """IF layers whose weights are multiples of 1/8 (exact in binary and on Loihi's
    integer grid): a skip connection (delay 2), a recurrent edge (delay 1), a pass layer
    folded into its neighbours, an LI readout."""
    rng = np.random.default_rng(seed)
    ln = ns.LayerNetwork(dt=1e-3)
    x = ln.input(12, name="x")
    a = ln.neurons("IF", 16, name="A", v_threshold=1.0)
    p = ln.neurons("pass", 6, name="P")
    b = ln.neurons("IF", 8, name="B", v_threshold=1.0)
    c = ln.neurons("LI", 4, name="C", tau=5e-3)
    k = lambda lo, hi, shape, dens=1.0: (rng.integers(lo, hi, shape)  # noqa: E731
                                         * (rng.random(shape) < dens)) / 8
    ln.connect(x, a, k(-2, 9, (12, 16), 0.5))
    ln.connect(a, a, k(-3, 3, (16, 16), 0.3), delay=1)
    ln.connect(a, p, k(-2, 5, (16, 6)))
    ln.connect(p, b, k(-1, 4, (6, 8)))
    ln.connect(x, b, k(0, 6, (12, 8), 0.5), delay=2)
    ln.connect(b, c, k(1, 8, (8, 4)))
    return ln, x


def test_shifted_spikes_are_identical_when_the_integers_are_exact():
    ln, x = exact_if_network()
    X = poisson_input(3, steps=300, n=12, p=0.15)
    f = ln.run({x: X}, record=[("A", "out"), ("B", "out"), ("C", "out")])
    lm = to_loihi(ln, vth=2**10)
    assert lm.shift == {"x": 0, "A": 1, "B": 2, "C": 3}
    delays = {q.name: q.delay for q in lm.projections}
    assert delays["x->A#5"] == 0 and delays["A->A#6"] == 0     # recurrent: 1 step = latency
    assert delays["x->B#9"] == 3                               # 2 + L(B) - L(x) - 1
    assert all(r["weight_rms_error"] == 0 for r in lm.report["projections"]
               if r["post"] != "C")                             # the premise: exact integers
    r = lm.run(X)
    assert r.loihi_steps == 303
    for pop in ("A", "B"):
        assert f[(pop, "out")].sum() > 20, pop
        assert np.array_equal(r[(pop, "out")], f[(pop, "out")]), pop
    vc, lc = f[("C", "out")], r[("C", "out")]
    assert np.max(np.abs(lc - vc)) < 5e-3 * np.max(np.abs(vc))    # LI readout (8-bit W)


def test_cuba_bias_and_leak_at_depth_two_follow_the_float_trace():
    """A CubaLIF layer at depth 2 with a bias, v_leak and v_reset: its constant input ramps
    up through u as through I_s, and the two input-free steps before its first input are
    undone by its initial state."""
    ln = ns.LayerNetwork(dt=1e-3)
    x = ln.input(1, name="x")
    a = ln.neurons("LIF", 1, name="A", tau=1e-2, v_threshold=1.0)
    b = ln.neurons("CubaLIF", 3, name="B", tau_syn=5e-3, tau_mem=2e-2, v_threshold=1.0,
                   v_leak=0.1, v_reset=-0.2, bias=[0.5, 0.9, 1.5])
    ln.connect(x, a, 1.0)
    ln.connect(a, b, np.ones((1, 3)))
    X = np.zeros((200, 1))
    X[50] = 1
    f = ln.run({x: X}, record=[(b, "v"), (b, "out")])
    lm = to_loihi(ln)
    assert lm.shift["B"] == 2 and not lm.report["notes"]
    assert np.all(lm.populations["B"].u_init < 0)
    r = lm.run(X, record_v=True)
    assert f[(b, "out")].sum() > 5
    assert np.array_equal(r[("B", "out")], f[(b, "out")])
    assert np.max(np.abs(r[("B", "v")] - f[(b, "v")])) < 2e-3          # V; threshold 1.2 up


# ------------------------------------------------------------------ 3. Lava
@pytest.mark.lava
@pytest.mark.skipif(not LAVA_OK, reason="Lava (lava-nc 0.10) needs Python 3.10 with numpy < 2")
def test_lava_runs_the_converted_networks_like_neurosims_loihi_engine():
    from neurosim.export import compare_with_lava, run_in_lava
    model = ns.nir.read(LIF_GRAPH, dt=1e-4)
    ref = lif_csv("lava_cpu_fixed")
    lm = to_loihi(model, inputs=ref[:, :1], mapping="paper", record_v=True)
    lava = run_in_lava(lm.net, 1000)
    mine = lm.run(ref[:, :1], record_v=True)
    assert np.array_equal(lava.spikes["1"], mine.raw[("1", "spikes")][:1000])
    assert np.array_equal(lava.traces[("1", "v")], mine.raw[("1", "v")][:1000])
    assert np.array_equal(lava.traces[("1", "v")][:, 0], ref[:, 1])
    # a two-layer graph with mixed-sign weights, exponents and biases
    model = ns.nir.read(two_layer_graph(0), dt=1e-3)
    lm = to_loihi(model, inputs=poisson_input(0, steps=100))
    out = compare_with_lava(lm.net, lm.loihi_steps(100))
    assert all(c["identical"] for c in out["populations"].values())
    assert sum(c["lava_spikes"] for c in out["populations"].values()) > 20


# ------------------------------------------------------------------ 4. refusals
def _layer(build):
    ln = ns.LayerNetwork(dt=1e-3)
    x = ln.input(2, name="x")
    build(ln, x)
    return ln


def _cycle(ln, x):
    a = ln.neurons("LIF", 2, name="fastA", tau=1e-2, v_threshold=1.0)
    b = ln.neurons("LIF", 2, name="fastB", tau=1e-2, v_threshold=1.0)
    ln.connect(x, a, np.ones((2, 2)))
    ln.connect(a, b, np.ones((2, 2)))
    ln.connect(b, a, np.ones((2, 2)), delay=1)


def _li_feeds(ln, x):
    c = ln.neurons("LI", 2, name="li0", tau=1e-2)
    d = ln.neurons("LIF", 2, name="after", tau=1e-2, v_threshold=1.0)
    ln.connect(x, c, np.ones((2, 2)))
    ln.connect(c, d, np.ones((2, 2)))


def _one(model, **kw):
    def build(ln, x):
        ln.connect(x, ln.neurons(model, 2, name="pop7", **kw), np.ones((2, 2)))
    return build


def _long_delay(ln, x):
    ln.connect(x, ln.neurons("LIF", 2, name="far", tau=1e-2, v_threshold=1.0),
               np.ones((2, 2)), delay=70, name="x->far")


def _dangling_pass(ln, x):
    ln.connect(x, ln.neurons("pass", 2, name="lin9"), np.ones((2, 2)))


@pytest.mark.parametrize("build, match", [
    (lambda: ns.nir.read(LIF_GRAPH, dt=1e-4, reset="subtract"), r"population '1'.*subtract"),
    (lambda: ns.nir.read(LIF_GRAPH, dt=1e-4, reset_timing="next"), r"population '1'.*next"),
    (lambda: ns.nir.read(LIF_GRAPH, dt=1e-4, method="exact"), r"population '1'.*exact"),
    (lambda: ns.nir.read(LIF_GRAPH, dt=1e-2), r"population '1'.*dt/tau"),
    (lambda: _layer(_cycle), r"population 'fast[AB]'.*cycle"),
    (lambda: _layer(_li_feeds), r"population 'li0'.*feeds 'after'"),
    (lambda: _layer(_one("I")), r"population 'pop7' \(I\).*readout_scale"),
    (lambda: _layer(_one("LIF", tau=[1e-2, 2e-2], v_threshold=1.0)), r"population 'pop7'.*tau"),
    (lambda: _layer(_one("IF", v_threshold=0.0, v_reset=0.5)), r"population 'pop7'.*v_reset"),
    (lambda: _layer(_long_delay), r"projection 'x->far'.*0\.\.63"),
    (lambda: _layer(_dangling_pass), r"population 'lin9' \(pass\)"),
])
def test_what_loihi_cannot_express_is_refused_by_name(build, match):
    with pytest.raises(LoihiMappingError, match=match):
        to_loihi(build())


def test_graded_inputs_are_refused_by_name():
    lm = to_loihi(ns.nir.read(LIF_GRAPH, dt=1e-4))
    x = np.zeros((10, 1))
    x[3] = 0.5
    with pytest.raises(LoihiMappingError, match=r"population 'input'.*graded.*0\.5"):
        lm.run(x)
    with pytest.raises(LoihiMappingError, match=r"population 'input'"):
        to_loihi(ns.nir.read(LIF_GRAPH, dt=1e-4), inputs=x)
