"""Graded values out of the student's kernel, as plain data, and back into a namespace.

The grader appends ``export_cell(...)`` to the submission: it runs last in the student's kernel
(as the student's unprivileged user) and writes the values the hidden tests take (their parameter
names) to ``values.json`` and ``arrays.npz`` in the student's scratch directory. Only data
crosses: strings, numbers, ``None``/``...``, tuples and lists of those, numeric NumPy arrays, and
each Keras functional model as its JSON config plus its weight arrays. Anything else arrives as
``NotGradable``.

``load_export`` reads it back in the grading process after every process of the student's user
has ended: each file is opened without following links and must be a regular file of bounded
size owned by the student's user; then ``json`` and ``np.load(allow_pickle=False)``, and models
become ``RecurrentModel`` data (never Keras objects), so nothing the student wrote is executed
there. A student can fake the data (as they could type any answer), never the verdict.
"""

from __future__ import annotations

import encodings.cp437  # noqa: F401 - zipfile decodes .npz member names with it: loaded before student code
import io
import json
import os
import stat
from pathlib import Path
from typing import Any

import numpy as np

from autograder.recurrent_model import RecurrentModel, UnsupportedModel
from autograder.upstream import KERAS_FUNCTIONAL

VALUES = "values.json"
ARRAYS = "arrays.npz"
EXPORT_DIR = ".grading-export"  # in the student's scratch directory (the kernel's working directory)
MAX_JSON_BYTES = 8 * 1024 * 1024
MAX_NPZ_BYTES = 64 * 1024 * 1024
MAX_ARRAY_ITEMS = 1_000_000
MAX_WEIGHTS = 16
MAX_TOTAL_ARRAY_BYTES = 256 * 1024 * 1024  # uncompressed, over every array read back


class NotGradable:
    """Stands for a value that could not be exported as data (or read back from it)."""

    __slots__ = ("kind", "reason")

    def __init__(self, kind: str = "value", reason: str = ""):
        self.kind = kind
        self.reason = reason  # grader text, never the student's

    def __repr__(self) -> str:
        return "<a value that could not be graded>"


EXPORT_TEMPLATE = r"""
def _grading_export(_names, _out):
    import json as _json
    import numpy as _np
    _g = globals()
    _arrays = {}

    def _enc(v, key, depth=0):
        t = type(v)
        if v is None:
            return {"t": "none"}
        if v is Ellipsis:
            return {"t": "ellipsis"}
        if t in (str, int, float, bool):
            return {"t": t.__name__, "v": v}
        if t in (tuple, list):
            if depth > 4 or len(v) > 64:
                return {"t": "other", "type": t.__name__}
            return {"t": t.__name__, "v": [_enc(x, key + "." + str(i), depth + 1) for i, x in enumerate(v)]}
        if t is _np.ndarray and v.dtype.kind in "biuf":
            _arrays[key] = _np.array(v, copy=True)
            return {"t": "array", "k": key}
        if isinstance(v, _np.generic) and t.__module__ == "numpy" and _np.dtype(t).kind in "biuf":
            return {"t": "npscalar", "dtype": _np.dtype(t).str, "v": v.item()}
        if t.__module__ + "." + t.__qualname__ == FUNCTIONAL:
            weights = v.get_weights()
            for i, w in enumerate(weights):
                _arrays[key + ".w" + str(i)] = _np.asarray(w)
            return {"t": "model", "config": v.to_json(), "n": len(weights), "k": key}
        return {"t": "other", "type": t.__name__[:60]}

    _values = {}
    for _n in _names:
        if _n not in _g:
            continue
        try:
            _values[_n] = _enc(_g[_n], _n)
        except Exception:
            _values[_n] = {"t": "other", "type": "error"}
    import os as _os
    _os.makedirs(_out, exist_ok=True)
    _np.savez(_out + "/arrays.npz", **_arrays)
    with open(_out + "/values.json", "w") as _f:
        _json.dump(_values, _f)


_grading_export(NAMES, OUT)
del _grading_export
"""

class _Arrays:
    """The exported ``.npz``, read one array at a time within a size budget (no zip bombs)."""

    def __init__(self, npz: Any):
        self.npz = npz
        self.budget = MAX_TOTAL_ARRAY_BYTES

    def __contains__(self, key: object) -> bool:
        return key in self.npz.files

    def get(self, key: str) -> np.ndarray | None:
        if key not in self.npz.files:
            return None
        size = self.npz.zip.getinfo(f"{key}.npy").file_size
        if size > MAX_ARRAY_ITEMS * 8 + 4096 or size > self.budget:
            return None
        self.budget -= size
        array = self.npz[key]
        if array.dtype.kind not in "biuf" or array.size > MAX_ARRAY_ITEMS:
            return None
        return array


def export_cell(names: list[str]) -> str:
    """Source of the cell that exports ``names`` from the student's globals (into ``EXPORT_DIR``)."""
    source = EXPORT_TEMPLATE.replace("FUNCTIONAL", repr(KERAS_FUNCTIONAL))  # first: names could contain the word
    return source.replace("NAMES", repr(sorted(set(names)))).replace("OUT", repr(EXPORT_DIR)).strip() + "\n"


def _model(entry: dict[str, Any], arrays: _Arrays) -> RecurrentModel | NotGradable:
    try:
        count = int(entry["n"])
        if not 0 <= count <= MAX_WEIGHTS:
            raise UnsupportedModel("the model has too many weight arrays")
        weights = [arrays.get(f"{entry['k']}.w{i}") for i in range(count)]
        if any(w is None for w in weights):
            raise UnsupportedModel("the model's weights were not exported")
        return RecurrentModel.parse(entry["config"], weights)
    except UnsupportedModel as e:
        return NotGradable("model", str(e))
    except (KeyError, TypeError, ValueError):
        return NotGradable("model", "the model could not be read back")


def _decode(entry: Any, arrays: _Arrays, problems: list[str], depth: int = 0) -> Any:
    if not isinstance(entry, dict) or depth > 6:
        return NotGradable()
    t = entry.get("t")
    if t == "none":
        return None
    if t == "ellipsis":
        return Ellipsis
    if t in ("str", "int", "float", "bool"):
        value = entry.get("v")
        expected = {"str": str, "int": int, "float": (int, float), "bool": bool}[t]
        if not isinstance(value, expected):
            return NotGradable()
        return {"str": str, "int": int, "float": float, "bool": bool}[t](value)
    if t in ("tuple", "list"):
        items = [_decode(x, arrays, problems, depth + 1) for x in entry.get("v", [])]
        return tuple(items) if t == "tuple" else items
    if t == "array":
        array = arrays.get(str(entry.get("k")))
        return NotGradable() if array is None else array
    if t == "npscalar":
        try:
            dtype = np.dtype(entry["dtype"])
            if dtype.kind not in "biuf":
                return NotGradable()
            return dtype.type(entry["v"])
        except Exception:
            return NotGradable()
    if t == "model":
        model = _model(entry, arrays)
        if isinstance(model, NotGradable):
            problems.append(f"a model was not graded: {model.reason}")
        return model
    return NotGradable()


def _read_owned(dir_fd: int, name: str, owner: int, limit: int) -> bytes:
    """The bytes of ``name`` in ``dir_fd``: a regular file of ``owner``'s, no link followed."""
    fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dir_fd)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_uid != owner or st.st_nlink != 1:
            raise ValueError(f"{name} is not a plain file written by the student's kernel")
        if st.st_size > limit:
            raise ValueError(f"{name} is larger than {limit // (1024 * 1024)} MiB")
        with os.fdopen(os.dup(fd), "rb") as f:
            return f.read(limit)
    finally:
        os.close(fd)


def load_export(scratch: Path, owner: int) -> tuple[dict[str, Any] | None, list[str]]:
    """The namespace the tests run against, or ``None`` if the export is missing or refused.

    ``scratch`` is the student's scratch directory and ``owner`` their uid. Call it only when no
    process of ``owner`` is left.
    """
    no_export = "the notebook did not reach its end: no values were exported"
    try:
        scratch_fd = os.open(scratch, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return None, ["the student's scratch directory is gone"]
    try:
        dir_fd = os.open(EXPORT_DIR, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=scratch_fd)
    except OSError:
        os.close(scratch_fd)
        return None, [no_export]
    try:
        values_bytes = _read_owned(dir_fd, VALUES, owner, MAX_JSON_BYTES)
        arrays_bytes = _read_owned(dir_fd, ARRAYS, owner, MAX_NPZ_BYTES)
    except FileNotFoundError:
        return None, [no_export]
    except (OSError, ValueError) as e:
        return None, [f"the exported values were refused: {e}"]
    finally:
        os.close(dir_fd)
        os.close(scratch_fd)
    try:
        values = json.loads(values_bytes.decode("utf-8"))
        arrays = np.load(io.BytesIO(arrays_bytes), allow_pickle=False)
    except Exception as e:  # any malformed export is refused the same way
        return None, [f"the exported values could not be read ({type(e).__name__})"]
    if not isinstance(values, dict):
        return None, ["the exported values are malformed"]
    problems: list[str] = []
    budget = _Arrays(arrays)
    try:
        namespace = {str(name): _decode(entry, budget, problems) for name, entry in values.items()}
    except Exception as e:  # a malformed archive member, a too-deep structure, ...
        return None, [f"the exported values could not be read ({type(e).__name__})"]
    return namespace, problems
