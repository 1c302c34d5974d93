"""The NumPy reference of the layered schedule (the oracle of :mod:`neurosim.engine.layer`).

Written from :mod:`neurosim.models.layer`'s equations (:func:`~neurosim.models.layer.
reference_step`) and the networks' own weight matrices, not from the engine's plan arrays:
per step, level by level, every population's input is its delay ring row plus its bias,
its update gives its output, and every projection leaving it adds ``out @ W`` to the ring
row of its delay (one per synapse where the delays differ). Slow and obviously correct.
"""

import numpy as np

__all__ = ["advance"]


def _state(net):
    """Per-population views of the network's state (v, i_syn, z_prev) and ring."""
    st = net._state
    out = {}
    for p in net._order:
        lo = net._lo[p]
        out[p] = dict(v=st.v[lo:lo + p.n], i_syn=st.isyn[lo:lo + p.n],
                      z_prev=st.zprev[lo:lo + p.n], out=st.out[lo:lo + p.n],
                      ring=st.ring[:, lo:lo + p.n])
    return out


def _send(q, val, ring, step):
    """Add the deliveries of projection q for the presynaptic values ``val``."""
    w = q.weights
    n_slots = ring.shape[0]
    if np.ndim(q.delay) == 0:
        ring[(step + int(q.delay)) % n_slots] += val @ w
        return
    coo = w.tocoo()                       # per-synapse delays follow the CSR's order
    for d in np.unique(q.delay):
        k = q.delay == d
        ring[(step + int(d)) % n_slots] += np.bincount(
            coo.col[k], weights=coo.data[k] * val[coo.row[k]], minlength=q.post.n)


def advance(net, x, step0, rec_var, rec_lo, rec_hi, buf, xbars):
    from ..models.layer import coefficients, reference_step
    views = _state(net)
    coefs = {p: coefficients(p.model, p.params, net.dt, net.method, net.integrate, p.n)
             for p in net._order}
    spike = 1.0 / net.dt if net.spike == "dirac" else 1.0
    cnt = net._counts
    by_level = {}
    levels = net.levels()
    for p in net._order:
        by_level.setdefault(levels[p], []).append(p)
    col = {}
    c0 = 0
    for p in net._inputs:
        col[p] = c0
        c0 += p.n
    for k in range(x.shape[0]):
        step = step0 + k
        for lv in sorted(by_level):
            for p in by_level[lv]:
                s = views[p]
                slot = step % s["ring"].shape[0]
                I = s["ring"][slot].astype(np.float64) + p.bias
                s["ring"][slot] = 0.0
                if p.model.code == 0:
                    val = x[k, col[p]:col[p] + p.n].astype(np.float64)
                else:
                    st = {name: s[name] for name in ("v", "i_syn", "z_prev")}
                    val = reference_step(p.model, coefs[p], st, I, net.method, p.reset,
                                         p.timing, spike)
                s["out"][:] = val
                nz = val != 0
                cnt.nonzero[net._lo[p]:net._lo[p] + p.n] += nz
                cnt.active[net._order.index(p)] += bool(nz.any())
            for qi, q in enumerate(net._projs):
                if levels[q.pre] != lv:
                    continue
                val = views[q.pre]["out"].astype(np.float64)
                if q.name in xbars:
                    net._deliver_crossbar(q, qi, step)
                    continue
                _send(q, val, views[q.post]["ring"], step)
                cnt.events[qi] += int(np.diff(q.weights.indptr)[val != 0].sum())
        for r in range(len(rec_var)):
            src = {0: net._state.out, 1: net._state.v, 2: net._state.isyn}[int(rec_var[r])]
            off = int(sum(rec_hi[:r] - rec_lo[:r]))
            buf[k, off:off + rec_hi[r] - rec_lo[r]] = src[rec_lo[r]:rec_hi[r]]
