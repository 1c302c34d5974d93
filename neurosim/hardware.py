"""Hardware facts as data: find and load the TOML profiles of ``hardware/``.

Search order for a profile ``hardware/<kind>/<name>.toml``: folders given with ``path=``,
then the folders in the environment variable ``NEUROSIM_HARDWARE_PATH`` (separated by
``os.pathsep``; each is a folder with the same ``<kind>/`` subfolders), then the
repository's own ``hardware/`` folder (a source checkout or editable install).
"""

import os
import sys

from .validation import ParameterError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["search_path", "list_profiles", "load_profile", "HardwareProfileError"]

_REPO_HARDWARE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                              "hardware")


class HardwareProfileError(ParameterError):
    """A profile that cannot be found or does not follow its schema."""


def search_path(path=None):
    """Folders searched for profiles, in order."""
    extra = [] if path is None else ([path] if isinstance(path, (str, os.PathLike)) else
                                     list(path))
    env = [p for p in os.environ.get("NEUROSIM_HARDWARE_PATH", "").split(os.pathsep) if p]
    return [os.fspath(p) for p in extra + env] + [_REPO_HARDWARE]


def list_profiles(kind, path=None):
    """Names of the profiles of ``kind`` ("chips", "energy", "memristor"), first hit wins."""
    names = []
    for root in search_path(path):
        folder = os.path.join(root, kind)
        if os.path.isdir(folder):
            for f in sorted(os.listdir(folder)):
                if f.endswith(".toml") and f[:-5] not in names:
                    names.append(f[:-5])
    return names


def load_profile(kind, name, path=None):
    """The parsed TOML of profile ``name`` of ``kind``, with ``_file`` set to its path."""
    if isinstance(name, str) and name.endswith(".toml") and os.path.isfile(name):
        file = name
    else:
        file = None
        for root in search_path(path):
            cand = os.path.join(root, kind, f"{name}.toml")
            if os.path.isfile(cand):
                file = cand
                break
        if file is None:
            known = ", ".join(repr(n) for n in list_profiles(kind, path)) or "(none found)"
            raise HardwareProfileError(f"{kind} profile must be one of {known}; got {name!r}")
    with open(file, "rb") as f:
        try:
            data = tomllib.load(f)
        except tomllib.TOMLDecodeError as err:
            raise HardwareProfileError(f"{file}: not valid TOML ({err})") from err
    data["_file"] = file
    return data
