"""Saccade digits: scikit-learn's 8x8 digits seen by the DVS model while moving, as N-MNIST.

N-MNIST (Orchard et al. 2015) was recorded by an ATIS camera making three saccades (an
isosceles triangle of movements) in front of MNIST digits on a screen. Here, with no download:

1. every image of ``sklearn.datasets.load_digits`` (1,797, values 0-16, scaled to [0, 1])
   is upsampled ``zoom`` times (bilinear) and placed on a black ``canvas`` x ``canvas``
   background;
2. the image moves along three straight saccades of ``saccade`` seconds each, through the
   corners (0, 0) -> (A, A/2) -> (0, A) -> (0, 0) in (rows, columns), ``A = amplitude``
   pixels (speed ``A / saccade`` ... ``1.1 A / saccade`` pixels per second), sampled every
   ``dt`` s with bilinear interpolation;
3. :class:`~neurosim.events.dvs.DVS` turns the frames into ON/OFF events.

The split into train and test is stratified and fixed by ``seed`` (scikit-learn's
``train_test_split``, as :func:`neurosim.convert.load_digits`), and so are the event draws:
the same arguments give the same events. ``load_saccade_digits(cache=path)`` stores the
result in an ``.npz`` (no pickles) and reads it back when the arguments match.
"""

import json
import os
from dataclasses import asdict, dataclass

import numpy as np
from scipy import ndimage

from ..validation import check_int, check_positive, fail
from .dvs import DVS, DVS_MODEL_REVISION, EVENT_DTYPE

__all__ = ["EventSet", "SaccadeDigits", "make_saccade_digits", "saccade_events",
           "digit_split", "saccade_path", "saccade_frames", "load_saccade_digits",
           "to_steps", "to_frames"]


@dataclass
class EventSet:
    """Events of many samples, concatenated: sample ``i`` is ``events[ptr[i]:ptr[i + 1]]``.

    Attributes
    ----------
    events : structured array (``EVENT_DTYPE``: t, x, y, p), each sample sorted by time
    ptr : int64 array (n + 1,)
    labels : int64 array (n,)
    shape : (height, width)
    duration : float
        Length of every sample (s).
    """
    events: np.ndarray
    ptr: np.ndarray
    labels: np.ndarray
    shape: tuple
    duration: float

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        """Events of sample ``i``."""
        return self.events[self.ptr[i]:self.ptr[i + 1]]

    def counts(self):
        """Events per sample."""
        return np.diff(self.ptr)

    def thinned(self, keep, seed=0):
        """A copy keeping each event with probability ``keep`` (sparser input)."""
        mask = np.random.default_rng(seed).random(len(self.events)) < keep
        sample = np.repeat(np.arange(len(self)), np.diff(self.ptr))
        ptr = np.concatenate([[0], np.cumsum(np.bincount(sample[mask], minlength=len(self)))])
        return EventSet(self.events[mask], ptr.astype(np.int64), self.labels, self.shape,
                        self.duration)

    def subset(self, index):
        index = np.asarray(index, dtype=np.int64)
        parts = [self[i] for i in index]
        ptr = np.concatenate([[0], np.cumsum([len(p) for p in parts])]).astype(np.int64)
        ev = np.concatenate(parts) if parts else np.zeros(0, EVENT_DTYPE)
        return EventSet(ev, ptr, self.labels[index], self.shape, self.duration)

    def steps(self, dt, index=None, clip=True):
        """Samples as spike arrays (n, steps, 2, height, width); see :func:`to_steps`."""
        index = range(len(self)) if index is None else index
        return np.stack([to_steps(self[i], self.shape, self.duration, dt, clip)[0]
                         for i in index])

    def frames(self):
        """Accumulated event frames (n, 2, height, width): ON and OFF counts per pixel over
        the whole sample (the input of a frame-based CNN at one frame per sample)."""
        out = np.zeros((len(self), 2) + tuple(self.shape), np.float32)
        for i in range(len(self)):
            out[i] = to_frames(self[i], self.shape)
        return out


@dataclass
class SaccadeDigits:
    """Train and test :class:`EventSet` and the settings they were made with."""
    train: EventSet
    test: EventSet
    settings: dict


def to_frames(events, shape):
    """ON and OFF event counts per pixel: array (2, height, width) (channel 0 = ON)."""
    out = np.zeros((2,) + tuple(shape), np.float32)
    np.add.at(out, ((events["p"] < 0).astype(np.int64), events["y"], events["x"]), 1.0)
    return out


def to_steps(events, shape, duration, dt, clip=True):
    """Events binned into time steps of ``dt``: array (steps, 2, height, width) of counts,
    ``steps = round(duration / dt)``; with ``clip`` at most one spike per pixel, polarity
    and step (the input a spiking chip receives: a second event in the same step merges).
    Returns ``(array, merged)`` with the number of events merged away."""
    steps = int(round(duration / dt))
    if steps < 1:
        fail("dt", f"<= the duration {duration:g} s", dt)
    k = np.minimum((events["t"] / dt).astype(np.int64), steps - 1)
    out = np.zeros((steps, 2) + tuple(shape), np.float32)
    np.add.at(out, (k, (events["p"] < 0).astype(np.int64), events["y"], events["x"]), 1.0)
    merged = 0
    if clip:
        merged = int(np.sum(np.maximum(out - 1.0, 0.0)))
        np.minimum(out, 1.0, out=out)
    return out, merged


def saccade_path(amplitude, saccade, dt):
    """(rows, cols) offsets of the three saccades at ``t = 0, dt, ..., 3 saccade``."""
    corners = np.array([[0.0, 0.0], [amplitude, amplitude / 2], [0.0, amplitude],
                        [0.0, 0.0]])
    n = int(round(saccade / dt))
    if n < 1:
        fail("dt", f"<= the saccade duration {saccade:g} s", dt)
    seg = [corners[s] + (corners[s + 1] - corners[s]) * (np.arange(n) / n)[:, None]
           for s in range(3)]
    return np.concatenate(seg + [corners[3:]])


def saccade_frames(images, amplitude=2.0, saccade=0.03, dt=1e-3, zoom=3, canvas=28):
    """Frames (steps + 1, n, canvas, canvas) of the images (n, h, w) moving on the path."""
    images = np.asarray(images, dtype=np.float64)
    big = np.clip(ndimage.zoom(images, (1, zoom, zoom), order=1), 0.0, 1.0)
    h, w = big.shape[1:]
    if max(h, w) + amplitude > canvas:
        fail("canvas", f">= the zoomed image ({h}x{w}) + amplitude ({amplitude:g})", canvas)
    base = np.zeros((len(images), canvas, canvas))
    base[:, :h, :w] = big
    start = (canvas - np.array([h, w]) - np.array([amplitude, amplitude])) / 2
    path = saccade_path(amplitude, saccade, dt)
    return np.stack([ndimage.shift(base, (0, *(start + off)), order=1, mode="constant")
                     for off in path])


def saccade_events(images, labels, dvs=None, amplitude=2.0, saccade=0.03, dt=1e-3, zoom=3,
                   canvas=28, seed=0, batch=256):
    """Events of ``images`` (n, h, w, values in [0, 1]) moved by the three saccades and seen
    by ``dvs`` (default :class:`DVS`): an :class:`EventSet` with ``labels``. Deterministic
    for a given ``seed`` (and ``batch``: the draws are made per batch of images)."""
    dvs = DVS() if dvs is None else dvs
    check_positive("amplitude", amplitude, "pixels")
    check_positive("saccade", saccade, "s")
    check_int("zoom", zoom, 1)
    check_int("canvas", canvas, 1)
    images = np.asarray(images, dtype=np.float64)
    rng = np.random.default_rng(seed)
    evs, counts = [], []
    for s in range(0, len(images), batch):
        fr = saccade_frames(images[s:s + batch], amplitude, saccade, dt, zoom, canvas)
        t, pix, p = dvs.simulate_flat(fr.reshape(fr.shape[0], -1), dt, rng)
        sample, rest = np.divmod(pix, canvas * canvas)
        order = np.lexsort((t, sample))
        ev = np.empty(len(t), EVENT_DTYPE)
        ev["t"], ev["p"] = t[order], p[order]
        ev["y"], ev["x"] = np.divmod(rest[order], canvas)
        evs.append(ev)
        counts.append(np.bincount(sample, minlength=fr.shape[1]))
    ptr = np.concatenate([[0], np.cumsum(np.concatenate(counts))]).astype(np.int64)
    duration = 3 * int(round(saccade / dt)) * dt
    return EventSet(np.concatenate(evs), ptr, np.asarray(labels, np.int64), (canvas, canvas),
                    duration)


def digit_split(test_fraction=0.2, seed=0, n=None):
    """scikit-learn's digits scaled to [0, 1]: ``(images, labels, train index, test
    index)``, split stratified by ``seed``; ``n`` keeps the first n images."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    d = load_digits()
    x, y = d.images / 16.0, d.target.astype(np.int64)
    if n is not None:
        x, y = x[:check_int("n", n, 50)], y[:n]     # a stratified split needs 50
    if not 0 < test_fraction < 1:
        fail("test_fraction", "in (0, 1)", test_fraction)
    idx_tr, idx_te = train_test_split(np.arange(len(y)), test_size=test_fraction,
                                      random_state=seed, stratify=y)
    return x, y, idx_tr, idx_te


def make_saccade_digits(dvs=None, amplitude=2.0, saccade=0.03, dt=1e-3, zoom=3, canvas=28,
                        test_fraction=0.2, seed=0, n=None, batch=256):
    """Build the data set (module docstring). ``n`` keeps the first n images of sklearn's
    order (before the split) for small runs. Returns a :class:`SaccadeDigits`."""
    x, y, idx_tr, idx_te = digit_split(test_fraction, seed, n)
    full = saccade_events(x, y, dvs, amplitude, saccade, dt, zoom, canvas, seed, batch)
    settings = _settings(dvs, amplitude, saccade, dt, zoom, canvas, test_fraction, seed, n,
                         batch)
    return SaccadeDigits(full.subset(idx_tr), full.subset(idx_te), settings)


def load_saccade_digits(cache=None, **kwargs):
    """:func:`make_saccade_digits` with an optional ``.npz`` cache (``allow_pickle=False``):
    read when it holds the same settings, else built and written."""
    if cache is not None and os.path.exists(cache):
        with np.load(cache, allow_pickle=False) as z:
            want = json.dumps(_settings(**kwargs), sort_keys=True)
            if str(z["settings"]) == want:
                sets = [EventSet(z[f"{k}_events"], z[f"{k}_ptr"], z[f"{k}_labels"],
                                 tuple(int(v) for v in z["shape"]), float(z["duration"]))
                        for k in ("train", "test")]
                return SaccadeDigits(*sets, json.loads(want))
    data = make_saccade_digits(**kwargs)
    if cache is not None:
        os.makedirs(os.path.dirname(os.path.abspath(cache)), exist_ok=True)
        arrays = {f"{k}_{f}": getattr(getattr(data, k), f) for k in ("train", "test")
                  for f in ("events", "ptr", "labels")}
        np.savez(cache, settings=json.dumps(_settings(**kwargs), sort_keys=True),
                 shape=np.array(data.train.shape), duration=data.train.duration, **arrays)
    return data


def _settings(dvs=None, amplitude=2.0, saccade=0.03, dt=1e-3, zoom=3, canvas=28,
              test_fraction=0.2, seed=0, n=None, batch=256):
    """The settings that determine the data (``batch`` too: the random stream is drawn per
    batch of images; ``model``: the DVS model's revision, so that caches made by an earlier
    one are not read)."""
    return dict(model=DVS_MODEL_REVISION, dvs=asdict(DVS() if dvs is None else dvs),
                amplitude=amplitude,
                saccade=saccade, dt=dt, zoom=zoom, canvas=canvas, test_fraction=test_fraction,
                seed=seed, n=n, batch=batch)
