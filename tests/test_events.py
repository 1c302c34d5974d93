"""Event data (neurosim.events): DVS model, saccade digits, spiking CNN connectivity, energy.

Hand-computed cases: a hard edge moving one pixel per frame over a black background gives
each pixel it passes ``floor(log((1 + eps) / eps) / C)`` ON events at the linear crossing
times; a refractory period spaces them by exactly that period; energy of a 2x2 convolution
driven by two input spikes, counted by hand, on Loihi, the RRAM crossbar and the 45 nm model.
"""

import math

import numpy as np
import pytest
from scipy import signal

import neurosim as ns
from neurosim.compile.conv import conv_synapses
from neurosim.energy import Conv2D, Pool2D, dense_ann, estimate
from neurosim.events import DVS, EventSet, cnn, load_saccade_digits, make_saccade_digits
from neurosim.events import to_frames, to_steps
from neurosim.validation import ParameterError

DT = 1e-3


def edge_frames(width, steps, reverse=False):
    """(steps + 1, 1, width): a bright region growing one pixel per frame from the left
    (or shrinking, with ``reverse``)."""
    fr = np.zeros((steps + 1, 1, width))
    for k in range(steps + 1):
        fr[k, 0, :k] = 1.0
    return fr[::-1] if reverse else fr


def test_moving_edge_event_counts_and_times_by_hand():
    c, eps = 0.5, 0.1
    dvs = DVS(c_on=c, c_off=c, sigma=0, refractory=0, noise_rate=0, eps=eps)
    ev = dvs.simulate(edge_frames(6, 8), DT)
    n = math.floor(math.log((1 + eps) / eps) / c)           # 4 per pixel
    assert n == 4
    assert len(ev) == 6 * n and np.all(ev["p"] == 1)
    assert np.all(np.diff(ev["t"]) >= 0)
    span = math.log((1 + eps) / eps)
    for x in range(6):     # pixel x turns bright between frames x and x + 1
        want = x * DT + DT * np.arange(1, n + 1) * c / span
        np.testing.assert_allclose(ev["t"][ev["x"] == x], want, rtol=0, atol=1e-12)
    off = dvs.simulate(edge_frames(6, 8, reverse=True), DT)
    assert len(off) == 6 * n and np.all(off["p"] == -1)


def test_refractory_spaces_events_and_keeps_the_change():
    dvs = DVS(c_on=0.5, c_off=0.5, sigma=0, refractory=0.3e-3, noise_rate=0)
    ev = dvs.simulate(edge_frames(6, 8), DT)
    for x in range(6):
        t = ev["t"][ev["x"] == x]
        first = x * DT + DT * 0.5 / math.log(11)
        np.testing.assert_allclose(t, first + 0.3e-3 * np.arange(4), atol=1e-12)
    # a refractory period longer than the run: one event per pixel, the rest suppressed
    one = DVS(c_on=0.5, c_off=0.5, sigma=0, refractory=1.0, noise_rate=0)
    ev = one.simulate(edge_frames(6, 8), DT)
    assert np.bincount(ev["x"], minlength=6).tolist() == [1] * 6


def _log_frames(levels, eps=0.1):
    """Frames (steps + 1, 1, pixels) whose log(I + eps) takes the given values."""
    return (np.exp(np.asarray(levels, float)) - eps).reshape(len(levels), 1, -1)


def test_refractory_crossing_fires_after_the_intensity_turned_back():
    dvs = DVS(c_on=0.2, c_off=0.2, sigma=0, refractory=0.9e-3, noise_rate=0)
    ev = dvs.simulate(_log_frames([0.0, 1.0, 0.3]), DT)
    # held ON crossing released at 1.1 ms, where L = 0.93 is still >= ref 0.2 + 0.2
    np.testing.assert_allclose(ev["t"], [0.2e-3, 1.1e-3], atol=1e-15)
    assert ev["p"].tolist() == [1, 1]
    ev = dvs.simulate(_log_frames([0.0, 1.0, -0.5]), DT)
    np.testing.assert_allclose(ev["t"], [0.2e-3, 1.1e-3, 2.0e-3], atol=1e-15)
    assert ev["p"].tolist() == [1, 1, -1]


def test_a_change_of_exactly_n_thresholds_gives_n_events():
    dvs = DVS(c_on=0.2, c_off=0.2, sigma=0, refractory=0, noise_rate=0)
    for change, n in ((1.0, 5), (0.6, 3), (-1.0, 5), (0.59, 2)):
        ev = dvs.simulate(_log_frames([0.0, change]), DT)
        assert len(ev) == n, (change, len(ev))


def _dvs_by_hand(levels, dt, dvs, c_on, c_off):
    """The model of neurosim.events.dvs written per pixel and per event (scalar)."""
    out = []
    for i in range(levels.shape[1]):
        ref, last = levels[0, i], -np.inf
        for k in range(1, levels.shape[0]):
            a, b = levels[k - 1, i], levels[k, i]
            ta, tb = (k - 1) * dt, k * dt
            while True:
                ts = max(ta, last + dvs.refractory)
                if ts > tb:
                    break
                l_ts = a + (b - a) * (ts - ta) / dt
                best = None
                for level, pol in ((ref + c_on[i], 1), (ref - c_off[i], -1)):
                    if (l_ts >= level - 1e-12) if pol > 0 else (l_ts <= level + 1e-12):
                        t = ts
                    elif b != a and (b > a) == (pol > 0) and (
                            (b >= level - 1e-12) if pol > 0 else (b <= level + 1e-12)):
                        t = max(ts, ta + min((level - a) / (b - a), 1.0) * dt)
                    else:
                        continue
                    if best is None or t < best[0]:
                        best = (t, level, pol)
                if best is None or best[0] > tb:
                    break
                t, ref, pol = best
                last = t
                out.append((t, i, pol))
    return out


def test_pixel_model_equals_a_scalar_version_on_random_walks():
    rng = np.random.default_rng(5)
    levels = np.maximum(np.cumsum(rng.normal(0, 0.35, (40, 60)), axis=0), -2.0)  # > log eps
    dvs = DVS(c_on=0.25, c_off=0.3, sigma=0.05, refractory=0.7e-3, noise_rate=0)
    t, pix, p = dvs.simulate_flat(np.exp(levels) - dvs.eps, DT, np.random.default_rng(1))
    c_on, c_off = dvs.thresholds(levels.shape[1], np.random.default_rng(1))
    want = sorted(_dvs_by_hand(levels, DT, dvs, c_on, c_off), key=lambda e: (e[1], e[0]))
    got = sorted(zip(t.tolist(), pix.tolist(), p.tolist()), key=lambda e: (e[1], e[0]))
    assert len(got) == len(want) > 500
    assert [(i, q) for _, i, q in got] == [(i, q) for _, i, q in want]
    np.testing.assert_allclose([e[0] for e in got], [e[0] for e in want], rtol=0, atol=1e-12)


def test_static_scene_gives_no_events_and_threshold_mismatch_statistics():
    dvs = DVS(sigma=0.05, noise_rate=0)
    assert len(dvs.simulate(np.ones((5, 4, 4)), DT)) == 0
    on, off = dvs.thresholds(20000, np.random.default_rng(0))
    for c in (on, off):
        assert abs(c.mean() - 0.2) < 4 * 0.05 / math.sqrt(c.size)
        assert abs(c.std() - 0.05) < 0.05 * 0.03
    assert np.corrcoef(on, off)[0, 1] < 0.05
    # with mismatch, pixels of one step stimulus give different event counts
    fr = np.zeros((2, 50, 50))
    fr[1] = 1.0
    counts = np.bincount(DVS(c_on=0.3, sigma=0.05, refractory=0, noise_rate=0)
                         .simulate(fr, DT)["x"], minlength=50)
    flat = np.bincount(DVS(c_on=0.3, sigma=0, refractory=0, noise_rate=0)
                       .simulate(fr, DT)["x"], minlength=50)
    assert len(set(flat.tolist())) == 1 and len(set(counts.tolist())) > 1


def test_background_noise_statistics():
    rate, steps, side = 20.0, 100, 60
    dvs = DVS(noise_rate=rate, noise_on_fraction=0.25)
    ev = dvs.simulate(np.full((steps + 1, side, side), 0.5), DT, seed=3)
    mean = rate * steps * DT * side * side                   # 720 expected
    assert abs(len(ev) - mean) < 4 * math.sqrt(mean)
    on = np.mean(ev["p"] == 1)
    assert abs(on - 0.25) < 4 * math.sqrt(0.25 * 0.75 / len(ev))
    assert ev["t"].min() >= 0 and ev["t"].max() <= steps * DT
    # uniform in time: each half of the run holds about half of them
    assert abs(np.mean(ev["t"] < steps * DT / 2) - 0.5) < 4 * 0.5 / math.sqrt(len(ev))


def test_parameters_are_checked():
    with pytest.raises(ParameterError, match="c_on must be > 0"):
        DVS(c_on=0)
    with pytest.raises(ParameterError, match="noise_on_fraction must be in"):
        DVS(noise_on_fraction=1.5)
    with pytest.raises(ParameterError, match="frames must be"):
        DVS().simulate(np.zeros((1, 3, 3)), DT)


@pytest.fixture(scope="module")
def small():
    return make_saccade_digits(n=60)


def test_loader_shapes_splits_determinism_and_cache(small, tmp_path):
    tr, te = small.train, small.test
    assert (len(tr), len(te)) == (48, 12)
    assert tr.shape == (28, 28) and math.isclose(tr.duration, 0.09)
    assert tr.events.dtype.names == ("t", "x", "y", "p")
    assert tr.ptr[0] == 0 and tr.ptr[-1] == len(tr.events) and np.all(tr.counts() > 500)
    for i in range(3):
        e = tr[i]
        assert np.all(np.diff(e["t"]) >= 0) and e["t"].max() < tr.duration
        assert set(np.unique(e["p"])) <= {-1, 1}
        assert e["x"].max() < 28 and e["y"].max() < 28
    # stratified, disjoint, deterministic split (sklearn's digits in their order)
    assert sorted(np.unique(te.labels)) == list(range(10))
    again = make_saccade_digits(n=60)
    assert np.array_equal(again.test.events, te.events)
    assert np.array_equal(again.train.labels, tr.labels)
    other = make_saccade_digits(n=60, seed=1)
    assert not np.array_equal(other.test.labels, te.labels)
    path = str(tmp_path / "d.npz")
    first = load_saccade_digits(cache=path, n=60)
    assert np.array_equal(first.test.events, te.events)
    with np.load(path, allow_pickle=False) as z:
        assert "train_events" in z.files
    cached = load_saccade_digits(cache=path, n=60)
    assert np.array_equal(cached.train.events, tr.events)
    assert np.array_equal(cached.test.ptr, te.ptr)


def test_frames_and_steps_hold_every_event(small):
    e = small.test[0]
    fr = to_frames(e, (28, 28))
    assert fr.shape == (2, 28, 28)
    assert fr.sum() == len(e) and fr[0].sum() == np.sum(e["p"] == 1)
    raw, merged = to_steps(e, (28, 28), 0.09, DT, clip=False)
    assert raw.shape == (90, 2, 28, 28) and raw.sum() == len(e) and merged == 0
    clipped, merged = to_steps(e, (28, 28), 0.09, DT)
    assert clipped.max() == 1 and clipped.sum() + merged == len(e)
    np.testing.assert_array_equal(raw.sum(axis=0), fr)
    thin = EventSet.thinned(small.test, 0.5, seed=0)
    assert 0.4 < len(thin.events) / len(small.test.events) < 0.6
    assert thin.ptr[-1] == len(thin.events)


def direct_conv(x, weight, bias):
    """Valid cross-correlation of x (C, H, W) with weight (F, C, k, k) by scipy."""
    return np.stack([sum(signal.correlate2d(x[c], weight[f, c], mode="valid")
                         for c in range(x.shape[0])) + bias[f] for f in range(len(weight))])


@pytest.mark.parametrize("backend", ["numba", "reference"])
def test_conv_synapses_on_events_match_a_direct_convolution(small, backend):
    model = cnn.build_cnn(in_shape=(2, 28, 28), channels=(3,), kernel=5, seed=4)
    conv, pool = model.layers[0], model.layers[1]
    w = model.weights[0].reshape(3, 2, 5, 5).astype(np.float64)
    bias = np.array([0.1, -0.2, 0.3])
    x = to_frames(small.test[1], (28, 28)).astype(np.float64)
    ln = ns.LayerNetwork(dt=DT, backend=backend)
    inp = ln.input((2, 28, 28))
    out = ln.neurons("I", conv.out_shape, bias=bias[conv.bias_index])
    ln.connect(inp, out, (conv.pre, conv.post, conv.synapse_weights(model.weights[0])))
    pooled = ln.neurons("I", pool.out_shape)
    ln.connect(out, pooled, (pool.pre, pool.post, pool.synapse_weights(None)))
    run = ln.run({inp: x[None]}, record=[(out, "v"), (pooled, "v")])
    want = direct_conv(x, w, bias)
    np.testing.assert_allclose(run[out, "v"][0], want, atol=1e-9)
    np.testing.assert_allclose(run[pooled, "v"][0],
                               want.reshape(3, 12, 2, 12, 2).mean(axis=(2, 4)), atol=1e-9)
    # the ANN's first layer is the same operator
    a = model.activations(x[None])[0].reshape(3, 24, 24)
    np.testing.assert_allclose(a, np.maximum(want - bias[:, None, None], 0) * model.in_scale,
                               rtol=1e-5, atol=1e-4)


def test_spiking_cnn_engine_equals_reference_backend(small):
    model = cnn.build_cnn(in_shape=(2, 28, 28), channels=(3, 4), kernel=5, seed=1)
    model.biases[0][:] = 0.05
    sp = cnn.convert_cnn(model, small.train.frames()[:20])
    runs = {}
    for backend in ("numba", "reference"):
        r = sp.evaluate(small.test, 3e-3, backend=backend, index=range(2))
        net, inp, out = sp.network(3e-3, 30, backend)
        x, _ = to_steps(small.test[0], (28, 28), 0.09, 3e-3)
        res = net.run({inp: x}, record=[(net.population("conv0"), "out")])
        runs[backend] = (r, out.v, res["conv0", "out"], net.counts())
    (a, va, sa, ca), (b, vb, sb, cb) = runs["numba"], runs["reference"]
    assert sa.sum() > 0
    np.testing.assert_array_equal(sa, sb)
    np.testing.assert_allclose(va, vb, rtol=1e-12, atol=1e-12)
    assert ca == cb and a.counts == b.counts
    assert np.array_equal(a.predictions, b.predictions)


def tiny_conv_network():
    """3x3 input, a 2x2 kernel of 0.6 ('valid') onto 2x2 IF neurons (threshold 1); two
    input spikes at the centre pixel, in steps 0 and 1."""
    ln = ns.LayerNetwork(dt=DT, reset="subtract")
    inp = ln.input((1, 3, 3))
    pre, post, w, shape = conv_synapses((1, 3, 3), np.full((1, 1, 2, 2), 0.6))
    out = ln.neurons("IF", shape, v_threshold=1.0)
    ln.connect(inp, out, (pre, post, w))
    x = np.zeros((2, 1, 3, 3))
    x[:, 0, 1, 1] = 1.0
    ln.run({inp: x})
    return ln


def test_energy_of_a_hand_counted_convolution():
    c = tiny_conv_network().counts()
    # the centre pixel reaches all 4 outputs: 2 spikes x fan-out 4 = 8 synaptic events;
    # v = 0.6 after step 0, 1.2 after step 1: the 4 outputs fire once; 4 x 2 updates
    assert c.synaptic_events == 8 and c.neuron_updates == 8
    assert c.populations["input0"].spikes == 2 and c.populations["if1"].spikes == 4
    loihi = estimate(c, "loihi").per_inference
    assert loihi == pytest.approx(8 * 23.6e-12 + 2 * 3.5e-12 + 8 * 81e-12, rel=1e-12)
    # crossbar: 16 cells read (2 per weight) at 2 fJ, 2 row drives (one column tile) at
    # 0.417 pJ, one 8-bit conversion per column (4) in each of the 2 active steps at
    # 1.67 pJ, 8 neuron updates at 5.1 pJ
    xbar = estimate(c, "crossbar_rram").per_inference
    assert xbar == pytest.approx(16 * 2e-15 + 2 * 0.417e-12 + 8 * 1.67e-12 + 8 * 5.1e-12,
                                 rel=1e-12)
    # the dense counterpart: 16 MACs; a 2x2 sum pool of 4x4x2: 32 taps
    conv = Conv2D((3, 3, 1), 1, (2, 2), padding="valid")
    assert conv.macs == 16 and Pool2D((4, 4, 2), 2).macs == 32
    d45 = dense_ann([conv], "digital45").per_inference
    # 16 x (3.7 + 0.9) pJ + 5 weights (4 + bias) x 32-bit DRAM (1.3 nJ / 2) + (9 + 4)
    # activations x 32-bit SRAM (10 pJ / 2)
    assert d45 == pytest.approx(16 * 4.6e-12 + 5 * 0.65e-9 + 13 * 5e-12, rel=1e-12)
    assert dense_ann([conv, Pool2D((2, 2, 1), 2)], "cpu").per_inference == pytest.approx(
        (16 + 4 + 4 + 1) * 8.6e-9, rel=1e-12)


def test_converted_cnn_follows_the_ann_on_events():
    """The conversion's scaling (first layer x in_scale T / lambda_1): the spiking CNN's
    class agrees with the ANN's on most test samples at two step sizes."""
    data = make_saccade_digits(n=200)
    frames = data.train.frames()
    model = cnn.train_cnn(cnn.build_cnn(channels=(4,)), frames, data.train.labels, epochs=8)
    ann = model.predict(data.test.frames())
    assert np.mean(ann == data.test.labels) > 0.8
    sp = cnn.convert_cnn(model, frames)
    for dt in (1e-3, 3e-3):
        r = sp.evaluate(data.test, dt)
        assert r.steps == round(0.09 / dt)
        assert np.mean(r.predictions == ann) >= 0.9
    # without the T scaling of the first layer the input barely moves the SNN; scaled
    # twice, the first layers saturate
    for lam in (sp.lambdas[0] * 90, sp.lambdas[0] / 90):
        wrong = cnn.SpikingCNN(model, [lam] + sp.lambdas[1:])
        assert np.mean(wrong.evaluate(data.test, 1e-3).predictions == ann) < 0.8


def test_crossovers_interpolate_log_log_and_skip_points_that_do_not_classify():
    """benchmarks/energy_events.crossings on hand-made points: ratio 10x at 10 % activity,
    1,000x at 0.1 %: 100x lies at 1 % (log-log); with the accuracy floor the sparsest point
    (accuracy 0.1) drops out and 1,000x is never reached."""
    from conftest import load_script
    bench = load_script("benchmarks", "energy_events")

    def pt(act, ratio, acc):
        return dict(activity=act, steps=90, accuracy=acc,
                    ratio={"loihi": {"cpu": ratio}})

    pts = [pt(0.1, 10.0, 0.95), pt(0.01, 100.0, 0.93), pt(0.001, 1000.0, 0.1)]
    every = bench.crossings(pts, "loihi", "cpu")
    assert every["100"]["reached"] and every["100"]["value"] == pytest.approx(0.01)
    mid = bench.crossings([pts[0], pts[2]], "loihi", "cpu")
    assert mid["100"]["value"] == pytest.approx(0.01)            # log-log: not 0.0505
    assert mid["100"]["accuracy"] == pytest.approx(0.525)        # halfway in log ratio
    assert every["1000"]["reached"]
    working = bench.crossings(pts, "loihi", "cpu", min_accuracy=0.9)
    assert not working["1000"]["reached"]
    assert working["1000"]["why"] == "never reached" and working["1000"]["range"] == [10, 100]
    assert working["1"]["why"] == "always above"
    assert bench.crossings(pts[:1], "loihi", "cpu")["10"]["range"] == [10, 10]
