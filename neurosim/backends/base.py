"""What every backend runner returns for a chunk of steps."""

from typing import NamedTuple

import numpy as np


__all__ = ["Chunk", "copy_state", "fixed_bias_mant", "count_active"]


class Chunk(NamedTuple):
    steps: int                 # steps actually run
    spike_step: np.ndarray     # int64 step of each recorded spike
    spike_node: np.ndarray     # int64 node of each recorded spike
    samples: np.ndarray        # (steps, n_recorded) state samples at the start of each step


def copy_state(state):
    """A deep copy of a State or FixedState (every array copied)."""
    return type(state)(*[np.array(a, copy=True) for a in state])


def fixed_bias_mant(plan):
    """The bias mantissas of a FixedPlan's neurons (int64, LIF index), a fresh copy."""
    return (np.concatenate([s.bias_mant for s in plan.specs]).astype(np.int64)
            if plan.specs else np.zeros(0, np.int64))


def count_active(record, node, step):
    """Plain-Python twin of ``engine.lif.count_active`` for the reference backends."""
    p = int(np.searchsorted(record.pop_bounds, node, side="right")) - 1
    if record.pop_last[p] != step:
        record.pop_last[p] = step
        record.pop_active[p] += 1
