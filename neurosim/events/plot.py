"""Plots of event streams (matplotlib, imported when called)."""

import numpy as np

__all__ = ["event_frame", "raster"]


def _axes(ax, figsize=(4, 4)):
    import matplotlib.pyplot as plt
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def event_frame(events, shape, ax=None, title=None, t_range=None):
    """ON (red) minus OFF (blue) event counts per pixel, optionally within ``t_range``
    (s, s). Returns the axes."""
    ax = _axes(ax)
    if t_range is not None:
        events = events[(events["t"] >= t_range[0]) & (events["t"] < t_range[1])]
    img = np.zeros(tuple(shape))
    np.add.at(img, (events["y"], events["x"]), events["p"].astype(np.float64))
    lim = max(1.0, float(np.abs(img).max()))
    im = ax.imshow(img, cmap="bwr", vmin=-lim, vmax=lim, interpolation="nearest")
    ax.figure.colorbar(im, ax=ax, fraction=0.046, label="ON - OFF events")
    ax.set_title(title or f"{len(events):,} events")
    ax.set_xticks([])
    ax.set_yticks([])
    return ax


def raster(events, shape, ax=None, title=None):
    """Event raster: time vs pixel index (row-major), ON red and OFF blue."""
    ax = _axes(ax, (6, 3))
    pix = events["y"].astype(np.int64) * shape[1] + events["x"]
    for pol, color, label in ((1, "tab:red", "ON"), (-1, "tab:blue", "OFF")):
        m = events["p"] == pol
        ax.plot(events["t"][m] * 1e3, pix[m], ".", ms=1.5, color=color,
                label=f"{label} ({int(m.sum()):,})")
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("pixel (row-major)")
    ax.legend(loc="upper right", fontsize=7, markerscale=5)
    ax.set_title(title or "events by polarity")
    return ax
