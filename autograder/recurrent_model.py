"""A student's Keras model as data (its config and weights), and its forward pass in NumPy.

The student's kernel exports each Keras model as ``model.to_json()`` plus ``model.get_weights()``;
the grading process never rebuilds it in Keras (no TensorFlow there: it would double the memory
of a grading run, and it would be imported after student code ran). ``RecurrentModel.parse``
accepts exactly the models of this lab, ``Input -> LSTM | GRU -> outputs``, and refuses anything
else with a reason; ``predict`` computes what Keras 3 computes for those layers:

* LSTM (gates i, f, c, o): ``z = x W + h U + b``; ``c' = f c + i g(z_c)``; ``h' = o g(c')``
* GRU, ``reset_after=True`` (gates z, r, h): ``x W + b_in`` and ``h U + b_rec`` are kept apart
  and the reset gate multiplies the recurrent part: ``h~ = g(x_h + r (h U_h + b_rec_h))``;
  ``h' = z h + (1 - z) h~``. With ``reset_after=False`` the reset gate multiplies ``h`` first.

``tests/isolation/test_recurrent_model.py`` compares it with Keras over a matrix of settings.

Bounded work: the data is the student's, so every size is checked before anything is computed
or converted. The lab's layers have ``num_nodes = 3`` units on inputs of 8 steps of 2 features;
a model whose units, features, weights or inputs could not come from a layer of that kind (with
room for a student's experiment, ``MAX_UNITS`` and friends) is refused with a reason, and a
weight array must have exactly the shape and a float dtype of the layer its config describes,
so what the grading process holds is bounded by the config, not by what the student exported.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

KINDS = ("LSTM", "GRU")
# The lab asks for 3 units on (1, 8, 2) data; these leave room for a student who experiments and
# bound what a hostile export can make the grading process hold and compute.
MAX_UNITS = 64  # a layer's weights then hold at most 4 * 64 * (64 + 64 + 2) floats (~260 KiB)
MAX_FEATURES = 64  # the Input's last dimension
MAX_TIMESTEPS = 256  # each step is one Python iteration of the forward pass: 256 take ~5 ms
MAX_BATCH = 64
MAX_CONFIG_CHARS = 200_000  # a functional model's to_json() here is ~3,000 characters
# multiply-adds of one forward pass: this lab's is ~500, the largest within the limits above would
# be ~550 million (minutes of NumPy); 5 million take ~10 ms
MAX_MULTIPLY_ADDS = 5_000_000
WEIGHT_KINDS = "f"  # Keras stores weights as floats (float32, or float16/64 under a dtype policy)


class UnsupportedModel(ValueError):
    """The exported model is not one this grader evaluates; the message says which part."""


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _hard_sigmoid(x: np.ndarray) -> np.ndarray:
    # Keras 3: relu6(x + 3) / 6
    return np.clip(x + 3.0, 0.0, 6.0) / 6.0


ACTIVATIONS = {
    "tanh": np.tanh,
    "sigmoid": _sigmoid,
    "hard_sigmoid": _hard_sigmoid,
    "relu": lambda x: np.maximum(x, 0.0),
    "linear": lambda x: x,
    None: lambda x: x,
}


@dataclass(frozen=True)
class RecurrentLayer:
    kind: str  # "LSTM" or "GRU"
    units: int
    return_sequences: bool
    return_state: bool
    activation: str | None
    recurrent_activation: str | None
    use_bias: bool
    reset_after: bool  # GRU only
    weights: tuple[np.ndarray, ...]  # kernel, recurrent kernel[, bias]


@dataclass(frozen=True)
class RecurrentModel:
    """``Model(inputs=Input(shape), outputs=...)`` around one LSTM or GRU layer, as data."""

    input_shape: tuple[int | None, ...]  # batch_shape of the Input, e.g. (None, 8, 2)
    layer: RecurrentLayer
    outputs: tuple[int, ...]  # which of the layer's outputs (0 = output, 1 = h, 2 = c) the model returns

    @classmethod
    def parse(cls, config_json: str, weights: list[np.ndarray]) -> RecurrentModel:
        """Validate an exported ``model.to_json()`` and its weights; raise ``UnsupportedModel``."""
        if not isinstance(config_json, str) or len(config_json) > MAX_CONFIG_CHARS:
            raise UnsupportedModel("the model's configuration is missing or too large")
        try:
            top = json.loads(config_json)
        except ValueError:
            raise UnsupportedModel("the model's configuration is not valid JSON") from None
        if not isinstance(top, dict) or top.get("class_name") != "Functional":
            raise UnsupportedModel("the model is not built with Model(inputs=..., outputs=...)")
        config = top.get("config") or {}
        layers = config.get("layers")
        if not isinstance(layers, list):
            raise UnsupportedModel("the model's configuration has no layers")
        inputs = [entry for entry in layers if isinstance(entry, dict) and entry.get("class_name") == "InputLayer"]
        recurrent = [entry for entry in layers if isinstance(entry, dict) and entry.get("class_name") in KINDS]
        if len(inputs) + len(recurrent) != len(layers):
            raise UnsupportedModel("the model has layers other than its Input and one LSTM or GRU")
        if len(inputs) != 1:
            raise UnsupportedModel("the model should have exactly one Input")
        if len(recurrent) != 1:
            raise UnsupportedModel(f"the model should contain exactly one recurrent layer; it has {len(recurrent)}")
        input_entry, layer_entry = inputs[0], recurrent[0]
        input_name, layer_name = input_entry.get("name"), layer_entry.get("name")
        _check_wiring(layer_entry, input_name)
        outputs = tuple(_output_indices(config.get("output_layers"), layer_name))
        batch_shape = _input_shape((input_entry.get("config") or {}).get("batch_shape"))
        layer = _parse_layer(layer_entry, weights, features=batch_shape[2])
        if max(outputs) >= 2 + (layer.kind == "LSTM") or (max(outputs) > 0 and not layer.return_state):
            raise UnsupportedModel("the model returns outputs its recurrent layer does not have")
        return cls(batch_shape, layer, outputs)

    def predict(self, data: Any) -> list[np.ndarray]:
        """The model's outputs for ``data`` (batch, timesteps, features), as float32 arrays.

        The data's shape and dtype are checked before it is converted or computed with: at most
        ``MAX_BATCH`` sequences of ``MAX_TIMESTEPS`` steps, and ``MAX_MULTIPLY_ADDS`` in all.
        """
        shape = getattr(data, "shape", None)
        dtype = getattr(data, "dtype", None)
        if not isinstance(shape, tuple) or dtype is None or getattr(dtype, "kind", "") not in "biuf":
            raise UnsupportedModel("the data is not an array of numbers")
        expected = self.input_shape[1:]
        if len(shape) != 3 or any(e is not None and e != n for e, n in zip(expected, shape[1:], strict=True)):
            raise UnsupportedModel("the data does not have the shape the model's Input takes")
        batch, steps, features = shape
        if not (0 < batch <= MAX_BATCH and 0 < steps <= MAX_TIMESTEPS):
            raise UnsupportedModel(
                f"the data has {batch} sequence(s) of {steps} steps: more than this lab's models are run on"
            )
        u = self.layer.units
        if batch * steps * 4 * u * (features + u) > MAX_MULTIPLY_ADDS:
            raise UnsupportedModel("the data is far larger than this lab's")
        x = np.asarray(data, dtype=np.float64)
        sequence, states = _run(self.layer, x)
        everything = [sequence if self.layer.return_sequences else sequence[:, -1, :], *states]
        return [everything[i].astype(np.float32) for i in self.outputs]

    def __repr__(self) -> str:
        return f"<{self.layer.kind} model, {self.layer.units} units>"


def _input_shape(batch_shape: Any) -> tuple[int | None, int | None, int]:
    """The Input's ``(batch, timesteps, features)``, each within this lab's limits (``None``: any)."""
    if not isinstance(batch_shape, list) or len(batch_shape) != 3:
        raise UnsupportedModel("the model's Input should take sequences: shape=(timesteps, features)")
    limits = (MAX_BATCH, MAX_TIMESTEPS, MAX_FEATURES)
    for size, limit in zip(batch_shape, limits, strict=True):
        if size is None:
            continue
        if not isinstance(size, int) or isinstance(size, bool) or not 0 < size <= limit:
            raise UnsupportedModel(
                f"the model's Input shape {batch_shape[1:]} is not one this lab's layers take "
                f"(at most {MAX_TIMESTEPS} steps of {MAX_FEATURES} features)"
            )
    if batch_shape[2] is None:
        raise UnsupportedModel("the model's Input should say how many features each step has")
    return batch_shape[0], batch_shape[1], batch_shape[2]


def _check_wiring(layer_entry: dict[str, Any], input_name: Any) -> None:
    nodes = layer_entry.get("inbound_nodes")
    if not isinstance(nodes, list) or len(nodes) != 1:
        raise UnsupportedModel("the recurrent layer should be called once, on the Input")
    args = nodes[0].get("args") if isinstance(nodes[0], dict) else None
    if not isinstance(args, list) or len(args) != 1 or not isinstance(args[0], dict):
        raise UnsupportedModel("the recurrent layer should be called on the Input alone (no initial states)")
    history = (args[0].get("config") or {}).get("keras_history")
    if not isinstance(history, list) or history[:1] != [input_name]:
        raise UnsupportedModel("the recurrent layer should be called on the Input")
    kwargs = nodes[0].get("kwargs") or {}
    if kwargs.get("mask") is not None or kwargs.get("initial_state") is not None:
        raise UnsupportedModel("the recurrent layer should be called without a mask or initial states")


def _output_indices(output_layers: Any, layer_name: Any) -> list[int]:
    if isinstance(output_layers, list) and len(output_layers) == 3 and isinstance(output_layers[0], str):
        output_layers = [output_layers]  # a single output is stored flat
    if not isinstance(output_layers, list) or not output_layers:
        raise UnsupportedModel("the model has no outputs")
    indices = []
    for item in output_layers:
        if not (isinstance(item, list) and len(item) == 3 and item[0] == layer_name and item[1] == 0):
            raise UnsupportedModel("the model's outputs should be the recurrent layer's outputs")
        if not isinstance(item[2], int) or isinstance(item[2], bool) or not 0 <= item[2] <= 2:
            raise UnsupportedModel("the model's outputs should be the recurrent layer's outputs")
        indices.append(item[2])
    return indices


def _parse_layer(entry: dict[str, Any], weights: list[Any], features: int) -> RecurrentLayer:
    kind = entry["class_name"]
    c = entry.get("config") or {}
    units = c.get("units")
    if not isinstance(units, int) or isinstance(units, bool) or units <= 0:
        raise UnsupportedModel(f"the {kind} layer's units setting is not a positive number")
    if units > MAX_UNITS:
        raise UnsupportedModel(f"the {kind} layer has {units} units: this lab's layers have at most {MAX_UNITS}")
    for flag in ("go_backwards", "stateful"):
        if c.get(flag):
            raise UnsupportedModel(f"the {kind} layer sets {flag}=True, which this lab does not use")
    if kind == "GRU" and c.get("reset_after", True) not in (True, False):
        raise UnsupportedModel("the GRU layer's reset_after setting is not True or False")
    for name in ("activation", "recurrent_activation"):
        if c.get(name) not in ACTIVATIONS:
            raise UnsupportedModel(f"the {kind} layer's {name} is not one this grader evaluates (keep the default)")
    use_bias = bool(c.get("use_bias", True))
    reset_after = bool(c.get("reset_after", True)) if kind == "GRU" else False
    # shapes and dtypes first: nothing is converted that could not come from this layer
    _check_weights(kind, units, features, use_bias, reset_after, weights)
    layer = RecurrentLayer(
        kind=kind,
        units=units,
        return_sequences=bool(c.get("return_sequences", False)),
        return_state=bool(c.get("return_state", False)),
        activation=c.get("activation"),
        recurrent_activation=c.get("recurrent_activation"),
        use_bias=use_bias,
        reset_after=reset_after,
        weights=tuple(np.asarray(w, dtype=np.float64) for w in weights),
    )
    if not all(np.isfinite(w).all() for w in layer.weights):
        raise UnsupportedModel(f"the {kind} layer's weights are not all finite numbers")
    return layer


def weight_shapes(
    kind: str, units: int, features: int, use_bias: bool = True, reset_after: bool = True
) -> list[tuple[int, ...]]:
    """The shapes of the weights Keras gives a ``kind`` layer of ``units`` on ``features`` inputs."""
    gates = 4 if kind == "LSTM" else 3
    shapes: list[tuple[int, ...]] = [(features, gates * units), (units, gates * units)]
    if use_bias:
        shapes.append((2, gates * units) if kind == "GRU" and reset_after else (gates * units,))
    return shapes


def _check_weights(
    kind: str, units: int, features: int, use_bias: bool, reset_after: bool, weights: list[Any]
) -> None:
    """Refuse weights that could not come from this layer: count, then each one's shape and dtype."""
    expected = weight_shapes(kind, units, features, use_bias, reset_after)
    if len(weights) != len(expected):
        raise UnsupportedModel(f"the {kind} layer should have {len(expected)} weight arrays")
    for weight, shape in zip(weights, expected, strict=True):
        if not isinstance(weight, np.ndarray) or weight.dtype.kind not in WEIGHT_KINDS:
            raise UnsupportedModel(f"the {kind} layer's weights are not arrays of floats")
        if weight.shape != shape:
            raise UnsupportedModel(
                f"the {kind} layer's weights do not have the shapes of {units} units on {features} features"
            )


def _run(layer: RecurrentLayer, x: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """``(sequence of h, final states)`` of ``layer`` over ``x``."""
    act, rec_act = ACTIVATIONS[layer.activation], ACTIVATIONS[layer.recurrent_activation]
    kernel, recurrent = layer.weights[:2]
    u = layer.units
    batch, steps, _ = x.shape
    h = np.zeros((batch, u))
    sequence = np.zeros((batch, steps, u))
    if layer.kind == "LSTM":
        bias = layer.weights[2] if layer.use_bias else np.zeros(4 * u)
        c = np.zeros((batch, u))
        for t in range(steps):
            z = x[:, t, :] @ kernel + h @ recurrent + bias
            i, f, g, o = (z[:, k * u : (k + 1) * u] for k in range(4))
            c = rec_act(f) * c + rec_act(i) * act(g)
            h = rec_act(o) * act(c)
            sequence[:, t, :] = h
        return sequence, [h, c]
    if layer.use_bias:
        bias = layer.weights[2]
        input_bias, recurrent_bias = (bias[0], bias[1]) if layer.reset_after else (bias, np.zeros(3 * u))
    else:
        input_bias, recurrent_bias = np.zeros(3 * u), np.zeros(3 * u)
    for t in range(steps):
        xz = x[:, t, :] @ kernel + input_bias
        x_z, x_r, x_h = xz[:, :u], xz[:, u : 2 * u], xz[:, 2 * u :]
        if layer.reset_after:
            hz = h @ recurrent + recurrent_bias
            z = rec_act(x_z + hz[:, :u])
            r = rec_act(x_r + hz[:, u : 2 * u])
            candidate = act(x_h + r * hz[:, 2 * u :])
        else:
            z = rec_act(x_z + h @ recurrent[:, :u])
            r = rec_act(x_r + h @ recurrent[:, u : 2 * u])
            candidate = act(x_h + (r * h) @ recurrent[:, 2 * u :])
        h = z * h + (1.0 - z) * candidate
        sequence[:, t, :] = h
    return sequence, [h]
