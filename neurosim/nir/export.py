"""neurosim -> NIR (``ns.nir.write``).

* A :class:`~neurosim.nir.NIRNetwork` (read from a graph) is written as the graph it was read
  from (its nodes, parameters and edges unchanged), with the options it was read with in
  ``metadata["neurosim"]`` so that ``ns.nir.read`` of the file rebuilds the same network.
* A :class:`~neurosim.LayerNetwork` is written node for node: every population as its NIR
  neuron node (``input`` -> Input, ``pass`` -> Scale or Affine), every projection as a
  Linear node between its populations (an Affine carrying the target's constant input on its
  first incoming projection), a delay of d steps as a Delay node of d dt. Populations that
  send nothing are the Outputs.
* An event-driven :class:`~neurosim.Network` of LIF populations and spike sources:
  ``synapse="exp"`` with one synaptic time constant -> CubaLIF (tau_syn, tau_mem = tau_m,
  r = 1, v_leak = v_rest + I_bias, w_in = tau_syn / dt, so that a unit spike moves I_s by
  the weight, as in neurosim), ``"delta"`` -> LIF (r = tau_m / dt); spike sources -> Input.
  What NIR cannot say is refused, naming the population: refractoriness (unless
  ``refractory="drop"``), two synaptic time constants, alpha and conductance synapses,
  adaptation, ``convention="nest"``, Poisson sources, per-synapse delays, Loihi neurons.
  neurosim's event-driven schedule delivers a spike with a delay of d steps into v d + 1
  steps later, a same-step NIR consumer in d: ``latency="delay"`` (default) writes a Delay of
  (d + 1) dt on every edge, ``latency="drop"`` writes d dt (none for d = 0). The consumer's
  Euler integration then differs from neurosim's exact propagator by O(dt / tau).
"""

import numpy as np

from ..validation import check_choice, fail
from .graph import NIRError

__all__ = ["to_nir"]


def _meta(opts, dt):
    return {"neurosim": dict(opts, dt=float(dt))}


def to_nir(source, latency="delay", refractory="error"):
    from ..layered import LayerNetwork
    from ..network import Network
    from . import NIRNetwork
    check_choice("latency", latency, ("delay", "drop"))
    check_choice("refractory", refractory, ("error", "drop"))
    if isinstance(source, NIRNetwork):
        g = source.graph
        import nir
        return nir.NIRGraph(nodes=dict(g.nodes), edges=list(g.edges),
                            metadata={**(g.metadata or {}), **_meta(source.options, source.dt)},
                            type_check=False)
    if isinstance(source, LayerNetwork):
        return _layer_graph(source)
    if isinstance(source, Network):
        return _event_graph(source, latency, refractory)
    fail("source", "a NIRNetwork, a LayerNetwork or a Network", type(source).__name__)


def _f32(a, shape):
    return np.asarray(a, dtype=np.float32).reshape(shape)


def _layer_node(p):
    import nir
    s, prm = p.shape, p.params
    kind = p.model.name
    if kind == "input":
        return nir.Input(input_type={"input": np.array(s)})
    if kind == "pass":
        if np.any(p.bias):
            return nir.Affine(weight=np.eye(p.n, dtype=np.float32), bias=_f32(p.bias, (p.n,)))
        return nir.Scale(scale=np.ones(s, dtype=np.float32))
    if kind == "threshold":
        return nir.Threshold(threshold=_f32(prm["v_threshold"], s))
    cls = getattr(nir, kind)
    fields = {k: _f32(v, s) for k, v in prm.items()}
    return cls(**fields)


def _layer_graph(net):
    import nir
    net.build()
    nodes, edges = {}, []
    for p in net.populations:
        nodes[p.name] = _layer_node(p)
    biased = {p for p in net.populations if p.model.name not in ("input", "pass")
              and np.any(p.bias)}
    for q in net.projections:
        if np.ndim(q.delay) and not np.all(q.delay == q.delay.flat[0]):
            raise NIRError(f"projection {q.name!r}: per-synapse delays have no NIR form "
                           "(a Delay node delays per element)")
        w = q.weights.toarray().T.astype(np.float32)
        name = f"{q.name}.w"
        if q.post in biased:
            nodes[name] = nir.Affine(weight=w, bias=_f32(q.post.bias, (q.post.n,)))
            biased.discard(q.post)
        else:
            nodes[name] = nir.Linear(weight=w)
        d = int(np.max(q.delay)) if np.ndim(q.delay) else int(q.delay)
        edges.append((q.pre.name, name))
        if d:
            nodes[f"{q.name}.delay"] = nir.Delay(delay=np.full(q.post.n, d * net.dt,
                                                               dtype=np.float64))
            edges += [(name, f"{q.name}.delay"), (f"{q.name}.delay", q.post.name)]
        else:
            edges.append((name, q.post.name))
    for p in biased:
        raise NIRError(f"population {p.name!r} has a constant input (bias) and no incoming "
                       "projection to carry it; NIR neurons have no bias")
    senders = {q.pre for q in net.projections}
    for p in net.populations:
        if p not in senders and p.model.name != "input":
            nodes[f"{p.name}.output"] = nir.Output(output_type={"output": np.array(p.shape)})
            edges.append((p.name, f"{p.name}.output"))
    opts = dict(method=net.method, reset=net.reset_mode, reset_timing=net.timing,
                v_init=net.v_init, integrate=net.integrate, spike=net.spike)
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=_meta(opts, net.dt),
                        type_check=False)


def _scalar_or(a, n):
    return np.broadcast_to(np.asarray(a, dtype=np.float64), (n,))


def _event_node(pop, dt, refractory):
    """The NIR neuron node of an event-driven LIF population (module docstring)."""
    import nir
    s = pop.spec
    who = f"population {pop.name!r}"
    if s.synapse not in ("exp", "delta"):
        raise NIRError(f"{who}: synapse={s.synapse!r} has no NIR node (NIR has current-"
                       "based exponential synapses only: use 'exp' or 'delta')")
    if s.tau_w is not None or s.tau_a is not None:
        raise NIRError(f"{who}: adaptation (tau_w / tau_a) has no NIR node")
    if s.convention != "brian2":
        raise NIRError(f"{who}: convention={s.convention!r} (v >= v_th, later release) has "
                       "no NIR form; NIR's threshold is strict")
    if np.any(np.asarray(s.t_ref) > 0) and refractory == "error":
        raise NIRError(f"{who}: NIR has no refractoriness (t_ref > 0); pass "
                       "refractory='drop' to write it without")
    if s.reset != "value":
        raise NIRError(f"{who}: reset={s.reset!r}; a NIR file cannot say that the reset "
                       "subtracts (write reset='value' networks, or read the file with "
                       "reset='subtract')")
    n = pop.n
    v_leak = _scalar_or(s.v_rest, n) + _scalar_or(s.bias, n)
    f = lambda a: np.asarray(_scalar_or(a, n), dtype=np.float32)  # noqa: E731
    if s.synapse == "delta":
        return nir.LIF(tau=f(s.tau_m), r=f(_scalar_or(s.tau_m, n) / dt), v_leak=f(v_leak),
                       v_threshold=f(s.v_th), v_reset=f(s.v_reset))
    if np.any(_scalar_or(s.tau_exc, n) != _scalar_or(s.tau_inh, n)):
        raise NIRError(f"{who}: two synaptic time constants (tau_exc != tau_inh); NIR's "
                       "CubaLIF has one")
    return nir.CubaLIF(tau_syn=f(s.tau_exc), tau_mem=f(s.tau_m), r=f(np.ones(n)),
                       v_leak=f(v_leak), v_threshold=f(s.v_th), v_reset=f(s.v_reset),
                       w_in=f(_scalar_or(s.tau_exc, n) / dt))


def _event_graph(net, latency, refractory):
    import nir
    from ..export import refuse_unexported_inputs
    try:
        refuse_unexported_inputs(net, "NIR")
    except ValueError as e:
        raise NIRError(str(e)) from None
    nodes, edges = {}, []
    for pop in net.populations:
        if pop.kind == "lif":
            nodes[pop.name] = _event_node(pop, net.dt, refractory)
        elif pop.kind == "spike_source":
            nodes[pop.name] = nir.Input(input_type={"input": np.array([pop.n])})
        else:
            raise NIRError(f"population {pop.name!r} ({pop.kind}) has no NIR node"
                           + ("; feed its spikes as an Input instead" if pop.kind == "poisson"
                              else ""))
    if net.drives:
        raise NIRError(f"Poisson drive {net.drives[0].name!r} has no NIR node")
    for q in net.projections:
        if q.crossbar is not None:
            raise NIRError(f"projection {q.name!r} runs on crossbar synapses: write its "
                           "ideal weights by rebuilding it without synapse=")
        d = np.unique(np.atleast_1d(q.delay_steps))
        if d.size > 1:
            raise NIRError(f"projection {q.name!r}: per-synapse delays have no NIR form")
        d = int(d[0]) + (1 if latency == "delay" else 0)
        name = f"{q.name}.w"
        nodes[name] = nir.Linear(weight=q.to_dense().T.astype(np.float32))
        edges.append((q.pre.name, name))
        if d:
            nodes[f"{q.name}.delay"] = nir.Delay(delay=np.full(q.post.n, d * net.dt))
            edges += [(name, f"{q.name}.delay"), (f"{q.name}.delay", q.post.name)]
        else:
            edges.append((name, q.post.name))
    for pop in net.populations:
        if pop.kind == "lif":
            nodes[f"{pop.name}.output"] = nir.Output(output_type={"output": np.array([pop.n])})
            edges.append((pop.name, f"{pop.name}.output"))
    opts = dict(method="exact", reset="zero", reset_timing="same", v_init="zero",
                integrate="step", spike="unit")
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=_meta(opts, net.dt),
                        type_check=False)
