"""Hardware facts as data: find and load the TOML profiles of ``hardware/``.

Search order for a profile ``hardware/<kind>/<name>.toml``: folders given with ``path=``,
then the folders in the environment variable ``NEUROSIM_HARDWARE_PATH`` (separated by
``os.pathsep``; each is a folder with the same ``<kind>/`` subfolders), then the
profiles shipped with neurosim: ``neurosim/_hardware`` in an installed wheel, or the
repository's own ``hardware/`` folder in a source checkout or editable install.

``list()`` and ``load(name)`` are the short forms for energy profiles (``kind="energy"``).
"""

import math
import os
import sys

from .validation import ParameterError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["search_path", "list_profiles", "find_profiles", "load_profile",
           "HardwareProfileError", "list",
           "load", "KINDS", "STATUSES", "require", "require_choice", "check_entry",
           "check_layout", "LAYOUT"]

#: how sure a figure is: measured and published, derived from published ones, quoted without
#: a primary source, or a labelled modelling estimate
STATUSES = ("published", "derived", "unconfirmed", "estimate")

KINDS = ("energy", "chips", "memristor")
_HERE = os.path.dirname(os.path.abspath(__file__))
_PACKAGED = os.path.join(_HERE, "_hardware")                       # installed wheel
_REPO_HARDWARE = os.path.join(os.path.dirname(_HERE), "hardware")  # source checkout


class HardwareProfileError(ParameterError):
    """A profile that cannot be found or does not follow its schema."""


def search_path(path=None):
    """Folders searched for profiles, in order."""
    extra = [] if path is None else ([path] if isinstance(path, (str, os.PathLike)) else
                                     [*path])
    env = [p for p in os.environ.get("NEUROSIM_HARDWARE_PATH", "").split(os.pathsep) if p]
    shipped = _PACKAGED if os.path.isdir(_PACKAGED) else _REPO_HARDWARE
    return [os.fspath(p) for p in extra + env] + [shipped]


def list_profiles(kind, path=None):
    """Names of the profiles of ``kind`` ("chips", "energy", "memristor"), first hit wins."""
    if kind not in KINDS:
        raise HardwareProfileError(f"kind must be one of {', '.join(map(repr, KINDS))}; "
                                   f"got {kind!r}")
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
        if file is None and isinstance(name, str):   # a unique prefix names a profile
            match = [n for _, n in find_profiles(name, [kind], path)]
            if len(match) == 1:
                return load_profile(kind, match[0], path)
            if len(match) > 1:
                raise HardwareProfileError(
                    f"{kind} profile name {name!r} is ambiguous: it matches "
                    f"{', '.join(map(repr, match))}; give more of the name")
        if file is None:
            known = ", ".join(repr(n) for n in list_profiles(kind, path)) or "(none found)"
            raise HardwareProfileError(f"{kind} profile must be one of {known}; got {name!r}")
    try:
        with open(file, "rb") as f:
            data = tomllib.loads(f.read().decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise HardwareProfileError(f"{file}: not valid TOML ({err})") from None
    except OSError as err:
        raise HardwareProfileError(f"{file}: cannot be read ({err})") from None
    check_layout(file, kind, data)
    data["_file"] = file
    return data


#: the tables of each kind of profile: "fields" (a table of values) or "entries" (a table
#: of tables, one per figure); what is not listed is not checked here
LAYOUT = {"energy": {"profile": "fields", "ops": "entries", "params": "entries",
                     "adc_energy_by_bits": "fields"},
          "chips": {"chip": "fields", "limits": "entries"},
          "memristor": {"device": "fields", "params": "entries", "programming_noise": "fields",
                        "drift": "fields", "update": "fields"}}
#: fields that are text wherever they appear
TEXT_FIELDS = ("name", "unit", "status", "source", "per", "execution", "technology", "model",
               "note", "unavailable", "description", "process", "use")


def _check_fields(file, table, entry):
    for k in TEXT_FIELDS:
        if k in entry and not isinstance(entry[k], str):
            raise HardwareProfileError(f"{file}: {table}.{k} must be a string; got "
                                       f"{entry[k]!r}")


def check_layout(file, kind, data):
    """The tables of a profile have the layout of their kind (LAYOUT): a table where a
    table is expected, text where text is expected, before any loader reads them."""
    for table, shape in LAYOUT.get(kind, {}).items():
        if table not in data:
            continue
        entry = data[table]
        if not isinstance(entry, dict):
            raise HardwareProfileError(f"{file}: {table} must be a table ([{table}]); got "
                                       f"{entry!r}")
        if shape == "fields":
            _check_fields(file, table, entry)
            continue
        for name, sub in entry.items():
            if not isinstance(sub, dict):
                raise HardwareProfileError(f"{file}: {table}.{name} must be a table "
                                           f"([{table}.{name}]); got {sub!r}")
            _check_fields(file, f"{table}.{name}", sub)


def find_profiles(name, kinds=KINDS, path=None, substring=False):
    """Profiles that ``name`` designates, as ``(kind, name)`` pairs over ``kinds``.

    Exact names win; otherwise every profile whose name starts with ``name`` (a unique prefix
    names a profile; several mean the name is ambiguous); with ``substring=True``, every
    profile whose name contains it (for "did you mean" hints).
    """
    names = [(k, n) for k in kinds for n in list_profiles(k, path)]
    exact = [(k, n) for k, n in names if n == name]
    if exact and not substring:
        return exact
    if substring:
        return [(k, n) for k, n in names if name in n]
    return [(k, n) for k, n in names if n.startswith(name)]


def require(file, table, entry, keys):
    """Each of ``keys`` must be in the TOML table ``entry``; the error names file and field."""
    if not isinstance(entry, dict):
        raise HardwareProfileError(f"{file}: missing field {table}")
    for k in keys:
        if k not in entry:
            raise HardwareProfileError(f"{file}: missing field {table}.{k}")
    return entry


def require_choice(file, field, value, choices):
    if not isinstance(value, str) or value not in choices:
        raise HardwareProfileError(f"{file}: {field} must be one of {', '.join(choices)}; "
                                   f"got {value!r}")
    return value


def check_entry(file, field, entry, unit=None, extra=()):
    """A sourced figure ``{value, unit, status, source, ...}``: value a number >= 0, status
    one of STATUSES, unit equal to ``unit`` when given. Returns the value as float."""
    require(file, field, entry, ("value", "unit", "status", "source") + tuple(extra))
    v = entry["value"]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v < math.inf:
        raise HardwareProfileError(f"{file}: {field}.value must be a finite number >= 0; "
                                   f"got {v!r}")
    require_choice(file, f"{field}.status", entry["status"], STATUSES)
    if unit is not None and entry["unit"] != unit:
        raise HardwareProfileError(f"{file}: {field}.unit must be {unit!r}; "
                                   f"got {entry['unit']!r}")
    return float(v)


def list(kind="energy", path=None):  # noqa: A001 - the public name the API promises
    """Names of the available profiles of ``kind`` (default: energy profiles)."""
    return list_profiles(kind, path)


def load(name, kind="energy", path=None):
    """A checked profile: an :class:`~neurosim.energy.EnergyProfile` for ``kind="energy"``,
    the limits dict of :func:`neurosim.loihi.load_chip` for ``"chips"``, a
    :class:`~neurosim.crossbar.Device` for ``"memristor"``."""
    if kind == "energy":
        from .energy.profiles import load_energy_profile
        return load_energy_profile(name, path)
    if kind == "chips":
        from .loihi.mapping import load_chip
        return load_chip(name, path)
    if kind == "memristor":
        from .crossbar.devices import load_device
        return load_device(name, path)
    list_profiles(kind, path)  # checks kind
    return load_profile(kind, name, path)
