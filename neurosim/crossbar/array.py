"""A memristor crossbar holding a weight matrix: mapping, programming, drift, reads, read-out.

Order of operations
-------------------
Programming (once, at construction; seeded):

1. mapping of W (n_in, n_out), clipped to [-w_max, w_max], to target conductances:
   *differential*: G+ = g_min + (g_max - g_min) max(w, 0)/w_max and G- likewise for -w,
   side by side (physical columns 2k and 2k+1 of a tile); *offset*: G = g_min +
   (g_max - g_min)(w + w_max)/(2 w_max) with one reference column per tile at
   G_ref = (g_max + g_min)/2 (the tile's last physical column);
2. quantisation of the targets to the device's ``n_levels`` evenly spaced levels;
3. programming: exact (``programming=None``), one shot (G = max(G_t + sigma(G_t) xi + d_ij, 0),
   with sigma the device's programming-noise law and d_ij ~ N(0, d2d_sigma g_max) a fixed
   offset of each device), or write-verify (one-shot writes repeated on every device
   outside ``|G - G_t| <= write_tolerance``, up to ``write_iterations`` writes);
4. stuck devices: stuck-on at g_max, stuck-off at g_min (independent draws per device);
5. drift exponents nu per device (power-law devices).

Reading at time ``time`` since programming: G(t) = G ((t + t0)/t0)^-nu; every read adds
fresh noise N(0, sigma_r) per device, sigma_r = read_noise g_max (+ the 1/f term of PCM,
G Q(x) sqrt(ln((t + t_read)/(2 t_read)))); with wire resistance the array is solved as a
circuit (:mod:`neurosim.crossbar.irdrop`). The net current of each weight column (G+ - G-
column, or data - reference column) is converted by the tile's ADC (``adc_bits``, range
``adc_range``, clipped), scaled by the tile's global drift compensation
alpha = sum|dG(0)| / sum|dG(t)| (aihwkit's one-hot calibration) and by
k_w = w_max / (v_read (g_max - g_min)) (twice that for the offset mapping), and the partial
sums of the row tiles are added digitally.

Large matrices are tiled onto arrays of ``array = (rows, columns)`` physical cells.
"""

import numbers

import numpy as np

from ..validation import (
    ParameterError, check_choice, check_finite_array, check_int, check_nonnegative,
    check_positive, fail,
)
from .devices import Device, load_device
from .irdrop import mean_drop, solve_exact, solve_iterative

__all__ = ["Crossbar", "Tile", "MAPPINGS", "PROGRAMMING", "ADC_RANGES"]

MAPPINGS = ("differential", "offset")
PROGRAMMING = (None, "one_shot", "write_verify")
ADC_RANGES = ("weights", "full")
IR_SOLVERS = ("iterative", "exact")


class Tile:
    """One physical array: rows ``r0:r1`` and weight columns ``k0:k1`` of W, physical
    columns ``p0:p1`` of the crossbar's conductance matrix."""

    __slots__ = ("r0", "r1", "k0", "k1", "p0", "p1", "adc_range", "alpha")

    def __init__(self, r0, r1, k0, k1, p0, p1):
        self.r0, self.r1, self.k0, self.k1, self.p0, self.p1 = r0, r1, k0, k1, p0, p1
        self.adc_range = np.inf
        self.alpha = 1.0

    @property
    def shape(self):
        """Physical (rows, columns) used in this array."""
        return (self.r1 - self.r0, self.p1 - self.p0)

    def __repr__(self):
        return (f"Tile(rows {self.r0}:{self.r1}, weight columns {self.k0}:{self.k1}, "
                f"physical columns {self.p0}:{self.p1})")


class Crossbar:
    """Memristor crossbar arrays holding W (n_in, n_out): y_k = sum_i W_ik x_i in analog.

    Parameters
    ----------
    W : array (n_in, n_out), optional
        Weights. Leave out to make a synapse spec for ``Network.connect(...,
        synapse=Crossbar(...))``, which programs the connection's weights.
    device : str or Device
        Preset of ``hardware/memristor/`` (a unique prefix is enough: "rram_hfox"), a .toml
        path, or a :class:`Device`.
    array : (int, int)
        Physical rows and columns of one array (tile), each >= 2.
    mapping : {"differential", "offset"}
        Two devices per weight, or one device per weight plus a reference column per tile.
    w_max : float, optional
        Weight mapped to the full conductance range (default max |W|).
    quantize : bool
        Round targets to the device's ``n_levels`` (no effect for analog presets, 0 levels).
    programming : {"write_verify", "one_shot", None}
        Programming noise model; None programs the targets exactly.
    read_noise, stuck, d2d : bool
        Fresh read noise on every read; stuck-at devices; device-to-device offsets.
    time : float
        Time since programming (s) at which the array is read (drift of power-law devices).
    drift_compensation : bool
        Scale each tile's output by the global drift compensation factor.
    r_wire : float or (float, float)
        Wire resistance per cell segment (ohm) along rows and columns; 0 = no IR drop.
    ir_solver : {"iterative", "exact"}
        IR-drop solver of the standalone reads (networks always use the iterative one).
    dac_bits : int, optional
        Resolution of the input DAC of :meth:`matvec` (inputs in [-1, 1]); None = ideal.
    adc_bits : int, optional
        ADC resolution (1..16); None = no ADC (the net column current is used as it is:
        in a network it is integrated directly by the LIF neuron).
    adc_range : {"weights", "full"} or float
        ADC full scale per tile: "weights" = the largest |net current| these weights can give
        (every row driven with +-v_read), "full" = rows x (g_max - g_min) x v_read, or a current (A).
        :meth:`calibrate` sets it from sample inputs instead.
    seed : int
        Seed of programming draws and of the read-noise stream.
    path : str, optional
        Extra folder searched for device presets.
    """

    def __init__(self, W=None, device="rram_hfox_1t1r", array=(128, 128),
                 mapping="differential", w_max=None, quantize=True, programming="write_verify",
                 read_noise=True, stuck=True, d2d=True, time=0.0, drift_compensation=True,
                 r_wire=0.0, ir_solver="iterative", dac_bits=None, adc_bits=8,
                 adc_range="weights", seed=0, path=None):
        self.device = device if isinstance(device, Device) else load_device(device, path)
        arr = tuple(array) if isinstance(array, (tuple, list)) else None
        if arr is None or len(arr) != 2:
            fail("array", "(rows, columns) of one physical array", array)
        self.array = (check_int("array[0] (rows)", arr[0], 2),
                      check_int("array[1] (columns)", arr[1], 2))
        self.mapping = check_choice("mapping", mapping, MAPPINGS)
        self.w_max = None if w_max is None else check_positive("w_max", w_max)
        self.quantize = _flag("quantize", quantize)
        if programming not in PROGRAMMING:
            fail("programming", "one of " + ", ".join(repr(p) for p in PROGRAMMING), programming)
        self.programming = programming
        self.read_noise = _flag("read_noise", read_noise)
        self.stuck = _flag("stuck", stuck)
        self.d2d = _flag("d2d", d2d)
        self.drift_compensation = _flag("drift_compensation", drift_compensation)
        r = r_wire if isinstance(r_wire, (tuple, list)) else (r_wire, r_wire)
        if len(r) != 2:
            fail("r_wire", "a resistance (ohm) or (r_row, r_col)", r_wire)
        self.r_row = check_nonnegative("r_wire (rows)", r[0], "ohm")
        self.r_col = check_nonnegative("r_wire (columns)", r[1], "ohm")
        if (self.r_row == 0) != (self.r_col == 0):
            fail("r_wire", "both resistances > 0 or both 0", r_wire)
        self.ir_solver = check_choice("ir_solver", ir_solver, IR_SOLVERS)
        self.dac_bits = None if dac_bits is None else check_int("dac_bits", dac_bits, 1, 16)
        self.adc_bits = None if adc_bits is None else check_int("adc_bits", adc_bits, 1, 16)
        if isinstance(adc_range, str):
            self.adc_range = check_choice("adc_range", adc_range, ADC_RANGES)
        else:
            self.adc_range = check_positive("adc_range", adc_range, "A")
        self.seed = check_int("seed", seed, 0)
        self.path = path
        self._time = check_nonnegative("time", time, "s")
        self.W = None
        if W is not None:
            self._program(W)

    # ------------------------------------------------------------------ construction
    @classmethod
    def ideal(cls, W=None, device="rram_hfox_1t1r", array=(128, 128), mapping="differential",
              w_max=None, path=None):
        """A crossbar with every non-ideality off (exact targets, no noise, no stuck or
        drifting devices, no IR drop, no ADC): it computes W exactly, up to rounding."""
        return cls(W, device=device, array=array, mapping=mapping, w_max=w_max,
                   quantize=False, programming=None, read_noise=False, stuck=False, d2d=False,
                   adc_bits=None, path=path)

    def settings(self):
        """The constructor arguments (without W), to make a like crossbar."""
        return dict(device=self.device, array=self.array, mapping=self.mapping,
                    w_max=self.w_max, quantize=self.quantize, programming=self.programming,
                    read_noise=self.read_noise, stuck=self.stuck, d2d=self.d2d,
                    time=self._time, drift_compensation=self.drift_compensation,
                    r_wire=(self.r_row, self.r_col), ir_solver=self.ir_solver,
                    dac_bits=self.dac_bits, adc_bits=self.adc_bits, adc_range=self.adc_range,
                    seed=self.seed, path=self.path)

    def program(self, W, seed=None):
        """A new crossbar with these settings holding W (this one is left as it is)."""
        kw = self.settings()
        if seed is not None:
            kw["seed"] = seed
        return Crossbar(W, **kw)

    @property
    def programmed(self):
        return self.W is not None

    def _need_weights(self):
        if self.W is None:
            raise ParameterError("this Crossbar holds no weights; pass W, call "
                                 "program(W) or use it as a synapse in Network.connect")

    def _program(self, W):
        W = check_finite_array("W", W)
        if W.ndim != 2 or min(W.shape) < 1:
            fail("W", "a 2-D array (n_in, n_out)", W.shape, "shape")
        dev = self.device
        w_max = self.w_max if self.w_max is not None else float(np.abs(W).max())
        if w_max == 0.0:
            w_max = 1.0
        self.W = W
        self.w_eff_max = w_max
        self.n_in, self.n_out = W.shape
        self.tiles, self.n_phys, self.col_kind = self._layout()
        g_min, g_max = dev.g_min, dev.g_max
        span = g_max - g_min
        wc = np.clip(W, -w_max, w_max) / w_max
        tgt = np.empty((self.n_in, self.n_phys))
        for t in self.tiles:
            k = slice(t.k0, t.k1)
            if self.mapping == "differential":
                tgt[:, t.p0:t.p1:2] = g_min + span * np.maximum(wc[:, k], 0.0)
                tgt[:, t.p0 + 1:t.p1:2] = g_min + span * np.maximum(-wc[:, k], 0.0)
            else:
                tgt[:, t.p0:t.p1 - 1] = g_min + span * (wc[:, k] + 1.0) / 2.0
                tgt[:, t.p1 - 1] = g_min + span / 2.0
        if self.quantize and dev.n_levels >= 2:
            step = span / (dev.n_levels - 1)
            tgt = g_min + np.round((tgt - g_min) / step) * step
        self.targets = tgt
        rng = np.random.default_rng(self.seed)
        offs = (dev.d2d_sigma * g_max * rng.standard_normal(tgt.shape) if self.d2d
                else np.zeros(tgt.shape))
        self.write_pulses = np.zeros(tgt.shape, np.int64)
        if self.programming is None:
            g = tgt.copy()
        else:
            g = self._one_shot(tgt, offs, rng)
            self.write_pulses += 1
            if self.programming == "write_verify":
                for _ in range(dev.write_iterations - 1):
                    bad = np.abs(g - tgt) > dev.write_tolerance
                    if not bad.any():
                        break
                    g[bad] = self._one_shot(tgt[bad], offs[bad], rng)
                    self.write_pulses[bad] += 1
        self.verify_failures = (int(np.count_nonzero(np.abs(g - tgt) > dev.write_tolerance))
                                if self.programming == "write_verify" else 0)
        self.stuck_on = np.zeros(tgt.shape, bool)
        self.stuck_off = np.zeros(tgt.shape, bool)
        if self.stuck:
            u = rng.random(tgt.shape)
            self.stuck_on = u < dev.stuck_on_prob
            self.stuck_off = (~self.stuck_on) & (u < dev.stuck_on_prob + dev.stuck_off_prob)
            g[self.stuck_on] = g_max
            g[self.stuck_off] = g_min
        self.g_programmed = g
        self.nu = dev.drift_exponents(g, rng)
        self.nu[self.stuck_on | self.stuck_off] = 0.0
        self.program_energy = float(np.sum(self.write_pulses * g) * dev.write_voltage ** 2
                                    * dev.write_width)
        self._read_rng = np.random.default_rng([self.seed, 1])
        self._set_adc_ranges()
        self.time = self._time

    def _one_shot(self, tgt, offs, rng):
        sigma = self.device.programming_sigma(tgt)
        return np.maximum(tgt + sigma * rng.standard_normal(tgt.shape) + offs, 0.0)

    def _layout(self):
        rows, cols = self.array
        per = cols // 2 if self.mapping == "differential" else cols - 1
        tiles, kinds = [], []
        col_tiles = []
        p = 0
        for k0 in range(0, self.n_out, per):
            k1 = min(k0 + per, self.n_out)
            width = 2 * (k1 - k0) if self.mapping == "differential" else (k1 - k0) + 1
            col_tiles.append((k0, k1, p, p + width))
            if self.mapping == "differential":
                kinds += ["+", "-"] * (k1 - k0)
            else:
                kinds += ["data"] * (k1 - k0) + ["ref"]
            p += width
        for r0 in range(0, self.n_in, rows):
            r1 = min(r0 + rows, self.n_in)
            for k0, k1, p0, p1 in col_tiles:
                tiles.append(Tile(r0, r1, k0, k1, p0, p1))
        return tiles, p, np.array(kinds)

    # ------------------------------------------------------------------ state at a time
    @property
    def time(self):
        """Time since programming (s) at which the array is read; setting it applies drift
        and recomputes the compensation factors."""
        return self._time

    @time.setter
    def time(self, t):
        self._time = check_nonnegative("time", t, "s")
        if self.W is None:
            return
        dev = self.device
        self._g = dev.drifted(self.g_programmed, self.nu, self._time)
        sig = np.full(self._g.shape, dev.read_noise * dev.g_max if self.read_noise else 0.0)
        q = dev.drift_law.get("read_noise_q")
        if self.read_noise and q is not None and self._time > 0:
            c, e, cap = q
            x = np.clip(self._g / dev.g_max, 1e-6, None)
            tr = dev.t_read
            f = max(np.log((self._time + tr) / (2 * tr)), 0.0)
            sig = np.sqrt(sig ** 2 + (self._g * np.minimum(c / x ** e, cap)) ** 2 * f)
        self.read_sigma = sig
        for t in self.tiles:
            t.alpha = 1.0
            if self.drift_compensation and self._time > 0:
                d0 = np.abs(self._net(_block(self.g_programmed, t), t)).sum()
                d1 = np.abs(self._net(_block(self._g, t), t)).sum()
                t.alpha = d0 / d1 if d1 > 0 else 1.0

    @property
    def conductances(self):
        """Conductances (S) of every device at the current time: (n_in, physical columns);
        ``col_kind`` says what each column is ("+", "-", "data", "ref"), ``tiles`` which
        columns and rows form each array."""
        self._need_weights()
        return self._g.copy()

    @property
    def k_w(self):
        """Weight per ampere of net column current (V/A for LIF weights)."""
        dev = self.device
        k = self.w_eff_max / (dev.v_read * (dev.g_max - dev.g_min))
        return k * (2.0 if self.mapping == "offset" else 1.0)

    def effective_weights(self):
        """The weights the noise-free arrays compute now (drift and compensation included,
        no read noise, IR drop or ADC): (n_in, n_out)."""
        self._need_weights()
        out = np.empty((self.n_in, self.n_out))
        for t in self.tiles:
            out[t.r0:t.r1, t.k0:t.k1] = (self._net(_block(self._g, t), t) * t.alpha
                                         * self.device.v_read * self.k_w)
        return out

    def _net(self, blk, t):
        """Net conductance or current of each weight column of tile t from the tile's own
        physical columns (differences of the pairs, or data minus reference)."""
        if self.mapping == "differential":
            return blk[..., 0::2] - blk[..., 1::2]
        return blk[..., :-1] - blk[..., -1:]

    # ------------------------------------------------------------------ read-out
    def _set_adc_ranges(self):
        dev = self.device
        for t in self.tiles:
            if not isinstance(self.adc_range, str):
                t.adc_range = self.adc_range
            elif self.adc_range == "full":
                t.adc_range = (t.r1 - t.r0) * (dev.g_max - dev.g_min) * dev.v_read
            else:   # the largest |net current| of inputs in [-1, 1] (all rows driven)
                net = self._net(_block(self.targets, t), t)
                t.adc_range = max(float(np.abs(net).sum(axis=0).max()), 1e-30) * dev.v_read

    def adc_step(self, tile):
        """ADC step (A) of a tile (0 without ADC): 2 range / (2^bits - 2), as aihwkit."""
        if self.adc_bits is None:
            return 0.0
        return 2.0 * tile.adc_range / (2 ** self.adc_bits - 2)

    def calibrate(self, x, percentile=99.99):
        """Set each tile's ADC range to the ``percentile`` of |net column current| over the
        sample inputs ``x`` (n_samples, n_in) (dimensionless, as :meth:`matvec`)."""
        self._need_weights()
        x = self._inputs(x)
        percentile = check_nonnegative("percentile", percentile)
        if percentile > 100:
            fail("percentile", "in [0, 100]", percentile)
        v = self._dac(x) * self.device.v_read
        for t in self.tiles:
            cur = v[:, t.r0:t.r1] @ self._g[t.r0:t.r1, t.p0:t.p1]
            net = self._net(cur, t)
            t.adc_range = max(float(np.percentile(np.abs(net), percentile)), 1e-30)
        return self

    def _adc(self, net, t):
        step = self.adc_step(t)
        if step == 0.0:
            return net
        return np.clip(step * np.round(net / step), -t.adc_range, t.adc_range)

    def _dac(self, x):
        x = np.clip(x, -1.0, 1.0)
        if self.dac_bits is None:
            return x
        step = 2.0 / (2 ** self.dac_bits - 2) if self.dac_bits > 1 else 1.0
        return step * np.round(x / step)

    def _inputs(self, x):
        x = check_finite_array("x", x)
        if x.ndim not in (1, 2) or x.shape[-1] != self.n_in:
            fail("x.shape", f"({self.n_in},) or (batch, {self.n_in})", x.shape)
        return x.reshape(-1, self.n_in)

    # ------------------------------------------------------------------ analog operations
    def _tile_currents(self, t, v_rows, noise=True):
        """Physical column currents (A) of tile t for row voltages v_rows (rows of tile)."""
        g = self._g[t.r0:t.r1, t.p0:t.p1]
        if noise and self.read_noise:
            g = g + self.read_sigma[t.r0:t.r1, t.p0:t.p1] * self._read_rng.standard_normal(
                g.shape)
        if self.r_row == 0.0:
            return v_rows @ g
        if self.ir_solver == "exact":
            return solve_exact(g, v_rows, self.r_row, self.r_col)
        return solve_iterative(g, v_rows, self.r_row, self.r_col)[0]

    def column_currents(self, v_rows, noise=True):
        """Physical column currents (A) into the virtual grounds for row voltages ``v_rows``
        (V, one per row of W): shape (physical columns,) when W fits one row of arrays,
        else (row tiles, physical columns), one row per array row. Read noise (``noise``)
        and IR drop apply as configured; no ADC."""
        self._need_weights()
        v = check_finite_array("v_rows", v_rows)
        if v.shape != (self.n_in,):
            fail("v_rows.shape", f"({self.n_in},) (one voltage per row)", v.shape)
        starts = sorted({t.r0 for t in self.tiles})
        out = np.zeros((len(starts), self.n_phys))
        for t in self.tiles:
            out[starts.index(t.r0), t.p0:t.p1] = self._tile_currents(t, v[t.r0:t.r1], noise)
        return out[0] if len(starts) == 1 else out

    def matvec(self, x, noise=True):
        """y = x @ W computed by the arrays: x (n_in,) or (batch, n_in) in [-1, 1] drives the
        rows with x v_read (through the DAC), the net column currents go through the ADC,
        drift compensation and k_w, and the row tiles' partial sums are added. Returns
        (n_out,) or (batch, n_out)."""
        self._need_weights()
        single = np.ndim(x) == 1
        xs = self._inputs(x)
        v = self._dac(xs) * self.device.v_read
        y = np.zeros((xs.shape[0], self.n_out))
        for t in self.tiles:
            if self.r_row == 0.0:
                g = self._g[t.r0:t.r1, t.p0:t.p1]
                cur = v[:, t.r0:t.r1] @ g
                if noise and self.read_noise:   # per-device noise, summed over the rows
                    s = np.sqrt((v[:, t.r0:t.r1] ** 2) @ self.read_sigma[t.r0:t.r1,
                                                                         t.p0:t.p1] ** 2)
                    cur = cur + s * self._read_rng.standard_normal(cur.shape)
            else:
                cur = np.stack([self._tile_currents(t, vb[t.r0:t.r1], noise) for vb in v])
            y[:, t.k0:t.k1] += self._adc(self._net(cur, t), t) * t.alpha * self.k_w
        return y[0] if single else y

    def ir_drop(self, v_rows):
        """Share of the ideal column current lost in the wires for row voltages v_rows
        (no read noise), per row tile."""
        self._need_weights()
        v = check_finite_array("v_rows", v_rows)
        if v.shape != (self.n_in,):
            fail("v_rows.shape", f"({self.n_in},) (one voltage per row)", v.shape)
        out = []
        for t in self.tiles:
            g = self._g[t.r0:t.r1, t.p0:t.p1]
            out.append(mean_drop(v[t.r0:t.r1] @ g, self._tile_currents(t, v[t.r0:t.r1], False)))
        return float(np.max(out))

    # ------------------------------------------------------------------ reporting
    def area(self):
        """Area estimate (m^2): cells x cell area + one ADC per weight column per tile (when
        an ADC is used), from the device preset (``cell_area``) and the ADC table of the
        crossbar energy profile."""
        self._need_weights()
        cached = getattr(self, "_area", None)          # (adc_bits, figures): counts() asks often
        if cached is not None and cached[0] == self.adc_bits:
            return dict(cached[1])
        from ..energy.profiles import load_energy_profile
        prof = load_energy_profile("crossbar_rram")
        cell = prof.param("cell_area")
        adc = prof.param("adc_area") if self.adc_bits is not None else 0.0
        cells = sum((t.r1 - t.r0) * (t.p1 - t.p0) for t in self.tiles)
        convs = sum(t.k1 - t.k0 for t in self.tiles)
        out = dict(cells=cells * cell, adc=convs * adc, total=cells * cell + convs * adc,
                   tiles=len(self.tiles), cell_area=cell, adc_area=adc)
        self._area = (self.adc_bits, out)
        return dict(out)

    def __repr__(self):
        if self.W is None:
            return f"Crossbar(device={self.device.key!r}, array={self.array}, unprogrammed)"
        return (f"Crossbar({self.n_in}x{self.n_out}, device={self.device.key!r}, "
                f"{len(self.tiles)} arrays of {self.array[0]}x{self.array[1]}, "
                f"{self.mapping})")


def _block(arr, t):
    """Tile t's part of a (rows, physical columns) array."""
    return arr[t.r0:t.r1, t.p0:t.p1]


def _flag(name, value):
    if not isinstance(value, (bool, np.bool_)):
        fail(name, "True or False", value)
    return bool(value)
