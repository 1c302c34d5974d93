"""Crossbar arrays: mapping, programming, noise statistics, drift, IR drop, read-out."""

import dataclasses
import shutil
import subprocess
import warnings

import numpy as np
import pytest

from neurosim.crossbar import (
    Crossbar, IRDropError, IRDropWarning, load_device, solve_exact, solve_iterative,
)
from neurosim.validation import ParameterError


def _dev(name="rram_hfox_1t1r", **params):
    dev = load_device(name)
    return dataclasses.replace(dev, params={**dev.params, **params})


@pytest.mark.parametrize("mapping", ["differential", "offset"])
@pytest.mark.parametrize("shape,array", [((20, 7), (128, 128)), ((300, 70), (128, 64)),
                                         ((5, 9), (4, 6))])
def test_ideal_mapping_round_trip(mapping, shape, array):
    rng = np.random.default_rng(0)
    W = rng.normal(0, 1, shape)
    xb = Crossbar.ideal(W, array=array, mapping=mapping)
    np.testing.assert_allclose(xb.effective_weights(), W, atol=1e-12)
    x = rng.uniform(-1, 1, (4, shape[0]))
    np.testing.assert_allclose(xb.matvec(x), x @ W, atol=1e-10)
    g = xb.conductances
    dev = xb.device
    assert g.min() >= dev.g_min - 1e-18 and g.max() <= dev.g_max + 1e-18
    rows, cols = array
    assert all(t.shape[0] <= rows and t.shape[1] <= cols for t in xb.tiles)
    covered = np.zeros(shape, int)
    for t in xb.tiles:
        covered[t.r0:t.r1, t.k0:t.k1] += 1
    assert (covered == 1).all()                     # every weight in exactly one array
    if mapping == "offset":
        ref = g[:, xb.col_kind == "ref"]
        np.testing.assert_allclose(ref, (dev.g_min + dev.g_max) / 2)
    else:
        pos, neg = g[:, xb.col_kind == "+"], g[:, xb.col_kind == "-"]
        assert np.all((pos == dev.g_min) | (neg == dev.g_min))   # one device of a pair at g_min


def test_quantisation_to_device_levels():
    W = np.random.default_rng(1).uniform(-1, 1, (40, 30))
    xb = Crossbar(W, quantize=True, programming=None, read_noise=False, stuck=False,
                  d2d=False, adc_bits=None)
    dev = xb.device
    step = (dev.g_max - dev.g_min) / (dev.n_levels - 1)
    lv = (xb.conductances - dev.g_min) / step
    np.testing.assert_allclose(lv, np.round(lv), atol=1e-9)
    err = np.abs(xb.effective_weights() - W)
    assert err.max() <= 0.5 * step / (dev.g_max - dev.g_min) * 1.0 + 1e-12
    assert err.max() > 0.01                               # 16 levels are visible


def test_one_shot_programming_noise_statistics():
    W = np.full((400, 100), 0.5)                          # G+ at mid-range: sigma(G) ~ 2.4 uS
    xb = Crossbar(W, quantize=False, programming="one_shot", read_noise=False, stuck=False,
                  d2d=False, adc_bits=None, seed=5)
    pos = xb.col_kind == "+"
    tgt = xb.targets[:, pos]
    z = (xb.conductances[:, pos] - tgt) / xb.device.programming_sigma(tgt)
    assert abs(z.mean()) < 0.02 and abs(z.std() - 1.0) < 0.02
    assert xb.write_pulses.max() == 1


def test_d2d_offsets_add_to_programming_noise():
    dev = _dev(d2d_sigma=0.05)
    W = np.full((300, 100), 0.5)
    kw = dict(device=dev, quantize=False, programming="one_shot", read_noise=False,
              stuck=False, adc_bits=None, seed=2)
    on, off = Crossbar(W, d2d=True, **kw), Crossbar(W, d2d=False, **kw)
    pos = on.col_kind == "+"
    sig = dev.programming_sigma(on.targets[:, pos])[0, 0]
    var_on = (on.conductances - on.targets)[:, pos].var()
    var_off = (off.conductances - off.targets)[:, pos].var()
    assert var_off == pytest.approx(sig ** 2, rel=0.05)
    assert var_on == pytest.approx(sig ** 2 + (0.05 * dev.g_max) ** 2, rel=0.05)


def test_write_verify_tolerance_and_failures():
    W = np.random.default_rng(3).uniform(-1, 1, (256, 64))
    xb = Crossbar(W, programming="write_verify", read_noise=False, stuck=False, adc_bits=None,
                  seed=4)
    dev = xb.device
    dev_err = np.abs(xb.conductances - xb.targets)
    bad = dev_err > dev.write_tolerance
    assert bad.sum() == xb.verify_failures
    assert xb.write_pulses.min() >= 1 and xb.write_pulses.max() <= dev.write_iterations
    assert np.all(xb.write_pulses[bad] == dev.write_iterations)   # failures used every try
    one = Crossbar(W, programming="one_shot", read_noise=False, stuck=False, adc_bits=None,
                   seed=4)
    assert np.mean(np.abs(one.conductances - one.targets) > dev.write_tolerance) > 0.3
    assert bad.mean() < 0.05
    assert xb.program_energy > one.program_energy > 0


def test_stuck_devices():
    dev = _dev(stuck_on_prob=0.05, stuck_off_prob=0.1)
    W = np.random.default_rng(0).uniform(-1, 1, (300, 100))
    xb = Crossbar(W, device=dev, programming=None, read_noise=False, adc_bits=None, seed=1)
    g = xb.conductances
    assert abs(xb.stuck_on.mean() - 0.05) < 0.01 and abs(xb.stuck_off.mean() - 0.1) < 0.01
    assert np.all(g[xb.stuck_on] == dev.g_max) and np.all(g[xb.stuck_off] == dev.g_min)
    assert not (xb.stuck_on & xb.stuck_off).any()
    assert not Crossbar(W, device=dev, stuck=False, adc_bits=None).stuck_on.any()


def test_read_noise_statistics_per_read():
    W = np.random.default_rng(2).uniform(-1, 1, (64, 16))
    xb = Crossbar(W, programming=None, stuck=False, adc_bits=None, seed=3)
    v = np.where(np.arange(64) % 3 == 0, xb.device.v_read, 0.0)
    reads = np.array([xb.column_currents(v) for _ in range(4000)])
    expect = np.sqrt((v ** 2) @ xb.read_sigma ** 2)
    np.testing.assert_allclose(reads.std(axis=0), expect, rtol=0.06)
    np.testing.assert_allclose(reads.mean(axis=0), v @ xb.conductances,
                               atol=4 * expect.max() / np.sqrt(4000))
    np.testing.assert_allclose(xb.read_sigma, xb.device.read_noise * xb.device.g_max)
    quiet = xb.column_currents(v, noise=False)
    np.testing.assert_allclose(quiet, v @ xb.conductances)


def test_pcm_drift_law_and_compensation():
    W = np.random.default_rng(4).uniform(-1, 1, (128, 32))
    xb = Crossbar(W, device="pcm_gst", programming=None, read_noise=False, stuck=False,
                  adc_bits=None, seed=6)
    g0 = xb.conductances
    t = 86400.0
    xb.time = t
    t0 = xb.device.drift_law["t0"]
    np.testing.assert_allclose(xb.conductances, g0 * ((t + t0) / t0) ** (-xb.nu))
    assert 0.04 < xb.nu.mean() < 0.11
    comp = xb.effective_weights()
    raw = Crossbar(W, device="pcm_gst", programming=None, read_noise=False, stuck=False,
                   adc_bits=None, seed=6, time=t, drift_compensation=False).effective_weights()
    rel = lambda a: np.linalg.norm(a - W) / np.linalg.norm(W)  # noqa: E731
    assert rel(raw) > 0.25            # a day of drift loses about a third of the signal
    assert rel(comp) < 0.1            # one global factor per array brings it back
    assert np.sum(np.abs(comp)) == pytest.approx(np.sum(np.abs(W)), rel=0.02)


def test_pcm_one_over_f_read_noise_grows_with_time():
    W = np.full((10, 10), 0.8)
    xb = Crossbar(W, device="pcm_gst", programming=None, stuck=False, adc_bits=None)
    s1 = xb.read_sigma.copy()
    xb.time = 3600.0
    g = xb.conductances
    x = np.clip(g / xb.device.g_max, 1e-6, None)
    q = np.minimum(0.0088 / x ** 0.65, 0.2)
    tr = xb.device.t_read
    np.testing.assert_allclose(xb.read_sigma, g * q * np.sqrt(np.log((3600 + tr) / (2 * tr))))
    assert np.all(xb.read_sigma > s1)


def test_adc_quantises_and_clips():
    W = np.random.default_rng(5).uniform(-1, 1, (50, 10))
    xb = Crossbar(W, quantize=False, programming=None, read_noise=False, stuck=False,
                  d2d=False, adc_bits=4)
    t = xb.tiles[0]
    step = xb.adc_step(t)
    assert step == pytest.approx(2 * t.adc_range / 14)
    x = np.random.default_rng(6).uniform(-1, 1, (20, 50))
    y = xb.matvec(x)
    lv = y / (xb.k_w * step)
    np.testing.assert_allclose(lv, np.round(lv), atol=1e-6)
    assert np.abs(lv).max() <= 7 + 1e-9
    exact = x @ W
    assert np.abs(y - exact).max() <= 0.5 * step * xb.k_w + 1e-12
    xb.calibrate(x, percentile=50)                     # half the outputs now clip
    y2 = xb.matvec(x)
    assert np.mean(np.isclose(np.abs(y2), t.adc_range * xb.k_w)) > 0.3


def test_dac_quantises_inputs():
    W = np.eye(4)
    xb = Crossbar.ideal(W)
    xb.dac_bits = 3
    y = xb.matvec(np.array([0.1, 0.3, -0.6, 2.0]))
    np.testing.assert_allclose(y, [0.0, 1 / 3, -2 / 3, 1.0], atol=1e-12)


def test_ir_drop_one_cell_by_hand():
    g, r = 40e-6, 5.0
    cur = solve_exact(np.array([[g]]), np.array([0.2]), r, r)
    assert cur[0] == pytest.approx(0.2 / (2 * r + 1 / g), rel=1e-12)
    it, info = solve_iterative(np.array([[g]]), np.array([0.2]), r, r)
    assert it[0] == pytest.approx(cur[0], rel=1e-9)


def test_ir_drop_two_rows_by_hand():
    """Two cells on one column: the upper cell's current also crosses the lower segment."""
    g1, g2, r, v = 30e-6, 10e-6, 100.0, 0.1
    cur = solve_exact(np.array([[g1], [g2]]), np.array([v, v]), r, r)
    # unknowns: column nodes c1 (top), c2 (bottom); row nodes a1, a2
    A = np.array([[1 / r + g1, 0, -g1, 0], [0, 1 / r + g2, 0, -g2],
                  [-g1, 0, g1 + 1 / r, -1 / r], [0, -g2, -1 / r, g2 + 2 / r]])
    x = np.linalg.solve(A, [v / r, v / r, 0, 0])
    assert cur[0] == pytest.approx(x[3] / r, rel=1e-12)


@pytest.mark.parametrize("m,n,gmax,r,rate", [(128, 32, 40e-6, 1.0, None),
                                             (64, 128, 25e-6, 2.0, 0.3),
                                             (100, 60, 100e-6, 1.0, 0.2)])
def test_iterative_ir_drop_matches_exact(m, n, gmax, r, rate):
    rng = np.random.default_rng(m + n)
    g = rng.uniform(0, 1, (m, n)) * gmax
    v = 0.2 * (rng.uniform(0, 1, m) if rate is None else (rng.random(m) < rate))
    exact = solve_exact(g, v, r, r)
    drop = 1 - exact.sum() / (v @ g).sum()
    assert 0.01 < drop < 0.3                              # a moderate, visible drop
    it, info = solve_iterative(g, v, r, r)
    assert np.max(np.abs(it - exact) / np.abs(exact)) < 1e-3
    assert info["drop"] == pytest.approx(drop, rel=1e-3)


def test_ir_drop_warns_and_fails_clearly():
    rng = np.random.default_rng(0)
    g = rng.uniform(0, 1, (256, 64)) * 100e-6
    v = np.full(256, 0.2)
    with pytest.warns(IRDropWarning, match="unrealistic"):
        solve_iterative(g, v, 2.0, 2.0)
    with pytest.raises(IRDropError, match="did not converge"):
        solve_iterative(g, v, 50.0, 50.0, max_iter=200)


def test_crossbar_ir_drop_reads_match_exact():
    W = np.random.default_rng(7).uniform(-1, 1, (96, 20))
    kw = dict(programming=None, read_noise=False, stuck=False, adc_bits=None, r_wire=1.5,
              array=(64, 64))
    it = Crossbar(W, **kw)
    ex = Crossbar(W, ir_solver="exact", **kw)
    v = 0.1 * (np.random.default_rng(8).random(96) < 0.5)
    a, b = it.column_currents(v), ex.column_currents(v)
    assert a.shape == (2, 40)
    np.testing.assert_allclose(a, b, rtol=1e-6)
    assert 0 < it.ir_drop(v) < 0.2


def _netlist(g, v, r_row, r_col):
    m, n = g.shape
    lines = ["* crossbar"]
    for i in range(m):
        lines.append(f"V{i} in{i} 0 DC {v[i]:.12g}")
        lines.append(f"Rd{i} in{i} r{i}_0 {r_row:.12g}")
        for j in range(n - 1):
            lines.append(f"Rr{i}_{j} r{i}_{j} r{i}_{j + 1} {r_row:.12g}")
        for j in range(n):
            lines.append(f"Rg{i}_{j} r{i}_{j} c{i}_{j} {1 / g[i, j]:.12g}")
    for j in range(n):
        for i in range(m - 1):
            lines.append(f"Rc{i}_{j} c{i}_{j} c{i + 1}_{j} {r_col:.12g}")
        lines.append(f"Rs{j} c{m - 1}_{j} s{j} {r_col:.12g}")
        lines.append(f"Vs{j} s{j} 0 DC 0")
    lines += [".op", ".control", "op", "print " + " ".join(f"i(Vs{j})" for j in range(n)),
              ".endc", ".end"]
    return "\n".join(lines) + "\n"


@pytest.mark.skipif(shutil.which("ngspice") is None, reason="ngspice is not installed "
                    "(apt install ngspice; .ci/run installs it)")
def test_exact_ir_solve_against_ngspice(tmp_path):
    rng = np.random.default_rng(11)
    g = rng.uniform(1e-6, 40e-6, (12, 9))
    v = 0.1 * (rng.random(12) < 0.6) + 0.05 * rng.random(12)
    net = tmp_path / "xbar.cir"
    net.write_text(_netlist(g, v, 2.5, 3.5))
    out = subprocess.run(["ngspice", "-b", str(net)], capture_output=True, text=True,
                         timeout=60).stdout
    spice = {}
    for line in out.splitlines():
        line = line.strip().lower()
        if line.startswith("i(vs") and "=" in line:
            key, val = line.split("=")
            spice[int(key.strip()[4:-1])] = float(val)
    assert len(spice) == 9, out
    # current flows from the column into the sense source: ngspice reports it as positive
    # into the + node (s_j), i.e. the current into the virtual ground
    mine = solve_exact(g, v, 2.5, 3.5)
    np.testing.assert_allclose([spice[j] for j in range(9)], mine, rtol=1e-6)
    assert 1 - mine.sum() / (v @ g).sum() > 1e-3      # the wires matter in this case


def test_bad_crossbar_arguments_name_the_parameter():
    W = np.ones((3, 3))
    with pytest.raises(ParameterError, match="mapping must be one of"):
        Crossbar(W, mapping="diagonal")
    with pytest.raises(ParameterError, match=r"array\[0\] \(rows\) must be"):
        Crossbar(W, array=(1, 8))
    with pytest.raises(ParameterError, match="adc_bits must be"):
        Crossbar(W, adc_bits=40)
    with pytest.raises(ParameterError, match="programming must be"):
        Crossbar(W, programming="twice")
    with pytest.raises(ParameterError, match="time must be >= 0"):
        Crossbar(W, time=-1.0)
    with pytest.raises(ParameterError, match="r_wire"):
        Crossbar(W, r_wire=(1.0, 0.0))
    with pytest.raises(ParameterError, match="W must be finite"):
        Crossbar(np.array([[np.nan]]))
    with pytest.raises(ParameterError, match="holds no weights"):
        Crossbar().matvec(np.ones(3))
    with pytest.raises(ParameterError, match=r"x.shape must be"):
        Crossbar(W).matvec(np.ones(4))
    from neurosim.hardware import HardwareProfileError
    with pytest.raises(HardwareProfileError, match="memristor profile must be one of"):
        Crossbar(W, device="unobtainium")


def test_device_prefix_and_area():
    xb = Crossbar(np.ones((200, 70)), device="rram_hfox", array=(128, 128))
    assert xb.device.key == "rram_hfox_1t1r"
    a = xb.area()
    assert a["tiles"] == 4
    assert a["cells"] == pytest.approx(200 * 140 * a["cell_area"])
    assert a["adc"] == pytest.approx(2 * 70 * a["adc_area"])          # per weight column and row tile
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Crossbar.ideal(np.ones((2, 2))).matvec(np.ones(2))


@pytest.mark.parametrize("batched", [False, True])
def test_kernel_normal_draws_are_standard_normal(batched):
    """The scalar ziggurat (128 layers) and the batched one of crossbar reads (1024 layers,
    slow path after the batch) both give standard normals, tails included."""
    from numba import njit
    from scipy import stats
    from neurosim.engine.rng import fill_normal, normal

    @njit
    def draw(n, seed, batch):
        st = np.array([seed], np.uint64)
        out = np.empty(n)
        raw = np.empty(batch + 1, np.int32)
        flag = np.empty(batch + 8, np.uint8)
        if batch == 0:
            for i in range(n):
                out[i] = normal(st, 0)
        else:
            for i in range(0, n, batch):
                fill_normal(st, 0, out[i:min(i + batch, n)], raw, flag)
        return out

    batch = 1000 if batched else 0
    x = draw(400000, 7, batch)
    assert abs(x.mean()) < 0.01 and abs(x.std() - 1) < 0.01
    assert stats.kstest(x, "norm").pvalue > 1e-3
    tail = np.mean(np.abs(x) > 3.0)                         # the ziggurat's tail path
    assert tail == pytest.approx(2 * stats.norm.sf(3.0), rel=0.15)
    assert abs(np.corrcoef(x[:-1], x[1:])[0, 1]) < 0.01     # neighbours independent
    np.testing.assert_array_equal(draw(4000, 7, batch), x[:4000])     # a seeded stream
