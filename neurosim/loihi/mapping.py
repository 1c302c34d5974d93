"""Map a fixed-point network onto Loihi neurocores, from a chip profile in hardware/chips/.

Model (the exact budgets are in Intel's proprietary compiler; the profile labels each limit
"published" or "estimate"): each loihi_lif population is split evenly over k cores; a core
holds n/k neurons (``neuron_state_bytes`` each) and the synapses into them (dense weight
matrices at ``dense_synapse_bytes`` per entry, sparse ones at ``sparse_synapse_bytes`` per
stored synapse). k is the smallest count with n/k <= ``neurons_per_core`` and memory <=
``memory_per_core``. Splitting targets does not reduce a core's fan-in (every core of the
population receives from all its presynaptic neurons), so a fan-in above
``fan_in_per_core`` cannot map and is an error, as are weights over ``weight_bits`` and
delays over ``max_delay``.
"""

import math
from dataclasses import dataclass, field

import numpy as np

from ..hardware import HardwareProfileError, load_profile
from ..validation import ParameterError

__all__ = ["map_to_cores", "CoreMapping", "load_chip"]

_FIELDS = ("cores_per_chip", "neurons_per_chip", "synapses_per_chip", "neurons_per_core",
           "memory_per_core", "fan_in_per_core", "weight_bits", "max_delay",
           "neuron_state_bytes", "dense_synapse_bytes", "sparse_synapse_bytes")


def load_chip(name="loihi2", path=None):
    """Chip limits: dict field -> value, checked against the schema (value, unit, status,
    source for every field)."""
    data = load_profile("chips", name, path)
    limits = data.get("limits", {})
    out = {"name": data.get("chip", {}).get("name", name), "_file": data["_file"], "status": {}}
    for f in _FIELDS:
        entry = limits.get(f)
        if not isinstance(entry, dict):
            raise HardwareProfileError(f"{data['_file']}: missing field limits.{f}")
        for key in ("value", "unit", "status", "source"):
            if key not in entry:
                raise HardwareProfileError(f"{data['_file']}: limits.{f} has no {key!r}")
        if entry["status"] not in ("published", "estimate"):
            raise HardwareProfileError(f"{data['_file']}: limits.{f}.status must be "
                                       f"'published' or 'estimate'; got {entry['status']!r}")
        if not isinstance(entry["value"], (int, float)) or entry["value"] < 0:
            raise HardwareProfileError(f"{data['_file']}: limits.{f}.value must be a number "
                                       f">= 0; got {entry['value']!r}")
        out[f] = entry["value"]
        out["status"][f] = entry["status"]
    return out


@dataclass
class CoreMapping:
    """Result of :func:`map_to_cores`."""
    chip: str
    populations: list = field(default_factory=list)   # one dict per loihi_lif population
    cores: int = 0
    chips: int = 0
    estimates: list = field(default_factory=list)      # limits used that are estimates

    def to_markdown(self):
        rows = ["| population | neurons | synapses in | fan-in | cores | neurons/core | "
                "bytes/core |", "|---|---|---|---|---|---|---|"]
        for p in self.populations:
            rows.append(f"| {p['name']} | {p['neurons']} | {p['synapses']} | {p['fan_in']} | "
                        f"{p['cores']} | {p['neurons_per_core']} | {p['bytes_per_core']} |")
        rows.append(f"\n{self.cores} cores on {self.chips} {self.chip} chip(s). Estimated "
                    f"limits used: {', '.join(self.estimates) or 'none'}.")
        return "\n".join(rows)


def map_to_cores(net, chip="loihi2", path=None):
    """Assign each loihi_lif population of ``net`` to neurocores of ``chip``."""
    if not net.fixed_point:
        raise ParameterError("net must be a network of loihi_lif populations; quantize a "
                             "float network first (neurosim.loihi.quantize)")
    lim = load_chip(chip, path)
    res = CoreMapping(chip=lim["name"])
    used = {"neurons_per_core", "memory_per_core", "fan_in_per_core", "neuron_state_bytes",
            "cores_per_chip", "weight_bits", "max_delay"}
    for pop in [p for p in net.populations if p.kind == "loihi_lif"]:
        incoming = [q for q in net.projections if q.post is pop]
        syn_bytes, n_syn, pres = 0.0, 0, set()
        for q in incoming:
            if q.loihi.num_weight_bits > lim["weight_bits"]:
                raise ParameterError(f"projection {q.name!r} cannot map: num_weight_bits must "
                                     f"be <= {lim['weight_bits']}; got {q.loihi.num_weight_bits}")
            d = np.asarray(q.delay_steps)
            if d.size and d.max() > lim["max_delay"]:
                raise ParameterError(f"projection {q.name!r} cannot map: delays must be <= "
                                     f"{lim['max_delay']} steps; got {int(d.max())}")
            dense = q.n_synapses >= 0.5 * q.pre.n * q.post.n
            syn_bytes += (q.pre.n * q.post.n * lim["dense_synapse_bytes"] if dense
                          else q.n_synapses * lim["sparse_synapse_bytes"])
            used.add("dense_synapse_bytes" if dense else "sparse_synapse_bytes")
            n_syn += q.n_synapses
            pres.update((id(q.pre), int(i)) for i in np.unique(q.pre_index))
        fan_in = len(pres)
        if fan_in > lim["fan_in_per_core"]:
            raise ParameterError(
                f"population {pop.name!r} cannot map onto {lim['name']}: fan-in must be <= "
                f"{lim['fan_in_per_core']} presynaptic neurons per core "
                f"({lim['status']['fan_in_per_core']}); got {fan_in}. Split the presynaptic "
                f"side or add a relay layer.")
        k = max(1, math.ceil(pop.n / lim["neurons_per_core"]))
        while True:
            per_core = math.ceil(pop.n / k)
            mem = per_core * lim["neuron_state_bytes"] + math.ceil(syn_bytes / k)
            if mem <= lim["memory_per_core"] or per_core == 1:
                break
            k += 1
        if mem > lim["memory_per_core"]:
            raise ParameterError(
                f"population {pop.name!r} cannot map: one neuron's synapses need {mem} bytes, "
                f"memory per core must be <= {lim['memory_per_core']}")
        res.populations.append(dict(name=pop.name, neurons=pop.n, synapses=n_syn,
                                    fan_in=fan_in, cores=k, neurons_per_core=per_core,
                                    bytes_per_core=mem))
        res.cores += k
    res.chips = max(1, math.ceil(res.cores / lim["cores_per_chip"]))
    res.estimates = sorted(f for f in used if lim["status"][f] == "estimate")
    return res
