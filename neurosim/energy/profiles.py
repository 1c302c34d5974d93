"""Energy profiles: the TOML files of ``hardware/energy/``, checked against their schema.

Schema (every number carries its source)::

    [profile]
    name = "..."                 # display name
    execution = "spiking" | "dense" | "digital-model" | "crossbar"
    unavailable = "..."          # optional: why no energy figures exist (e.g. Loihi 2)

    [ops.<name>]                 # one per charged operation
    value = 23.6e-12             # >= 0
    unit = "J"
    per = "synaptic_event" | "spike" | "neuron_update" | "synaptic_update" | "mac"
          | "activation" | "row_activation" | "column_read" | "primitive"
    status = "published" | "derived" | "unconfirmed" | "estimate"
    source = "..."

    [params.<name>]              # crossbar physics (v_read, g_mean, t_read, array size, bits)
    value, unit, status, source as above

    [adc_energy_by_bits]         # crossbar: ADC energy per conversion vs resolution
    bits = [...], value = [...], unit, per = "column_read", status, source
"""

from dataclasses import dataclass, field

import os

import numpy as np

from ..hardware import (
    STATUSES, HardwareProfileError, check_entry, load_profile, require, require_choice,
)

__all__ = ["EnergyProfile", "Op", "load_energy_profile", "EXECUTIONS", "PER", "STATUSES"]

EXECUTIONS = ("spiking", "dense", "digital-model", "crossbar")
PER = ("synaptic_event", "spike", "neuron_update", "synaptic_update", "mac", "activation",
       "row_activation", "column_read", "primitive")
#: crossbar parameters and their units
CROSSBAR_PARAMS = {"v_read": "V", "g_mean": "S", "t_read": "s", "array_rows": "rows",
                   "array_cols": "columns", "adc_bits": "bits", "cells_per_weight": "cells",
                   "cell_area": "m^2", "adc_area": "m^2"}


@dataclass(frozen=True)
class Op:
    """One charged operation (or a physical parameter): value in SI units and its source."""
    name: str
    value: float
    unit: str
    per: str
    status: str
    source: str
    note: str = ""


@dataclass(frozen=True)
class EnergyProfile:
    key: str                     # file name without .toml
    name: str
    execution: str
    file: str
    ops: dict = field(default_factory=dict)        # name -> Op
    params: dict = field(default_factory=dict)     # name -> Op (per = "")
    adc_by_bits: dict = field(default_factory=dict)  # bits -> J per conversion
    adc_source: str = ""
    unavailable: str = ""
    description: str = ""

    def op(self, per):
        """The ops charged per ``per`` (a list; empty when none)."""
        return [o for o in self.ops.values() if o.per == per]

    def require_figures(self):
        """Raise the profile's reason when it has no energy figures (Loihi 2)."""
        if self.unavailable:
            raise HardwareProfileError(f"{self.name} ({self.file}) has no energy figures: "
                                       f"{self.unavailable}")

    def arithmetic(self, precision):
        """(add, mult) energy (J) at ``precision`` ("fp32", "int8", ...) of a digital model."""
        return self.energy_of(f"{precision}_add"), self.energy_of(f"{precision}_mult")

    def adc_energy(self, bits=None):
        """(bits, J per conversion) of a crossbar's ADC at ``bits`` (default: the profile's),
        interpolated linearly in the profile's table of resolutions."""
        from ..validation import fail
        bits = int(self.param("adc_bits") if bits is None else bits)
        table = sorted(self.adc_by_bits.items())
        if not table[0][0] <= bits <= table[-1][0]:
            fail("adc_bits", f"within the profile's table [{table[0][0]}, {table[-1][0]}]",
                 bits)
        return bits, float(np.interp(bits, *zip(*table)))

    def energy_of(self, name):
        try:
            return self.ops[name].value
        except KeyError:
            raise HardwareProfileError(f"{self.file}: missing field ops.{name}") from None

    def param(self, name):
        try:
            return self.params[name].value
        except KeyError:
            raise HardwareProfileError(f"{self.file}: missing field params.{name}") from None


def _entry(file, table, name, entry, need_per):
    field = f"{table}.{name}"
    if need_per:
        v = check_entry(file, field, entry, "J", extra=("per",))
        require_choice(file, f"{field}.per", entry["per"], PER)
    else:
        v = check_entry(file, field, entry, CROSSBAR_PARAMS.get(name))
    return Op(name=name, value=v, unit=entry["unit"], per=entry.get("per", ""),
              status=entry["status"], source=entry["source"], note=entry.get("note", ""))


def load_energy_profile(name, path=None):
    """Load and check ``hardware/energy/<name>.toml`` (or a .toml file path)."""
    data = load_profile("energy", name, path)
    file = data["_file"]
    prof = require(file, "profile", data.get("profile"), ("name", "execution"))
    require_choice(file, "profile.execution", prof["execution"], EXECUTIONS)
    ops = {k: _entry(file, "ops", k, e, True) for k, e in data.get("ops", {}).items()}
    params = {k: _entry(file, "params", k, e, False) for k, e in data.get("params", {}).items()}
    adc, adc_source = {}, ""
    if prof["execution"] == "crossbar":
        for key in CROSSBAR_PARAMS:
            if key not in params:
                raise HardwareProfileError(f"{file}: missing field params.{key}")
        table = require(file, "adc_energy_by_bits", data.get("adc_energy_by_bits"),
                        ("bits", "value", "unit", "status", "source"))
        bits, values = table["bits"], table["value"]
        if not (isinstance(bits, list) and isinstance(values, list) and bits
                and len(bits) == len(values)):
            raise HardwareProfileError(f"{file}: adc_energy_by_bits.bits and .value must be "
                                       f"non-empty lists of the same length; got {bits!r} "
                                       f"and {values!r}")
        for b, v in zip(bits, values):
            if isinstance(b, bool) or not isinstance(b, int) or not 1 <= b <= 64:
                raise HardwareProfileError(f"{file}: adc_energy_by_bits.bits must be integers "
                                           f"in [1, 64]; got {b!r}")
            check_entry(file, "adc_energy_by_bits", dict(table, value=v))
        adc = {int(b): float(v) for b, v in zip(bits, values)}
        adc_source = table["source"]
    if not ops and not prof.get("unavailable"):
        raise HardwareProfileError(f"{file}: a profile without ops must say why in "
                                   f"profile.unavailable")
    key = os.path.basename(file)[:-5]
    return EnergyProfile(key=key, name=prof["name"], execution=prof["execution"], file=file,
                         ops=ops, params=params, adc_by_bits=adc, adc_source=adc_source,
                         unavailable=prof.get("unavailable", ""),
                         description=prof.get("description", ""))
