"""An imported NIR network on Loihi: its fixed-point (``loihi_lif``) version.

    model = ns.nir.read("net.nir", dt=1e-4)
    lm = to_loihi(model)                      # integer parameters (no inputs needed yet)
    out = lm.run(x)                           # x: (steps, *input shape) of 0/1
    out["output"]                             # spikes on the float network's clock
    net = lm.network(x)                       # the ns.Network: spike sources + loihi_lif
    ns.export.run_in_lava(net, lm.loihi_steps(len(x)))   # the same run in Lava (fixed_pt)

``to_loihi(model, inputs=x)`` also builds ``lm.net`` for that input. ``model`` is what
``ns.nir.read`` returns (a ``NIRNetwork``) or a ``LayerNetwork``.

Latency: one step per connection
--------------------------------
The layered float network is same-step: a spike reaches the next layer in the step it was
emitted. On Loihi (and in neurosim's Loihi network, which is bit-exact with Lava's
``fixed_pt`` models) every connection adds one step. Each population therefore gets a
*shift* L (``lm.shift[name]``): its Loihi step ``t`` is the float network's step
``t - L``. L is the longest path from the inputs counting ``1 - d`` per connection of float
delay d (an input has L = 0, the first layer of a feed-forward chain 1, the k-th k), and
each Loihi connection gets the synaptic delay ``d + L(post) - L(pre) - 1`` (>= 0), so paths
of different lengths that meet (skip connections) still arrive in the same relative step,
and a float delay of d >= 1 absorbs the latency instead of adding to it (a recurrent edge
of one step maps to a Loihi delay of 0). To compare spikes, shift them by the layer depth:
Loihi spike step = float spike step + L (``lm.run`` does this; ``run.raw`` keeps the Loihi
clock, ``lm.loihi_steps(T)`` = T + max L steps are run). Example: the paper's single LIF
(Input -> Affine -> LIF) has L = 1: Lava and neurosim's Loihi network spike at 461, 511,
711, 761 where the float network (Norse, snnTorch) spikes at 460, 510, 710, 760.
A population at depth L runs L steps on Loihi before its first input can arrive: its
initial u and v are set so that those input-free steps (bias and leak only) end in the float
network's initial state (computed backwards, checked forwards in Lava's integers); where no
such state exists without a spike (v starting above threshold), the neuron keeps the float
initial state and its bias/leak dynamics run L steps early (``lm.report["notes"]`` says
so). A cycle whose connections outnumber its float delay steps (two layers feeding each
other with one step in all) cannot be mapped and is refused.

Mapping (forward Euler, per population; a_m = dt/tau (tau_mem), a_s = dt/tau_syn)
--------------------------------------------------------------------------------------
Loihi's v is measured from v_reset (Loihi resets to 0) and scaled by 64 S (S per neuron, in
1/V); with Lava's u update ``u = u (4095 - du)/4096 + 64 a_in`` and ``v = v (4096 - dv)/4096
+ u + bias``:

=========  =================  =========  =============================================
model      du                 dv         weight x of W (in 1/64 of Loihi v) / bias (Loihi v)
=========  =================  =========  =============================================
LIF        4095 (u = this     a_m        x = S a_m r W;  bias = 64 S a_m (v_leak - v_reset
           step's input)                 + r b)
CubaLIF    a_s                a_m        x = S a_m r a_s w_in W; bias = 64 S a_m (v_leak -
                                         v_reset + r w_in b), u_init = -64 S a_m r w_in b
                                         (b ramps up through u as through I_s)
IF         4095               0          x = S r W (``integrate="seconds"``: S r dt W);
                                         bias = 64 S r b
threshold  4095               4095       x = S W; bias = 64 S b (stateless up to the
                                         1/4096 of v Loihi keeps with dv = 4095)
LI/CubaLI  as LIF/CubaLIF, vth = 131071  readouts: v is probed (a state monitor), never
                                         spikes; S from the worst-case |v| (below)
=========  =================  =========  =============================================

(W: the float weight times the spike value of the presynaptic population, 1 or 1/dt with
``spike="dirac"``; b: the population's constant input, Affine biases included.)
Two roundings (``mapping``):

* ``"quantize"`` (default; :func:`neurosim.loihi.quantize`'s conventions): ``dv =
  round(4096 a_m)``, ``du = round(4096 a_s) - 1`` (Lava keeps (4095 - du)/4096 of u), threshold
  mantissa ``vth`` (default 2**14) for every spiking population, ``S = vth / (v_threshold -
  v_reset)`` per neuron, weights rounded to nearest with a per-projection ``weight_exp``
  that uses the full ``weight_bits``, bias ``bias_mant * 2**bias_exp`` rounded. ``vth`` is
  lowered for a population whose worst-case input in one step (every presynaptic neuron
  spiking) would wrap Loihi's 24-bit u (reported in ``lm.report``).
* ``"paper"``: the integers of the NIR paper's Lava importer (``paper/01_lif/_lava_nir.py``):
  ``dv = int(a_m 4095)``, ``du = int(a_s 4095)`` (4095 for LIF), ``vth = int((v_threshold -
  v_reset) 131071) >> 9``, ``S = 256``, weights ``int(256 a_m r W)`` (truncated, weight_exp 0
  unless they exceed ``weight_bits``). For the paper's single LIF (tau = 2.5 ms, dt = 0.1
  ms, v_threshold = 0.1): du = 4095, dv = 163, vth = 25 (v > 1600), W = 10 (u += 640),
  which reproduces ``lif_lava_cpu_fixed.csv`` bit for bit (tests/test_nir_loihi.py).

Accuracy: the 8-bit weights dominate (rms error 0.1-0.5 % of a projection's largest
weight); decays are within 1/8192 per step. Loihi's v saturates at +-(2**23 - 1) (8x the
threshold below v_reset with vth = 2**14). A readout's S (1/V) maps the worst-case |v|
(every presynaptic neuron spiking every step) just below Loihi's largest threshold.

Refused (:class:`LoihiMappingError`, naming the population or projection):
``method="exact"``, ``reset="subtract"``, ``reset_timing="next"``, per-neuron time constants
(Loihi's du/dv are per population), ``dt > tau``, ``v_threshold <= v_reset``, an ``I``
(integrator) readout without ``readout_scale``, a graded population (LI, CubaLI, I) feeding
another one, a pass layer with no successor or with per-synapse delays or a self-loop, graded
input values (Loihi sources send 0/1 spikes), delays over 63 Loihi steps, and a cycle faster
than one step per connection. Pass layers (linear nodes the importer kept) are folded into
the projections around them (W1 @ W2, delays added, their bias into the targets' bias).
"""

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..models.loihi import MAX_LOIHI_DELAY, LoihiLIFSpec, infer_sign_mode
from ..validation import check_choice, check_int, fail
from .graph import NIRError

__all__ = ["to_loihi", "LoihiModel", "LoihiRun", "LoihiPopulation", "LoihiProjection",
           "LoihiMappingError", "MAPPINGS"]

MAPPINGS = ("quantize", "paper")
SPIKING = ("LIF", "CubaLIF", "IF", "threshold")
READOUTS = ("LI", "CubaLI", "I")
VTH_MAX = 2**17 - 1
U_WRAP = 2**23
V_MAX = 2**23 - 1
PAPER_SCALE = 256.0


class LoihiMappingError(NIRError):
    """A part of the network that Loihi's LIF cannot express (the message names it)."""


def _refuse(pop, what):
    raise LoihiMappingError(f"population {pop.name!r} ({pop.model.name}): {what}")


@dataclass
class LoihiPopulation:
    """One population on Loihi: ``spec`` (the loihi_lif parameters, a
    :class:`~neurosim.models.loihi.LoihiLIFSpec`; ``du``, ``dv``, ``vth``, ``bias_mant``,
    ``bias_exp``, ``u_init``, ``v_init``, ``n`` read through), ``shift`` (Loihi step = float
    step + shift) and ``scale`` (S per neuron: Loihi v = 64 S (v - v_ref))."""
    name: str
    model: str
    shape: tuple
    spec: LoihiLIFSpec
    scale: np.ndarray
    v_ref: np.ndarray
    shift: int = 0

    def __getattr__(self, key):
        if key != "spec" and "spec" in self.__dict__:
            return getattr(self.spec, key)
        raise AttributeError(key)

    @property
    def readout(self):
        return self.model in READOUTS

    def to_volts(self, v):
        """Loihi integer v (steps, n) -> the float network's v (V)."""
        return np.asarray(v, np.float64) / (64.0 * self.scale) + self.v_ref


@dataclass
class LoihiProjection:
    """Integer synapses: ``weight`` (int64, one per synapse ``pre_index -> post_index``),
    Lava Dense parameters, and the Loihi synaptic ``delay`` in steps (int or per synapse)."""
    name: str
    pre: str
    post: str
    pre_index: np.ndarray
    post_index: np.ndarray
    weight: np.ndarray
    weight_exp: int
    sign_mode: str
    num_weight_bits: int
    delay: object
    rms_error: float = 0.0


class LoihiRun(dict):
    """What :meth:`LoihiModel.run` returns, on the float network's clock: ``(population,
    "out")`` -> (steps, *shape) spikes (uint8) or a readout's v (V); ``(population, "v")``
    -> v (V) where recorded; and every NIR Output by name. ``raw``: {(population, "spikes"
    | "v"): (loihi_steps, n) integers on the Loihi clock}; ``net``: the Network run."""

    def __init__(self, data, steps, loihi_steps, raw, net):
        super().__init__(data)
        self.steps = steps
        self.loihi_steps = loihi_steps
        self.raw = raw
        self.net = net


@dataclass
class _Proj:
    name: str
    pre: object
    post: object
    w: sp.csr_matrix
    delay: object          # int, or int array aligned with w.data

    @property
    def dmin(self):
        if np.ndim(self.delay):
            return int(np.min(self.delay)) if np.size(self.delay) else 0
        return int(self.delay)


# ------------------------------------------------------------------ helpers
def _uniform(pop, key, values):
    v = np.asarray(values, np.float64)
    if v.size and not np.allclose(v, v.flat[0], rtol=1e-9, atol=0.0):
        _refuse(pop, f"per-neuron {key} (from {v.min():g} to {v.max():g}); Loihi's du, dv "
                "and vth are one value per population: split the layer by its values")
    return float(v.flat[0])


def _int_weights(x, bits, mode, rounding, paper):
    """Integer W (multiples of Lava's dropped low bits, within 8 bits for ``mode``) and
    weight_exp e with W * 2**e ~ x."""
    k = 8 - bits + (1 if mode == "mixed" else 0)
    step = 2 ** k
    top = (255 >> k) << k
    low = -256 if mode == "mixed" else -top
    if mode == "excitatory":
        low = 0
    if mode == "inhibitory":
        top = 0
    need = 0.0
    if x.size:
        if top > 0 and x.max() > 0:
            need = max(need, x.max() / top)
        if low < 0 and x.min() < 0:
            need = max(need, -x.min() / -low)
    e = int(math.ceil(math.log2(need))) if need > 0 else 0
    if paper:
        e = max(e, 0)
    e = int(np.clip(e, -24, 24))
    w = step * rounding(x / 2.0 ** (e + k))
    w = np.clip(w, low, top).astype(np.int64)
    return w, e


def _bias(b, rounding):
    """bias_mant (|mant| <= 4095, Loihi's 13-bit register) and bias_exp >= 0."""
    mag = np.abs(b)
    exp = np.zeros(b.shape, np.int64)
    big = mag > 4095
    exp[big] = np.ceil(np.log2(mag[big] / 4095)).astype(np.int64)
    mant = rounding(b / 2.0 ** exp).astype(np.int64)
    over = np.abs(mant) > 4095              # rounding up to 4096
    exp[over] += 1
    mant[over] = rounding(b[over] / 2.0 ** exp[over]).astype(np.int64)
    return mant, exp


def _preroll(u0, v0, bias, du, dv, vth, shift):
    """(u_init, v_init) that reach (u0, v0) after ``shift`` input-free Loihi steps (the
    steps a population at depth ``shift`` runs before its first input arrives): the u/v
    dynamics run backwards in floating point, then forwards in Lava's integers to check
    them (no spike, no saturation, the target within a few units). Neurons where that fails
    start at (u0, v0); returns (u_init, v_init, how many failed)."""
    if shift == 0 or not (np.any(bias) or np.any(u0)):
        return u0, v0, 0
    keep_u, keep_v = 4096 - (du + 1), 4096 - dv
    u, v = u0.astype(np.float64), v0.astype(np.float64)
    for _ in range(shift):
        v = (v - u - bias) * 4096.0 / keep_v
        u = u * 4096.0 / keep_u if keep_u else u * 0.0
    ok = (np.abs(v) <= V_MAX) & (np.abs(u) < U_WRAP)
    pu = np.where(ok, np.round(np.where(ok, u, 0.0)), 0).astype(np.int64)
    pv = np.where(ok, np.round(np.where(ok, v, 0.0)), 0).astype(np.int64)
    wu, wv = pu.copy(), pv.copy()
    for _ in range(shift):
        p = wu * keep_u
        wu = np.sign(p) * (np.abs(p) >> 12)
        p = wv * keep_v
        wv = np.clip(np.sign(p) * (np.abs(p) >> 12) + wu + bias, -V_MAX, V_MAX)
        ok &= wv <= (vth << 6)
    tol = lambda a: np.maximum(4, 1e-6 * np.abs(a))       # noqa: E731
    ok &= (np.abs(wv - v0) <= tol(v0)) & (np.abs(wu - u0) <= tol(u0))
    return np.where(ok, pu, u0), np.where(ok, pv, v0), int((~ok).sum())


# ------------------------------------------------------------------ conversion
def to_loihi(model, inputs=None, *, steps=None, mapping="quantize", weight_bits=8,
             vth=2**14, readout_scale=None, record_v=False):
    """The Loihi fixed-point version of an imported NIR network (module docstring).

    Parameters
    ----------
    model : NIRNetwork or LayerNetwork
        From ``ns.nir.read`` (or a hand-built LayerNetwork with its options).
    inputs : array or dict, optional
        0/1 input spikes (steps, *shape) (a dict by input name when there are several):
        builds ``lm.net``, a ``ns.Network`` with a spike source per input.
    steps : int, optional
        Input rows when ``inputs`` leaves some inputs out.
    mapping : {"quantize", "paper"}
        Rounding and scale conventions: neurosim's quantizer, or the NIR paper's Lava importer.
    weight_bits : int
        Lava's ``num_weight_bits`` (1..8) of every connection.
    vth : int
        Threshold mantissa of the spiking populations (``mapping="quantize"``), 1..131071.
    readout_scale : float, optional
        S (1/V) of LI/CubaLI/I readouts (Loihi v = 64 S v); default from the worst-case
        |v| (LI, CubaLI); required for I.
    record_v : bool
        Also probe v of the spiking populations in ``lm.net``.

    Returns
    -------
    LoihiModel
    """
    lm = LoihiModel(model, mapping=mapping, weight_bits=weight_bits, vth=vth,
                    readout_scale=readout_scale)
    if inputs is not None:
        lm.net = lm.network(inputs, steps=steps, record_v=record_v)
    return lm


class LoihiModel:
    """Integer populations and projections of a NIR network on Loihi, and the shifts that
    align the Loihi clock with the float network's (see the module docstring)."""

    def __init__(self, model, mapping="quantize", weight_bits=8, vth=2**14,
                 readout_scale=None):
        from ..layered import LayerNetwork
        self.mapping = check_choice("mapping", mapping, MAPPINGS)
        self.weight_bits = check_int("weight_bits", weight_bits, 1, 8)
        self.vth_target = check_int("vth", vth, 1, VTH_MAX)
        if readout_scale is not None and not (np.isfinite(readout_scale) and readout_scale > 0):
            fail("readout_scale", "a positive scale (1/V)", readout_scale)
        self.readout_scale = readout_scale
        if isinstance(model, LayerNetwork):
            net, outputs = model, {}
        elif isinstance(getattr(model, "net", None), LayerNetwork):
            net = model.net
            outputs = {k: p.name for k, (p, _) in model.outputs.items()}
        else:
            fail("model", "a NIRNetwork (ns.nir.read) or a LayerNetwork",
                 type(model).__name__)
        self.dt = net.dt
        self.outputs = outputs
        self.net = None
        self.report = dict(populations=[], projections=[], notes=[])
        self._paper = self.mapping == "paper"
        self._round = np.trunc if self._paper else np.round
        self._convert(net)

    # -------------------------------------------------------------- checks and folding
    def _convert(self, net):
        pops = [p for p in net.populations]
        for p in pops:
            kind = p.model.name
            if kind in ("input", "pass"):
                continue
            if net.method == "exact" and p.model.leaky:
                _refuse(p, "method='exact' (zero-order hold, reset at the crossing time); "
                        "Loihi's LIF is the forward-Euler recursion: read with method='euler'")
            if kind in SPIKING and kind != "threshold":
                if p.reset != "zero":
                    _refuse(p, f"reset={p.reset!r}; Loihi's LIF resets v to 0 (read with "
                            "reset='zero')")
                if p.timing != "same":
                    _refuse(p, f"reset_timing={p.timing!r}; Loihi resets in the spike's step "
                            "(read with reset_timing='same')")
        projs = [_Proj(q.name, q.pre, q.post, q.weights.tocsr().copy(), q.delay)
                 for q in net.projections]
        bias = {p: p.bias.astype(np.float64).copy() for p in pops}
        projs = self._fold_pass(pops, projs, bias)
        pops = [p for p in pops if p.model.name != "pass"]
        for q in projs:
            if q.pre.model.name in READOUTS:
                _refuse(q.pre, f"its graded v feeds {q.post.name!r}; Loihi sends spikes only "
                        "(an LI/CubaLI/I population maps only as a readout)")
        projs = self._merge(projs)
        shift = self._shifts(pops, projs)
        self.shift = {p.name: shift[p] for p in pops}
        self.inputs = {p.name: p.shape for p in pops if p.model.name == "input"}
        spike_value = {p: (1.0 / net.dt if net.spike == "dirac" and p.model.spiking else 1.0)
                       for p in pops}
        # per-neuron gain of the input I into Loihi's u (in float volts per unit S) and the
        # worst-case |I| per post neuron (every presynaptic neuron spiking at once)
        worst = {p: np.abs(bias[p]) * 0.0 for p in pops}
        for q in projs:
            a = abs(q.w).multiply(spike_value[q.pre]) if spike_value[q.pre] != 1 else abs(q.w)
            worst[q.post] = worst[q.post] + np.asarray(a.sum(axis=0)).ravel()
        self.populations, self._gain = {}, {}
        for p in pops:
            if p.model.name == "input":
                continue
            self.populations[p.name] = self._population(net, p, bias[p], worst[p], shift[p])
        self.projections = [self._projection(q, spike_value[q.pre], shift) for q in projs]
        self._max_shift = max(self.shift.values(), default=0)

    def _fold_pass(self, pops, projs, bias):
        for p in [p for p in pops if p.model.name == "pass"]:
            if not any(q.pre is p for q in projs):
                _refuse(p, "a pass (linear) layer that feeds no neuron: its graded values "
                        "cannot leave Loihi (outputs must be spiking or LI/CubaLI/I readouts)")
            ins = [q for q in projs if q.post is p]
            outs = [q for q in projs if q.pre is p]
            if any(q.pre is p for q in ins):
                _refuse(p, "a pass (linear) layer with a connection to itself cannot be folded")
            for q in ins + outs:
                if np.ndim(q.delay) and np.unique(q.delay).size > 1:
                    _refuse(p, f"a pass (linear) layer next to per-synapse delays ({q.name!r}) "
                            "cannot be folded into one projection")
            made = []
            for qo in outs:
                bias[qo.post] = bias[qo.post] + qo.w.T @ bias[p]
                for qi in ins:
                    w = (qi.w @ qo.w).tocsr()
                    w.eliminate_zeros()
                    made.append(_Proj(f"{qi.name}+{qo.name}", qi.pre, qo.post, w,
                                      int(np.max(qi.delay, initial=0))
                                      + int(np.max(qo.delay, initial=0))))
            projs = [q for q in projs if q not in ins and q not in outs] + made
        return projs

    @staticmethod
    def _merge(projs):
        """Sum projections between the same pair with the same scalar delay."""
        out, seen = [], {}
        for q in projs:
            if np.ndim(q.delay):
                out.append(q)
                continue
            key = (q.pre, q.post, int(q.delay))
            if key in seen:
                r = seen[key]
                r.w = (r.w + q.w).tocsr()
                r.name = f"{r.name}&{q.name}"
            else:
                r = _Proj(q.name, q.pre, q.post, q.w, int(q.delay))
                seen[key] = r
                out.append(r)
        for q in out:
            if not np.ndim(q.delay):
                q.w.eliminate_zeros()
            q.w.sort_indices()
        return out

    @staticmethod
    def _shifts(pops, projs):
        """Longest path from the inputs with 1 - d per connection (Bellman-Ford)."""
        L = {p: 0 for p in pops}
        for _ in range(len(pops) + 1):
            changed = []
            for q in projs:
                c = L[q.pre] + 1 - q.dmin
                if c > L[q.post]:
                    L[q.post] = c
                    changed.append(q)
            if not changed:
                return L
        names = sorted({q.post.name for q in changed} | {q.pre.name for q in changed})
        q = changed[0]
        raise LoihiMappingError(
            f"population {q.post.name!r} ({q.post.model.name}): it is on a cycle ("
            + ", ".join(repr(n) for n in names) + ") with fewer steps of delay than "
            "connections; every Loihi connection adds one step, so the cycle would run slower "
            "than in the float network")

    # -------------------------------------------------------------- parameters
    def _population(self, net, p, b, worst_in, shift):
        kind, prm, n = p.model.name, p.params, p.n
        dt = net.dt
        if kind in ("LIF", "LI", "CubaLIF", "CubaLI"):
            tau_m = prm["tau_mem"] if p.model.cuba else prm["tau"]
            a_m = dt / _uniform(p, "tau_mem" if p.model.cuba else "tau", tau_m)
            if a_m > 1:
                _refuse(p, f"dt/tau = {a_m:g} > 1 (dt longer than the membrane time constant); "
                        "Loihi's dv is at most 4095/4096")
        else:
            a_m = 0.0 if kind in ("IF", "I") else 1.0
        a_s = 1.0
        if p.model.cuba:
            a_s = dt / _uniform(p, "tau_syn", prm["tau_syn"])
            if a_s > 1:
                _refuse(p, f"dt/tau_syn = {a_s:g} > 1; Loihi's du is at most 4095")
        r = prm.get("r", np.ones(n))
        w_in = prm.get("w_in", np.ones(n))
        if kind in ("IF", "I"):
            g = r * (dt if net.integrate == "seconds" else 1.0)
            h = g
        elif kind == "threshold":
            g = h = np.ones(n)
        else:
            g = a_m * r * a_s * w_in          # weight of an input spike into u (per S)
            h = a_m * r * w_in                # weight of the constant input b into v
        leaky = p.model.leaky
        v_leak = prm["v_leak"] if leaky else np.zeros(n)
        readout = kind in READOUTS
        if readout:
            v_ref = np.zeros(n)
        elif kind == "threshold":
            v_ref = np.zeros(n)
        else:
            v_ref = prm["v_reset"].copy()
        v0 = v_leak.copy() if (leaky and net.v_init == "leak") else np.zeros(n)
        # decays
        if self._paper:
            dv = int(a_m * 4095)
            du = int(a_s * 4095)
        else:
            dv = int(np.clip(round(4096 * a_m), 0, 4095))
            du = int(np.clip(round(4096 * a_s) - 1, 0, 4095))
        if kind == "threshold":
            dv = 4095
        if kind in ("IF", "I"):
            dv = 0
        # worst-case u in volts-from-v_ref (u = 64 S * this): the steady-state I_s bound
        u_bound = np.abs(g / a_s) * worst_in
        notes = []
        if readout:
            vth = VTH_MAX
            vmax = np.maximum(np.abs(v0), np.abs(v_leak) + np.abs(h / max(a_m, 1.0 if kind == "I"
                                                                          else 1e-300))
                              * (worst_in + np.abs(b)))
            if self.readout_scale is not None:
                scale = np.full(n, float(self.readout_scale))
            elif kind == "I":
                _refuse(p, "an I (integrator) readout has no bound on v and Loihi's v "
                        "saturates at 24 bits: give readout_scale (S, Loihi v = 64 S v)")
            elif self._paper:
                scale = np.full(n, PAPER_SCALE)
            else:
                scale = 0.99 * VTH_MAX / np.where(vmax > 0, vmax, 1.0)
            if kind != "I" and np.any(scale * vmax >= VTH_MAX):
                notes.append("the worst-case v reaches Loihi's largest threshold (131071 << 6): "
                             "the readout could spike and reset")
        else:
            delta = prm["v_threshold"] - v_ref
            if np.any(delta <= 0):
                what = ("v_threshold <= 0" if kind == "threshold" else
                        "v_threshold <= v_reset")
                _refuse(p, f"{what} (at neuron {int(np.argmax(delta <= 0))}); Loihi's "
                        "threshold is a positive distance above the reset value 0")
            if self._paper:
                d = _uniform(p, "v_threshold - v_reset", delta)
                vth = int(d * 131071) >> 9
                if not 0 <= vth <= VTH_MAX:
                    _refuse(p, f"threshold {d:g} V is outside Loihi's 17-bit vth at S = 256/V")
                scale = np.full(n, PAPER_SCALE)
                if np.any(64 * scale * u_bound >= U_WRAP):
                    notes.append("worst-case input in one step can wrap u (24 bits)")
            else:
                vth = self.vth_target
                ratio = np.max(u_bound / delta) if n else 0.0   # u at worst / threshold
                if 64 * vth * ratio >= U_WRAP:
                    new = max(1, int((U_WRAP - 1) // (64 * ratio)))
                    notes.append(f"vth lowered from {vth} to {new} so that the worst-case "
                                 "input of one step cannot wrap u (24 bits)")
                    vth = new
                scale = vth / delta
        bias_in = 64 * scale * h * b              # the constant input's part
        bias_v = 64 * scale * a_m * (v_leak - v_ref) * (1.0 if leaky else 0.0) + bias_in
        mant, exp = _bias(bias_v, self._round)
        if exp.size and exp.max() > 16:
            _refuse(p, "a bias too large for Loihi's bias_mant * 2**bias_exp")
        v_init = np.clip(self._round(64 * scale * (v0 - v_ref)), -V_MAX, V_MAX).astype(np.int64)
        bias_int = mant * 2 ** exp
        # a Cuba population's constant input ramps up through I_s in the float network: u
        # starts at minus its part of the bias and decays as I_s - w_in b does
        u_init = np.zeros(n, np.int64)
        if p.model.cuba and du < 4095:
            u_init = -np.round(bias_in).astype(np.int64)
            if np.any(np.abs(u_init) >= U_WRAP):
                notes.append("the constant input is too large for u: it acts at once instead "
                             "of ramping up through I_s")
                u_init = np.zeros(n, np.int64)
        u_init, v_init, late = _preroll(u_init, v_init, bias_int, du, dv, int(vth), shift)
        if late:
            notes.append(f"{late} neurons run their bias/leak {shift} steps early (no "
                         "initial state undoes the pre-roll without a spike)")
        spec = LoihiLIFSpec(n=n, du=du, dv=dv, vth=int(vth), bias_mant=mant, bias_exp=exp,
                            u_init=u_init, v_init=v_init)
        lp = LoihiPopulation(p.name, kind, tuple(p.shape), spec, scale, v_ref, shift)
        self._gain[p.name] = g                    # weight gain per post neuron (per S)
        got = mant * 2.0 ** exp
        self.report["populations"].append(dict(
            name=p.name, model=kind, shift=shift, du=du, dv=dv, vth=int(vth),
            scale_min=float(scale.min()), scale_max=float(scale.max()),
            decay_error_u=abs((4095 - du) / 4096 - (1 - a_s)) if p.model.cuba else 0.0,
            decay_error_v=abs((4096 - dv) / 4096 - (1 - a_m)) if leaky else 0.0,
            bias_max_abs_error=float(np.max(np.abs(got - bias_v))) if n else 0.0,
            notes=notes))
        self.report["notes"] += [f"{p.name}: {t}" for t in notes]
        return lp

    def _projection(self, q, spike_value, shift):
        post = self.populations[q.post.name]
        w = q.w
        coo_rows = np.repeat(np.arange(w.shape[0]), np.diff(w.indptr))
        cols = w.indices
        x = w.data * spike_value * (self._gain[post.name] * post.scale)[cols]
        mode = infer_sign_mode(x)
        W, e = _int_weights(x, self.weight_bits, mode, self._round, self._paper)
        d = np.asarray(q.delay, np.int64) + shift[q.post] - shift[q.pre] - 1
        if d.size and d.min() < 0:          # cannot happen: shifts are longest paths
            raise AssertionError(q.name)
        if d.size and d.max() > MAX_LOIHI_DELAY:
            raise LoihiMappingError(
                f"projection {q.name!r} ({q.pre.name} -> {q.post.name}): a Loihi delay of "
                f"{int(d.max())} steps (float delay plus the latency alignment); Loihi's "
                f"synaptic delays are 0..{MAX_LOIHI_DELAY} steps")
        ref = np.abs(x).max() if x.size else 0.0
        err = float(np.sqrt(np.mean((W * 2.0 ** e - x) ** 2)) / ref) if ref > 0 else 0.0
        lq = LoihiProjection(q.name, q.pre.name, q.post.name, coo_rows.astype(np.int64),
                             cols.astype(np.int64), W, e, mode, self.weight_bits,
                             int(d) if d.ndim == 0 else d, err)
        self.report["projections"].append(dict(
            name=q.name, pre=q.pre.name, post=q.post.name, synapses=int(W.size),
            sign_mode=mode, weight_exp=e, weight_rms_error=err,
            loihi_delay=int(d) if d.ndim == 0 else (int(d.min()), int(d.max()))))
        return lq

    # -------------------------------------------------------------- networks and runs
    def loihi_steps(self, steps):
        """Loihi steps that cover ``steps`` float steps for every population."""
        return int(steps) + self._max_shift

    def _input_arrays(self, inputs, steps):
        if not isinstance(inputs, dict):
            if len(self.inputs) != 1:
                fail("inputs", "a dict by input name (" + ", ".join(self.inputs) + ")",
                     type(inputs).__name__)
            inputs = {next(iter(self.inputs)): inputs}
        out = {}
        for name, x in inputs.items():
            if name not in self.inputs:
                fail("inputs", "names of the network's inputs (" + ", ".join(self.inputs)
                     + ")", name)
            shape = self.inputs[name]
            n = int(np.prod(shape))
            a = np.asarray(x)
            if a.ndim < 1 or a.shape[1:] not in (tuple(shape), (n,)):
                fail(f"inputs[{name!r}]", f"an array (steps, {', '.join(map(str, shape))})",
                     a.shape)
            a = a.reshape(a.shape[0], n)
            bad = ~((a == 0) | (a == 1))
            if np.any(bad):
                raise LoihiMappingError(
                    f"population {name!r} (input): graded input values (e.g. "
                    f"{float(a[bad][0]):g}); Loihi's spike sources send 0/1 spikes")
            out[name] = a.astype(bool)
        rows = {a.shape[0] for a in out.values()}
        if steps is None:
            if len(rows) != 1 or len(out) != len(self.inputs):
                fail("steps", "the number of steps (inputs of several lengths or missing)",
                     sorted(rows))
            steps = rows.pop()
        steps = check_int("steps", steps, 0)
        for name in self.inputs:
            a = out.get(name, np.zeros((steps, int(np.prod(self.inputs[name]))), bool))
            if a.shape[0] != steps:
                fail(f"inputs[{name!r}]", f"{steps} rows", a.shape[0])
            out[name] = a
        return out, steps

    def network(self, inputs, steps=None, record_v=False, backend="numba", seed=0):
        """A ``ns.Network`` of this model fed with ``inputs`` (0/1, (steps, *shape)): a spike
        source per input and a loihi_lif population per layer (the layers' names), spike
        monitors on every layer and v monitors on the readouts (all layers with
        ``record_v``). Run it for :meth:`loihi_steps` (steps) steps."""
        from ..network import Network
        x, steps = self._input_arrays(inputs, steps)
        net = Network(dt=self.dt, seed=seed, backend=backend)
        made = {}
        for name in self.inputs:
            t, i = np.nonzero(x[name])
            made[name] = net.spike_source(x[name].shape[1], times=t * self.dt, indices=i,
                                          name=name)
        for name, lp in self.populations.items():
            made[name] = net.loihi_lif(lp.n, du=lp.du, dv=lp.dv, vth=lp.vth,
                                       bias_mant=lp.bias_mant, bias_exp=lp.bias_exp,
                                       u_init=lp.u_init, v_init=lp.v_init, name=name)
        for lq in self.projections:
            if lq.weight.size == 0:
                continue
            delay = lq.delay * self.dt if np.ndim(lq.delay) == 0 else \
                np.asarray(lq.delay) * self.dt
            net.connect(made[lq.pre], made[lq.post], weight=lq.weight.astype(np.float64),
                        pairs=(lq.pre_index, lq.post_index), delay=delay,
                        weight_exp=lq.weight_exp, num_weight_bits=lq.num_weight_bits,
                        sign_mode=lq.sign_mode, name=lq.name)
        for name, lp in self.populations.items():
            net.spike_monitor(made[name])
            if record_v or lp.readout:
                net.state_monitor(made[name], "v")
        return net

    def run(self, inputs, steps=None, record_v=False, backend="numba"):
        """Run on Loihi's arithmetic (neurosim's bit-exact engine) and return a
        :class:`LoihiRun` aligned with the float network's steps (each population's spikes
        and v shifted back by its depth)."""
        x, steps = self._input_arrays(inputs, steps)
        net = self.network(x, steps, record_v=record_v, backend=backend)
        total = self.loihi_steps(steps)
        net.run(total * self.dt, progress=False)
        raw, data = {}, {}
        for m in net.spike_monitors:
            s = np.zeros((total, m.pop.n), np.uint8)
            s[m.steps, m.indices] = 1
            raw[(m.pop.name, "spikes")] = s
        for m in net.state_monitors:
            raw[(m.pop.name, "v")] = np.asarray(m.values, np.int64)
        for name, lp in self.populations.items():
            lo = lp.shift
            if (name, "v") in raw:
                v = lp.to_volts(raw[(name, "v")][lo:lo + steps])
                data[(name, "v")] = v.reshape((steps,) + lp.shape)
            if lp.readout:
                data[(name, "out")] = data[(name, "v")]
            else:
                data[(name, "out")] = raw[(name, "spikes")][lo:lo + steps].reshape(
                    (steps,) + lp.shape)
        for o, pname in self.outputs.items():
            if (pname, "out") in data:
                data[o] = data[(pname, "out")]
        return LoihiRun(data, steps, total, raw, net)

    def __repr__(self):
        return (f"<LoihiModel mapping={self.mapping!r} {len(self.populations)} populations, "
                f"{len(self.projections)} projections, shifts {self.shift}>")
