"""NIR graph -> LayerNetwork: validation, flattening, shapes, recurrent edges, lowering.

Steps (each error names the node, its type and the field):

1. ``check_file``: walk the HDF5 file's node groups (nested graphs too) before ``nir.read``:
   a node type nir does not define, or a file that is not a NIR graph, is a :class:`NIRError`.
2. ``flatten``: nested ``NIRGraph`` nodes are inlined with ``outer.inner`` names; an edge into
   a subgraph goes to its Input node(s), one out of it leaves from its Output node.
3. ``ops``: every node becomes a population (Input, neurons, Threshold) or a linear operator
   (Affine, Linear, Scale, Conv, pools, Flatten, Delay, inner Input/Output): a (n_in, n_out)
   sparse matrix, a bias, a delay in steps. Shapes are propagated along the edges.
4. Recurrent edges: inside each strongly connected component, nodes are ordered by their
   distance from the graph's inputs; an edge to a node that is not later in that order gets
   one step of latency (nirtorch's "previous output" rule, snnTorch's ``recurrent(spk)``).
5. Lowering: each linear node is first a ``pass`` population (graded, same step); then
   every pass node that feeds no Output and whose in/out projections compose without
   growing the synapse count more than ``COMPOSE_GROWTH``-fold is folded into direct
   projections (A @ B), its bias into its targets' constant input. What remains runs as
   ``pass`` layers (e.g. a SumPool between an IF layer and a Conv, which composed would
   multiply the synapses 3.4x).
"""

from collections import defaultdict, deque

import numpy as np
import scipy.sparse as sp

from ..compile import conv as conv_ops

__all__ = ["NIRError", "check_file", "flatten", "NEURONS", "LINEAR"]

NEURONS = {"LIF": "LIF", "CubaLIF": "CubaLIF", "LI": "LI", "CubaLI": "CubaLI", "IF": "IF",
           "I": "I", "Threshold": "threshold"}
LINEAR = ("Affine", "Linear", "Scale", "Conv1d", "Conv2d", "SumPool2d", "AvgPool2d",
          "Flatten", "Delay")
#: a pass node is folded into its neighbours when the composed projections hold at most
#: this many times the synapses of the projections they replace
COMPOSE_GROWTH = 1.5


class NIRError(ValueError):
    """A NIR graph neurosim cannot read: malformed, an unknown or unsupported node, or a
    parameter out of range (the message names the node and the field)."""


def _err(node, kind, msg):
    raise NIRError(f"node {node!r} ({kind}): {msg}")


# ------------------------------------------------------------------ 1. the file
def check_file(path):
    """Check the HDF5 structure of a NIR file (node types known to nir, nested graphs
    included) before nir reads it."""
    import h5py
    import nir
    known = set(nir.ir.__all__) if hasattr(nir.ir, "__all__") else set(dir(nir))
    _check_global_heaps(path)
    try:
        f = h5py.File(path, "r")
    except Exception as e:                 # OSError, or h5py's errors on a damaged header
        raise NIRError(f"{path}: not a readable HDF5 file ({e})") from None

    def walk(group, name):
        where = f"{path}: node {name!r}"
        if not isinstance(group, h5py.Group):
            raise NIRError(f"{where}: must be a group of the node's fields; got a dataset")
        t = group.get("type")
        if not isinstance(t, h5py.Dataset):
            raise NIRError(f"{where}: no 'type' field")
        kind = t[()] if t.shape == () else None
        if not isinstance(kind, (bytes, str)):
            raise NIRError(f"{where}: 'type' must be the name of a node type; got a dataset "
                           f"of shape {t.shape}, dtype {t.dtype}")
        kind = kind.decode("utf-8", "replace") if isinstance(kind, bytes) else kind
        if kind not in known or kind in ("NIRNode",):
            raise NIRError(f"{where} has type {kind[:80]!r}, which nir {nir.__version__} "
                           "does not define")
        if kind == "NIRGraph":
            nodes = group.get("nodes")
            if not isinstance(nodes, h5py.Group) or not isinstance(group.get("edges"),
                                                                   h5py.Dataset):
                raise NIRError(f"{where} (NIRGraph): no 'nodes' group or 'edges' dataset")
            for k in nodes:
                walk(nodes[k], k if name == "" else f"{name}.{k}")
    try:
        with f:
            _check_datasets(f, path)
            if not isinstance(f.get("node"), h5py.Group):
                raise NIRError(f"{path}: not a NIR graph (no 'node' group at the top level)")
            walk(f["node"], "")
    except NIRError:
        raise
    except Exception as e:                 # h5py on damaged metadata or data
        raise NIRError(f"{path}: a damaged HDF5 file ({type(e).__name__}: {e})") from None


def _check_global_heaps(path):
    """Refuse a file whose HDF5 global heap collections (where variable-length strings,
    such as every node's ``type``, are kept) are not consistent, before HDF5 reads them:
    a damaged object size there made h5py's read of a string never return (fuzz input
    nir:0,3,31,151; the call cannot be interrupted). A collection ("GCOL", version 1,
    its size) holds objects (index, reference count, size, data padded to 8 bytes) and
    ends with the free-space object 0, whose size is exactly what remains."""
    import struct
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError:
        return                                   # h5py says what is wrong with it
    i = data.find(b"GCOL")
    while i >= 0:
        if data[i + 4:i + 8] == b"\x01\x00\x00\x00" and i + 16 <= len(data):
            size = struct.unpack_from("<Q", data, i + 8)[0]
            end, pos, why = i + size, i + 16, None
            if size < 16 or end > len(data):
                why = f"size {size} runs past the end of the file"
            while why is None and pos < end:
                if pos + 16 > end:               # too little left for free space
                    break
                index = struct.unpack_from("<H", data, pos)[0]
                obj = struct.unpack_from("<Q", data, pos + 8)[0]
                if index == 0:                   # free space: the rest of the collection
                    if obj != end - pos:
                        why = f"free space of {obj} bytes at byte {pos}, {end - pos} remain"
                    break
                pos += 16 + ((obj + 7) & ~7)
                if pos > end:
                    why = f"object {index} of {obj} bytes runs past its end"
            if why is not None:
                raise NIRError(f"{path}: a damaged HDF5 file (the global heap collection "
                               f"at byte {i}: {why})")
        i = data.find(b"GCOL", i + 1)


def _check_datasets(f, path):
    """Refuse, before any data is read, a dataset of a type a NIR file does not hold or a
    file whose datasets declare more elements than memory can take.

    Only numbers, strings and h5py's booleans (an enum) are read: HDF5 crashes the process
    (a segmentation fault) reading a damaged variable-length type, e.g. a variable-length
    string whose type byte was changed into a reserved variable-length kind. A dataset's
    declared shape needs no stored data (a fill value), so a file of a few kB can declare
    terabytes that reading it would allocate.
    """
    import h5py
    from .. import memory
    atomic = (h5py.h5t.TypeIntegerID, h5py.h5t.TypeFloatID, h5py.h5t.TypeStringID,
              h5py.h5t.TypeEnumID)
    names = []                             # (low-level calls: 10 times faster)
    h5py.h5o.visit(f.id, lambda name, info: names.append(name)
                   if info.type == h5py.h5o.TYPE_DATASET else None, info=True)
    datasets, sizes = [], []
    for name in names:
        d = h5py.h5d.open(f.id, name)
        name, tid = name.decode("utf-8", "replace"), d.get_type()
        if not isinstance(tid, atomic):
            raise NIRError(f"{path}: dataset {name!r} is of HDF5 type "
                           f"{type(tid).__name__[4:-2] or type(tid).__name__} (not a number, "
                           "string or boolean, which a NIR graph holds); not read")
        datasets.append((name, d))
        sizes.append(int(d.get_space().get_simple_extent_npoints()) * int(tid.get_size()))
    avail = memory.available_bytes()
    if avail is not None and sum(sizes) > avail:
        name, d = datasets[int(np.argmax(sizes))]
        raise NIRError(f"{path}: its datasets declare {memory.format_bytes(sum(sizes))} "
                       f"(dataset {name!r}: shape {d.shape}, {d.dtype}), more than the "
                       f"{memory.format_bytes(avail)} of memory available; not read")


# ------------------------------------------------------------------ 2. flattening
def flatten(graph, prefix=""):
    """(nodes {name: node}, edges [(src, dst)], inputs, outputs) of ``graph`` with nested
    graphs inlined. The inner Input/Output nodes of a subgraph stay as identity nodes."""
    import nir
    nodes, edges = {}, []
    entry, exit_ = {}, {}
    for name, node in graph.nodes.items():
        full = prefix + name
        if isinstance(node, nir.NIRGraph):
            sub_nodes, sub_edges, sub_in, sub_out = flatten(node, full + ".")
            nodes.update(sub_nodes)
            edges += sub_edges
            entry[name], exit_[name] = sub_in, sub_out
        else:
            nodes[full] = node
    for src, dst in graph.edges:
        if src not in graph.nodes and src.split(".")[0] not in graph.nodes:
            raise NIRError(f"edge {src!r} -> {dst!r}: no node {src!r} in the graph")
        if dst not in graph.nodes and dst.split(".")[0] not in graph.nodes:
            raise NIRError(f"edge {src!r} -> {dst!r}: no node {dst!r} in the graph")
        srcs = exit_.get(src, [prefix + src])
        dsts = entry.get(dst, [prefix + dst])
        if len(srcs) != 1:
            raise NIRError(f"subgraph {src!r} has {len(srcs)} Output nodes; an edge from it "
                           "is ambiguous")
        edges += [(srcs[0], d) for d in dsts]
    ins = [prefix + k for k, v in graph.nodes.items() if isinstance(v, nir.Input)]
    outs = [prefix + k for k, v in graph.nodes.items() if isinstance(v, nir.Output)]
    return nodes, edges, ins, outs


# ------------------------------------------------------------------ 3. operators
def _array(name, kind, field, value, shape=None):
    try:
        a = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        _err(name, kind, f"{field} must be an array of numbers; got {type(value).__name__}")
    if not np.all(np.isfinite(a)):
        _err(name, kind, f"{field} holds a non-finite value")
    if shape is not None and a.size not in (1, int(np.prod(shape))):
        _err(name, kind, f"{field} has shape {a.shape}; expected a scalar or {tuple(shape)}")
    return a


def _int(name, kind, field, value):
    """``value`` (a number or an array of one) as an int; a NIRError unless it is whole."""
    try:
        a = np.asarray(value)
    except (TypeError, ValueError):
        a = np.asarray(None)
    v = a.item() if a.size == 1 and a.dtype.kind in "iuf" else None
    if v is None or not np.isfinite(v) or v != int(v):
        _err(name, kind, f"{field} must be an integer; got "
             + (f"{v!r}" if v is not None else f"an array of shape {a.shape}, {a.dtype}"))
    return int(v)


def _shape_of(node, key, name="?"):
    t = getattr(node, key, None) or {}
    if not isinstance(t, dict):
        _err(name, type(node).__name__, f"{key} must be a dict of shapes; got {t!r}"[:200])
    v = t.get("input" if key == "input_type" else "output")
    if v is None or np.size(v) == 0:
        return None
    a = np.ravel(np.asarray(v, dtype=object))
    if not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s >= 0
               for s in a):
        _err(name, type(node).__name__, f"{key} must be a shape (integers >= 0); got "
             f"{v!r}"[:200])
    return tuple(int(s) for s in a)


def neuron_params(name, node, shape):
    """The LayerNetwork parameters of a neuron node (arrays of ``shape``, float64)."""
    kind = type(node).__name__
    fields = {"LIF": ("tau", "r", "v_leak", "v_threshold", "v_reset"),
              "CubaLIF": ("tau_syn", "tau_mem", "r", "v_leak", "v_threshold", "v_reset",
                          "w_in"),
              "LI": ("tau", "r", "v_leak"), "CubaLI": ("tau_syn", "tau_mem", "r", "v_leak",
                                                        "w_in"),
              "IF": ("r", "v_threshold", "v_reset"), "I": ("r",),
              "Threshold": ("threshold",)}[kind]
    out = {}
    for f in fields:
        val = getattr(node, f, None)
        if val is None:
            if f == "v_reset":
                val = 0.0
            elif f == "w_in":
                val = 1.0
            else:
                _err(name, kind, f"field {f!r} is missing")
        a = _array(name, kind, f, val, shape)
        if f.startswith("tau") and np.any(a <= 0):
            _err(name, kind, f"{f} must be > 0 s; got {a.min():g}")
        out["v_threshold" if f == "threshold" else f] = a
    return out


def node_shape(name, node):
    """Output shape a neuron node declares (its parameters' shape, else its types)."""
    kind = type(node).__name__
    for f in ("tau", "tau_mem", "r", "v_threshold", "threshold"):
        v = getattr(node, f, None)
        if v is not None and np.ndim(v) > 0 and np.size(v) > 1:
            return tuple(np.shape(v))
    return _shape_of(node, "output_type", name) or _shape_of(node, "input_type", name) or (
        tuple(np.shape(getattr(node, "r", getattr(node, "threshold", 0.0)))) or (1,))


def linear_op(name, node, in_shape, dt):
    """(matrix (n_in, n_out) csr, bias (n_out,) or None, delay steps (n_out,) or None,
    out_shape) of a linear node fed with ``in_shape``."""
    import nir
    kind = type(node).__name__
    n_in = int(np.prod(in_shape))
    if isinstance(node, (nir.Affine, nir.Linear)):
        w = _array(name, kind, "weight", node.weight)
        if w.ndim != 2 or w.shape[1] != n_in:
            _err(name, kind, f"weight has shape {w.shape}; its input has {n_in} values "
                 f"(shape {in_shape}), so (n_out, {n_in}) was expected")
        bias = None
        if isinstance(node, nir.Affine) and node.bias is not None:
            bias = _array(name, kind, "bias", node.bias).ravel()
            if bias.size not in (1, w.shape[0]):
                _err(name, kind, f"bias has {bias.size} values; weight has {w.shape[0]} rows")
            bias = np.broadcast_to(bias, (w.shape[0],)).copy()
        return sp.csr_matrix(w.T), bias, None, (w.shape[0],)
    if isinstance(node, nir.Scale):
        s = _array(name, kind, "scale", node.scale, in_shape).ravel()
        return sp.diags(np.broadcast_to(s, (n_in,))).tocsr(), None, None, in_shape
    if isinstance(node, nir.Flatten):
        start, end = (_int(name, kind, k, getattr(node, k)) for k in ("start_dim", "end_dim"))
        nd = len(in_shape)
        s0, s1 = start % nd if start < 0 else start, end % nd if end < 0 else end
        if not 0 <= s0 <= s1 < nd:
            _err(name, kind, f"start_dim {start} / end_dim {end} do not fit the input shape "
                 f"{in_shape}")
        out = in_shape[:s0] + (int(np.prod(in_shape[s0:s1 + 1])),) + in_shape[s1 + 1:]
        return sp.identity(n_in, format="csr"), None, None, out
    if isinstance(node, nir.Delay):
        d = _array(name, kind, "delay", node.delay, in_shape).ravel()
        steps = d / dt
        k = np.rint(steps)
        if np.any(d < 0) or np.any(np.abs(steps - k) > 1e-9 * np.maximum(1.0, k)):
            _err(name, kind, f"delay {d.tolist() if d.size < 6 else '...'} s is not a "
                 f"non-negative multiple of dt = {dt:g} s")
        return sp.identity(n_in, format="csr"), None, np.broadcast_to(
            k.astype(np.int64), (n_in,)).copy(), in_shape
    if isinstance(node, (nir.Conv1d, nir.Conv2d)):
        w = _array(name, kind, "weight", node.weight)
        groups = _int(name, kind, "groups", node.groups)
        try:
            pre, post, ws, out = conv_ops.conv_synapses(in_shape, w, node.stride, node.padding,
                                                        node.dilation, groups)
        except ValueError as e:
            _err(name, kind, str(e))
        bias = None
        if node.bias is not None and np.size(node.bias):
            b = _array(name, kind, "bias", node.bias).ravel()
            if b.size not in (1, out[0]):
                _err(name, kind, f"bias has {b.size} values for {out[0]} output channels")
            bias = np.repeat(np.broadcast_to(b, (out[0],)), int(np.prod(out[1:])))
        return conv_ops.to_csr(pre, post, ws, n_in, int(np.prod(out))), bias, None, out
    if isinstance(node, (nir.SumPool2d, nir.AvgPool2d)):
        try:
            pre, post, ws, out = conv_ops.pool_synapses(
                in_shape, node.kernel_size, node.stride, node.padding,
                mode="sum" if isinstance(node, nir.SumPool2d) else "avg")
        except ValueError as e:
            _err(name, kind, str(e))
        return conv_ops.to_csr(pre, post, ws, n_in, int(np.prod(out))), None, None, out
    if isinstance(node, (nir.Input, nir.Output)):          # inner ports: identity
        return sp.identity(n_in, format="csr"), None, None, in_shape
    _err(name, kind, "is not a node type neurosim can run")


# ------------------------------------------------------------------ 4. recurrent edges
def recurrent_edges(names, edges, inputs, delay_nodes=()):
    """``(latency, order_skip)``: the edges that close a cycle and get one step of latency
    (module docstring), and the edges to leave out when ordering the nodes. A Delay node
    whose delays are all >= 1 step breaks the cycles through it already: the edges into it
    are not given latency, and the edges out of it are left out of the ordering."""
    succ = defaultdict(list)
    for s, d in edges:
        succ[s].append(d)
    dist = {n: np.inf for n in names}
    queue = deque(inputs)
    for n in inputs:
        dist[n] = 0
    while queue:
        n = queue.popleft()
        for d in succ[n]:
            if dist[d] == np.inf:
                dist[d] = dist[n] + 1
                queue.append(d)
    full = _scc(names, succ)
    delayed = {(s, d) for s, d in edges if d in delay_nodes}
    undelayed = defaultdict(list)
    for s, d in edges:
        if (s, d) not in delayed:
            undelayed[s].append(d)
    comp = _scc(names, undelayed)
    rank = {n: (dist[n], n) for n in names}
    latency = {(s, d) for s, d in edges if (s, d) not in delayed
               and comp[s] == comp[d] and (s == d or rank[d] <= rank[s])}
    skip = latency | {(s, d) for s, d in edges if s in delay_nodes and full[s] == full[d]}
    return latency, skip


def _scc(names, succ):
    """Component id of every node (Tarjan's algorithm, iterative)."""
    index, low, comp, stack, on = {}, {}, {}, [], set()
    counter = [0]
    for root in names:
        if root in index:
            continue
        work = [(root, iter(succ[root]))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            advanced = False
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(succ[w])))
                    advanced = True
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp[w] = v
                    if w == v:
                        break
    return comp


# ------------------------------------------------------------------ 5. lowering
def _topo(names, edges, skip):
    """Names in topological order of ``edges`` minus ``skip`` (the recurrent ones)."""
    succ, indeg = defaultdict(list), {n: 0 for n in names}
    for s, d in edges:
        if (s, d) not in skip:
            succ[s].append(d)
            indeg[d] += 1
    ready = deque(sorted(n for n in names if indeg[n] == 0))
    out = []
    while ready:
        n = ready.popleft()
        out.append(n)
        for d in succ[n]:
            indeg[d] -= 1
            if indeg[d] == 0:
                ready.append(d)
    if len(out) < len(names):
        left = sorted(n for n in names if indeg[n] > 0)
        raise NIRError("the graph has a cycle that no recurrent edge breaks (nodes "
                       + ", ".join(left[:5]) + ")")
    return out


def lower(graph, dt):
    """The populations and projections of ``graph``: ``(pops, projs, inputs, outputs)``.

    ``pops``: {name: dict(model, shape, params, bias, node)} in topological order;
    ``projs``: [dict(pre, post, w (csr n_pre x n_post), delay (int or per-synapse array
    aligned with w's CSR data), latency_kind)]; ``inputs``: top-level Input names;
    ``outputs``: {Output name: (source population, Output node)}.
    """
    import nir
    nodes, edges, ins, outs = flatten(graph)
    for s, d in edges:
        for end in (s, d):
            if end not in nodes:
                raise NIRError(f"edge {s!r} -> {d!r}: no node {end!r} in the graph")
    for name, node in nodes.items():
        kind = type(node).__name__
        if kind not in NEURONS and kind not in LINEAR and kind not in ("Input", "Output"):
            _err(name, kind, "is not a node type neurosim can run (supported: "
                 + ", ".join(sorted(set(NEURONS) | set(LINEAR) | {"Input", "Output",
                                                                    "NIRGraph"})) + ")")
    if not ins:
        raise NIRError("the graph has no Input node")
    delay_nodes = {n for n, node in nodes.items() if isinstance(node, nir.Delay)
                   and np.min(np.asarray(node.delay, dtype=np.float64)) >= dt * (1 - 1e-9)}
    rec, skip = recurrent_edges(list(nodes), edges, ins, delay_nodes)
    order = _topo(list(nodes), edges, skip)
    preds = defaultdict(list)
    for s, d in edges:
        preds[d].append(s)
    shape, ops, pops = {}, {}, {}
    top_out = set(outs)
    for name in order:
        node = nodes[name]
        kind = type(node).__name__
        src = [shape[s] for s in preds[name] if s in shape]
        sizes = {int(np.prod(s)) for s in src}
        if len(sizes) > 1:
            _err(name, kind, "its inputs have different sizes: " + ", ".join(
                f"{s} from {p!r}" for p, s in zip(preds[name], src)))
        in_shape = src[0] if src else None
        if name in ins:
            shape[name] = (_shape_of(node, "input_type", name)
                           or _shape_of(node, "output_type", name))
            if shape[name] is None:
                _err(name, kind, "has no input_type shape")
            pops[name] = dict(model="input", shape=shape[name], params={}, bias=0.0,
                              node=node)
        elif name in top_out:
            shape[name] = in_shape
        elif kind in NEURONS:
            sh = node_shape(name, node)
            if in_shape is not None and int(np.prod(in_shape)) != int(np.prod(sh)):
                _err(name, kind, f"has {int(np.prod(sh))} neurons (shape {sh}) but its "
                     f"input has {int(np.prod(in_shape))} values (shape {in_shape})")
            shape[name] = sh
            pops[name] = dict(model=NEURONS[kind], shape=sh, params=neuron_params(name, node, sh),
                              bias=np.zeros(int(np.prod(sh))), node=node)
        else:
            if in_shape is None:
                in_shape = (_shape_of(node, "input_type", name)
                            or (tuple(node.input_shape) if getattr(node, "input_shape", None)
                                is not None else None))
                if in_shape is None:
                    _err(name, kind, "receives no edge and declares no input shape")
            if isinstance(node, (nir.Conv1d, nir.Conv2d)) and len(in_shape) != np.ndim(
                    node.weight) - 1:
                c = int(np.asarray(node.weight).shape[1] * _int(name, kind, "groups",
                                                                 node.groups))
                n = int(np.prod(in_shape))
                declared = tuple(int(s) for s in np.ravel(node.input_shape)) if np.size(
                    node.input_shape) else None
                if declared and n == c * int(np.prod(declared)):
                    in_shape = (c,) + declared
                else:
                    _err(name, kind, f"input of shape {in_shape} does not fit a "
                         f"{np.ndim(node.weight) - 2}-d convolution")
            m, bias, delay, out = linear_op(name, node, tuple(in_shape), dt)
            shape[name] = tuple(out)
            ops[name] = (m, delay)
            pops[name] = dict(model="pass", shape=tuple(out), params={},
                              bias=np.zeros(m.shape[1]) if bias is None else bias, node=node)
    outputs = {}
    projs = []
    for s, d in edges:
        if d in top_out:
            if s in outputs.get(d, (None,)):
                continue
            if d in outputs:
                raise NIRError(f"node {d!r} (Output): several edges into one Output node")
            outputs[d] = (s, nodes[d])
            continue
        if s in top_out:
            raise NIRError(f"edge {s!r} -> {d!r}: an Output node cannot feed another node")
        if d in ins:
            raise NIRError(f"edge {s!r} -> {d!r}: an Input node cannot receive an edge")
        n_pre = int(np.prod(shape[s]))
        if d in ops:
            m, delay = ops[d]
            if m.shape[0] != n_pre:
                _err(d, type(nodes[d]).__name__, f"takes {m.shape[0]} values; {s!r} sends "
                     f"{n_pre}")
        else:
            n_post = int(np.prod(shape[d]))
            if n_post != n_pre:
                raise NIRError(f"edge {s!r} -> {d!r}: {n_pre} values into {n_post} neurons")
            m, delay = sp.identity(n_pre, format="csr"), None
        lat = 1 if (s, d) in rec else 0
        if delay is None:
            dl, kind = lat, "recurrent" if lat else None
        else:
            per = np.maximum(delay[m.indices], lat)      # one delay per target element
            dl = int(per[0]) if per.size and np.all(per == per[0]) else per
            kind = "delay"
        projs.append(dict(pre=s, post=d, w=m, delay=dl, kind=kind))
    for d, (s, node) in outputs.items():
        want = _shape_of(node, "output_type", d) or _shape_of(node, "input_type", d)
        if want is not None and int(np.prod(want)) != int(np.prod(shape[s])):
            _err(d, "Output", f"has shape {want} but its source {s!r} has shape {shape[s]}")
    pops = {n: pops[n] for n in order if n in pops}
    compose_pass_nodes(pops, projs, keep={s for s, _ in outputs.values()})
    for q in projs:          # a recurrent Affine's output before step 0 is its bias
        bias = pops[q["pre"]]["bias"]
        if q["kind"] == "recurrent" and pops[q["pre"]]["model"] == "pass" and np.any(bias):
            q["initial"] = q["w"].T @ bias
    return pops, projs, ins, outputs


def compose_pass_nodes(pops, projs, keep):
    """Fold pass nodes into their neighbours where it does not grow the synapses more than
    COMPOSE_GROWTH-fold (module docstring); ``pops`` and ``projs`` are edited in place."""
    for name in [n for n, p in pops.items() if p["model"] == "pass" and n not in keep]:
        ins = [q for q in projs if q["post"] == name]
        outs = [q for q in projs if q["pre"] == name]
        if any(q["pre"] == name for q in ins) or not outs:
            continue
        if any(np.ndim(q["delay"]) for q in ins + outs):
            continue
        bias = pops[name]["bias"]
        if np.any(bias) and any(q["kind"] == "delay" and q["delay"] > 0 for q in outs):
            continue                      # a delayed bias starts late: keep it a layer
        new = [dict(pre=a["pre"], post=b["post"], w=(a["w"] @ b["w"]).tocsr(),
                    delay=a["delay"] + b["delay"],
                    kind=a["kind"] or b["kind"]) for a in ins for b in outs]
        for q in new:
            q["w"].eliminate_zeros()
        old = sum(q["w"].nnz for q in ins + outs)
        if sum(q["w"].nnz for q in new) > COMPOSE_GROWTH * max(old, 1):
            continue
        for b in outs:
            if np.any(bias):
                pops[b["post"]]["bias"] = pops[b["post"]]["bias"] + b["w"].T @ bias
        for q in ins + outs:
            projs.remove(q)
        projs.extend(new)
        del pops[name]
