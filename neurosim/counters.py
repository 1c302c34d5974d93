"""Operation counters: what the engine did, for energy estimates.

The engine counts every spike of every node and, per population, the steps in which it
spiked at least once (``active_steps``: a crossbar reads its columns only in those steps).
From these, exactly:

- neuron updates of a LIF or loihi_lif population = neurons x steps (the update is
  clock-driven: every neuron is integrated at every step, refractory or not); sources do
  no updates;
- synaptic events of a projection = sum over its presynaptic neurons of spikes x fan-out
  (each spike is charged once for every synapse it is sent through, including spikes whose
  delayed delivery is still in flight at the end of the run);
- synaptic events of a Poisson drive (``net.poisson_input``) = its input spikes, counted by
  the engine (they appear among ``projections`` under the drive's name; binned counts of
  count monitors leave them out).

``net.counts()`` returns the totals since t = 0 as a :class:`Counts`; counts of several runs
(one per inference, with ``net.reset()`` in between) add up with ``+``.
``net.count_monitor(bin)`` records the same quantities per time bin.
"""

from dataclasses import dataclass, field

import numpy as np

from .models.lif import update_ops

from .validation import Sealed

__all__ = ["Counts", "PopulationCounts", "ProjectionCounts", "CountMonitor"]

NEURON_KINDS = ("lif", "loihi_lif")


@dataclass(frozen=True)
class PopulationCounts:
    name: str
    kind: str                 # "lif", "loihi_lif", "spike_source", "poisson"
    n: int
    neuron_updates: int
    spikes: int
    active_steps: int         # steps with at least one spike of this population
    update_ops: dict = None   # arithmetic per neuron update (models.lif.update_ops), or None


@dataclass(frozen=True)
class ProjectionCounts:
    name: str
    pre: str
    post: str
    n_pre: int
    n_post: int
    n_synapses: int
    events: int               # synaptic events: spikes x fan-out
    pre_active_steps: int     # steps in which at least one presynaptic neuron spiked
    crossbar: dict = None     # crossbar synapses: what the arrays did (see crossbar_stats)
    plastic_updates: int = 0  # weight (or efficacy) updates of its plasticity rule


@dataclass(frozen=True)
class Counts:
    """Operation counts of one run (or the sum of several runs).

    Attributes
    ----------
    dt : float
        Time step (s).
    steps : int
        Steps simulated (summed over runs).
    runs : int
        Number of runs summed (1 for ``net.counts()``); an energy estimate divides by it to
        give a figure per inference when each run is one inference.
    populations, projections : dict
        :class:`PopulationCounts` / :class:`ProjectionCounts` by name.
    """
    dt: float
    steps: int
    runs: int
    populations: dict = field(default_factory=dict)
    projections: dict = field(default_factory=dict)

    @property
    def neuron_updates(self):
        return sum(p.neuron_updates for p in self.populations.values())

    @property
    def spikes(self):
        return sum(p.spikes for p in self.populations.values())

    @property
    def synaptic_events(self):
        return sum(p.events for p in self.projections.values())

    def __add__(self, other):
        if not isinstance(other, Counts):
            return NotImplemented
        if (self.dt != other.dt or self.populations.keys() != other.populations.keys()
                or self.projections.keys() != other.projections.keys()):
            raise ValueError("counts can only be added for the same network (same dt, "
                             "populations and projections)")
        return Counts(
            dt=self.dt, steps=self.steps + other.steps, runs=self.runs + other.runs,
            populations={k: _add(v, other.populations[k]) for k, v in self.populations.items()},
            projections={k: _add(v, other.projections[k]) for k, v in self.projections.items()})

    def __radd__(self, other):
        return self if other == 0 else self.__add__(other)   # sum([...]) starts from 0

    def to_dict(self):
        return dict(dt=self.dt, steps=self.steps, runs=self.runs,
                    populations={k: vars(v) for k, v in self.populations.items()},
                    projections={k: vars(v) for k, v in self.projections.items()})

    @classmethod
    def from_dict(cls, d):
        """The inverse of :meth:`to_dict` (e.g. counts read back from a results file)."""
        return cls(dt=float(d["dt"]), steps=int(d["steps"]), runs=int(d["runs"]),
                   populations={k: PopulationCounts(**v) for k, v in d["populations"].items()},
                   projections={k: ProjectionCounts(**v) for k, v in d["projections"].items()})


def _add(a, b):
    """Field-wise sum of two count records (integers add, names stay, crossbar figures
    add)."""
    out = {k: (v + getattr(b, k) if k in _SUMMED else v) for k, v in vars(a).items()}
    if getattr(a, "crossbar", None) is not None and b.crossbar is not None:
        out["crossbar"] = {k: (v + b.crossbar[k] if k in STAT_NAMES else v)
                           for k, v in a.crossbar.items()}
    return type(a)(**out)


#: what crossbar_stats reports, in the order of neurosim.engine.crossbar's stats columns
STAT_NAMES = ("row_drives", "tile_reads", "conversions", "cell_energy", "write_pulses",
              "write_energy", "ir_failures")


def crossbar_stats(net):
    """Per crossbar projection (by name): the engine's counters (STAT_NAMES) since t = 0,
    with the arrays' settings an energy estimate needs (adc_bits, programming energy,
    area)."""
    xs = getattr(net._runner, "xstate", None)
    out = {}
    xprojs = [p for p in net.projections if p.crossbar is not None]
    for x, proj in enumerate(xprojs):
        xb = proj.crossbar
        vals = xs.stats[x] if xs is not None else np.zeros(len(STAT_NAMES))
        d = {k: float(v) for k, v in zip(STAT_NAMES, vals)}
        d.update(adc_bits=xb.adc_bits, device=xb.device.key, tiles=len(xb.tiles),
                 array=xb.array, program_energy=xb.program_energy, area=xb.area()["total"])
        out[proj.name] = d
    return out


_SUMMED = ("neuron_updates", "spikes", "active_steps", "events", "pre_active_steps",
           "plastic_updates")


def make_counts(net, spikes, active, events, steps, crossbars=None, plastic=None):
    """Counts from per-population spikes and active steps (by population) and per-projection
    synaptic events (by projection), over ``steps`` steps; ``crossbars`` maps projection
    names to their crossbar statistics."""
    crossbars = crossbars or {}
    pops = {pop.name: PopulationCounts(
        name=pop.name, kind=pop.kind, n=pop.n,
        neuron_updates=pop.n * int(steps) if pop.kind in NEURON_KINDS else 0,
        spikes=int(spikes.get(pop, 0)), active_steps=int(active.get(pop, 0)),
        update_ops=update_ops(pop.spec) if pop.kind == "lif" else None)
        for pop in net.populations}
    projs = {proj.name: ProjectionCounts(
        name=proj.name, pre=proj.pre.name, post=proj.post.name, n_pre=proj.pre.n,
        n_post=proj.post.n, n_synapses=proj.n_synapses, events=int(events.get(proj, 0)),
        pre_active_steps=int(active.get(proj.pre, 0)), crossbar=crossbars.get(proj.name),
        plastic_updates=int((plastic or {}).get(proj, 0)))
        for proj in net.projections}
    for d in net.drives:       # Poisson drives: every input spike is a synaptic event
        projs[d.name] = ProjectionCounts(
            name=d.name, pre=d.kind, post=d.post.name, n_pre=d.n, n_post=d.post.n,
            n_synapses=d.n, events=int(events.get(d, 0)),
            pre_active_steps=int(steps) if d._rate.any() else 0)
    return Counts(dt=net.dt, steps=int(steps), runs=1, populations=pops, projections=projs)


def collect(net, spike_count, active, steps):
    """Counts of ``net`` from the engine's per-node spike counts and per-population active
    steps (indexed as ``compile.plan.count_order``)."""
    plan = net._plan
    if plan is None:
        return make_counts(net, {}, {}, {}, 0)
    from .compile.plan import count_order
    spikes_of = {pop: spike_count[plan.pop_node_start[pop]:plan.pop_node_start[pop] + pop.n]
                 for pop in net.populations}
    events = {proj: int(np.dot(spikes_of[proj.pre], net._fan_out(proj)))
              for proj in net.projections}
    ds = getattr(net._runner, "dstate", None)
    if ds is not None:
        per_drive = ds.events.sum(axis=0)
        if net._ranks is not None:       # each rank counted the inputs into its own targets
            per_drive = net._ranks.sum(per_drive)
        events.update({d: int(per_drive[k]) for k, d in enumerate(net.drives)})
    ps = getattr(net._runner, "pstate", None)
    plastic = {}
    if ps is not None:
        from .compile.plastic_plan import plastic_projections
        plastic = {p: int(n) for p, n in zip(plastic_projections(net), ps.updates)}
    return make_counts(net, {p: int(sc.sum()) for p, sc in spikes_of.items()},
                       dict(zip(count_order(plan), active.tolist())), events, steps,
                       crossbar_stats(net), plastic)


class CountMonitor(Sealed):
    """Counts per time bin (bins start at t = 0 and are whole steps long).

    The engine accumulates the counts of every bin as it runs (no extra kernel calls).

    Attributes
    ----------
    bin : float
        Bin width (s), a whole number of steps.
    bins : list of Counts
        One :class:`Counts` per completed bin (a bin still open when a run ends is completed
        by the next run).
    """

    def __init__(self, net, bin_steps):
        self.net = net
        self.bin_steps = bin_steps
        self.bin = bin_steps * net.dt
        self._seal()

    @property
    def bins(self):
        net = self.net
        acc = net._bins
        done = net._step // self.bin_steps
        if acc is None or done == 0:
            return []
        from .compile.plan import count_order
        order = count_order(net._plan)
        f = self.bin_steps // acc["steps"]
        out = []
        for k in range(done):
            rows = slice(k * f, (k + 1) * f)
            sp, ac, ev = (acc[key][rows].sum(axis=0) for key in ("spikes", "active", "events"))
            out.append(make_counts(net, dict(zip(order, sp.tolist())),
                                   dict(zip(order, ac.tolist())),
                                   dict(zip(net.projections, ev.tolist())), self.bin_steps))
        return out

    @property
    def t(self):
        """Start time of each completed bin (s)."""
        done = self.net._step // self.bin_steps if self.net._bins is not None else 0
        return np.arange(done) * self.bin

    def series(self, quantity, name=None):
        """Per-bin array of ``quantity`` ("spikes", "neuron_updates", "active_steps" of the
        population ``name``; "events" of the projection ``name``; without ``name``, the
        network's total spikes, neuron_updates or synaptic events)."""
        bins = self.bins
        if name is None:
            attr = {"events": "synaptic_events"}.get(quantity, quantity)
            return np.array([getattr(b, attr) for b in bins], dtype=np.int64)
        table = "projections" if quantity in ("events", "pre_active_steps") else "populations"
        return np.array([getattr(getattr(b, table)[name], quantity) for b in bins],
                        dtype=np.int64)
