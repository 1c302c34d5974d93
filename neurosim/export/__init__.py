"""Exporters to other simulators (imported lazily: each needs its own optional package)."""

__all__ = ["to_brian2", "run_in_brian2", "to_lava", "run_in_lava", "compare_with_lava",
           "write_loihi_bundle", "refuse_unexported_inputs"]


def refuse_unexported_inputs(net, target):
    """Raise if ``net`` has inputs the ``target`` exporter does not write (current sources,
    Poisson sources with a start/stop window), naming the first: an export must not drop
    them silently."""
    if getattr(net, "current_sources", None):
        src = net.current_sources[0]
        raise ValueError(f"current source {src.name!r}: the {target} export does not write "
                         "current sources; model the current as a bias or remove it")
    for pop in net.populations:
        if pop.kind == "poisson" and getattr(pop, "_window", None) is not None:
            raise ValueError(f"Poisson source {pop.name!r} has a start/stop window, which the "
                             f"{target} export does not write")


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
