"""Standard synapse types of neurosim.pynn.

Synapse parameters stay in PyNN's units natively (weights in nA, uS or mV by the target cell
type, delays in ms): the target decides the conversion, so one synapse type can serve targets
of different kinds. Projections convert at the build (:mod:`neurosim.pynn.projections`).

Plasticity maps onto :mod:`neurosim.plasticity`:

* ``TsodyksMarkramSynapse(U, tau_rec, tau_facil)`` -> ``TsodyksMarkram`` (NEST's
  tsodyks_synapse without its own PSC: the target's synaptic time constant applies).
* ``STDPMechanism(SpikePairRule(tau_plus, tau_minus, A_plus, A_minus), weight_dependence)``
  -> ``STDP`` (NEST's stdp_synapse): lam = A_plus, alpha = A_minus / A_plus, and the weight
  dependence as its exponents: ``AdditiveWeightDependence`` mu = (0, 0),
  ``MultiplicativeWeightDependence`` (1, 1), ``AdditivePotentiationMultiplicativeDepression``
  (0, 1), ``GutigWeightDependence`` (mu_plus, mu_minus). neurosim's weights live in
  [0, w_max]: w_min must be 0. ``dendritic_delay_fraction`` 1 (PyNN's default, NEST) is
  ``delay_split="dendritic"``, 0 (Brian2) ``"axonal"``; other fractions are refused.
"""

from pyNN.standardmodels import synapses, build_translations
from pyNN import errors

from ..plasticity import STDP, TsodyksMarkram
from .cells import unavailable
from .simulator import state

__all__ = ["StaticSynapse", "TsodyksMarkramSynapse", "STDPMechanism",
           "AdditiveWeightDependence", "MultiplicativeWeightDependence",
           "AdditivePotentiationMultiplicativeDepression", "GutigWeightDependence",
           "SpikePairRule", "UNAVAILABLE_SYNAPSES"]


class _MinDelay:
    def _get_minimum_delay(self):
        return state.min_delay


class StaticSynapse(_MinDelay, synapses.StaticSynapse):
    __doc__ = synapses.StaticSynapse.__doc__
    translations = build_translations(("weight", "weight"), ("delay", "delay"))

    def ns_rules(self, params):
        """neurosim plasticity per synapse group: None (static)."""
        return None


class TsodyksMarkramSynapse(_MinDelay, synapses.TsodyksMarkramSynapse):
    __doc__ = synapses.TsodyksMarkramSynapse.__doc__
    translations = build_translations(
        ("weight", "weight"),
        ("delay", "delay"),
        ("U", "U"),
        ("tau_rec", "tau_rec"),
        ("tau_facil", "tau_facil"),
    )
    rule_parameters = ("U", "tau_rec", "tau_facil")

    @staticmethod
    def ns_rule(U, tau_rec, tau_facil, w_scale=None):
        return TsodyksMarkram(U=float(U), tau_rec=float(tau_rec) * 1e-3,
                              tau_facil=float(tau_facil) * 1e-3)


class STDPMechanism(_MinDelay, synapses.STDPMechanism):
    __doc__ = synapses.STDPMechanism.__doc__
    base_translations = build_translations(
        ("weight", "weight"),
        ("delay", "delay"),
        ("dendritic_delay_fraction", "dendritic_delay_fraction"),
    )

    def __init__(self, timing_dependence=None, weight_dependence=None,
                 voltage_dependence=None, dendritic_delay_fraction=1.0,
                 weight=0.0, delay=None):
        if voltage_dependence is not None:
            raise NotImplementedError("neurosim.pynn: STDPMechanism(voltage_dependence=...) "
                                      "is not supported (neurosim's STDP is pair-based)")
        if not isinstance(timing_dependence, SpikePairRule):
            raise NotImplementedError(
                "neurosim.pynn: STDPMechanism supports timing_dependence=SpikePairRule only, "
                f"not {type(timing_dependence).__name__}")
        if not isinstance(weight_dependence, _WeightDependence):
            raise NotImplementedError(
                "neurosim.pynn: STDPMechanism supports the weight dependences "
                "AdditiveWeightDependence, MultiplicativeWeightDependence, "
                "AdditivePotentiationMultiplicativeDepression and GutigWeightDependence, not "
                f"{type(weight_dependence).__name__}")
        if dendritic_delay_fraction not in (0, 0.0, 1, 1.0):
            raise NotImplementedError(
                "neurosim.pynn: dendritic_delay_fraction must be 0 (all of the delay axonal, "
                "as Brian2) or 1 (all dendritic, as NEST), not "
                f"{dendritic_delay_fraction}")
        super().__init__(timing_dependence, weight_dependence, voltage_dependence,
                         dendritic_delay_fraction, weight, delay)
        self.base_translations = dict(STDPMechanism.base_translations)
        self._build_translations()

    def _build_translations(self):
        self.translations = dict(self.base_translations)
        for component in (self.timing_dependence, self.weight_dependence):
            if component:
                self.translations.update(component.translations)

    @property
    def rule_parameters(self):
        return (("dendritic_delay_fraction",) + tuple(self.timing_dependence.default_parameters)
                + tuple(self.weight_dependence.default_parameters))

    def ns_rule(self, dendritic_delay_fraction, tau_plus, tau_minus, A_plus, A_minus, w_min,
                w_max, mu_plus=None, mu_minus=None, w_scale=1.0):
        """The neurosim rule; ``w_scale`` converts PyNN weight units to neurosim's."""
        if w_min != 0:
            raise NotImplementedError(
                f"neurosim.pynn: {type(self.weight_dependence).__name__}(w_min={w_min}): "
                "neurosim's STDP keeps weights in [0, w_max]; w_min must be 0")
        if A_plus <= 0 and A_minus > 0:
            raise NotImplementedError(
                "neurosim.pynn: SpikePairRule(A_plus=0, A_minus>0) cannot be expressed with "
                "neurosim's STDP (depression is alpha * A_plus)")
        mp, mm = self.weight_dependence.exponents
        if mp is None:
            mp, mm = mu_plus, mu_minus
        if mp < 0 or mm < 0:
            raise errors.InvalidParameterValueError(
                f"GutigWeightDependence: mu_plus, mu_minus must be >= 0, got {mp}, {mm}")
        return STDP(w_max=float(w_max) * w_scale, lam=float(A_plus),
                    alpha=float(A_minus) / A_plus if A_plus > 0 else 1.0,
                    tau_plus=float(tau_plus) * 1e-3, tau_minus=float(tau_minus) * 1e-3,
                    mu_plus=float(mp), mu_minus=float(mm),
                    delay_split="dendritic" if dendritic_delay_fraction else "axonal")


class _WeightDependence:
    exponents = (None, None)
    translations = None

    @classmethod
    def _tr(cls, *extra):
        return build_translations(("w_max", "w_max"), ("w_min", "w_min"), *extra)


class AdditiveWeightDependence(_WeightDependence, synapses.AdditiveWeightDependence):
    __doc__ = synapses.AdditiveWeightDependence.__doc__
    translations = _WeightDependence._tr()
    exponents = (0.0, 0.0)


class MultiplicativeWeightDependence(_WeightDependence,
                                     synapses.MultiplicativeWeightDependence):
    __doc__ = synapses.MultiplicativeWeightDependence.__doc__
    translations = _WeightDependence._tr()
    exponents = (1.0, 1.0)


class AdditivePotentiationMultiplicativeDepression(
        _WeightDependence, synapses.AdditivePotentiationMultiplicativeDepression):
    __doc__ = synapses.AdditivePotentiationMultiplicativeDepression.__doc__
    translations = _WeightDependence._tr()
    exponents = (0.0, 1.0)


class GutigWeightDependence(_WeightDependence, synapses.GutigWeightDependence):
    __doc__ = synapses.GutigWeightDependence.__doc__
    translations = _WeightDependence._tr(("mu_plus", "mu_plus"), ("mu_minus", "mu_minus"))


class SpikePairRule(synapses.SpikePairRule):
    __doc__ = synapses.SpikePairRule.__doc__
    translations = build_translations(
        ("A_plus", "A_plus"),
        ("A_minus", "A_minus"),
        ("tau_plus", "tau_plus"),
        ("tau_minus", "tau_minus"),
    )


UNAVAILABLE_SYNAPSES = {
    name: unavailable(name, getattr(synapses, name), why)
    for name, why in (
        ("ElectricalSynapse", "neurosim has no gap junctions"),
        ("SimpleStochasticSynapse", "neurosim's synapses transmit every spike"),
        ("StochasticTsodyksMarkramSynapse", "neurosim's Tsodyks-Markram synapse is "
                                            "deterministic (TsodyksMarkramSynapse)"),
        ("MultiQuantalSynapse", "neurosim's Tsodyks-Markram synapse is deterministic"),
        ("Vogels2011Rule", "neurosim's STDP supports SpikePairRule timing only"),
    ) if hasattr(synapses, name)
}
