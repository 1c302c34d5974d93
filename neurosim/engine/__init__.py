"""Numba kernels. This package imports nothing from the rest of neurosim except the
numba configuration: kernels take flat arrays and NamedTuples and never validate.

Numba keys each cached kernel on its own source file only, so a kernel that inlines code
of another module (``advance`` calls into crossbar.py and rng.py) would be loaded stale
after that module changed (an editable install after a pull, a developer's edit). Before
any kernel module loads, :func:`_drop_stale_kernels` compares a fingerprint of this
package's sources with the one stored next to the cached kernels and drops them all when
it differs.
"""

import hashlib
import os

from numba import njit

from .._config import JIT_OPTIONS

__all__ = []

_STAMP = "neurosim-kernel-sources.sha1"


@njit(**JIT_OPTIONS)
def _probe():      # never called: its cache locator says where this package's kernels live
    return 0


def _fingerprint():
    here = os.path.dirname(os.path.abspath(__file__))
    files = [os.path.join(here, f) for f in os.listdir(here) if f.endswith(".py")]
    files.append(os.path.join(os.path.dirname(here), "_config.py"))
    h = hashlib.sha1()
    for path in sorted(files):
        h.update(os.path.basename(path).encode())
        with open(path, "rb") as f:
            h.update(f.read())
    return h.hexdigest()


def _drop_stale_kernels():
    """Remove the cached kernels of this package when its sources changed since they were
    compiled; silent where the cache cannot be read or written (numba then compiles)."""
    try:
        cache_dir = _probe._cache._cache_path
        digest = _fingerprint()
        stamp = os.path.join(cache_dir, _STAMP)
        if os.path.isfile(stamp):
            with open(stamp) as f:
                if f.read().strip() == digest:
                    return
        os.makedirs(cache_dir, exist_ok=True)
        for name in os.listdir(cache_dir):
            if name.endswith((".nbi", ".nbc")):
                os.remove(os.path.join(cache_dir, name))
        with open(stamp, "w") as f:
            f.write(digest + "\n")
    except (OSError, AttributeError):
        pass


_drop_stale_kernels()
