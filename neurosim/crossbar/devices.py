"""Memristor device presets: the TOML files of ``hardware/memristor/``, checked, with the
device laws they parameterise (programming noise, drift, per-pulse update).

Schema::

    [device]                      name, technology, use
    [params.<name>]               value, unit, status, source   (REQUIRED below, SI units)
    [programming_noise]           model = "polynomial_g" (coefficients in uS, powers of G in uS)
                                        | "polynomial_x" (coefficients in uS, powers of G/g_max)
                                        | "relative" (sigma: fraction of g_max - g_min);
                                  status, source
    [drift]                       model = "none" | "power_law" (t0 s; nu_mean, nu_std as
                                  [a, b, lo, hi]: clip(a ln x + b, lo, hi); optional
                                  read_noise_q [c, e, cap]); status, source
    [update]  (optional)          nl_ltp, nl_ltd, n_pulses_ltp, n_pulses_ltd, c2c, d2d,
                                  v_ltp, v_ltd, width_ltp, width_ltd; status, source; for
                                  learning also a_ltp > 0, a_ltd < 0: NeuroSim's normalised
                                  A of the NL labels (A = a x n_pulses; see
                                  neurosim.engine.crossbar)
"""

from dataclasses import dataclass, field

import os

import numpy as np

from ..hardware import (
    HardwareProfileError, check_entry, load_profile, require, require_choice,
)

__all__ = ["Device", "load_device", "REQUIRED"]

#: parameters every preset gives, with their units
REQUIRED = {
    "g_min": "S", "g_max": "S", "n_levels": "levels", "v_read": "V", "t_read": "s",
    "read_noise": "fraction of g_max per read", "stuck_on_prob": "probability",
    "stuck_off_prob": "probability", "d2d_sigma": "fraction of g_max", "write_voltage": "V",
    "write_width": "s", "write_tolerance": "S", "write_iterations": "iterations",
}
_NOISE = {"polynomial_g": ("coefficients",), "polynomial_x": ("coefficients",),
          "relative": ("sigma",)}
_DRIFT = {"none": (), "power_law": ("t0", "nu_mean", "nu_std")}
_UPDATE = ("nl_ltp", "nl_ltd", "n_pulses_ltp", "n_pulses_ltd", "c2c", "d2d", "v_ltp", "v_ltd",
           "width_ltp", "width_ltd")
_US = 1e-6


@dataclass(frozen=True)
class Device:
    """A checked device preset. Parameters are SI (``params[name]``); ``sources[name]``
    says where each comes from."""
    key: str
    name: str
    technology: str
    file: str
    params: dict
    noise: dict
    drift_law: dict
    update: dict = field(default_factory=dict)
    sources: dict = field(default_factory=dict)

    def __getattr__(self, name):
        params = self.__dict__.get("params", {})
        if name in params:
            return params[name]
        raise AttributeError(name)

    def programming_sigma(self, g):
        """Standard deviation (S) of one-shot programming noise at target conductance g (S)."""
        g = np.asarray(g, dtype=np.float64)
        model = self.noise["model"]
        if model == "relative":
            return np.full_like(g, self.noise["sigma"] * (self.g_max - self.g_min))
        c = np.asarray(self.noise["coefficients"], dtype=np.float64)
        arg = g / _US if model == "polynomial_g" else g / self.g_max
        if model == "polynomial_g":   # the fit holds up to its last point; keep it there
            arg = np.minimum(arg, self.g_max / _US)
        return np.maximum(np.polynomial.polynomial.polyval(arg, c), 0.0) * _US

    def update_law(self):
        """The per-pulse update law (NeuroSim's exponential form) for on-line learning: a
        dict of ``a_ltp``, ``a_ltd`` (normalised A, signed), ``n_pulses_ltp/ltd``, ``c2c``,
        ``v_ltp/ltd`` (V), ``width_ltp/ltd`` (s)."""
        need = ("a_ltp", "a_ltd", "n_pulses_ltp", "n_pulses_ltd", "c2c", "v_ltp", "v_ltd",
                "width_ltp", "width_ltd")
        missing = [k for k in need if k not in self.update]
        if missing:
            raise HardwareProfileError(
                f"device {self.key!r} ({self.file}) has no per-pulse update law for learning "
                f"(missing update.{', update.'.join(missing)}); use a learning preset such as "
                f"'rram_taox_hfox_analog' or 'rram_agsi_nonlinear'")
        law = {k: float(self.update[k]) for k in need}
        for k in ("n_pulses_ltp", "n_pulses_ltd"):
            if law[k] < 1:
                raise HardwareProfileError(f"{self.file}: update.{k} must be >= 1; got {law[k]:g}")
        if law["a_ltp"] <= 0 or law["a_ltd"] >= 0:
            raise HardwareProfileError(f"{self.file}: update.a_ltp must be > 0 and update.a_ltd "
                                       f"< 0; got {law['a_ltp']:g}, {law['a_ltd']:g}")
        return law

    def drift_exponents(self, g, rng):
        """One drift exponent nu per device (power law), drawn at programming time."""
        g = np.asarray(g, dtype=np.float64)
        if self.drift_law["model"] == "none":
            return np.zeros_like(g)
        x = np.clip(g / self.g_max, 1e-6, None)
        mu = _clipped_log(self.drift_law["nu_mean"], x)
        sd = _clipped_log(self.drift_law["nu_std"], x)
        return np.abs(mu + sd * rng.standard_normal(g.shape))

    def drifted(self, g, nu, t):
        """Conductance (S) at time t (s) after programming: G ((t + t0)/t0)^-nu."""
        if self.drift_law["model"] == "none" or t <= 0:
            return np.asarray(g, dtype=np.float64)
        t0 = self.drift_law["t0"]
        return np.asarray(g) * ((t + t0) / t0) ** (-np.asarray(nu))


def _clipped_log(abcd, x):
    a, b, lo, hi = abcd
    return np.clip(a * np.log(x) + b, lo, hi)


def _model(file, table, entry, models):
    """A law table: ``model`` one of ``models`` (name -> the fields it needs), sourced."""
    require(file, table, entry, ("model", "status", "source"))
    require_choice(file, f"{table}.model", entry["model"], models)
    return dict(require(file, table, entry, models[entry["model"]]))


def load_device(name, path=None):
    """Load and check ``hardware/memristor/<name>.toml`` (or a .toml path)."""
    data = load_profile("memristor", name, path)
    file = data["_file"]
    dev = require(file, "device", data.get("device"), ("name", "technology"))
    raw = data.get("params", {})
    params = {k: check_entry(file, f"params.{k}", raw.get(k), unit)
              for k, unit in REQUIRED.items()}
    sources = {k: raw[k]["source"] for k in REQUIRED}
    if not params["g_max"] > params["g_min"]:
        raise HardwareProfileError(f"{file}: params.g_max must be > params.g_min "
                                   f"({params['g_min']:g} S); got {params['g_max']:g}")
    for p in ("stuck_on_prob", "stuck_off_prob"):
        if params[p] > 1:
            raise HardwareProfileError(f"{file}: params.{p}.value must be in [0, 1]; "
                                       f"got {params[p]:g}")
    params["n_levels"] = int(params["n_levels"])
    params["write_iterations"] = int(params["write_iterations"])
    noise = _model(file, "programming_noise", data.get("programming_noise"), _NOISE)
    drift = _model(file, "drift", data.get("drift"), _DRIFT)
    update = data.get("update", {})
    if update:
        require(file, "update", update, _UPDATE + ("status", "source"))
    key = os.path.basename(file)[:-5]
    return Device(key=key, name=dev["name"], technology=dev["technology"], file=file,
                  params=params, noise=noise, drift_law=drift,
                  update=dict(update), sources=sources)
