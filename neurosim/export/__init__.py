"""Exporters to other simulators (imported lazily: each needs its own optional package)."""

__all__ = ["to_brian2", "run_in_brian2", "to_lava", "run_in_lava", "compare_with_lava",
           "write_loihi_bundle"]


def to_brian2(net, **kwargs):
    from .brian2 import to_brian2 as _f
    return _f(net, **kwargs)


def run_in_brian2(net, duration, **kwargs):
    from .brian2 import run_in_brian2 as _f
    return _f(net, duration, **kwargs)


def to_lava(net, steps, **kwargs):
    from .lava import to_lava as _f
    return _f(net, steps, **kwargs)


def run_in_lava(net, steps, **kwargs):
    from .lava import run_in_lava as _f
    return _f(net, steps, **kwargs)


def compare_with_lava(net, steps):
    from .lava import compare_with_lava as _f
    return _f(net, steps)


def write_loihi_bundle(net, out_dir, steps, **kwargs):
    from .lava import write_loihi_bundle as _f
    return _f(net, out_dir, steps, **kwargs)
