"""Numba compilation flags, in one place.

``cache=True`` keeps compiled kernels on disk (``__pycache__`` next to the module, or
``NUMBA_CACHE_DIR``) so a second process does not compile again. ``fastmath`` stays off:
results must be reproducible bit for bit and match Brian2's IEEE arithmetic.

``INNER_JIT_OPTIONS`` is for the parts of a kernel that only other kernels call: Numba
builds no Python entry point for them (``no_cpython_wrapper``, ``no_cfunc_wrapper``). That
entry point unboxes every array of every NamedTuple argument and was a third of the time
to compile the engine; the compiled code itself is the same.

``STEP_JIT_OPTIONS`` is for the inner parts that the step loop calls every step and that
allocate no arrays: they are compiled without Numba's reference counting (NRT). With it, a
function increfs every array of every NamedTuple argument on entry and decrefs them on
exit (one atomic operation each, through an indirect call: about 400 a step of the CUBA
loop, 2.6 us of its 2.9 us fixed cost a step, 20 % of the time at 4,000 neurons). The
arrays they read are owned by the caller, which holds them for the whole call. They are
not cached on their own (``cache=False``; the kernels that call them are): a kernel
compiled against their object code loaded from the on-disk cache ran CUBA 8x slower
(measured, cause not found), so they are compiled with each kernel variant that needs them.
"""

__all__ = ["JIT_OPTIONS", "PARALLEL_JIT_OPTIONS", "INNER_JIT_OPTIONS", "STEP_JIT_OPTIONS"]

JIT_OPTIONS = dict(cache=True, fastmath=False, nogil=True)
PARALLEL_JIT_OPTIONS = dict(JIT_OPTIONS, parallel=True)
INNER_JIT_OPTIONS = dict(JIT_OPTIONS, no_cpython_wrapper=True, no_cfunc_wrapper=True)
STEP_JIT_OPTIONS = dict(INNER_JIT_OPTIONS, cache=False, _nrt=False)
