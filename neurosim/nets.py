"""Ready-made networks used by the examples, benchmarks and tests: Brian2's CUBA example,
Brunel's (2000) sparse network in its four regimes, the COBA benchmark (Vogels & Abbott 2005,
Brette et al. 2007) and the Potjans & Diesmann (2014) cortical microcircuit."""

import numpy as np

from .units import Hz, mV, ms, nS, pF
from .validation import check_choice, check_int, check_positive, fail

__all__ = ["cuba", "brunel", "brunel_params", "BRUNEL_REGIMES", "coba", "microcircuit",
           "microcircuit_params", "psc_over_psp"]


def cuba(net, N=4000, indegree=80, exc_fraction=0.8, fixed_indegree=False):
    """The Vogels-Abbott CUBA network as in Brian2's example (examples/CUBA.py).

    N LIF neurons (taum 20 ms, taue 5 ms, taui 10 ms, Vt -50 mV, Vr -60 mV, El -49 mV,
    refractory 5 ms) split into an excitatory population (80%, we = 60*0.27/10 mV) and an
    inhibitory one (wi = -20*4.5/10 mV). Every ordered pair is connected with probability
    indegree/N (Brian2's p = 0.02 at N = 4000), or each target gets exactly its share of
    ``indegree`` distinct sources from each population with ``fixed_indegree``. Initial v is
    uniform in [Vr, Vt], drawn from the network's seed.

    Returns
    -------
    (exc, inh) : LIFPopulation
    """
    N = check_int("N", N, 2)
    indegree = check_int("indegree", indegree, 1, N)
    n_exc = int(round(exc_fraction * N))
    rng = np.random.default_rng(np.random.SeedSequence(net.seed, spawn_key=(9,)))
    vr, vt = -60 * mV, -50 * mV
    v0 = vr + rng.random(N) * (vt - vr)
    params = dict(tau_m=20 * ms, tau_syn=(5 * ms, 10 * ms), v_rest=-49 * mV, v_th=vt,
                  v_reset=vr, t_ref=5 * ms)
    exc = net.lif(n=n_exc, v_init=v0[:n_exc], name="exc", **params)
    inh = net.lif(n=N - n_exc, v_init=v0[n_exc:], name="inh", **params)
    we = 60 * 0.27 / 10 * mV
    wi = -20 * 4.5 / 10 * mV
    for pre, w in ((exc, we), (inh, wi)):
        for post in (exc, inh):
            if fixed_indegree:
                k = int(round(indegree * pre.n / N))
                net.connect(pre, post, weight=w, indegree=k)
            else:
                net.connect(pre, post, weight=w, p=indegree / N)
    return exc, inh


# --------------------------------------------------------------------------- Brunel 2000
#: The four regimes of Brunel (2000), Fig. 8: name -> (g, eta = nu_ext / nu_thr).
BRUNEL_REGIMES = {
    "SR": (3.0, 2.0),         # A: synchronous regular (excitation dominates)
    "AI": (5.0, 2.0),         # C: asynchronous irregular
    "SI-fast": (6.0, 4.0),    # B: synchronous irregular, fast oscillation (~180 Hz)
    "SI-slow": (4.5, 0.9),    # D: synchronous irregular, slow oscillation
}


def brunel_params(regime="AI", scale=1.0, g=None, eta=None, J=0.1 * mV, epsilon=0.1,
                  delay=1.5 * ms, keep_indegree=False):
    """The numbers of :func:`brunel` (SI): ``n_exc``, ``n_inh``, in-degrees ``c_exc`` and
    ``c_inh``, ``J``, ``g``, ``eta``, ``nu_thr`` (Hz: the external rate per input that
    brings the mean free potential to threshold, theta / (J C_E tau_m)), ``nu_ext``
    (eta * nu_thr) and ``rate_ext`` (C_E * nu_ext: the Poisson rate into each neuron),
    ``delay``, and the neuron parameters ``tau_m``, ``theta``, ``v_reset``, ``t_ref``."""
    regime = check_choice("regime", regime, tuple(BRUNEL_REGIMES))
    scale = check_positive("scale", scale)
    g0, eta0 = BRUNEL_REGIMES[regime]
    g = g0 if g is None else check_positive("g", g)
    eta = eta0 if eta is None else check_positive("eta", eta)
    epsilon = check_positive("epsilon", epsilon)
    if epsilon > 1:
        fail("epsilon", "in (0, 1]", epsilon)
    J = check_positive("J", J, "V")
    n_exc = max(1, int(round(10000 * scale)))
    n_inh = max(1, int(round(2500 * scale)))
    base = (10000, 2500) if keep_indegree else (n_exc, n_inh)
    c_exc = max(1, int(round(epsilon * base[0])))
    c_inh = max(1, int(round(epsilon * base[1])))
    if c_exc > n_exc or c_inh > n_inh:
        fail("scale", f">= epsilon = {epsilon:g} with keep_indegree (in-degrees {c_exc} and "
             f"{c_inh} from {n_exc} and {n_inh} neurons)", scale)
    tau_m, theta = 20 * ms, 20 * mV
    nu_thr = theta / (J * c_exc * tau_m)
    return dict(regime=regime, scale=scale, keep_indegree=bool(keep_indegree), n_exc=n_exc,
                n_inh=n_inh, c_exc=c_exc, c_inh=c_inh, J=J, g=g, eta=eta, epsilon=epsilon,
                nu_thr=nu_thr, nu_ext=eta * nu_thr, rate_ext=c_exc * eta * nu_thr, delay=delay,
                tau_m=tau_m, theta=theta, v_reset=10 * mV, t_ref=2 * ms)


def brunel(net, regime="AI", scale=1.0, g=None, eta=None, J=0.1 * mV, epsilon=0.1,
           delay=1.5 * ms, keep_indegree=False, convention="nest", v_init=0.0):
    """Brunel's (2000) sparsely connected network of excitatory and inhibitory LIF neurons
    with delta synapses (model A), in one of the four regimes of its Fig. 8.

    N_E = 10,000 excitatory and N_I = 2,500 inhibitory neurons (times ``scale``), all alike::

        tau_m dv/dt = -v                       (v in mV above rest; frozen while refractory)
        v > theta = 20 mV: spike, v = V_r = 10 mV, refractory for t_ref = 2 ms

    tau_m = 20 ms. Synapses are delta pulses (``synapse="delta"``): a spike moves the
    potential of each target by J = 0.1 mV (excitatory source) or -g J (inhibitory), after
    a delay D = 1.5 ms. Every neuron has exactly C_E = epsilon N_E excitatory and
    C_I = epsilon N_I inhibitory sources (fixed in-degree, epsilon = 0.1; distinct sources,
    autapses allowed). External input: C_E independent Poisson trains of rate
    nu_ext = eta nu_thr per neuron, given as one Poisson drive of rate C_E nu_ext
    (``Network.poisson_input``: a count per step, not stored synapses) of weight J and delay
    D, where nu_thr = theta / (J C_E tau_m) is the external rate that brings the mean
    potential to threshold without recurrence (10 Hz at full scale).

    Regimes (:data:`BRUNEL_REGIMES`, (g, eta) of Fig. 8): ``"SR"`` (3, 2) synchronous
    regular, ``"AI"`` (5, 2) asynchronous irregular, ``"SI-fast"`` (6, 4) synchronous
    irregular with fast oscillations, ``"SI-slow"`` (4.5, 0.9) synchronous irregular with
    slow oscillations; ``g`` and ``eta`` override the preset.

    ``scale`` < 1 keeps epsilon, so in-degrees scale with N (C_E = 1000 scale) and nu_thr
    grows as 1/scale (as NEST's brunel_delta_nest.py with a smaller ``order``); J is kept.
    The mean input is that of the full network but its recurrent fluctuations are smaller,
    and the regimes drift: AI at scale 0.1 fires at 85 Hz with CV(ISI) 0.13 (neurosim,
    0.5 s), against 37 Hz and 0.37 at full scale. ``keep_indegree=True`` keeps
    C_E = 1000 and C_I = 250 instead (connection probability epsilon / scale, so
    scale >= epsilon): the input's mean and variance are then the full network's (AI at
    scale 0.25: 39 Hz, CV 0.40), at the price of denser, more correlated connectivity.

    Parameters
    ----------
    net : neurosim.Network
        Network to add to (dt = 0.1 ms as the paper's simulations).
    regime : {"SR", "AI", "SI-fast", "SI-slow"}
    scale : float
        Fraction of the 12,500 neurons (> 0).
    g, eta : float, optional
        Relative inhibition and external rate nu_ext / nu_thr (default: the regime's).
    J : float
        EPSP amplitude (V).
    epsilon : float
        Connection probability of the full network, in (0, 1].
    keep_indegree : bool
        Keep the full network's in-degrees at any ``scale`` (see above).
    delay : float
        Transmission delay D (s), also of the external input.
    convention : {"nest", "brian2"}
        ``"nest"`` (default): the timing of NEST's iaf_psc_delta (brunel_delta_nest.py);
        ``"brian2"``: that of Brian2's example (on_pre ``v += J`` into
        ``dv/dt = -v/tau : volt (unless refractory)``). In Brunel's model, as in both peers,
        inputs that arrive during the refractory period are lost; the two conventions
        differ by a step in when the neuron is free again and when an input can make it
        spike (see :mod:`neurosim.models.lif`).
    v_init : float, array or distribution
        Initial potential (V); 0 (rest) as in NEST's and Brian2's examples.

    Returns
    -------
    (exc, inh) : LIFPopulation
        The drives are ``net.drives``; the numbers :func:`brunel_params`.

    Sources
    -------
    Brunel N (2000) Dynamics of sparsely connected networks of excitatory and inhibitory
    spiking neurons. J Comput Neurosci 8(3):183-208, doi:10.1023/A:1008925309027 (model A,
    Fig. 8). As NEST's example pynest/examples/brunel_delta_nest.py and Brian2's
    examples/frompapers/Brunel_2000.py (which draws connections with p = epsilon instead of a
    fixed in-degree).
    """
    prm = brunel_params(regime, scale, g, eta, J, epsilon, delay, keep_indegree)
    check_choice("convention", convention, ("nest", "brian2"))
    params = dict(tau_m=prm["tau_m"], v_rest=0.0, v_th=prm["theta"], v_reset=prm["v_reset"],
                  t_ref=prm["t_ref"], synapse="delta", convention=convention, v_init=v_init)
    exc = net.lif(n=prm["n_exc"], name="exc", **params)
    inh = net.lif(n=prm["n_inh"], name="inh", **params)
    for pre, w, k in ((exc, prm["J"], prm["c_exc"]), (inh, -prm["g"] * prm["J"], prm["c_inh"])):
        for post in (exc, inh):
            net.connect(pre, post, weight=w, indegree=k, delay=prm["delay"],
                        name=f"{pre.name}->{post.name}")
    for post in (exc, inh):
        net.poisson_input(post, rate=prm["rate_ext"], weight=prm["J"], delay=prm["delay"],
                          name=f"ext->{post.name}")
    return exc, inh


# --------------------------------------------------------------------------- COBA
def coba(net, N=4000, indegree=80, exc_fraction=0.8, delay=0.0, init="brette2007"):
    """The COBA network: Vogels & Abbott (2005) as benchmark 1 of Brette et al. (2007), with
    conductance-based synapses (``synapse="cond_exp"``).

    N LIF neurons (80 % excitatory) with exponential conductances::

        C_m dv/dt = g_L (E_L - v) + g_exc (E_exc - v) + g_inh (E_inh - v)   (frozen while
        tau_exc dg_exc/dt = -g_exc,   tau_inh dg_inh/dt = -g_inh             refractory)

    C_m = 200 pF, g_L = 10 nS (tau_m = 20 ms), E_L = -60 mV, threshold -50 mV, reset -60 mV,
    refractory 5 ms, E_exc = 0 mV, E_inh = -80 mV, tau_exc = 5 ms, tau_inh = 10 ms. A spike
    of an excitatory neuron adds 6 nS to g_exc of its targets, of an inhibitory one 67 nS to
    g_inh. Every ordered pair is connected with probability indegree/N (0.02 at N = 4000),
    with ``delay``. There is no external input: the activity sustains itself from the
    initial state. Integration: exponential Euler (Brian2's method='exponential_euler'; see
    :mod:`neurosim.models.lif` for its error).

    Initial state (``init="brette2007"``, as Brette et al.'s Brian script): v normal with
    mean E_L - 5 mV and sd 5 mV, g_exc normal (40 nS, sd 15 nS) and g_inh normal (200 nS,
    sd 120 nS), negative draws set to 0 (about 5 % of g_inh), set as the populations'
    initial g_exc and g_inh (``pop.g_exc = ...`` before the build), as Brian2 and NEST set
    them.
    ``init="uniform"``: v uniform in [-60, -50] mV and no conductances (the network then
    stays silent: there is no input).

    Returns
    -------
    (exc, inh) : LIFPopulation

    Sources
    -------
    Vogels TP, Abbott LF (2005) Signal propagation and logic gating in networks of
    integrate-and-fire neurons. J Neurosci 25(46):10786-10795. Brette R et al. (2007)
    Simulation of networks of spiking neurons: a review of tools and strategies. J Comput
    Neurosci 23(3):349-398, benchmark 1 (COBA) and its Brian script.
    """
    N = check_int("N", N, 2)
    indegree = check_int("indegree", indegree, 1, N)
    check_choice("init", init, ("brette2007", "uniform"))
    n_exc = int(round(exc_fraction * N))
    rng = np.random.default_rng(np.random.SeedSequence(net.seed, spawn_key=(10,)))
    e_l, v_t = -60 * mV, -50 * mV
    if init == "brette2007":
        v0 = e_l + (rng.standard_normal(N) * 5 - 5) * mV
        g_e0 = np.maximum((rng.standard_normal(N) * 1.5 + 4) * 10 * nS, 0.0)
        g_i0 = np.maximum((rng.standard_normal(N) * 12 + 20) * 10 * nS, 0.0)
    else:
        v0 = e_l + rng.random(N) * (v_t - e_l)
    params = dict(tau_m=20 * ms, tau_syn=(5 * ms, 10 * ms), v_rest=e_l, v_th=v_t,
                  v_reset=-60 * mV, t_ref=5 * ms, synapse="cond_exp", e_exc=0.0,
                  e_inh=-80 * mV, c_m=200 * pF)
    exc = net.lif(n=n_exc, v_init=v0[:n_exc], name="exc", **params)
    inh = net.lif(n=N - n_exc, v_init=v0[n_exc:], name="inh", **params)
    for pre, w in ((exc, 6 * nS), (inh, -67 * nS)):
        for post in (exc, inh):
            net.connect(pre, post, weight=w, p=indegree / N, delay=delay,
                        name=f"{pre.name}->{post.name}")
    if init == "brette2007":
        for post, sl in ((exc, slice(0, n_exc)), (inh, slice(n_exc, N))):
            post.g_exc = g_e0[sl]
            post.g_inh = g_i0[sl]
    return exc, inh


# --------------------------------------------------------------------------- microcircuit
# Potjans & Diesmann (2014), as in NEST's PyNEST example (nest-simulator
# pynest/examples/Potjans_2014/network_params.py, network.py, helpers.py; now kept in
# INM-6/microcircuit-PD14-model, PyNEST/src/microcircuit). Tables: first index target,
# second index source, populations in this order.
MC_POPULATIONS = ("L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I")
#: Neurons per population at full scale (1 mm^2 of cortex).
MC_N_FULL = np.array([20683, 5834, 21915, 5479, 4850, 1065, 14395, 2948])
#: Connection probabilities [target, source].
MC_CONN_PROBS = np.array([
    [0.1009, 0.1689, 0.0437, 0.0818, 0.0323, 0.0, 0.0076, 0.0],
    [0.1346, 0.1371, 0.0316, 0.0515, 0.0755, 0.0, 0.0042, 0.0],
    [0.0077, 0.0059, 0.0497, 0.135, 0.0067, 0.0003, 0.0453, 0.0],
    [0.0691, 0.0029, 0.0794, 0.1597, 0.0033, 0.0, 0.1057, 0.0],
    [0.1004, 0.0622, 0.0505, 0.0057, 0.0831, 0.3726, 0.0204, 0.0],
    [0.0548, 0.0269, 0.0257, 0.0022, 0.06, 0.3158, 0.0086, 0.0],
    [0.0156, 0.0066, 0.0211, 0.0166, 0.0572, 0.0197, 0.0396, 0.2252],
    [0.0364, 0.001, 0.0034, 0.0005, 0.0277, 0.008, 0.0658, 0.1443]])
#: External (cortico-cortical) in-degree per population at full scale.
MC_K_EXT = np.array([1600, 1500, 2100, 1900, 2000, 1900, 2900, 2100])
#: Full-scale mean rates (Hz) used to compensate k_scale < 1: the PyNEST example's values
#: (NEST 3 network_params.py, "obtained by running this PyNEST microcircuit with 12 MPI
#: processes and both N_scaling and K_scaling set to 1", Poisson background).
MC_FULL_MEAN_RATES = np.array([0.943, 3.026, 4.368, 5.882, 7.733, 8.664, 1.096, 7.851])
#: Initial membrane potentials, "optimized" per population (mean, sd; mV), which reduce the
#: initial burst; "original": -58 +- 10 mV for all.
MC_V0_OPTIMIZED = (np.array([-68.28, -63.16, -63.33, -63.45, -63.11, -61.66, -66.72, -61.43]),
                   np.array([5.36, 4.57, 4.74, 4.94, 4.94, 4.55, 5.46, 4.48]))
MC_V0_ORIGINAL = (-58.0, 10.0)
#: iaf_psc_exp parameters of the model (SI).
MC_NEURON = dict(C_m=250 * pF, tau_m=10 * ms, tau_syn=0.5 * ms, t_ref=2 * ms, E_L=-65 * mV,
                 V_th=-50 * mV, V_reset=-65 * mV)
MC_PSP_EXC = 0.15 * mV      # mean excitatory PSP amplitude (L4E -> L23E: twice that)
MC_G = -4.0                 # relative inhibitory PSP
MC_WEIGHT_REL_SD = 0.1
MC_DELAY_EXC, MC_DELAY_INH, MC_DELAY_REL_SD = 1.5 * ms, 0.75 * ms, 0.5
MC_BG_RATE = 8.0 * Hz       # rate of each external input
MC_DELAY_POISSON = 1.5 * ms


def psc_over_psp(C_m, tau_m, tau_syn):
    """PSC amplitude (A) per PSP amplitude (V) of iaf_psc_exp (the PyNEST example's
    ``postsynaptic_potential_to_current``: the peak of the PSP of an exponential current)."""
    sub = 1.0 / (tau_syn - tau_m)
    pre = tau_m * tau_syn / C_m * sub
    frac = (tau_m / tau_syn) ** sub
    return 1.0 / (pre * (frac ** tau_m - frac ** tau_syn))


def microcircuit_params(scale=1.0, k_scale=1.0, background="poisson",
                        full_mean_rates=None):
    """The derived parameters of :func:`microcircuit`, as the PyNEST example derives them.

    Returns a dict (SI units; tables [target, source]): ``names``, ``n`` (neurons),
    ``n_synapses`` (fixed total numbers), ``n_synapses_full`` (float, before rounding),
    ``psc_mean`` (A) and ``weight_mean`` (V = psc * tau_m/C_m), ``weight_rel_sd``,
    ``delay_mean``/``delay_sd`` (s), ``k_ext`` (external in-degrees), ``bg_rate`` (Hz),
    ``psc_ext`` (A) and ``weight_ext`` (V), ``dc`` (A) and ``bias`` (V) per population,
    ``delay_poisson`` (s), ``v0_optimized``/``v0_original`` ((mean, sd) in V), ``neuron``.
    """
    scale = check_positive("scale", scale)
    k_scale = check_positive("k_scale", k_scale)
    if scale > 1 or k_scale > 1:
        fail("scale/k_scale", "in (0, 1]", (scale, k_scale))
    check_choice("background", background, ("poisson", "dc"))
    rates = MC_FULL_MEAN_RATES if full_mean_rates is None else np.asarray(
        full_mean_rates, dtype=float)
    if rates.shape != (8,):
        fail("full_mean_rates.shape", "(8,)", rates.shape)
    nrn = MC_NEURON
    r_m = nrn["tau_m"] / nrn["C_m"]
    # Total numbers: K = log(1 - p) / log(1 - 1/(N_pre N_post)) (num_synapses_from_conn_probs)
    prod = np.outer(MC_N_FULL, MC_N_FULL).astype(float)
    syn_full = np.log(1.0 - MC_CONN_PROBS) / np.log((prod - 1.0) / prod)
    n = np.round(MC_N_FULL * scale).astype(np.int64)
    n_syn = np.round(syn_full * scale * k_scale).astype(np.int64)
    k_ext = np.round(MC_K_EXT * k_scale).astype(np.int64)
    psp = np.zeros((8, 8))
    psp[:, 0::2], psp[:, 1::2] = MC_PSP_EXC, MC_PSP_EXC * MC_G
    psp[0, 2] = 2.0 * MC_PSP_EXC                                  # L4E -> L23E doubled
    unit = psc_over_psp(nrn["C_m"], nrn["tau_m"], nrn["tau_syn"])
    psc, psc_ext = psp * unit, MC_PSP_EXC * unit
    tau_s = nrn["tau_syn"]
    # DC equivalent of the Poisson drive: its mean current K_ext * rate * J * tau_syn
    dc = (MC_BG_RATE * MC_K_EXT * psc_ext * tau_s if background == "dc"
          else np.zeros(8))
    if k_scale != 1:
        # Fewer synapses, each stronger by 1/sqrt(k): the variance of the input is kept;
        # the mean lost is given back as DC (adjust_weights_and_input_to_synapse_scaling)
        indegree_full = syn_full / MC_N_FULL[:, None]
        rec = np.sum(psc * indegree_full * rates, axis=1)
        dc = dc + tau_s * (1.0 - np.sqrt(k_scale)) * rec
        if background == "poisson":
            dc = dc + tau_s * (1.0 - np.sqrt(k_scale)) * psc_ext * MC_K_EXT * MC_BG_RATE
        psc, psc_ext = psc / np.sqrt(k_scale), psc_ext / np.sqrt(k_scale)
    d = np.zeros((8, 8))
    d[:, 0::2], d[:, 1::2] = MC_DELAY_EXC, MC_DELAY_INH
    return dict(names=MC_POPULATIONS, n=n, n_synapses=n_syn, n_synapses_full=syn_full,
                psc_mean=psc, weight_mean=psc * r_m, weight_rel_sd=MC_WEIGHT_REL_SD,
                delay_mean=d, delay_sd=d * MC_DELAY_REL_SD, k_ext=k_ext, bg_rate=MC_BG_RATE,
                psc_ext=psc_ext, weight_ext=psc_ext * r_m, dc=dc, bias=dc * r_m,
                delay_poisson=MC_DELAY_POISSON,
                v0_optimized=(MC_V0_OPTIMIZED[0] * mV, MC_V0_OPTIMIZED[1] * mV),
                v0_original=(MC_V0_ORIGINAL[0] * mV, MC_V0_ORIGINAL[1] * mV),
                neuron=dict(nrn), background=background, scale=scale, k_scale=k_scale,
                full_mean_rates=rates)


def microcircuit(net, scale=1.0, k_scale=1.0, background="poisson", v_init="optimized",
                 full_mean_rates=None, autapses=True):
    """The Potjans & Diesmann (2014) cortical microcircuit, as NEST's PyNEST example builds it.

    Eight populations of iaf_psc_exp neurons (L23E, L23I, L4E, L4I, L5E, L5I, L6E, L6I;
    77,169 neurons at full scale: 1 mm^2 of early sensory cortex) with C_m = 250 pF,
    tau_m = 10 ms, tau_syn = 0.5 ms (both channels), t_ref = 2 ms, E_L = V_reset = -65 mV,
    V_th = -50 mV. Between every pair of populations a fixed total number of synapses
    (NEST's ``fixed_total_number``, multapses allowed, autapses allowed as in the example's
    NEST defaults): K = log(1 - p) / log(1 - 1/(N_pre N_post)) from the published
    connection probabilities p, times ``scale * k_scale``, rounded (2.99e8 synapses at full
    scale). Weights: a PSP of 0.15 mV (0.3 mV for L4E -> L23E, g = -4 from inhibitory
    sources) turned into a PSC amplitude (87.81 pA), normal with a 10 % sd, redrawn to keep
    their sign. Delays: normal, 1.5 ms (excitatory sources) and 0.75 ms (inhibitory) with a
    50 % sd, redrawn below dt/2 and rounded to the grid (so at least one step), as NEST.

    Refractoriness: NEST's iaf_psc_exp holds V for t_ref/dt steps after the step of a spike;
    neurosim (as Brian2) integrates again one step earlier, so the neurons get
    ``t_ref = 2 ms + dt``, which gives NEST's inter-spike intervals to the step (checked on a
    DC-driven neuron: 15.9 ms in both; with 2 ms, 15.8 ms).

    Units: neurosim's synaptic currents are in volts, I[V] = R_m I[A] with
    R_m = tau_m / C_m = 40 MOhm: the current J (A) of NEST's dV/dt = -(V - E_L)/tau_m + I/C_m
    is a weight w = J tau_m / C_m (87.81 pA -> 3.512 mV), and the exact propagators of the two
    simulators are then the same.

    Background: every neuron receives K_ext inputs at 8 Hz (1600-2900 per population, weight
    87.81 pA, delay 1.5 ms): ``"poisson"`` as one Poisson drive per neuron of rate
    K_ext * 8 Hz (``Network.poisson_input``; NEST's poisson_generator); ``"dc"`` as its mean
    current instead, I = K_ext * 8 Hz * J * tau_syn (the example's
    ``dc_input_compensating_poisson``), given as each neuron's bias.

    ``k_scale`` < 1 keeps fewer synapses (and external inputs) per neuron: as in the example,
    weights grow by 1/sqrt(k_scale) to keep the variance of the input, and a DC current
    tau_syn (1 - sqrt(k_scale)) sum(J K nu) makes up the mean lost, computed from the
    full-scale rates ``full_mean_rates`` (Hz; default :data:`MC_FULL_MEAN_RATES`).

    Parameters
    ----------
    net : neurosim.Network
        Network to add to (dt = 0.1 ms as the published model).
    scale : float
        Fraction of the neurons, in (0, 1]; in-degrees are kept (synapse numbers scale
        with it).
    k_scale : float
        Fraction of the in-degrees, in (0, 1], compensated as above.
    background : {"poisson", "dc"}
    v_init : {"optimized", "original"}
        Initial potentials: normal with per-population means and sds (the example's
        default, which reduces the initial transient), or -58 +- 10 mV for all.
    full_mean_rates : array of 8 floats, optional
    autapses : bool
        Allow i -> i synapses within a population (NEST's default, used by the example).

    Returns
    -------
    dict
        Population name -> LIFPopulation, in the order above. The derived numbers are
        :func:`microcircuit_params` (same arguments).

    Sources
    -------
    Potjans TC, Diesmann M (2014) The cell-type specific cortical microcircuit: relating
    structure and activity in a full-scale spiking network model. Cereb Cortex
    24(3):785-806, doi:10.1093/cercor/bhs358. Parameters and derivations: NEST's PyNEST
    microcircuit example (nest-simulator, pynest/examples/Potjans_2014: network_params.py,
    network.py, helpers.py), now https://github.com/INM-6/microcircuit-PD14-model
    (PyNEST/src/microcircuit).
    """
    from . import random as nsr
    prm = microcircuit_params(scale, k_scale, background, full_mean_rates)
    check_choice("v_init", v_init, ("optimized", "original"))
    if background == "poisson" and not hasattr(net, "poisson_input"):
        fail("background", "'dc' (this neurosim has no Network.poisson_input)", background)
    nrn = prm["neuron"]
    dt = net.dt
    pops = {}
    for i, name in enumerate(prm["names"]):
        mean, sd = (prm["v0_optimized"][0][i], prm["v0_optimized"][1][i]) \
            if v_init == "optimized" else prm["v0_original"]
        pops[name] = net.lif(
            n=int(prm["n"][i]), tau_m=nrn["tau_m"], tau_syn=(nrn["tau_syn"], nrn["tau_syn"]),
            v_rest=nrn["E_L"], v_th=nrn["V_th"], v_reset=nrn["V_reset"],
            t_ref=nrn["t_ref"] + dt,
            v_init=nsr.normal(mean, sd), bias=float(prm["bias"][i]), name=name)
    pop_list = list(pops.values())
    for i, post in enumerate(pop_list):            # the example's order: target, then source
        for j, pre in enumerate(pop_list):
            n_syn = int(prm["n_synapses"][i, j])
            if n_syn == 0:
                continue
            w = float(prm["weight_mean"][i, j])
            sign = dict(low=0.0) if w > 0 else dict(high=0.0)
            weight = nsr.normal(w, abs(w) * prm["weight_rel_sd"], **sign)
            delay = nsr.normal(float(prm["delay_mean"][i, j]), float(prm["delay_sd"][i, j]),
                               low=0.5 * dt)
            net.connect(pre, post, weight=weight, delay=delay, total=n_syn, multapses=True,
                        autapses=autapses, name=f"{pre.name}->{post.name}")
    if background == "poisson":
        for i, post in enumerate(pop_list):
            net.poisson_input(post, rate=prm["bg_rate"] * float(prm["k_ext"][i]),
                              weight=float(prm["weight_ext"]), delay=prm["delay_poisson"],
                              name=f"bg->{post.name}")
    return pops
