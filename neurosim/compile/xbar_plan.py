"""Crossbar projections -> the flat arrays of :class:`neurosim.engine.crossbar.XbarConn`.

Each crossbar projection keeps its (n_in, physical columns) conductance matrix row-major in
one flat array shared by all crossbars (``g_off[x]`` is where projection x starts), with its
read-noise variances and stuck flags alongside; tiles are listed by row tile, then column
tile, as :class:`neurosim.crossbar.Crossbar` lays them out.
"""

import numpy as np

from ..engine.crossbar import N_STATS, XbarConn, XbarState

__all__ = ["build_xbar", "initial_xbar_state", "crossbar_projections"]

_I64 = np.int64


def crossbar_projections(net):
    """The network's crossbar projections, in creation order."""
    return [p for p in net.projections if p.crossbar is not None]


def build_xbar(projs, start, lif_start, dt):
    """XbarConn of the crossbar projections ``projs`` (node index ``start[pop]``, LIF index
    ``lif_start[pop]``)."""
    cols = {k: [] for k in XbarConn._fields}
    tiles = {k: [] for k in ("t_x", "t_r0", "t_r1", "t_k0", "t_k1", "t_p0", "t_p1",
                             "t_adc_range", "t_adc_step", "t_alpha")}
    g_off = out_off = w_off = r_off = 0
    x_tiles = [0]
    vnet, vref, frozen = [], [], []
    for x, proj in enumerate(projs):
        xb = proj.crossbar
        dev = xb.device
        cols["pre_lo"].append(start[proj.pre])
        cols["n_in"].append(xb.n_in)
        cols["post_lo"].append(lif_start[proj.post])
        cols["n_out"].append(xb.n_out)
        cols["n_phys"].append(xb.n_phys)
        cols["g_off"].append(g_off)
        cols["out_off"].append(out_off)
        cols["delay"].append(int(proj.delay_steps))
        cols["k_w"].append(xb.k_w)
        cols["v_read"].append(dev.v_read)
        cols["e_read"].append(dev.v_read ** 2 * dev.t_read)
        cols["r_row"].append(xb.r_row)
        cols["r_col"].append(xb.r_col)
        cols["offset_map"].append(xb.mapping == "offset")
        cols["t_read"].append(dev.t_read)
        n_ct = len({t.k0 for t in xb.tiles})
        cols["n_ct"].append(n_ct)
        cols["w_off"].append(w_off)
        cols["r_off"].append(r_off)
        var = xb.read_sigma ** 2 if xb.read_noise else np.zeros_like(xb.read_sigma)
        vn, vr = net_arrays(xb, var)
        vnet.append(vn.ravel())
        vref.append(vr.ravel())
        w_off += xb.n_in * xb.n_out
        r_off += xb.n_in * n_ct
        cols["noisy"].append(bool(xb.read_noise) and bool(np.any(xb.read_sigma > 0)))
        for t in xb.tiles:
            for key, val in (("t_x", x), ("t_r0", t.r0), ("t_r1", t.r1), ("t_k0", t.k0),
                             ("t_k1", t.k1), ("t_p0", t.p0), ("t_p1", t.p1),
                             ("t_adc_range", t.adc_range), ("t_adc_step", xb.adc_step(t)),
                             ("t_alpha", t.alpha)):
                tiles[key].append(val)
        x_tiles.append(len(tiles["t_x"]))
        frozen.append((xb.stuck_on | xb.stuck_off).ravel())
        g_off += xb.n_in * xb.n_phys
        out_off += xb.n_out
        stdp = proj.plasticity
        cols["plastic"].append(stdp is not None)
        if stdp is None:
            for key in ("a_plus", "a_minus", "decay_pre", "decay_post", "dw_ltp", "dw_ltd"):
                cols[key].append(0.0)
            cols["law"].append(np.zeros(7))
            cols["e_write"].append(np.zeros(2))
        else:
            law = dev.update_law()
            cols["a_plus"].append(stdp.a_plus)
            cols["a_minus"].append(stdp.a_minus)
            cols["decay_pre"].append(np.exp(-dt / stdp.tau_plus))
            cols["decay_post"].append(np.exp(-dt / stdp.tau_minus))
            cols["dw_ltp"].append(xb.w_eff_max / law["n_pulses_ltp"])
            cols["dw_ltd"].append(xb.w_eff_max / law["n_pulses_ltd"])
            cols["law"].append(np.array([law["a_ltp"] * law["n_pulses_ltp"], law["n_pulses_ltp"],
                                         law["a_ltd"] * law["n_pulses_ltd"], law["n_pulses_ltd"],
                                         dev.g_min, dev.g_max, law["c2c"]]))
            cols["e_write"].append(np.array([law["v_ltp"] ** 2 * law["width_ltp"],
                                             law["v_ltd"] ** 2 * law["width_ltd"]]))
    f64 = lambda v: np.asarray(v, dtype=np.float64)  # noqa: E731
    i64 = lambda v: np.asarray(v, dtype=_I64)  # noqa: E731
    out = {}
    for key in ("pre_lo", "n_in", "post_lo", "n_out", "n_phys", "g_off", "out_off", "delay",
                "n_ct", "w_off", "r_off"):
        out[key] = i64(cols[key])
    for key in ("k_w", "v_read", "e_read", "t_read", "r_row", "r_col", "a_plus", "a_minus",
                "decay_pre", "decay_post", "dw_ltp", "dw_ltd"):
        out[key] = f64(cols[key])
    out["offset_map"] = np.asarray(cols["offset_map"], dtype=np.uint8)
    out["plastic"] = np.asarray(cols["plastic"], dtype=np.uint8)
    out["noisy"] = np.asarray(cols["noisy"], dtype=np.uint8)
    out["law"] = np.array(cols["law"], dtype=np.float64).reshape(-1, 7)
    out["e_write"] = np.array(cols["e_write"], dtype=np.float64).reshape(-1, 2)
    for key in ("t_x", "t_r0", "t_r1", "t_k0", "t_k1", "t_p0", "t_p1"):
        out[key] = i64(tiles[key])
    for key in ("t_adc_range", "t_adc_step", "t_alpha"):
        out[key] = f64(tiles[key])
    out["x_tiles"] = i64(x_tiles)
    # sigma, not variance: a read of one active row needs no root; float32: half the traffic
    out["snet"] = np.sqrt(np.concatenate(vnet) if vnet else np.zeros(0)).astype(np.float32)
    out["vref"] = np.concatenate(vref) if vref else np.zeros(0)
    out["frozen"] = (np.concatenate(frozen) if frozen else np.zeros(0)).astype(np.uint8)
    out["ir_gamma"] = 0.9
    out["ir_tol"] = 1e-9
    out["ir_max_iter"] = 5000
    return XbarConn(**out)


def net_arrays(xb, a, combine="var"):
    """Per-weight and per-(row, column tile) arrays of crossbar ``xb`` from a per-device
    array ``a`` (n_in, physical columns): for "var", the variance of each net current
    (sum of the pair, or the data device) and of each row's reference device; for "net",
    the pair differences (or data minus reference) and the sum of each row per column
    tile."""
    n_ct = len({t.k0 for t in xb.tiles})
    per_w = np.zeros((xb.n_in, xb.n_out))
    per_r = np.zeros((xb.n_in, n_ct))
    col_tiles = sorted({(t.k0, t.k1, t.p0, t.p1) for t in xb.tiles})
    for c, (k0, k1, p0, p1) in enumerate(col_tiles):
        blk = a[:, p0:p1]
        if xb.mapping == "differential":
            per_w[:, k0:k1] = (blk[:, 0::2] + blk[:, 1::2] if combine == "var"
                               else blk[:, 0::2] - blk[:, 1::2])
            per_r[:, c] = 0.0 if combine == "var" else blk.sum(axis=1)
        else:
            per_w[:, k0:k1] = blk[:, :-1] if combine == "var" else blk[:, :-1] - blk[:, -1:]
            per_r[:, c] = blk[:, -1] if combine == "var" else blk.sum(axis=1)
    return per_w, per_r


def initial_xbar_state(projs, xc, seed):
    """Fresh crossbar state: the crossbars' present conductances, read streams from
    ``seed``, zero statistics and traces."""
    gs = [p.crossbar.conductances for p in projs]
    nets = [net_arrays(p.crossbar, g, "net") for p, g in zip(projs, gs)]
    cat = lambda xs: np.concatenate([a.ravel() for a in xs]) if xs else np.zeros(0)  # noqa
    g = cat(gs)
    gnet, grow = cat([n[0] for n in nets]), cat([n[1] for n in nets])
    n_x = len(projs)
    max_phys = int(xc.n_phys.max()) if n_x else 0
    max_out = int(xc.n_out.max()) if n_x else 0
    max_in = int(xc.n_in.max()) if n_x else 0
    max_ct = int(xc.n_ct.max()) if n_x else 0
    cells = [(r1 - r0) * (p1 - p0) for r0, r1, p0, p1 in zip(xc.t_r0, xc.t_r1, xc.t_p0, xc.t_p1)]
    rows = [r1 - r0 for r0, r1 in zip(xc.t_r0, xc.t_r1)]
    ss = np.random.SeedSequence([seed, 3])
    rng = ss.generate_state(max(n_x, 1), dtype=np.uint64)[:n_x]
    off_in = np.cumsum([0] + [int(v) for v in xc.n_in])
    off_out = np.cumsum([0] + [int(v) for v in xc.n_out])
    return XbarState(
        g=g.astype(np.float64), rng=rng.astype(np.uint64),
        stats=np.zeros((n_x, N_STATS)), out=np.zeros(int(off_out[-1])),
        gnet=gnet, grow=grow, acc=np.zeros(max_out), sd=np.zeros(max_out),
        var_ref=np.zeros(max_ct), rows=np.zeros(max_in, _I64),
        dv=np.zeros(max(cells) if cells else 0), vin=np.zeros(max(rows) if rows else 0),
        iout=np.zeros(max_phys), z=np.zeros(max_out + max_ct),
        zraw=np.zeros(max_out + max_ct + 1, np.int32),
        zflag=np.zeros(8 * ((max_out + max_ct + 7) // 8), np.uint8),
        pre_trace=np.zeros(int(off_in[-1])),
        post_trace=np.zeros(int(off_out[-1])),
        trace_off=np.stack([off_in[:-1], off_out[:-1]], axis=1).astype(_I64)
        if n_x else np.zeros((0, 2), _I64))
