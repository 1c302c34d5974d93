"""SI unit factors.

Everything inside neurosim is a plain SI float (s, V, A, S, J, Hz, ohm). These factors let
users write ``tau_m=20*ms`` or ``rate=5*Hz``; they are ordinary Python floats, so
``20*ms == 0.02``. Values coming out of neurosim are SI as well: divide by a factor to
display them in another unit (``sp.times / ms``).

Network files write quantities as strings (``"20 ms"``); they become :class:`Quantity`
values that carry their unit's dimension, which validation checks against the parameter's.
"""

import numpy as np

__all__ = [
    "second", "s", "ms", "us", "ns",
    "volt", "V", "mV", "uV",
    "amp", "A", "mA", "uA", "nA", "pA",
    "siemens", "S", "mS", "uS", "nS", "pS",
    "ohm", "kohm", "Mohm",
    "hertz", "Hz", "kHz",
    "joule", "J", "mJ", "uJ", "nJ", "pJ", "fJ",
    "watt", "W", "mW", "uW",
    "farad", "F", "pF", "fF",
    "Quantity", "QuantityArray", "SI_UNIT", "DIMENSION",
]

second = s = 1.0
ms = 1e-3
us = 1e-6
ns = 1e-9

volt = V = 1.0
mV = 1e-3
uV = 1e-6

amp = A = 1.0
mA = 1e-3
uA = 1e-6
nA = 1e-9
pA = 1e-12

siemens = S = 1.0
mS = 1e-3
uS = 1e-6
nS = 1e-9
pS = 1e-12

ohm = 1.0
kohm = 1e3
Mohm = 1e6

hertz = Hz = 1.0
kHz = 1e3

joule = J = 1.0
mJ = 1e-3
uJ = 1e-6
nJ = 1e-9
pJ = 1e-12
fJ = 1e-15

watt = W = 1.0
mW = 1e-3
uW = 1e-6

farad = F = 1.0
pF = 1e-12
fF = 1e-15


#: SI unit of each unit name above: the dimension a quantity string carries.
SI_UNIT = {}
for _si, _names in (("s", ("second", "s", "ms", "us", "ns")),
                    ("V", ("volt", "V", "mV", "uV")),
                    ("A", ("amp", "A", "mA", "uA", "nA", "pA")),
                    ("S", ("siemens", "S", "mS", "uS", "nS", "pS")),
                    ("ohm", ("ohm", "kohm", "Mohm")),
                    ("Hz", ("hertz", "Hz", "kHz")),
                    ("J", ("joule", "J", "mJ", "uJ", "nJ", "pJ", "fJ")),
                    ("W", ("watt", "W", "mW", "uW")),
                    ("F", ("farad", "F", "pF", "fF"))):
    for _n in _names:
        SI_UNIT[_n] = _si

#: What each SI unit measures (for error messages).
DIMENSION = {"s": "a time", "V": "a voltage", "A": "a current", "S": "a conductance",
             "ohm": "a resistance", "Hz": "a rate", "J": "an energy", "W": "a power",
             "F": "a capacitance", "": "a plain number"}


class Quantity(float):
    """An SI float that remembers the unit it was written with (network files make these),
    so that validation can refuse a current where a voltage is meant. Arithmetic gives
    plain floats."""

    def __new__(cls, value, si, text):
        q = super().__new__(cls, value)
        q.si, q.text = si, text
        return q


class QuantityArray(np.ndarray):
    """An SI array whose entries were all written in units of one dimension ``si``."""

    def __new__(cls, values, si, text):
        a = np.asarray(values, dtype=np.float64).view(cls)
        a.si, a.text = si, text
        return a

    def __array_finalize__(self, obj):
        self.si = getattr(obj, "si", None)
        self.text = getattr(obj, "text", "")
