"""Standard figures: spike rasters and state traces (matplotlib, imported lazily)."""

import numpy as np

__all__ = ["raster", "traces"]


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt
        _, ax = plt.subplots(figsize=(8, 4))
    return ax


def raster(monitors, ax=None, t_unit=1e-3, max_points=200_000):
    """Spike raster of one or more SpikeMonitors, stacked, time in ms by default.

    Populations are drawn one above the other with their names on the y axis. At most
    ``max_points`` spikes are drawn (evenly thinned beyond that, and the title says so).
    """
    from .monitors import SpikeMonitor
    ax = _axes(ax)
    monitors = [monitors] if isinstance(monitors, SpikeMonitor) else list(monitors)
    offset, ticks, labels = 0, [], []
    total = sum(m.num_spikes for m in monitors)
    stride = max(1, int(np.ceil(total / max_points)))
    for m in monitors:
        t, i = m.times[::stride], m.indices[::stride]
        ax.plot(t / t_unit, i + offset, ".", ms=1.5, color=f"C{len(ticks)}")
        ticks.append(offset + m.pop.n / 2)
        labels.append(m.pop.name)
        offset += m.pop.n
    ax.set_yticks(ticks)
    ax.set_yticklabels(labels)
    ax.set_ylim(0, max(offset, 1))
    ax.set_xlabel("time (ms)" if t_unit == 1e-3 else f"time (x{t_unit:g} s)")
    if stride > 1:
        ax.set_title(f"{total} spikes (every {stride}th drawn)")
    return ax


def traces(monitor, ax=None, t_unit=1e-3, y_unit=1e-3, y_label=None):
    """Traces of a StateMonitor, one line per recorded neuron (mV vs ms by default)."""
    ax = _axes(ax)
    ax.plot(monitor.t / t_unit, monitor.values / y_unit, lw=0.8)
    ax.set_xlabel("time (ms)" if t_unit == 1e-3 else "time")
    ax.set_ylabel(y_label or f"{monitor.pop.name}.{monitor.var}" + (" (mV)" if y_unit == 1e-3
                                                                     else ""))
    return ax


def energy_bars(values, ax=None, title="Energy per inference", colors=None):
    """Horizontal bars of energy (J) per label, log scale, each bar labelled with its value.

    ``values``: dict label -> joules (None or nan bars are drawn as 'n/a')."""
    from .energy.estimate import fmt_energy
    ax = _axes(ax)
    labels = [*values]
    vals = [values[k] for k in labels]
    ok = [v is not None and v == v and v > 0 for v in vals]
    y = np.arange(len(labels))
    ax.barh(y[ok], [v for v, o in zip(vals, ok) if o],
            color=None if colors is None else [c for c, o in zip(colors, ok) if o])
    ax.set_xscale("log")
    lo = min([v for v, o in zip(vals, ok) if o] or [1e-12])
    for yi, v, o in zip(y, vals, ok):
        ax.text(v if o else lo, yi, f" {fmt_energy(v) if o else 'n/a'}", va="center",
                fontsize=8)
    ax.set_yticks(y)
    ax.set_yticklabels(labels)
    ax.invert_yaxis()
    ax.set_xlabel("energy per inference (J)")
    ax.set_title(title)
    return ax
