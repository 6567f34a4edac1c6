"""Graded values out of the student's kernel, as plain data, and back into a namespace.

The grading plugin appends ``export_cell(...)`` to the submission: it runs last in the student's
kernel and writes the values the tests take (their parameter names) to ``values.json`` and
``arrays.npz`` in a directory the grading process chose. Only data crosses: strings, numbers,
``None``/``...``, tuples and lists of those, numeric NumPy arrays, and each Keras functional model
as its JSON config plus its weights. Anything else arrives as ``NotGradable``.

``load_export`` reads it back in the grading process with ``json`` and ``np.load(allow_pickle=False)``
and rebuilds models from a whitelisted config, so nothing the student wrote is ever executed
there. A student can fake the data (as they could type any answer), never the verdict.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

VALUES = "values.json"
ARRAYS = "arrays.npz"
MAX_JSON_BYTES = 8 * 1024 * 1024
MAX_ARRAY_ITEMS = 1_000_000

# Keras classes a model in this lab may be rebuilt from (anything else: NotGradable)
ALLOWED_KERAS_CLASSES = {
    "Functional", "Model", "InputLayer", "LSTM", "GRU", "LSTMCell", "GRUCell", "SimpleRNN", "SimpleRNNCell",
    "Dense", "Activation", "Dropout", "Reshape", "Flatten", "RepeatVector", "TimeDistributed",
    "DTypePolicy", "FloatDTypePolicy", "GlorotUniform", "Orthogonal", "Zeros", "Ones", "HeNormal",
    "HeUniform", "GlorotNormal", "RandomNormal", "RandomUniform", "Constant", "Identity",
    "TruncatedNormal", "L1", "L2", "L1L2", "MaxNorm", "NonNeg", "UnitNorm", "MinMaxNorm", "KerasTensor",
    "__keras_tensor__", "__tuple__",
}  # fmt: skip


class NotGradable:
    """Stands for a value that could not be exported as data (or rebuilt from it)."""

    __slots__ = ("kind",)

    def __init__(self, kind: str = "value"):
        self.kind = kind

    def __repr__(self) -> str:
        return "<a value that could not be graded>"


EXPORT_TEMPLATE = r"""
def _otter_integrity_export(_names, _out):
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
        if t.__module__ + "." + t.__qualname__ == "keras.src.models.functional.Functional":
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
    _np.savez(_out + "/arrays.npz", **_arrays)
    with open(_out + "/values.json", "w") as _f:
        _json.dump(_values, _f)


_otter_integrity_export(NAMES, OUT)
del _otter_integrity_export
"""


def export_cell(names: list[str], out_dir: str) -> str:
    """Source of the cell that exports ``names`` from the student's globals into ``out_dir``."""
    return EXPORT_TEMPLATE.replace("NAMES", repr(sorted(set(names)))).replace("OUT", repr(str(out_dir))).strip() + "\n"


def _check_keras_config(node: Any, depth: int = 0) -> None:
    if depth > 40:
        raise ValueError("model config too deep")
    if isinstance(node, dict):
        cls = node.get("class_name")
        if cls is not None and cls not in ALLOWED_KERAS_CLASSES:
            raise ValueError(f"layer class {cls!r} is not allowed")
        module = node.get("module")
        if isinstance(module, str) and not (module == "keras" or module.startswith("keras.")):
            raise ValueError(f"module {module!r} is not allowed")
        if "registered_name" in node and node["registered_name"] not in (None, cls) and cls is not None:
            raise ValueError("custom registered objects are not allowed")
        for value in node.values():
            _check_keras_config(value, depth + 1)
    elif isinstance(node, list):
        for value in node:
            _check_keras_config(value, depth + 1)


def _rebuild_model(entry: dict[str, Any], arrays: Any) -> Any:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    import keras
    import numpy as np

    config = json.loads(entry["config"])
    _check_keras_config(config)
    model = keras.saving.deserialize_keras_object(config, safe_mode=True)
    weights = [np.asarray(arrays[f"{entry['k']}.w{i}"]) for i in range(int(entry["n"]))]
    model.set_weights(weights)
    return model


def _decode(entry: Any, arrays: Any, problems: list[str], depth: int = 0) -> Any:
    import numpy as np

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
        key = entry.get("k")
        if key not in arrays.files:
            return NotGradable()
        array = arrays[key]
        if array.dtype.kind not in "biuf" or array.size > MAX_ARRAY_ITEMS:
            return NotGradable()
        return array
    if t == "npscalar":
        try:
            dtype = np.dtype(entry["dtype"])
            if dtype.kind not in "biuf":
                return NotGradable()
            return dtype.type(entry["v"])
        except Exception:  # noqa: BLE001
            return NotGradable()
    if t == "model":
        try:
            return _rebuild_model(entry, arrays)
        except Exception as e:  # noqa: BLE001 - the message is for the instructor log only
            problems.append(f"a model could not be rebuilt: {type(e).__name__}: {str(e)[:200]}")
            return NotGradable("model")
    return NotGradable(str(entry.get("type", "value"))[:60])


def load_export(out_dir: Path) -> tuple[dict[str, Any] | None, list[str]]:
    """The namespace the tests run against, or ``None`` if the export is missing or unreadable."""
    import numpy as np

    out_dir = Path(out_dir)
    values_path, arrays_path = out_dir / VALUES, out_dir / ARRAYS
    problems: list[str] = []
    if not values_path.is_file() or not arrays_path.is_file():
        return None, ["the notebook did not reach its end: no values were exported"]
    if values_path.stat().st_size > MAX_JSON_BYTES:
        return None, ["the exported values are too large"]
    try:
        values = json.loads(values_path.read_text(encoding="utf-8"))
        arrays = np.load(arrays_path, allow_pickle=False)
    except Exception as e:  # noqa: BLE001
        return None, [f"the exported values could not be read ({type(e).__name__})"]
    if not isinstance(values, dict):
        return None, ["the exported values are malformed"]
    namespace = {str(name): _decode(entry, arrays, problems) for name, entry in values.items()}
    return namespace, problems
