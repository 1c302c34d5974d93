"""Standard figures: spike rasters, state traces and energy bars (matplotlib, imported lazily).

Conventions of every neuron plot: time in ms, potentials and the CUBA synaptic "currents"
(volts, as in Brian2's CUBA) in mV, Loihi registers as integers; every axis is labelled with
its unit.

Rasters stay readable at any size: up to ``max_spikes`` spikes are all drawn; above that,
every k-th neuron is drawn (all of its spikes), and when a neuron row would hold more spikes
than can be told apart (a long run), the raster becomes a binned image of the mean rate per
time bin and group of neurons. The title says which (``raster_mode``).
"""

import math

import numpy as np

__all__ = ["raster", "raster_figure", "classifier_raster", "traces", "energy_bars",
           "raster_mode"]

#: above this many spikes per neuron row, a raster is drawn as a binned rate image
MAX_SPIKES_PER_ROW = 40
MAX_SPIKES = 20_000
#: potentials and CUBA currents (V) are drawn in mV
MV = 1e-3
MS = 1e-3


def _axes(ax, figsize=(8, 4)):
    if ax is None:
        import matplotlib.pyplot as plt
        _, ax = plt.subplots(figsize=figsize)
    return ax


def _monitors(monitors):
    from .monitors import SpikeMonitor
    return [monitors] if isinstance(monitors, SpikeMonitor) else list(monitors)


def _duration(monitors, duration):
    if duration is not None:
        return float(duration)
    t = max((float(m.pop.net.t) for m in monitors), default=0.0)
    return t or max((float(m.times.max()) for m in monitors if m.num_spikes), default=1.0)


def raster_mode(total_spikes, rows, max_spikes=MAX_SPIKES):
    """How a raster of ``total_spikes`` over ``rows`` neurons is drawn.

    Returns ``(mode, stride)``: ``("all", 1)``, ``("thinned", k)`` (every k-th neuron is
    drawn) or ``("binned", 0)`` (mean rate image: rows would be solid lines of spikes).
    """
    if total_spikes <= max_spikes:
        return "all", 1
    if total_spikes / max(rows, 1) > MAX_SPIKES_PER_ROW:
        return "binned", 0
    return "thinned", int(math.ceil(total_spikes / max_spikes))


def _marker(rows, height_px, dpi=100):
    """(marker, size in points, edge width) for ``rows`` neuron rows in ``height_px``
    pixels: a tick per spike when rows are tall, else a round dot (at least 1.2 points
    across, so that a sparse raster stays visible)."""
    per_row = height_px / max(rows, 1) * 72.0 / dpi
    if per_row >= 4.5:
        return "|", min(12.0, 0.8 * per_row), 1.2
    return "o", max(1.2, min(3.0, 0.8 * per_row)), 0


def _draw_spikes(ax, m, offset, stride, color, marker):
    t, i = m.times, m.indices
    if stride > 1:
        keep = i % stride == 0
        t, i = t[keep], i[keep]
    shape, size, width = marker
    ax.plot(t / MS, i + offset, shape, ms=size, mew=width, color=color, ls="none")
    return int(t.size)


def _draw_binned(ax, mons, offsets, duration, rows_total):
    """Mean rate (Hz) per time bin and group of neurons, one image over all populations."""
    t_bins = int(min(200, max(10, round(duration / mons[0].pop.net.dt))))
    group = max(1, int(math.ceil(rows_total / 150)))
    edges_t = np.linspace(0.0, duration, t_bins + 1)
    edges_n = np.arange(0, rows_total + group, group)
    h = np.zeros((edges_n.size - 1, t_bins))
    for m, off in zip(mons, offsets):
        h += np.histogram2d(m.indices + off, m.times, bins=(edges_n, edges_t))[0]
    rate = h / (group * (duration / t_bins))
    im = ax.imshow(rate, aspect="auto", origin="lower", interpolation="nearest",
                   extent=(0, duration / MS, -0.5, edges_n[-1] - 0.5), cmap="viridis")
    cb = ax.figure.colorbar(im, ax=ax, pad=0.01)
    cb.set_label("mean rate (Hz)")
    return (f"binned: mean rate per {duration / t_bins / MS:.3g} ms"
            + (f" and {group} neurons" if group > 1 else ""))


def raster(monitors, ax=None, max_spikes=MAX_SPIKES, labels=None, duration=None, title=None,
           first_color=0):
    """Spike raster of one or more SpikeMonitors, stacked in one axes, time in ms.

    Populations are drawn one above the other (the first at the bottom), separated by a line,
    with their names on the y axis; no spike sits on the frame. ``labels``: names for the
    neurons of a population with few neurons (``{"output": ["0", ..., "9"]}``), drawn as the y
    ticks of a one-population raster. Beyond ``max_spikes`` spikes, the raster is thinned or
    binned (see :func:`raster_mode`) and the title says so; ``title`` comes first.
    """
    ax = _axes(ax)
    mons = _monitors(monitors)
    duration = _duration(mons, duration)
    rows = sum(m.pop.n for m in mons)
    total = sum(m.num_spikes for m in mons)
    mode, stride = raster_mode(total, rows, max_spikes)
    offsets = np.cumsum([0] + [m.pop.n for m in mons[:-1]]).tolist()
    note = None
    if mode == "binned":
        note = _draw_binned(ax, mons, offsets, duration, rows) + f" ({total:,} spikes)"
    else:
        marker = _marker(rows / stride, ax.get_window_extent().height or 300,
                         ax.figure.dpi)
        drawn = sum(_draw_spikes(ax, m, off, stride, f"C{k + first_color}", marker)
                    for k, (m, off) in enumerate(zip(mons, offsets)))
        if mode == "thinned":
            note = f"thinned: 1 neuron in {stride} drawn ({drawn:,} of {total:,} spikes)"
    for off in offsets[1:]:
        ax.axhline(off - 0.5, color="0.6", lw=0.6)
    pad = max(0.6, 0.02 * rows)
    ax.set_ylim(-0.5 - pad, rows - 0.5 + pad)
    ax.set_xlim(0, duration / MS)
    labels = labels or {}
    if len(mons) == 1:
        m = mons[0]
        if m.pop.name in labels or m.pop.n <= 12:
            ax.set_yticks(range(m.pop.n))
            ax.set_yticklabels(labels.get(m.pop.name, [str(i) for i in range(m.pop.n)]),
                               fontsize=8)
        else:
            from matplotlib.ticker import MaxNLocator
            ax.yaxis.set_major_locator(MaxNLocator(4, integer=True))
        ax.set_ylabel(f"{m.pop.name}\nneuron")
    else:
        ax.set_yticks([off + m.pop.n / 2 - 0.5 for m, off in zip(mons, offsets)])
        ax.set_yticklabels([f"{m.pop.name}\n({m.pop.n:,})" for m in mons])
        ax.set_ylabel("neuron (by population)" if len(mons) > 1 else "neuron")
    ax.set_xlabel("time (ms)")
    heading = [s for s in (title, note) if s]
    if heading:
        ax.set_title("\n".join(heading), fontsize=10)
    ax.raster_mode = mode
    return ax


def raster_figure(monitors, title=None, labels=None, max_spikes=MAX_SPIKES, duration=None,
                  width=9.0):
    """One raster panel per population (the last population on top), sharing the time axis
    (ms): a population of 10 neurons stays visible next to one of 4000. Each panel is thinned
    or binned on its own (its title says so). Returns the figure."""
    import matplotlib.pyplot as plt
    mons = _monitors(monitors)[::-1]
    labels = labels or {}
    ratios = [max(1.0, 0.16 * m.pop.n) if (m.pop.name in labels or m.pop.n <= 12)   # a row
              else max(1.0, min(2.5, m.pop.n / 40)) for m in mons]                  # per tick
    fig, axes = plt.subplots(len(mons), 1, figsize=(width, 0.8 + 1.1 * sum(ratios)),
                             sharex=True, squeeze=False,
                             gridspec_kw=dict(height_ratios=ratios))
    duration = _duration(mons, duration)
    budget = max_spikes / len(mons)
    for k, (ax, m) in enumerate(zip(axes[:, 0], mons)):
        raster([m], ax=ax, max_spikes=budget, labels=labels, duration=duration,
               first_color=len(mons) - 1 - k)
        if ax.get_title():                   # the panel's thinning note, small, at the right
            note = ax.get_title()
            ax.set_title("")
            ax.set_title(note, fontsize=8, loc="right")
        if ax is not axes[-1, 0]:
            ax.set_xlabel("")
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def classifier_raster(monitors, label=None, title=None):
    """:func:`raster_figure` of a classifier's layers (the last monitor is the output layer,
    one neuron per class): each output row is named "class c (k spikes)" and the winning
    class (most output spikes, ties to the lowest index) is highlighted. ``label``: the true
    class, for the title. Returns ``(figure, predicted class)``."""
    mons = _monitors(monitors)
    counts = mons[-1].counts
    pred = int(np.argmax(counts))
    head = (f"true class {label}, " if label is not None else "") + \
        f"predicted {pred} (most output spikes)"
    fig = raster_figure(mons, title=f"{title}: {head}" if title else head,
                        labels={mons[-1].pop.name: [f"class {c} ({k} spikes)"
                                                    for c, k in enumerate(counts)]})
    fig.axes[0].axhspan(pred - 0.5, pred + 0.5, color="gold", alpha=0.35, lw=0)
    return fig, pred


def _trace_unit(pop, var):
    """(scale, unit label) of a recorded variable."""
    if pop.kind == "loihi_lif":
        return 1.0, "integer register"
    return MV, "mV"


def _threshold(pop, var):
    """(value in plot units, label) of the population's threshold for ``var``, or None."""
    spec = getattr(pop, "spec", None)
    if var != "v" or spec is None:
        return None
    if pop.kind == "loihi_lif":
        return spec.vth * 64, f"threshold vth·2⁶ = {spec.vth * 64:,}"
    v_th = np.asarray(getattr(spec, "v_th", np.nan), dtype=float)
    if v_th.size != 1 or not np.isfinite(v_th) or abs(float(v_th)) > 1e3:
        return None                           # no threshold (e.g. a membrane read-out)
    v = float(v_th) / MV
    return v, f"threshold v_th = {v:g} mV"


def traces(monitor, ax=None, max_lines=10, threshold=True, labels=None, title=None,
           legend=True):
    """Traces of a StateMonitor (mV against ms; Loihi registers as integers), one line per
    recorded neuron (at most ``max_lines``), each in the legend as "neuron i" (or
    ``labels[k]``), with the population's threshold as a dashed line."""
    ax = _axes(ax, figsize=(8, 3.5))
    pop, var = monitor.pop, monitor.var
    scale, unit = _trace_unit(pop, var)
    vals = np.asarray(monitor.values)
    vals = vals[:, None] if vals.ndim == 1 else vals
    idx = list(np.asarray(monitor.indices).ravel())
    k = min(max_lines, vals.shape[1])
    names = list(labels) if labels is not None else [f"neuron {i}" for i in idx]
    for j in range(k):
        ax.plot(monitor.t / MS, vals[:, j] / scale, lw=0.9, label=names[j], color=f"C{j}")
    th = _threshold(pop, var) if threshold else None
    if th is not None:
        ax.axhline(th[0], color="k", ls="--", lw=0.9, label=th[1])
    what = {"v": "membrane potential v", "I_exc": "excitatory input I_exc",
            "I_inh": "inhibitory input I_inh", "u": "current u"}.get(var, var)
    ax.set_ylabel(f"{pop.name}: {what}\n({unit})")
    ax.set_xlabel("time (ms)")
    ax.margins(x=0)
    if legend and k:
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.005, 1.0), borderaxespad=0,
                  frameon=False)
    note = f"{k} of {vals.shape[1]} recorded neurons drawn" if k < vals.shape[1] else None
    heading = [s for s in (title, note) if s]
    if heading:
        ax.set_title("\n".join(heading), fontsize=10)
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
    hi = max([v for v, o in zip(vals, ok) if o] or [1e-12])
    ax.set_xlim(lo / 2, hi * 4)                   # room for the value after the longest bar
    ax.set_yticks(y)
    ax.set_yticklabels(labels)
    ax.invert_yaxis()
    ax.set_xlabel("energy per inference (J)")
    ax.set_title(title)
    return ax
