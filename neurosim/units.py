"""SI unit factors.

Everything inside neurosim is a plain SI float (s, V, A, S, J, Hz, ohm). These factors let
users write ``tau_m=20*ms`` or ``rate=5*Hz``; they are ordinary Python floats, so
``20*ms == 0.02``. Values coming out of neurosim are SI as well: divide by a factor to
display them in another unit (``sp.times / ms``).
"""

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
