"""Exporters to other simulators (imported lazily: each needs its own optional package)."""

__all__ = ["to_brian2", "run_in_brian2"]


def to_brian2(net, **kwargs):
    from .brian2 import to_brian2 as _f
    return _f(net, **kwargs)


def run_in_brian2(net, duration, **kwargs):
    from .brian2 import run_in_brian2 as _f
    return _f(net, duration, **kwargs)
