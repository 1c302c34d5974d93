"""Energy of a simulated SNN on a hardware profile, from the engine's exact counts.

``estimate(net, hardware="loihi")`` multiplies what the engine counted (synaptic events,
spikes, neuron updates, active steps; see :mod:`neurosim.counters`) by the profile's energy
per operation. Only the dynamic energy of the charged operations is included; every report
lists what was charged and what was not.
"""

import math
from dataclasses import dataclass, field

from ..counters import Counts, CountMonitor
from ..hardware import HardwareProfileError
from ..validation import fail
from .profiles import load_energy_profile

__all__ = ["estimate", "compare", "EnergyReport", "Comparison", "PRECISIONS", "precision_bits",
           "PER"]

PRECISIONS = ("fp32", "fp16", "int32", "int8")
#: what a report's energy is divided into: the inferences the counts cover, or the runs (a
#: simulation that is not an inference, such as 1 s of the CUBA network)
PER = ("inference", "run")
NOT_CHARGED = "not charged"

COMMON_ASSUMPTIONS = (
    "Dynamic energy of the charged operations only: static (leakage) power, chip I/O, host "
    "communication and off-chip traffic are not charged.",
)


def precision_bits(precision):
    if precision not in PRECISIONS:
        fail("precision", "one of " + ", ".join(map(repr, PRECISIONS)), precision)
    return int(precision[-2:]) if precision[-2:].isdigit() else int(precision[-1])


@dataclass
class Item:
    """One line of a report: ``count`` operations of ``operation`` in ``component``."""
    component: str        # population or projection (or layer) name
    kind: str             # "population", "projection", "layer"
    operation: str
    count: float
    energy_per_op: float  # J
    status: str

    @property
    def energy(self):
        return self.count * self.energy_per_op


@dataclass
class EnergyReport:
    """Energy of one run (or inference set) on one hardware profile.

    Attributes
    ----------
    hardware : str
        Profile key (file name), ``name`` its display name.
    total : float
        Energy of everything counted (J).
    inferences : int
        Inferences the counts cover; ``per_inference`` = total / inferences (J).
    items : list of Item
        Every charged operation: component, count, energy per op, status of the figure.
    assumptions : list of str
        What is charged, what is not, and where each figure comes from.
    per_inference_series : list of float
        Energy of each inference when the counts were given per inference (a list of Counts
        or a CountMonitor with one bin per inference), else empty.
    per : {"inference", "run"}
        What ``inferences`` counts, for the labels: inferences, or runs of a simulation that
        is not an inference (then the text says "per run" and gives the mean power over
        the simulated time).
    simulated : float
        Simulated time the counts cover (s).
    """
    hardware: str
    name: str
    execution: str
    inferences: int
    items: list = field(default_factory=list)
    assumptions: list = field(default_factory=list)
    per_inference_series: list = field(default_factory=list)
    per: str = "inference"
    simulated: float = 0.0

    @property
    def total(self):
        return float(sum(i.energy for i in self.items))

    @property
    def per_inference(self):
        """Energy per inference, or per run when ``per == "run"`` (J)."""
        return self.total / self.inferences

    @property
    def power(self):
        """Mean power over the simulated time: energy per simulated second (W)."""
        return self.total / self.simulated if self.simulated > 0 else float("nan")

    def headline(self):
        """'**3.28 mJ per run** (1 s simulated: 3.28 mW on average)' and the like."""
        if self.per == "run":
            what = (f"{self.inferences} runs" if self.inferences > 1 else "one run")
            return (f"Total {fmt_energy(self.total)} over {what} of {self.simulated:g} s "
                    f"simulated: **{fmt_energy(self.per_inference)} per run**, "
                    f"{fmt_power(self.power)} on average over the simulated time "
                    "(energy per simulated second).")
        return (f"Total {fmt_energy(self.total)} over {self.inferences} inference(s): "
                f"**{fmt_energy(self.per_inference)} per inference**.")

    def breakdown(self, kind=None):
        """Energy (J) by component (optionally only ``kind``: population/projection/layer)."""
        out = {}
        for i in self.items:
            if kind is None or i.kind == kind:
                out[i.component] = out.get(i.component, 0.0) + i.energy
        return out

    @property
    def per_population(self):
        return self.breakdown("population")

    @property
    def per_projection(self):
        return self.breakdown("projection")

    def by_operation(self):
        out = {}
        for i in self.items:
            out[i.operation] = out.get(i.operation, 0.0) + i.energy
        return out

    def to_dict(self):
        return dict(hardware=self.hardware, name=self.name, execution=self.execution,
                    total_J=self.total, inferences=self.inferences,
                    per_inference_J=self.per_inference, per=self.per,
                    simulated_s=self.simulated,
                    items=[dict(vars(i), energy=i.energy) for i in self.items],
                    by_operation_J=self.by_operation(), assumptions=list(self.assumptions),
                    per_inference_series_J=list(self.per_inference_series))

    def to_markdown(self):
        rows = [f"### {self.name} ({self.hardware})", "", self.headline(), "",
                "| component | operation | count | energy/op | energy | status |",
                "|---|---|---|---|---|---|"]
        for i in self.items:
            rows.append(f"| {i.component} | {i.operation} | {i.count:,.0f} | "
                        f"{fmt_energy(i.energy_per_op)} | {fmt_energy(i.energy)} | {i.status} |")
        rows += ["", "Assumptions:", ""] + [f"- {a}" for a in self.assumptions]
        return "\n".join(rows)

    def __repr__(self):
        return (f"EnergyReport({self.hardware}: {fmt_energy(self.per_inference)} per "
                f"{self.per}, {len(self.items)} items)")


def fmt_energy(j):
    """'23.6 pJ', '1.49 mJ', ... (three significant digits)."""
    if j is None or (isinstance(j, float) and math.isnan(j)):
        return "n/a"
    if j == 0:
        return "0 J"
    for scale, unit in ((1, "J"), (1e-3, "mJ"), (1e-6, "uJ"), (1e-9, "nJ"), (1e-12, "pJ"),
                        (1e-15, "fJ")):
        if abs(j) >= scale:
            return f"{j / scale:.3g} {unit}"
    return f"{j / 1e-18:.3g} aJ"


def fmt_power(w):
    """'3.28 mW', ... (three significant digits)."""
    if w is None or (isinstance(w, float) and math.isnan(w)):
        return "n/a"
    return fmt_energy(w)[:-1] + "W" if w else "0 W"


# ---------------------------------------------------------------------------- counts input
def _as_counts(source):
    """(summed Counts, list of per-inference Counts or [])."""
    from ..network import Network
    if isinstance(source, Network):
        counts, series = source.counts(), []
    elif isinstance(source, CountMonitor):
        series = list(source.bins)
        if not series:
            raise HardwareProfileError("the count monitor holds no completed bin: run the "
                                       "network for at least one bin before estimating")
        counts = sum(series)
    elif isinstance(source, Counts):
        counts, series = source, []
    elif isinstance(source, (list, tuple)) and source and all(isinstance(c, Counts)
                                                              for c in source):
        series = list(source)
        counts = sum(series)
    else:
        fail("source", "a Network, a Counts, a list of Counts or a CountMonitor",
             type(source).__name__)
    if counts.steps == 0:
        raise HardwareProfileError("the network was never run (0 steps counted): run it "
                                   "before estimating its energy")
    return counts, series


def _senders(counts):
    """Populations whose spikes are sent somewhere (they are routed)."""
    return {p.pre for p in counts.projections.values()}


# ---------------------------------------------------------------------------- charging rules
def _charge_per_op(prof, counts):
    items, charged, skipped = [], [], []
    senders = _senders(counts)
    for op in prof.ops.values():
        if op.per == "synaptic_event":
            for p in counts.projections.values():
                items.append(Item(p.name, "projection", op.name, p.events, op.value, op.status))
        elif op.per == "spike":
            for p in counts.populations.values():
                if p.name in senders:
                    items.append(Item(p.name, "population", op.name, p.spikes, op.value,
                                      op.status))
        elif op.per == "neuron_update":
            for p in counts.populations.values():
                if p.neuron_updates:
                    items.append(Item(p.name, "population", op.name, p.neuron_updates,
                                      op.value, op.status))
        elif op.per == "synaptic_update" and any(
                getattr(p, "plastic_updates", 0) for p in counts.projections.values()):
            for p in counts.projections.values():
                if getattr(p, "plastic_updates", 0):
                    items.append(Item(p.name, "projection", op.name, p.plastic_updates,
                                      op.value, op.status))
        else:
            skipped.append(f"{op.name} (per {op.per}) is not charged: "
                           + ("no learning ran" if op.per == "synaptic_update"
                              else "it applies to dense networks (see dense_ann)"))
            continue
        charged.append(f"{op.name} = {fmt_energy(op.value)} per {op.per} ({op.status}; "
                       f"{op.source})" + (f"; {op.note.rstrip('.')}" if op.note else ""))
    notes = [f"Charged: {c}." for c in charged] + [f"{s}." for s in skipped]
    if not prof.op("synaptic_update") and any(getattr(p, "plastic_updates", 0)
                                              for p in counts.projections.values()):
        notes.append("Plasticity updates are not charged: the profile publishes no "
                     "per-update figure (unavailable).")
    if not prof.op("neuron_update"):
        notes.append("The profile has no per-neuron-update figure, so neuron updates are not "
                     "charged separately.")
    if not prof.op("spike"):
        notes.append("The profile has no per-spike routing figure; spike traffic is not "
                     "charged separately.")
    if prof.execution == "dense":
        notes.append("An SNN on this processor is charged as an event-driven simulation: one "
                     "op per synaptic event and one per neuron update (KerasSpiking's "
                     "per-op figures).")
    return items, notes


def _charge_digital(prof, counts, precision):
    bits = precision_bits(precision)
    add, mult = prof.arithmetic(precision)
    word = bits / 64 * prof.energy_of("sram_read_64b")
    syn = add + word

    def neuron(ops):
        """Energy of one update; an exp or a division is charged as 10 multiplications
        (a polynomial or Newton evaluation: an assumption, no published figure)."""
        ops = ops or dict(mult=2, add=2, exp=0, div=0, words=2)
        return (ops["mult"] + 10 * (ops["exp"] + ops["div"])) * mult + ops["add"] * add \
            + ops["words"] * word

    items = [Item(p.name, "projection", f"accumulate + weight read ({precision})", p.events,
                  syn, "derived") for p in counts.projections.values()]
    items += [Item(p.name, "population", f"neuron update ({precision})", p.neuron_updates,
                   neuron(p.update_ops), "derived")
              for p in counts.populations.values() if p.neuron_updates]
    notes = [f"Synaptic event = one {precision} add ({fmt_energy(add)}) + one {bits}-bit "
             f"weight read from SRAM ({fmt_energy(word)}): {fmt_energy(syn)}.",
             f"Neuron update of the exp LIF = 2 mult + 2 add + state read and write "
             f"({precision}): {fmt_energy(neuron(None))}; other models by their operation "
             "counts (neurosim.models.lif.update_ops; an exp or a division as 10 mult).",
             f"Figures: Horowitz 2014 ({prof.file}); SRAM writes charged as reads."]
    return items, notes


def _charge_crossbar(prof, counts, adc_bits):
    v, g, t = prof.param("v_read"), prof.param("g_mean"), prof.param("t_read")
    rows, cols = int(prof.param("array_rows")), int(prof.param("array_cols"))
    cells = int(prof.param("cells_per_weight"))
    cell = v * v * g * t
    bits, e_adc = prof.adc_energy(adc_bits)
    dac = prof.op("row_activation")
    items, bound, measured = [], [], []
    for p in counts.projections.values():
        if p.crossbar is not None:
            items += _measured_crossbar(prof, p, adc_bits)
            measured.append(p.name)
            continue
        row_tiles = math.ceil(p.n_pre / rows)
        col_tiles = math.ceil(p.n_post * cells / cols)
        spikes = counts.populations[p.pre].spikes
        items.append(Item(p.name, "projection", "cell read (V^2 G t)", p.events * cells, cell,
                          "derived"))
        for op in dac:
            items.append(Item(p.name, "projection", op.name, spikes * col_tiles, op.value,
                              op.status))
        items.append(Item(p.name, "projection", f"ADC conversion ({bits} b)",
                          p.pre_active_steps * p.n_post * row_tiles, e_adc, "published"))
        if row_tiles > 1:
            bound.append(p.name)
    for op in prof.op("neuron_update"):
        items += [Item(p.name, "population", op.name, p.neuron_updates, op.value, op.status)
                  for p in counts.populations.values() if p.neuron_updates]
    estimated = [p.name for p in counts.projections.values() if p.crossbar is None]
    notes = [] if not estimated else [
        f"Projections without a simulated crossbar ({', '.join(estimated)}) are charged as "
        f"crossbars of {rows} x {cols} arrays with {cells} cells per "
        f"weight; a presynaptic spike drives its row in each column tile "
        f"({fmt_energy(dac[0].value) if dac else 'no'} DAC/driver energy per row and tile).",
        f"Cell read energy V^2 G t = ({v:g} V)^2 x {g:g} S x {t:g} s = {fmt_energy(cell)} per "
        f"cell per synaptic event, at the profile's mean conductance ({prof.params['g_mean'].status}"
        f"; the crossbar model charges actual conductances).",
        f"One {bits}-bit ADC conversion ({fmt_energy(e_adc)}; {prof.adc_source}) per weight "
        f"column (the differential pair subtracted in analog) in every step in which a "
        f"presynaptic neuron spiked; silent steps cost nothing.",
    ]
    if measured:
        adcs = sorted({p.crossbar["adc_bits"] for p in counts.projections.values()
                       if p.crossbar is not None and p.crossbar["adc_bits"] is not None})
        if adcs:
            notes.append("ADC energy per conversion by resolution from " + prof.adc_source
                         + ": " + ", ".join(f"{b} b {fmt_energy(prof.adc_energy(b)[1])}"
                                            for b in adcs) + ".")
        notes.append(
            "Crossbar synapses simulated by neurosim.crossbar (" + ", ".join(measured) + "): "
            "cell energy is the sum of V^2 G t over the cells actually read, with their "
            "programmed (and drifted or learned) conductances (IR drop: V I t); DAC/driver "
            "energy per row drive (a row of an array driven in a step); one ADC conversion "
            "per weight column of every array read in a step (none for an ADC-less "
            "read-out, where the column current is integrated by the neuron; its analog "
            "integrator is not charged); write energy V_w^2 G t_w per learning pulse. "
            "Programming the arrays (write-verify pulses) is a one-off cost, not charged "
            "per inference: see crossbar_stats()['program_energy'].")
    if bound:
        notes.append("Projections with more rows than one array (" + ", ".join(bound) + "): "
                     "conversions are an upper bound (every row tile converts in each active "
                     "step).")
    return items, notes


def _measured_crossbar(prof, p, adc_bits):
    """Items of a projection whose crossbar ran in the engine (its measured counters)."""
    st = p.crossbar
    items = []
    drives = st["row_drives"]
    if drives:
        items.append(Item(p.name, "projection", "cell reads (V^2 G t, actual conductances)",
                          drives, st["cell_energy"] / drives, "derived"))
    for op in prof.op("row_activation"):
        items.append(Item(p.name, "projection", op.name, drives, op.value, op.status))
    bits = st["adc_bits"] if adc_bits is None else adc_bits
    if bits is not None and st["conversions"]:
        bits, e_adc = prof.adc_energy(bits)
        items.append(Item(p.name, "projection", f"ADC conversion ({bits} b)",
                          st["conversions"], e_adc, "published"))
    if st["write_pulses"]:
        items.append(Item(p.name, "projection", "write pulses (V^2 G t)", st["write_pulses"],
                          st["write_energy"] / st["write_pulses"], "derived"))
    return items


def _report(prof, counts, precision, adc_bits, inferences, per="inference"):
    prof.require_figures()
    if prof.execution == "digital-model":
        items, notes = _charge_digital(prof, counts, precision)
    elif prof.execution == "crossbar":
        items, notes = _charge_crossbar(prof, counts, adc_bits)
    else:
        items, notes = _charge_per_op(prof, counts)
    notes = list(COMMON_ASSUMPTIONS) + notes + [
        f"Counts: {counts.steps:,} steps of {counts.dt:g} s, {counts.spikes:,} spikes, "
        f"{counts.synaptic_events:,} synaptic events, {counts.neuron_updates:,} neuron updates "
        f"(exact engine counts); spike sources' spikes enter as input and their generation is "
        f"not charged."]
    return EnergyReport(hardware=prof.key, name=prof.name, execution=prof.execution,
                        inferences=inferences, items=items, assumptions=notes, per=per,
                        simulated=counts.steps * counts.dt)


def _hardware_list(hardware):
    if isinstance(hardware, str):
        names = [h.strip() for h in hardware.split(",") if h.strip()]
    else:
        names = [*hardware]
    if not names:
        fail("hardware", "a profile name or a list of names", hardware)
    return names


def estimate(source, hardware="loihi", inferences=None, precision="fp32", adc_bits=None,
             path=None, per="inference"):
    """Energy of what ``source`` simulated, on one or several hardware profiles.

    Parameters
    ----------
    source : Network, Counts, list of Counts or CountMonitor
        A network that was run (its counts since t = 0), counts of one or several runs, or a
        count monitor (each bin taken as one inference).
    hardware : str or list of str
        Energy profile name(s) from ``neurosim.hardware.list()`` (or .toml paths);
        several names (a list or "loihi,cpu") give a :class:`Comparison`.
    inferences : int, optional
        Inferences the counts cover (default: the number of runs or bins summed).
    precision : {"fp32", "fp16", "int32", "int8"}
        Arithmetic of the digital-model profile (ignored by others).
    adc_bits : int, optional
        ADC resolution of a crossbar profile (default: the profile's).
    path : str, optional
        Extra folder(s) searched for profiles (as ``NEUROSIM_HARDWARE_PATH``).
    per : {"inference", "run"}
        What the counts' units are: inferences (default), or runs of a simulation that is
        not an inference (a network simulated for a while): the labels then say "per run"
        and the report gives the mean power over the simulated time.
    """
    if per not in PER:
        fail("per", "one of " + ", ".join(map(repr, PER)), per)
    names = _hardware_list(hardware)
    precision_bits(precision)
    counts, series = _as_counts(source)
    if inferences is None:
        inferences = len(series) if series else counts.runs
    if isinstance(inferences, bool) or not isinstance(inferences, int) or inferences < 1:
        fail("inferences", "an integer >= 1", inferences)
    if len(names) > 1:
        return compare(counts if not series else series, names, inferences=inferences,
                       precision=precision, adc_bits=adc_bits, path=path, per=per)
    prof = load_energy_profile(names[0], path)
    rep = _report(prof, counts, precision, adc_bits, inferences, per)
    if series:
        rep.per_inference_series = [_report(prof, c, precision, adc_bits, 1, per).total
                                    for c in series]
    return rep


@dataclass
class Comparison:
    """Several reports side by side; profiles without figures are listed with the reason."""
    reports: list
    unavailable: dict = field(default_factory=dict)   # profile key -> reason

    def __getitem__(self, key):
        for r in self.reports:
            if r.hardware == key:
                return r
        raise KeyError(key)

    @property
    def per(self):
        return self.reports[0].per if self.reports else "inference"

    def to_markdown(self):
        """One row per profile: energy per inference (or per run, with the mean power),
        split into synapses, neuron updates and spike routing; a part the profile has no
        figure for reads "not charged" (0 J means charged, and nothing happened)."""
        run = self.per == "run"
        head = ["hardware", "execution", f"energy per {self.per}"]
        if run:
            sim = self.reports[0].simulated
            head[-1] += f" ({sim:g} s simulated)"
            head.append("mean power (per simulated second)")
        head += ["synapses (incl. ADC/DAC)", "neuron updates", "spike routing", "figures"]
        rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for r in self.reports:
            parts = {"syn": None, "neu": None, "other": None}
            for i in r.items:
                key = ("syn" if i.kind == "projection" else
                       "neu" if "update" in i.operation else "other")
                parts[key] = (parts[key] or 0.0) + i.energy / r.inferences
            cells = [r.name, r.execution, fmt_energy(r.per_inference)]
            if run:
                cells.append(fmt_power(r.power))
            cells += [NOT_CHARGED if v is None else fmt_energy(v) for v in parts.values()]
            cells.append(", ".join(sorted({i.status for i in r.items})))
            rows.append("| " + " | ".join(cells) + " |")
        for key, why in self.unavailable.items():
            rows.append("| " + " | ".join([key, "-", "n/a"] + [""] * (len(head) - 4) + [why])
                        + " |")
        return "\n".join(rows)

    def to_dict(self):
        return dict(reports=[r.to_dict() for r in self.reports], unavailable=self.unavailable)

    def plot(self, ax=None, title="Energy per inference"):
        from ..plot import energy_bars
        return energy_bars({r.name: r.per_inference for r in self.reports}, ax=ax,
                           title=title)


def compare(source, hardware, inferences=None, precision="fp32", adc_bits=None, path=None,
            per="inference"):
    """Reports for several profiles (see :func:`estimate`); profiles without published
    figures (Loihi 2) appear in ``unavailable`` with the reason instead of a number."""
    reports, missing = [], {}
    for name in _hardware_list(hardware):
        prof = load_energy_profile(name, path)          # unknown names raise here
        if prof.unavailable:
            missing[prof.key] = f"no energy figures: {prof.unavailable}"
        else:
            reports.append(estimate(source, name, inferences=inferences, precision=precision,
                                    adc_bits=adc_bits, path=path, per=per))
    return Comparison(reports, missing)
