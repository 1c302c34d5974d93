"""Memristor device presets: schema, and the device laws against published values."""

import os

import numpy as np
import pytest

import neurosim as ns
from neurosim.crossbar import load_device
from neurosim.hardware import HardwareProfileError

US = 1e-6
HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_every_preset_follows_the_schema():
    names = ns.hardware.list("memristor")
    assert {"rram_hfox_1t1r", "pcm_gst", "rram_taox_hfox_analog",
            "rram_agsi_nonlinear"} <= set(names)
    for name in names:
        d = ns.hardware.load(name, kind="memristor")
        assert d.g_max > d.g_min > 0 and all(s.strip() for s in d.sources.values())
    assert load_device("rram_taox_hfox_analog").update["nl_ltd"] == pytest.approx(-0.63)
    assert not load_device("rram_hfox_1t1r").update      # inference device: no learning law


def test_programming_noise_matches_published_fits():
    rram = load_device("rram_hfox_1t1r")
    # CrossSim RRAM_Wan cubic: 1.3 uS at 1 uS, 2.4 uS at 10-20 uS, 1.7 uS at 39 uS
    sig = rram.programming_sigma(np.array([1, 10, 20, 39]) * US) / US
    assert np.allclose(sig, [1.3, 2.4, 2.4, 1.7], atol=0.06)
    pcm = load_device("pcm_gst")
    # aihwkit PCM: 0.45 / 0.95 / 1.06 uS at x = 0.1 / 0.5 / 1
    sig = pcm.programming_sigma(np.array([0.1, 0.5, 1.0]) * pcm.g_max) / US
    assert np.allclose(sig, [0.45, 0.95, 1.06], atol=0.01)
    taox = load_device("rram_taox_hfox_analog")
    assert np.allclose(taox.programming_sigma([2 * US, 8 * US]), 0.037 * 9 * US)


def test_pcm_drift_law():
    pcm = load_device("pcm_gst")
    g = np.full(200_000, pcm.g_max)
    nu = pcm.drift_exponents(g, np.random.default_rng(0))
    # x = 1: mu = clip(0.0244, 0.049, 0.1) = 0.049, sigma = clip(-0.0059, 0.008, .) = 0.008
    assert nu.mean() == pytest.approx(0.049, abs=5e-4) and nu.std() == pytest.approx(0.008,
                                                                                     abs=3e-4)
    one = np.array([0.049])
    for t, factor in ((3600, 0.775), (86400, 0.664), (365 * 86400, 0.497)):
        assert pcm.drifted(np.array([1.0]), one, t)[0] == pytest.approx(factor, abs=2e-3)
    assert np.array_equal(load_device("rram_hfox_1t1r").drifted(g[:3], nu[:3], 1e6), g[:3])


def test_preset_errors_name_file_and_field(tmp_path, monkeypatch):
    text = open(os.path.join(HERE, "hardware", "memristor", "rram_hfox_1t1r.toml")).read()
    (tmp_path / "memristor").mkdir()
    (tmp_path / "memristor" / "nogmax.toml").write_text(text.replace("[params.g_max]",
                                                                     "[params.gmax]"))
    (tmp_path / "memristor" / "baddrift.toml").write_text(text.replace('model = "none"',
                                                                       'model = "linear"'))
    (tmp_path / "memristor" / "mine.toml").write_text(text.replace("value = 4e-5",
                                                                   "value = 5e-5"))
    monkeypatch.setenv("NEUROSIM_HARDWARE_PATH", str(tmp_path))
    with pytest.raises(HardwareProfileError, match="nogmax.toml: missing field params.g_max"):
        load_device("nogmax")
    with pytest.raises(HardwareProfileError, match="baddrift.toml: drift.model must be one"):
        load_device("baddrift")
    assert load_device("mine").g_max == 5e-5
    with pytest.raises(HardwareProfileError, match="memristor profile must be one of"):
        load_device("unobtainium")
