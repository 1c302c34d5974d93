"""NIR import and export: run networks trained in other frameworks, send neurosim's out.

    model = ns.nir.read("net.nir", dt=1e-4, reset="zero")
    out = model.run({"input": x})            # x: (steps, *input shape)
    out["output"]                            # (steps, *shape): spikes, or v for LI/CubaLI/I
    ns.nir.write(model, "copy.nir")

NIR files (PyPI ``nir``, Pedersen et al., Nat. Commun. 2024) hold no time step and no reset
convention, and the frameworks that write them run them differently. neurosim's semantics,
with the options that select the others:

==========================  =================================================================
time                        seconds; ``dt`` is required (snnTorch assumes 1e-4, Norse 1e-3)
integration                 forward Euler ``v += dt/tau (v_leak - v + r I)`` as snnTorch and
                            Norse (``method="euler"``), or ``method="exact"`` (zero-order
                            hold; LIF resets at the crossing time inside the step)
CubaLI / CubaLIF            synaptic current first, ``I_s += dt/tau_syn (w_in I - I_s)``, then
                            v with the new I_s
I, IF                       no leak: ``v += r I`` per step, as every framework
                            (``integrate="seconds"``: ``v += r I dt``, the literal ODE)
threshold                   strict ``v > v_threshold`` (snnTorch, Norse)
reset                       ``reset="zero"`` (v = v_reset) or ``"subtract"`` (v -= v_threshold
                            - v_reset): NIR cannot say which, the caller chooses;
                            ``reset_timing="same"`` (Norse, snnTorch's importer) or ``"next"``
                            (snnTorch's default ``reset_delay=True``)
initial v                   ``v_init="leak"`` (Norse; = 0 for every snnTorch export) or "zero"
feed-forward edges          same step: layers in topological order
recurrent edges             one step later: inside a cycle, an edge to a node nearer to the
                            inputs than its source, or as near with a name that sorts first
                            (so one edge of a tie is delayed; nirtorch reads such an input's
                            previous output, snnTorch ``recurrent(spk)``); what an Affine on
                            that path gives for zero input (its bias) acts from step 0. A
                            cycle through a Delay of >= 1 step has the Delay's latency only
Affine / Conv bias          a constant input of the next layer, every step
Delay                       ``round(delay / dt)`` steps (must be on the grid)
several edges into a node   summed
spikes                      a value of 1 for one step (``spike="dirac"``: 1/dt)
==========================  =================================================================

Linear nodes (Affine, Linear, Scale, Conv1d/2d, SumPool2d, AvgPool2d, Flatten, Delay) become
synapses: consecutive ones are multiplied into one projection where that does not grow the
synapse count (a pool before a conv stays a stateless layer instead). Convolutions are
expanded into sparse synapses (memory in proportion to the synapses).
"""

import os

import numpy as np

from ..layered import LayerNetwork, LayerRun
from ..validation import (InsufficientMemoryError, ParameterError, check_choice,
                          check_positive, fail)
from .graph import NIRError, check_file, lower

__all__ = ["read", "write", "NIRNetwork", "NIRError", "load", "to_loihi"]

OPTIONS = dict(method=("euler", "exact"), reset=("zero", "subtract"),
               reset_timing=("same", "next"), v_init=("leak", "zero"),
               integrate=("step", "seconds"), spike=("unit", "dirac"))


def load(source, type_check="auto"):
    """A ``nir.NIRGraph`` from a path (checked before nir parses it) or a graph."""
    try:
        import nir
    except ImportError:                                         # pragma: no cover
        raise ImportError("reading NIR graphs needs the nir package: pip install "
                          "'neurosim[nir]' (or pip install nir)") from None
    if isinstance(source, nir.NIRGraph):
        return source
    if isinstance(source, nir.NIRNode):
        raise NIRError(f"a single {type(source).__name__} node is not a graph: wrap it in "
                       "nir.NIRGraph")
    if not isinstance(source, (str, os.PathLike)):
        fail("source", "a path to a .nir file or a nir.NIRGraph", type(source).__name__)
    path = os.fspath(source)
    if not os.path.exists(path):
        fail("source", "an existing .nir file", path)
    check_file(path)                         # its errors name the file
    if type_check not in (True, False, "auto"):
        fail("type_check", "True, False or 'auto'", type_check)
    try:
        return nir.read(path, type_check=type_check is True or type_check == "auto")
    except Exception as e:                       # nir's own checks: types, shapes, fields
        if type_check == "auto":
            try:
                g = nir.read(path, type_check=False)
            except Exception as e2:
                raise NIRError(f"{path}: nir cannot read it ({type(e2).__name__}: {e2})") \
                    from None
            import warnings
            warnings.warn(f"{path}: nir's type check failed ({e}); read without it, shapes "
                          "are checked by neurosim", stacklevel=3)
            return g
        raise NIRError(f"{path}: nir cannot read it ({type(e).__name__}: {e})") from None


def read(source, dt, *, method="euler", reset="zero", reset_timing="same", v_init="leak",
         integrate="step", spike="unit", per_node=None, type_check="auto", dtype="float64",
         backend="numba"):
    """A runnable :class:`NIRNetwork` from a NIR graph (a path or a ``nir.NIRGraph``).

    Parameters
    ----------
    dt : float
        Time step (s); required, as NIR files hold none.
    method, reset, reset_timing, v_init, integrate, spike :
        The semantics the graph was trained with (module docstring). snnTorch's
        ``Leaky``/``Synaptic``/``RSynaptic`` with their defaults (``reset_mechanism=
        "subtract"``, ``reset_delay=True``): ``reset="subtract", reset_timing="next"``;
        snnTorch's own importer and Norse: ``reset="zero", reset_timing="same"`` (the default).
    per_node : dict, optional
        ``{node name: {"reset": ..., "reset_timing": ...}}`` for spiking nodes that differ
        from the rest (snnTorch's ``RSynaptic`` resets one step late even with
        ``reset_delay=False``, while its ``Synaptic`` resets at once).    type_check : True, False or "auto"
        nir's type check; "auto" falls back to neurosim's own shape checks with a warning
        (graphs such as Rockpool's that nir's check rejects).
    dtype : {"float64", "float32"}
    backend : {"numba", "reference"}
    """
    check_positive("dt", dt, "s")
    opts = dict(method=method, reset=reset, reset_timing=reset_timing, v_init=v_init,
                integrate=integrate, spike=spike)
    for k, v in opts.items():
        check_choice(k, v, OPTIONS[k])
    graph = load(source, type_check)
    where = f"{os.fspath(source)}: " if isinstance(source, (str, os.PathLike)) else ""
    try:
        pops, projs, ins, outs = lower(graph, dt)
    except NIRError as e:
        raise NIRError(f"{where}{e}") from None
    per_node = dict(per_node or {})
    for name, o in per_node.items():
        if name not in pops or pops[name]["model"] in ("input", "pass"):
            fail("per_node", "names of spiking or neuron nodes ("
                 + ", ".join(n for n, p in pops.items() if p["model"] not in ("input", "pass"))
                 + ")", name)
        if not isinstance(o, dict) or set(o) - {"reset", "reset_timing"}:
            fail(f"per_node[{name!r}]", "a dict with keys 'reset' and/or 'reset_timing'", o)
    net = LayerNetwork(dt, method=method, reset=reset, timing=reset_timing, v_init=v_init,
                       integrate=integrate, spike=spike, dtype=dtype, backend=backend)
    made = {}
    for name, p in pops.items():
        try:
            if p["model"] == "input":
                made[name] = net.input(p["shape"], name=name)
            else:
                o = per_node.get(name, {})
                made[name] = net.neurons(p["model"], p["shape"], name=name, bias=p["bias"],
                                         reset=o.get("reset"), timing=o.get("reset_timing"),
                                         **p["params"])
        except ParameterError as e:              # a value of the file out of range
            raise NIRError(f"{where}node {name!r} ({type(p['node']).__name__}): {e}") \
                from None
        except InsufficientMemoryError as e:     # a shape too large: the file is named
            raise InsufficientMemoryError(f"{where}node {name!r} "
                                          f"({type(p['node']).__name__}): {e}") from None
    try:
        _connect(net, made, projs)
    except InsufficientMemoryError as e:
        raise InsufficientMemoryError(f"{where}{e}") from None
    return NIRNetwork(net, graph, {n: made[n] for n in ins},
                      {o: (made[s], node) for o, (s, node) in outs.items()}, dict(opts, per_node=per_node))


def _connect(net, made, projs):
    """Connect the populations ``made`` by the projections ``projs`` and build ``net``."""
    used = set()
    for q in projs:
        base = f"{q['pre']}->{q['post']}"
        name, k = base, 1
        while name in used:
            k += 1
            name = f"{base}#{k}"
        used.add(name)
        if np.ndim(q["delay"]):
            coo = q["w"].tocoo()             # CSR order: the delays are aligned with it
            net.connect(made[q["pre"]], made[q["post"]], (coo.row, coo.col, coo.data),
                        delay=q["delay"], name=name)
        else:
            net.connect(made[q["pre"]], made[q["post"]], q["w"], delay=q["delay"], name=name,
                        initial=q.get("initial"))
    net.build()


class NIRNetwork:
    """A NIR graph built as a :class:`~neurosim.LayerNetwork` (``net``), with the graph's
    named inputs and outputs. ``inputs``: {name: population}; ``outputs``: {name:
    (population, what it gives: "spikes", "v" or "value")}."""

    def __init__(self, net, graph, inputs, outputs, options):
        self.net = net
        self.graph = graph
        self.inputs = inputs
        self._outputs = outputs
        self.options = dict(options)

    @property
    def outputs(self):
        return {k: (p, p.model.emits) for k, (p, _) in self._outputs.items()}

    @property
    def dt(self):
        return self.net.dt

    def _dense(self, name, value, steps):
        pop = self.inputs[name]
        if isinstance(value, tuple) and len(value) in (2, 3):      # events
            if steps is None:
                fail("steps", "the number of steps when inputs are events", None)
            t = np.asarray(value[0], dtype=np.int64)
            i = np.asarray(value[1], dtype=np.int64)
            val = np.ones(t.shape) if len(value) == 2 else np.asarray(value[2], np.float64)
            if t.size and (t.min() < 0 or t.max() >= steps or i.min() < 0 or i.max() >= pop.n):
                fail(f"inputs[{name!r}]", f"events with steps in [0, {steps}) and indices "
                     f"in [0, {pop.n})", (int(t.min()), int(t.max()), int(i.min()),
                                         int(i.max())))
            x = np.zeros((steps, pop.n))
            np.add.at(x, (t, i), val)
            return x
        return value

    def run(self, inputs=None, steps=None, record=(), keep_state=False, crossbars=None,
            progress=None):
        """Run from the initial state (``keep_state=True``: from where the last run ended).

        ``inputs``: {input name: array (steps, *shape)} or events ``(step, flat index[,
        value])`` (then give ``steps``); the array alone for a graph with one input; a
        batch (batch, steps, *shape) runs each sample from the initial state and stacks
        the outputs. ``record``: extra (node name, "out" | "v" | "i_syn") pairs.
        Returns a dict: every Output's array (steps, *shape) and the recorded pairs.
        """
        if inputs is not None and not isinstance(inputs, dict):
            if len(self.inputs) != 1:
                fail("inputs", f"a dict by input name ({', '.join(self.inputs)})",
                     type(inputs).__name__)
            inputs = {next(iter(self.inputs)): inputs}
        inputs = dict(inputs or {})
        for k in inputs:
            if k not in self.inputs:
                fail("inputs", "names of the graph's inputs (" + ", ".join(self.inputs) + ")",
                     k)
        batch = {k: v for k, v in inputs.items() if not isinstance(v, tuple)
                 and np.ndim(v) == len(self.inputs[k].shape) + 2}
        if batch:
            if len(batch) != len(inputs):
                fail("inputs", "all batched (batch, steps, ...) or none", sorted(batch))
            sizes = {np.shape(v)[0] for v in inputs.values()}
            if len(sizes) != 1:
                fail("inputs", "batches of one size", sorted(sizes))
            runs = [self.run({k: v[b] for k, v in inputs.items()}, steps, record, False,
                             crossbars, progress) for b in range(sizes.pop())]
            return {k: np.stack([r[k] for r in runs]) for k in runs[0]}
        x = {self.inputs[k]: self._dense(k, v, steps) for k, v in inputs.items()}
        if not keep_state:
            self.net.reset()
        recs = [(p, "out") for p, _ in self._outputs.values()]
        recs += [(self.net.population(n), var) for n, var in record]
        res = self.net.run(x, steps=steps, record=list(dict.fromkeys(recs)),
                           crossbars=crossbars, progress=progress)
        out = {o: res[p, "out"].reshape((res.steps,) + self._out_shape(o)) for o, (p, _)
               in self._outputs.items()}
        out.update({(n, var): res[n, var] for n, var in record})
        return LayerRun(out, res.steps, res.interrupted)

    def _out_shape(self, name):
        pop, node = self._outputs[name]
        t = (node.output_type or {}).get("output")
        shape = tuple(int(s) for s in np.ravel(t)) if t is not None and np.size(t) else ()
        return shape if shape and int(np.prod(shape)) == pop.n else pop.shape

    def reset(self):
        self.net.reset()

    def counts(self):
        return self.net.counts()

    def program(self, crossbar, projections=None):
        """Program projections onto crossbars (see :meth:`LayerNetwork.program`)."""
        return self.net.program(crossbar, projections)

    def __repr__(self):
        return (f"<NIRNetwork inputs={ {k: p.shape for k, p in self.inputs.items()} } "
                f"outputs={ {k: (p.shape, e) for k, (p, e) in self.outputs.items()} }, "
                f"{len(self.net.populations)} populations, "
                f"{sum(q.n_synapses for q in self.net.projections):,} synapses>")


def to_loihi(model, inputs=None, **options):
    """The Loihi fixed-point version of an imported network (:mod:`neurosim.nir.loihi`)."""
    from .loihi import to_loihi as _f
    return _f(model, inputs, **options)


def write(source, path=None, **options):
    """Write a network as a NIR graph (see :mod:`neurosim.nir.export`); returns the graph."""
    from .export import to_nir
    graph = to_nir(source, **options)
    if path is not None:
        import nir
        nir.write(path, graph)
    return graph
