"""What every backend runner returns for a chunk of steps."""

from typing import NamedTuple

import numpy as np

from ..engine.lif import State

__all__ = ["Chunk", "copy_state"]


class Chunk(NamedTuple):
    steps: int                 # steps actually run
    spike_step: np.ndarray     # int64 step of each recorded spike
    spike_node: np.ndarray     # int64 node of each recorded spike
    samples: np.ndarray        # (steps, n_recorded) state samples at the start of each step


def copy_state(state):
    """A deep copy of a State (every array copied)."""
    return State(*[np.array(a, copy=True) for a in state])
