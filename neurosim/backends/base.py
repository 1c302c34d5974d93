"""What every backend runner returns for a chunk of steps."""

from typing import NamedTuple

import numpy as np


__all__ = ["Chunk", "copy_state", "fixed_bias_mant", "count_spike", "plastic_state",
           "weight_buffer"]


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


def count_spike(record, node, step):
    """Plain-Python twin of ``engine.lif.count_spike`` for the reference backends."""
    if record.pop_bounds.shape[0] < 2:
        return
    p = int(np.searchsorted(record.pop_bounds[:-1], node, side="right")) - 1
    new = record.pop_last[p] != step
    if new:
        record.pop_last[p] = step
        record.pop_active[p] += 1
    b = int(record.bin_steps[0])
    if b:
        k = step // b - int(record.bin_base[0])
        record.bin_spikes[k, p] += 1
        record.bin_active[k, p] += int(new)
        for j in record.out_proj[record.out_ptr[p]:record.out_ptr[p + 1]]:
            record.bin_events[k, j] += record.fan[record.fan_ptr[j] + node
                                                  - record.pop_bounds[p]]


def plastic_state(plan):
    """A runner's fresh plastic state (None without plastic projections): a copy of the
    plan's, except the weights, which are the plan's live array (the projections'
    ``weight`` arrays are views of it)."""
    init = getattr(plan, "plastic_init", None)
    if init is None:
        return None
    return copy_state(init)._replace(w=plan.plastic_w)


def weight_buffer(plan, ps, step0, n_steps):
    """``ps`` with an empty weight-sample buffer for steps step0 .. step0+n_steps-1 (one row
    per multiple of the sampling interval among them)."""
    if ps is None:
        return None
    pc = plan.plastic
    every = int(pc.mon_every[0])
    rows = 0 if every <= 0 else len(range(-(-step0 // every) * every, step0 + n_steps, every))
    return ps._replace(mon_buf=np.zeros((rows, pc.mon_idx.shape[0])),
                       mon_row=np.zeros(1, np.int64))
