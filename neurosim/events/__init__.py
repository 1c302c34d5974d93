"""Event data: an event-camera (DVS) model, saccade digits, plots, and a spiking CNN on them.

- :class:`DVS` turns frames into ON/OFF events (``neurosim.events.dvs`` has the model);
- :func:`load_saccade_digits` makes scikit-learn's digits into an N-MNIST-like event data set;
- :mod:`neurosim.events.cnn`: a CNN trained in numpy on accumulated event frames, converted
  to a spiking CNN on :class:`neurosim.LayerNetwork` (convolutions as sparse synapses);
- :func:`event_frame`, :func:`raster`: plots (matplotlib).
"""

from .dataset import (EventSet, SaccadeDigits, digit_split, load_saccade_digits,
                      make_saccade_digits, saccade_events,
                      saccade_frames, saccade_path, to_frames, to_steps)
from .dvs import DVS, EVENT_DTYPE, make_events
from .plot import event_frame, raster

__all__ = ["DVS", "EVENT_DTYPE", "make_events", "EventSet", "SaccadeDigits", "digit_split",
           "saccade_events",
           "load_saccade_digits", "make_saccade_digits", "saccade_frames", "saccade_path",
           "to_frames", "to_steps", "event_frame", "raster"]
