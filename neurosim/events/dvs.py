"""Event camera (DVS) model: per-pixel log-intensity change detectors.

The model of the published DVS simulators (ESIM, Rebecq et al. 2018; v2e, Hu et al. 2021),
applied to a sequence of frames ``I_k`` (intensities >= 0, one every ``dt`` seconds):

- every pixel holds a reference ``L_ref`` of its log intensity ``L = log(I + eps)``
  (``eps``: a dark level that keeps the log finite, as ESIM's ``log_eps``);
- between two frames ``L`` moves linearly from ``L_k`` to ``L_k+1`` (ESIM's interpolation);
  an ON event is emitted when ``L`` reaches ``L_ref + C_on``, an OFF event when it reaches
  ``L_ref - C_off``; each event moves ``L_ref`` by one threshold in its direction, so a
  change of ``n`` thresholds gives ``n`` events, at the interpolated crossing times;
- per-pixel threshold mismatch: ``C_on`` and ``C_off`` of each pixel are drawn once from
  ``N(C, sigma)`` (clipped below at ``c_min``), as v2e's ``sigma_thres``;
- refractory period: after an event a pixel emits nothing for ``refractory`` seconds; a
  crossing inside that time fires when it ends (at ``t_last + refractory``, possibly in a
  later frame interval) if ``L`` is still beyond the threshold then, even if it has turned
  back since, and the reference moves only with emitted events (v2e);
- background noise: Poisson events at ``noise_rate`` Hz per pixel, uniform in time, ON with
  probability ``noise_on_fraction`` (v2e's shot noise); they bypass the refractory filter and
  leave the reference unchanged.

Order within one frame interval ``[t_k, t_k+1]``: per pixel, repeatedly take the first time
``t >= t_last + refractory`` in the interval at which ``L`` is beyond either threshold, fire
there with that polarity and move the reference; stop when no pixel fires. The first frame
sets the references (no events).

Events are a structured array of ``t`` (s, float64), ``x``, ``y`` (int16 pixel columns and
rows) and ``p`` (int8, +1 ON / -1 OFF), sorted by time.
"""

from dataclasses import dataclass

import numpy as np

from ..validation import check_nonnegative, check_positive, check_probability, fail

__all__ = ["DVS", "DVS_MODEL_REVISION", "EVENT_DTYPE", "make_events"]

#: Revision of the pixel model (data set caches made by another revision are rebuilt); 2:
#: crossings held by the refractory period fire even when L turned back in a later
#: interval, and exact multiples of a threshold give their last event.
DVS_MODEL_REVISION = 2

#: Margin (log units) of the threshold comparisons: a change of exactly n thresholds gives n
#: events although the reference, moved by repeated additions, carries rounding error.
_TIE = 1e-12

EVENT_DTYPE = np.dtype([("t", np.float64), ("x", np.int16), ("y", np.int16), ("p", np.int8)])


def make_events(t, x, y, p):
    """A time-sorted event array from its columns (stable for equal times)."""
    ev = np.empty(len(t), EVENT_DTYPE)
    ev["t"], ev["x"], ev["y"], ev["p"] = t, x, y, p
    return ev[np.argsort(ev["t"], kind="stable")]


@dataclass(frozen=True)
class DVS:
    """Parameters of the event-camera model (module docstring).

    Parameters
    ----------
    c_on, c_off : float
        Contrast thresholds in log-intensity units (v2e's default 0.2).
    sigma : float
        Standard deviation of the per-pixel thresholds (log units; v2e's 0.03).
    refractory : float
        Refractory period (s).
    noise_rate : float
        Background (shot-noise) events per pixel and second (Hz).
    noise_on_fraction : float
        Probability that a noise event is ON.
    eps : float
        Dark level added before the log (intensity units).
    c_min : float
        Smallest threshold a pixel may draw (log units).
    """
    c_on: float = 0.2
    c_off: float = 0.2
    sigma: float = 0.03
    refractory: float = 1e-3
    noise_rate: float = 0.1
    noise_on_fraction: float = 0.5
    eps: float = 0.1
    c_min: float = 0.01

    def __post_init__(self):
        check_positive("c_on", self.c_on)
        check_positive("c_off", self.c_off)
        check_nonnegative("sigma", self.sigma)
        check_nonnegative("refractory", self.refractory, "s")
        check_nonnegative("noise_rate", self.noise_rate, "Hz")
        check_probability("noise_on_fraction", self.noise_on_fraction)
        check_positive("eps", self.eps)
        check_positive("c_min", self.c_min)

    def thresholds(self, shape, rng):
        """Per-pixel (C_on, C_off) arrays of ``shape`` drawn with the mismatch ``sigma``."""
        on = np.maximum(self.c_on + self.sigma * rng.standard_normal(shape), self.c_min)
        off = np.maximum(self.c_off + self.sigma * rng.standard_normal(shape), self.c_min)
        return on, off

    def simulate(self, frames, dt, seed=0, t0=0.0):
        """Events of ``frames`` (shape (steps + 1, height, width), intensities >= 0, one
        frame every ``dt`` s from ``t0``). Returns a structured array (``EVENT_DTYPE``)."""
        frames = np.asarray(frames, dtype=np.float64)
        if frames.ndim != 3 or frames.shape[0] < 2:
            fail("frames", "an array (steps + 1, height, width) with at least 2 frames",
                 frames.shape)
        t, pix, p = self.simulate_flat(frames.reshape(frames.shape[0], -1), dt,
                                       np.random.default_rng(seed), t0)
        y, x = np.unravel_index(pix, frames.shape[1:])
        return make_events(t, x, y, p)

    def simulate_flat(self, frames, dt, rng, t0=0.0):
        """Core of :meth:`simulate` on frames of shape (steps + 1, pixels): returns
        ``(t, pixel, polarity)`` arrays in emission order (noise last), unsorted. Any number
        of sequences can share one call (pixels of several images side by side)."""
        check_positive("dt", dt, "s")
        if np.any(frames < 0) or not np.all(np.isfinite(frames)):
            fail("frames", "finite intensities >= 0", "negative or non-finite values")
        n_pix = frames.shape[1]
        c_on, c_off = self.thresholds(n_pix, rng)
        ref = np.log(frames[0] + self.eps)
        last = np.full(n_pix, -np.inf)
        out_t, out_i, out_p = [], [], []
        l0 = ref.copy()
        for k in range(1, frames.shape[0]):
            l1 = np.log(frames[k] + self.eps)
            ta = t0 + (k - 1) * dt
            self._interval(l0, l1, ta, dt, ref, last, c_on, c_off, out_t, out_i, out_p)
            l0 = l1
        duration = (frames.shape[0] - 1) * dt
        n_noise = rng.poisson(self.noise_rate * duration, n_pix)
        if n_noise.any():
            out_i.append(np.repeat(np.arange(n_pix), n_noise))
            out_t.append(t0 + rng.random(out_i[-1].size) * duration)
            out_p.append(np.where(rng.random(out_i[-1].size) < self.noise_on_fraction, 1, -1))
        if not out_t:
            return np.zeros(0), np.zeros(0, np.int64), np.zeros(0, np.int8)
        return (np.concatenate(out_t), np.concatenate(out_i).astype(np.int64),
                np.concatenate(out_p).astype(np.int8))

    def _interval(self, l0, l1, ta, dt, ref, last, c_on, c_off, out_t, out_i, out_p):
        """Events of every pixel between ``ta`` and ``ta + dt`` (updates ref and last).

        L is linear in the interval, so a pixel can fire only if L is beyond a threshold at
        one of its ends. Its next event is at the first time ``t >= max(ta, last +
        refractory)`` at which L is beyond ``ref + C_on`` or ``ref - C_off``: at once if L
        is beyond there already (a crossing held back by the refractory period, fired if L
        is still beyond when it ends, even if L has turned back since), else where L
        crosses the level. Levels are compared with a margin of ``_TIE`` so that a change
        of exactly n thresholds gives n events despite the rounding of the reference."""
        tb = ta + dt
        span = l1 - l0
        idx = np.flatnonzero((np.maximum(l0, l1) >= ref + c_on - _TIE)
                             | (np.minimum(l0, l1) <= ref - c_off + _TIE))
        while idx.size:
            a, s, r = l0[idx], span[idx], ref[idx]
            ts = np.maximum(ta, last[idx] + self.refractory)     # first time it may fire
            up, dn = r + c_on[idx], r - c_off[idx]
            lts = a + s * ((ts - ta) / dt)
            with np.errstate(divide="ignore", invalid="ignore"):
                t_up = np.where(lts >= up - _TIE, ts,
                                np.where((s > 0) & (a + s >= up - _TIE),
                                         ta + np.clip((up - a) / s, 0.0, 1.0) * dt, np.inf))
                t_dn = np.where(lts <= dn + _TIE, ts,
                                np.where((s < 0) & (a + s <= dn + _TIE),
                                         ta + np.clip((dn - a) / s, 0.0, 1.0) * dt, np.inf))
            on = t_up <= t_dn
            te = np.maximum(np.where(on, t_up, t_dn), ts)
            fire = te <= tb
            idx, te, on, a, s = idx[fire], te[fire], on[fire], a[fire], s[fire]
            if not idx.size:
                break
            level = np.where(on, up[fire], dn[fire])
            out_t.append(te)
            out_i.append(idx)
            out_p.append(np.where(on, 1, -1))
            ref[idx] = level
            last[idx] = te
            # beyond the new reference anywhere in [te, tb]: at te or at tb (L is linear)
            lte, b = a + s * ((te - ta) / dt), a + s
            more = ((np.maximum(lte, b) >= level + c_on[idx] - _TIE)
                    | (np.minimum(lte, b) <= level - c_off[idx] + _TIE))
            idx = idx[more]
