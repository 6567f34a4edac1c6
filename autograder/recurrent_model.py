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

``tests/test_recurrent_model.py`` compares it with Keras over a matrix of settings.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

KINDS = ("LSTM", "GRU")
MAX_UNITS = 1024
MAX_CONFIG_CHARS = 200_000
MAX_MULTIPLY_ADDS = 50_000_000  # a forward pass this lab needs is ~1,000; this bounds a hostile one


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
        batch_shape = (input_entry.get("config") or {}).get("batch_shape")
        if not isinstance(batch_shape, list) or len(batch_shape) != 3:
            raise UnsupportedModel("the model's Input should take sequences: shape=(timesteps, features)")
        layer = _parse_layer(layer_entry, weights)
        if max(outputs) >= 2 + (layer.kind == "LSTM") or (max(outputs) > 0 and not layer.return_state):
            raise UnsupportedModel("the model returns outputs its recurrent layer does not have")
        return cls(tuple(batch_shape), layer, outputs)

    def predict(self, data: Any) -> list[np.ndarray]:
        """The model's outputs for ``data`` (batch, timesteps, features), as float32 arrays."""
        x = np.asarray(data, dtype=np.float64)
        expected = self.input_shape[1:]
        if x.ndim != 3 or any(e is not None and e != n for e, n in zip(expected, x.shape[1:], strict=True)):
            raise UnsupportedModel("the data does not have the shape the model's Input takes")
        batch, steps, features = x.shape
        u = self.layer.units
        if batch * steps * 4 * u * (features + u) > MAX_MULTIPLY_ADDS:
            raise UnsupportedModel("the data is far larger than this lab's")
        sequence, states = _run(self.layer, x)
        everything = [sequence if self.layer.return_sequences else sequence[:, -1, :], *states]
        return [everything[i].astype(np.float32) for i in self.outputs]

    def __repr__(self) -> str:
        return f"<{self.layer.kind} model, {self.layer.units} units>"


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


def _parse_layer(entry: dict[str, Any], weights: list[np.ndarray]) -> RecurrentLayer:
    kind = entry["class_name"]
    c = entry.get("config") or {}
    units = c.get("units")
    if not isinstance(units, int) or isinstance(units, bool) or not 0 < units <= MAX_UNITS:
        raise UnsupportedModel(f"the {kind} layer's units setting is not a positive number")
    for flag in ("go_backwards", "stateful"):
        if c.get(flag):
            raise UnsupportedModel(f"the {kind} layer sets {flag}=True, which this lab does not use")
    if kind == "GRU" and c.get("reset_after", True) not in (True, False):
        raise UnsupportedModel("the GRU layer's reset_after setting is not True or False")
    for name in ("activation", "recurrent_activation"):
        if c.get(name) not in ACTIVATIONS:
            raise UnsupportedModel(f"the {kind} layer's {name} is not one this grader evaluates (keep the default)")
    layer = RecurrentLayer(
        kind=kind,
        units=units,
        return_sequences=bool(c.get("return_sequences", False)),
        return_state=bool(c.get("return_state", False)),
        activation=c.get("activation"),
        recurrent_activation=c.get("recurrent_activation"),
        use_bias=bool(c.get("use_bias", True)),
        reset_after=bool(c.get("reset_after", True)) if kind == "GRU" else False,
        weights=tuple(np.asarray(w, dtype=np.float64) for w in weights),
    )
    _check_weights(layer)
    return layer


def _check_weights(layer: RecurrentLayer) -> None:
    gates = 4 if layer.kind == "LSTM" else 3
    u = layer.units
    expected_count = 3 if layer.use_bias else 2
    if len(layer.weights) != expected_count:
        raise UnsupportedModel(f"the {layer.kind} layer should have {expected_count} weight arrays")
    kernel, recurrent = layer.weights[:2]
    if kernel.ndim != 2 or kernel.shape[1] != gates * u or recurrent.shape != (u, gates * u):
        raise UnsupportedModel(f"the {layer.kind} layer's weights do not have the shapes of {u} units")
    if layer.use_bias:
        bias_shape = (2, gates * u) if layer.kind == "GRU" and layer.reset_after else (gates * u,)
        if layer.weights[2].shape != bias_shape:
            raise UnsupportedModel(f"the {layer.kind} layer's bias does not have the shape of {u} units")
    if not all(np.isfinite(w).all() for w in layer.weights):
        raise UnsupportedModel(f"the {layer.kind} layer's weights are not all finite numbers")


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
