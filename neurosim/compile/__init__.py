"""Lowering of a Network to a frozen Plan of flat arrays (see :mod:`neurosim.compile.plan`)."""

from .plan import Plan, build_plan, build_record, initial_state

__all__ = ["Plan", "build_plan", "build_record", "initial_state"]
