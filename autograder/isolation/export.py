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

What the grading process holds and computes is bounded per value, before anything is computed
from it, and counted as the grading process will hold it, not as stored: a string is at most
``MAX_STRING_CHARS``; a list or tuple at most ``MAX_SEQUENCE_ITEMS`` items; an array's shape and
dtype are read from its ``.npy`` header before its data, and it counts 8 bytes an item (the
float64 the checks convert to, whatever it was stored as, int8 or compressed) against
``MAX_ARRAY_ITEMS`` and ``MAX_HELD_ARRAY_BYTES``; ``values.json`` is refused before parsing when
the objects it would become could exceed ``MAX_HELD_JSON_BYTES``. A model's weights are checked
against the layer its config describes (``autograder.recurrent_model``). A value over a budget
arrives as ``NotGradable`` with a reason the student reads.
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

from autograder.not_gradable import NotGradable
from autograder.recurrent_model import RecurrentModel, UnsupportedModel
from autograder.upstream import KERAS_FUNCTIONAL

VALUES = "values.json"
ARRAYS = "arrays.npz"
EXPORT_DIR = ".grading-export"  # in the student's scratch directory (the kernel's working directory)
MiB = 1024 * 1024
# This lab's export is ~30 KB of JSON and ~2 KB of arrays; the budgets leave a wide margin for
# honest work and bound a hostile export to a few tens of MiB held by the grading process.
MAX_JSON_BYTES = 2 * MiB  # values.json as stored
MAX_HELD_JSON_BYTES = 48 * MiB  # the Python objects values.json could become (``held_json_bytes``)
MAX_NPZ_BYTES = 16 * MiB  # arrays.npz as stored (compressed or not)
# A written answer is a paragraph (the longest of the 1,480 calibration answers has 498
# characters); the free-text reader is the slowest thing a string reaches.
MAX_STRING_CHARS = 50_000
MAX_SEQUENCE_ITEMS = 64  # a tuple or list: the lab's are shapes and the arrays predict returns
MAX_DEPTH = 6
# The lab's largest array (lstm_seq_output) has 24 items, a layer's weights at most ~33,000
# within ``recurrent_model``'s limits.
MAX_ARRAY_ITEMS = 65_536
MAX_HELD_ARRAY_BYTES = 32 * MiB  # every array read back, at 8 bytes an item
HELD_ITEM_BYTES = 8  # what an item costs once the checks convert it to float64
MAX_WEIGHTS = 3  # an LSTM or GRU layer has a kernel, a recurrent kernel and a bias


def too_long(length: int) -> NotGradable:
    """A string of ``length`` characters, over ``MAX_STRING_CHARS``: the reason says so."""
    return NotGradable(
        "text", f"it has {length:,} characters, more than the {MAX_STRING_CHARS:,} the grader reads: shorten it"
    )


def too_big(items: int) -> NotGradable:
    """An array of ``items`` numbers, over ``MAX_ARRAY_ITEMS``: the reason says so."""
    return NotGradable("array", f"it has {items:,} numbers, more than the {MAX_ARRAY_ITEMS:,} the grader reads")


BIG_MODEL = "its weights are larger than an LSTM or GRU layer of this lab has"


EXPORT_TEMPLATE = r"""
def _grading_export(_names, _out):
    import json as _json
    import sys as _sys
    import numpy as _np
    _g = globals()
    _arrays = {}
    # the Keras class itself, not a class that only has its name
    _module, _, _cls = FUNCTIONAL.rpartition(".")
    _functional = getattr(_sys.modules.get(_module), _cls, None)

    def _enc(v, key, depth=0):
        t = type(v)
        if v is None:
            return {"t": "none"}
        if v is Ellipsis:
            return {"t": "ellipsis"}
        if t is str and len(v) > MAX_STRING_CHARS:
            return {"t": "long", "n": len(v)}
        if t in (str, int, float, bool):
            return {"t": t.__name__, "v": v}
        if t in (tuple, list):
            if depth > 4 or len(v) > MAX_SEQUENCE_ITEMS:
                return {"t": "other", "type": t.__name__}
            return {"t": t.__name__, "v": [_enc(x, key + "." + str(i), depth + 1) for i, x in enumerate(v)]}
        if t is _np.ndarray and v.dtype.kind in "biuf":
            if v.size > MAX_ARRAY_ITEMS:  # said here, so the rest of the export stays within its budget
                return {"t": "big", "n": int(v.size)}
            _arrays[key] = _np.array(v, copy=True)
            return {"t": "array", "k": key}
        if isinstance(v, _np.generic) and t.__module__ == "numpy" and _np.dtype(t).kind in "biuf":
            return {"t": "npscalar", "dtype": _np.dtype(t).str, "v": v.item()}
        if _functional is not None and t is _functional:
            weights = v.get_weights()
            if len(weights) > MAX_WEIGHTS or any(_np.size(w) > MAX_ARRAY_ITEMS for w in weights):
                return {"t": "bigmodel"}
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

def held_json_bytes(data: bytes) -> int:
    """An upper bound of the memory ``json.loads(data)`` takes, from a count of its bytes (linear).

    Every ``{`` may become a dict, every ``[`` a list, every ``,`` and ``:`` one more value, and the
    text itself a string of up to 4 bytes a character; 8 MB of ``[[],[],...]`` would be ~240 MB of
    lists. Characters inside strings are counted too, so the bound is never too low.
    """
    dicts, lists = data.count(b"{"), data.count(b"[")
    values = data.count(b",") + data.count(b":") + 1
    return 232 * dicts + 88 * lists + 64 * values + 4 * len(data)


class _Arrays:
    """The exported ``.npz``, read one array at a time within budgets checked on its header first."""

    def __init__(self, npz: Any):
        self.npz = npz
        self.budget = MAX_HELD_ARRAY_BYTES

    def __contains__(self, key: object) -> bool:
        return key in self.npz.files

    def _header(self, key: str) -> tuple[tuple[int, ...], np.dtype] | None:
        """The member's shape and dtype, from its ``.npy`` header alone (no data read)."""
        try:
            with self.npz.zip.open(f"{key}.npy") as member:
                version = np.lib.format.read_magic(member)
                if version == (1, 0):
                    shape, _, dtype = np.lib.format.read_array_header_1_0(member)
                elif version == (2, 0):
                    shape, _, dtype = np.lib.format.read_array_header_2_0(member)
                else:
                    return None
        except Exception:  # a malformed member is refused like any other
            return None
        return tuple(shape), dtype

    def get(self, key: str) -> np.ndarray | NotGradable | None:
        """The array, ``NotGradable`` (with the reason) over a budget, ``None`` if missing or malformed."""
        if key not in self.npz.files:
            return None
        header = self._header(key)
        if header is None:
            return None
        shape, dtype = header
        if dtype.hasobject or dtype.kind not in "biuf" or dtype.itemsize > HELD_ITEM_BYTES:
            return NotGradable("array", "it is not an array of plain numbers")
        items = int(np.prod(shape, dtype=np.int64)) if shape else 1
        held = items * HELD_ITEM_BYTES
        if items > MAX_ARRAY_ITEMS or held > self.budget:
            return too_big(items)
        self.budget -= held
        try:
            array = self.npz[key]
        except Exception:
            return None
        if array.shape != shape or array.dtype != dtype:
            return None
        return array


def export_cell(names: list[str]) -> str:
    """Source of the cell that exports ``names`` from the student's globals (into ``EXPORT_DIR``)."""
    source = EXPORT_TEMPLATE.replace("FUNCTIONAL", repr(KERAS_FUNCTIONAL))  # first: names could contain the word
    for constant in ("MAX_STRING_CHARS", "MAX_SEQUENCE_ITEMS", "MAX_ARRAY_ITEMS", "MAX_WEIGHTS"):
        source = source.replace(constant, repr(globals()[constant]))
    return source.replace("NAMES", repr(sorted(set(names)))).replace("OUT", repr(EXPORT_DIR)).strip() + "\n"


def _model(entry: dict[str, Any], arrays: _Arrays) -> RecurrentModel | NotGradable:
    try:
        count = int(entry["n"])
        if not 0 <= count <= MAX_WEIGHTS:
            raise UnsupportedModel("the model has more weight arrays than an LSTM or GRU layer")
        weights = [arrays.get(f"{entry['k']}.w{i}") for i in range(count)]
        if any(not isinstance(w, np.ndarray) for w in weights):
            raise UnsupportedModel("the model's weights were not exported as arrays of numbers")
        return RecurrentModel.parse(entry["config"], weights)
    except UnsupportedModel as e:
        return NotGradable("model", str(e))
    except (KeyError, TypeError, ValueError):
        return NotGradable("model", "the model could not be read back")


def _decode(entry: Any, arrays: _Arrays, problems: list[str], depth: int = 0) -> Any:
    if not isinstance(entry, dict) or depth > MAX_DEPTH:
        return NotGradable()
    t = entry.get("t")
    if t == "none":
        return None
    if t == "ellipsis":
        return Ellipsis
    if t in ("long", "big"):
        size = entry.get("n")
        if not isinstance(size, int):
            return NotGradable()
        return too_long(size) if t == "long" else too_big(size)
    if t == "bigmodel":
        problems.append(f"a model was not graded: {BIG_MODEL}")
        return NotGradable("model", BIG_MODEL)
    if t in ("str", "int", "float", "bool"):
        value = entry.get("v")
        if t == "str" and isinstance(value, str) and len(value) > MAX_STRING_CHARS:
            return too_long(len(value))
        expected = {"str": str, "int": int, "float": (int, float), "bool": bool}[t]
        if not isinstance(value, expected):
            return NotGradable()
        return {"str": str, "int": int, "float": float, "bool": bool}[t](value)
    if t in ("tuple", "list"):
        values = entry.get("v", [])
        if not isinstance(values, list) or len(values) > MAX_SEQUENCE_ITEMS:
            return NotGradable()
        items = [_decode(x, arrays, problems, depth + 1) for x in values]
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
            return f.read(st.st_size)  # no process of the student's is left to grow it
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
    if held_json_bytes(values_bytes) > MAX_HELD_JSON_BYTES:
        return None, ["the exported values were refused: values.json would take too much memory to read"]
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
