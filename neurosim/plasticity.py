"""Synaptic plasticity of ordinary (non-crossbar) synapses: pair STDP, triplet STDP and
Tsodyks-Markram short-term plasticity, for ``Network.connect(..., plasticity=rule)``.

A plastic projection has one delay, so all synapses of a neuron see its spikes at the same
times: the traces are kept per presynaptic and per postsynaptic neuron of the projection and
decay exactly between events (exp(-gap/tau) when read), which gives the values of Brian2's
per-synapse ``(event-driven)`` traces with 8 bytes per synapse (the weight). Events reach a synapse in the synapses slot of a step, in this
order: the presynaptic events of every plastic projection in creation order (the
presynaptic pathway), then its postsynaptic events (the postsynaptic pathway), as a Brian2
``Synapses`` object with ``on_pre`` and ``on_post`` runs them.

Weights are magnitudes in [0, w_max] (V, or S for a conductance target); a projection of
negative weights (into the inhibitory channel) learns on |w| and keeps its sign.

**Pair STDP** (:class:`STDP`, NEST ``stdp_synapse`` semantics; Song, Miller & Abbott 2000
with ``mu_plus = mu_minus = 0``). Traces K+ (per synapse, of the presynaptic spikes,
tau_plus) and K- (of the postsynaptic spikes, tau_minus); with w~ = w / w_max::

    presynaptic event:  current += w;  w~ <- max(0, w~ - alpha lambda w~^mu_minus K-);
                        K+ <- K+ + 1  (pairing="nearest": K+ <- 1)
    postsynaptic event: w~ <- min(1, w~ + lambda (1 - w~)^mu_plus K+);
                        K- <- K- + 1  (pairing="nearest": K- <- 1)

mu = 0 is additive, mu = 1 multiplicative (van Rossum et al. 2000). **Delay split**:
``delay_split="axonal"`` (default, Brian2's): the presynaptic event reaches the synapse with
the synaptic delay d (the current it delivers arrives then, with the weight before the
update), the postsynaptic spike at once; the pair's timing is t_post - (t_pre + d).
``"dendritic"`` (NEST's stdp_synapse, which takes the whole delay as dendritic): the
presynaptic event reaches the synapse at t_pre, updates the weight and sends the updated
weight, which arrives d later; the postsynaptic spike reaches the synapse d after it; the
timing is (t_post + d) - t_pre. With this split a step runs in NEST's order: the
postsynaptic spikes reaching the synapse facilitate with K+ of the earlier presynaptic
spikes, then the presynaptic spikes depress with K- of the earlier postsynaptic spikes, and
only then are both counted in their traces, so a pre and a post spike that reach the
synapse at the same time do not pair (as NEST's stdp_synapse); with the axonal split they
pair as in Brian2 (on_pre, then on_post, which sees the pre spike: a pair at dt = 0).

**Triplet STDP** (:class:`TripletSTDP`, Pfister & Gerstner 2006, all-to-all; the minimal
model has a3_minus = 0). Traces r1 (tau_plus), r2 (tau_x) of the presynaptic spikes, o1
(tau_minus), o2 (tau_y) of the postsynaptic ones::

    presynaptic event:  current += w;  w <- clip(w - o1 (a2_minus + a3_minus r2), 0, w_max);
                        r1 <- r1 + 1, r2 <- r2 + 1
    postsynaptic event: w <- clip(w + r1 (a2_plus + a3_plus o2), 0, w_max);
                        o1 <- o1 + 1, o2 <- o2 + 1

(each trace read before its own increment: Pfister & Gerstner's t - epsilon).

**Tsodyks-Markram** (:class:`TsodyksMarkram`; Tsodyks, Pawelzik & Markram 1998, NEST
``tsodyks_synapse`` without its own PSC, Brian2's STP example): utilisation u (decays to 0
with tau_facil; tau_facil = 0: u = U at every spike) and resources x (recover to 1 with
tau_rec), u = 0 and x = 1 at first::

    presynaptic event:  u <- u + U (1 - u);  r = u x;  x <- x - r;  current += w r
"""

from dataclasses import dataclass

from .validation import check_choice, check_finite, check_nonnegative, check_positive, fail

__all__ = ["STDP", "TripletSTDP", "TsodyksMarkram", "RULES", "Rule"]


class Rule:
    """Base of the plasticity rules (what ``connect(plasticity=...)`` accepts). Each rule
    has a ``code`` (the engine's RULE_* in :mod:`neurosim.engine.plastic`) and ``params()``,
    the engine's parameter vector."""


def _set(obj, name, value):
    object.__setattr__(obj, name, value)


def _weight_like(value):
    """A value in weight units (V or S, by the target): a quantity of either is accepted,
    as a plain SI float."""
    return float(value) if isinstance(value, float) else value


@dataclass(frozen=True)
class STDP(Rule):
    """Pair-based STDP with traces (see the module docstring).

    Parameters
    ----------
    w_max : float
        Largest weight magnitude (V, or S into conductances), > 0.
    lam : float
        Learning rate lambda (NEST's name), >= 0: a potentiation step is lam * w_max.
    alpha : float
        Depression relative to potentiation, >= 0.
    tau_plus, tau_minus : float
        Trace time constants (s), > 0.
    mu_plus, mu_minus : float
        Weight dependence exponents, >= 0 (0 additive, 1 multiplicative).
    pairing : {"all", "nearest"}
        All-to-all traces (+1 per spike) or nearest-neighbour ones (set to 1).
    delay_split : {"axonal", "dendritic"}
        Where the synaptic delay sits for the pairing (Brian2: axonal, NEST: dendritic).
    """
    w_max: float
    lam: float = 0.01
    alpha: float = 1.0
    tau_plus: float = 20e-3
    tau_minus: float = 20e-3
    mu_plus: float = 0.0
    mu_minus: float = 0.0
    pairing: str = "all"
    delay_split: str = "axonal"
    code = 1

    def __post_init__(self):
        _set(self, "w_max", check_positive("w_max", _weight_like(self.w_max)))
        for key in ("lam", "alpha", "mu_plus", "mu_minus"):
            _set(self, key, check_nonnegative(key, getattr(self, key)))
        for key in ("tau_plus", "tau_minus"):
            _set(self, key, check_positive(key, getattr(self, key), "s"))
        check_choice("pairing", self.pairing, ("all", "nearest"))
        check_choice("delay_split", self.delay_split, ("axonal", "dendritic"))

    def params(self):
        return (self.w_max, self.lam, self.alpha, self.tau_plus, self.tau_minus,
                self.mu_plus, self.mu_minus, float(self.pairing == "nearest"))


@dataclass(frozen=True)
class TripletSTDP(Rule):
    """Triplet STDP (Pfister & Gerstner 2006), all-to-all (see the module docstring).

    Parameters
    ----------
    w_max : float
        Largest weight magnitude, > 0.
    a2_plus, a3_plus, a2_minus, a3_minus : float
        Amplitudes (weight units per unit of trace), >= 0; a3_minus = 0 is the minimal
        model.
    tau_plus, tau_minus, tau_x, tau_y : float
        Trace time constants (s), > 0 (defaults: the visual cortex fit of the paper).
    """
    w_max: float
    a2_plus: float
    a3_plus: float
    a2_minus: float
    a3_minus: float = 0.0
    tau_plus: float = 16.8e-3
    tau_minus: float = 33.7e-3
    tau_x: float = 101e-3
    tau_y: float = 125e-3
    code = 2

    def __post_init__(self):
        _set(self, "w_max", check_positive("w_max", _weight_like(self.w_max)))
        for key in ("a2_plus", "a3_plus", "a2_minus", "a3_minus"):
            _set(self, key, check_nonnegative(key, _weight_like(getattr(self, key))))
        for key in ("tau_plus", "tau_minus", "tau_x", "tau_y"):
            _set(self, key, check_positive(key, getattr(self, key), "s"))

    def params(self):
        return (self.w_max, self.a2_plus, self.a3_plus, self.a2_minus, self.a3_minus,
                self.tau_plus, self.tau_minus, self.tau_x, self.tau_y)


@dataclass(frozen=True)
class TsodyksMarkram(Rule):
    """Short-term depression and facilitation (see the module docstring).

    Parameters
    ----------
    U : float
        Utilisation increment, in (0, 1].
    tau_rec : float
        Recovery time constant of the resources (s), > 0.
    tau_facil : float
        Decay time constant of the utilisation (s), >= 0; 0: no facilitation (u = U).
    """
    U: float = 0.5
    tau_rec: float = 800e-3
    tau_facil: float = 0.0
    code = 3

    def __post_init__(self):
        u = check_finite("U", self.U)
        if not 0.0 < u <= 1.0:
            fail("U", "in (0, 1]", u)
        _set(self, "U", u)
        _set(self, "tau_rec", check_positive("tau_rec", self.tau_rec, "s"))
        _set(self, "tau_facil", check_nonnegative("tau_facil", self.tau_facil, "s"))

    def params(self):
        return (self.U, self.tau_rec, self.tau_facil)


#: Rule code -> class (the engine dispatches on the code).
RULES = {cls.code: cls for cls in (STDP, TripletSTDP, TsodyksMarkram)}
