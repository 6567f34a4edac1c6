"""The grading process's NumPy forward pass gives what Keras gives, and refuses what it does not evaluate."""

from __future__ import annotations

import itertools
import json
import os
import time

import numpy as np
import pytest

from autograder.recurrent_model import RecurrentModel, UnsupportedModel

keras = None  # imported when a test runs: collecting this module (make test-fast) must not import TensorFlow


@pytest.fixture(scope="module", autouse=True)
def _import_keras():
    global keras
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    keras = pytest.importorskip("keras")

MATRIX = [
    # kind, units, steps, batch, features, activation, return_sequences, return_state, reset_after
    *[("LSTM", u, t, b, 2, "tanh", seq, st, True) for u, t, b, seq, st in itertools.product(
        (1, 3, 7), (1, 8), (1, 4), (False, True), (False, True))],
    *[("GRU", u, t, b, 2, "tanh", seq, st, ra) for u, t, b, seq, st, ra in itertools.product(
        (1, 3, 7), (1, 8), (1, 4), (False, True), (False, True), (True, False))],
    ("LSTM", 5, 12, 3, 4, "relu", True, True, True),
    ("GRU", 5, 12, 3, 4, "relu", True, True, True),
    ("GRU", 4, 6, 2, 3, "sigmoid", False, True, False),
]


def _model(kind, units, steps, features, activation, return_sequences, return_state, reset_after, seed):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape=(steps, features))
    options = {"return_sequences": return_sequences, "return_state": return_state, "activation": activation}
    if kind == "GRU":
        options["reset_after"] = reset_after
    layer = getattr(keras.layers, kind)(units, **options)
    outputs = layer(inputs)
    model = keras.Model(inputs=inputs, outputs=outputs)
    # non-zero biases, so a mistake in how they are applied shows
    model.set_weights([w + np.random.default_rng(seed).normal(0, 0.3, w.shape) for w in model.get_weights()])
    return model


@pytest.mark.parametrize("case", MATRIX, ids=lambda c: "-".join(map(str, c)))
@pytest.mark.parametrize("seed", [0, 7])
def test_numpy_forward_pass_equals_keras(case, seed):
    kind, units, steps, batch, features, activation, seq, state, reset_after = case
    model = _model(kind, units, steps, features, activation, seq, state, reset_after, seed)
    data = np.random.default_rng(seed + 1).normal(size=(batch, steps, features)).astype("float32")
    # a direct call, not predict(): the same computation without tracing a predict function per model
    expected = model(data, training=False)
    expected = [np.asarray(e) for e in expected] if isinstance(expected, (list, tuple)) else [np.asarray(expected)]
    parsed = RecurrentModel.parse(model.to_json(), model.get_weights())
    got = parsed.predict(data)
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        assert g.shape == e.shape
        np.testing.assert_allclose(g, e, atol=1e-5, rtol=1e-5)


def test_outputs_in_another_order_and_a_subset():
    inputs = keras.Input(shape=(8, 2))
    out, h, c = keras.layers.LSTM(3, return_state=True)(inputs)
    model = keras.Model(inputs=inputs, outputs=[c, out])
    data = np.random.default_rng(0).normal(size=(1, 8, 2)).astype("float32")
    got = RecurrentModel.parse(model.to_json(), model.get_weights()).predict(data)
    for g, e in zip(got, model.predict(data, verbose=0), strict=True):
        np.testing.assert_allclose(g, e, atol=1e-5)


@pytest.mark.parametrize(
    ("build", "reason"),
    [
        (lambda i: keras.layers.Dense(2)(keras.layers.LSTM(3)(i)), "other than its Input"),
        (lambda i: keras.layers.LSTM(3, go_backwards=True)(i), "go_backwards"),
        (lambda i: keras.layers.GRU(3, activation="softplus")(i), "activation is not one"),
        (lambda i: keras.layers.LSTM(2)(keras.layers.LSTM(3, return_sequences=True)(i)), "exactly one recurrent"),
    ],
)
def test_refuses_what_it_does_not_evaluate_naming_the_setting(build, reason):
    inputs = keras.Input(shape=(8, 2))
    model = keras.Model(inputs=inputs, outputs=build(inputs))
    with pytest.raises(UnsupportedModel, match=reason):
        RecurrentModel.parse(model.to_json(), model.get_weights())


def test_refuses_malformed_configs_and_weights():
    inputs = keras.Input(shape=(8, 2))
    model = keras.Model(inputs=inputs, outputs=keras.layers.LSTM(3)(inputs))
    weights = model.get_weights()
    with pytest.raises(UnsupportedModel, match="3 weight arrays"):
        RecurrentModel.parse(model.to_json(), weights[:2])
    with pytest.raises(UnsupportedModel, match="shapes"):
        RecurrentModel.parse(model.to_json(), [weights[0][:, :4], *weights[1:]])
    with pytest.raises(UnsupportedModel, match="finite"):
        RecurrentModel.parse(model.to_json(), [weights[0] * np.inf, *weights[1:]])
    config = json.loads(model.to_json())
    config["class_name"] = "Sequential"
    with pytest.raises(UnsupportedModel, match="Model\\(inputs"):
        RecurrentModel.parse(json.dumps(config), weights)
    with pytest.raises(UnsupportedModel, match="JSON"):
        RecurrentModel.parse("{", weights)


# --- budgets: nothing is converted or computed that could not come from this lab's layers ----------


def _lstm(shape=(8, 2), units=3):
    inputs = keras.Input(shape=shape)
    return keras.Model(inputs=inputs, outputs=keras.layers.LSTM(units, return_state=True)(inputs))


def _peak_bytes(call) -> int:
    import tracemalloc

    tracemalloc.start()
    try:
        call()
    except UnsupportedModel:
        pass
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def test_weights_that_expand_in_the_grading_process_are_refused_before_conversion():
    model = _lstm()
    # small as stored (int8, compressed in the export), 8x larger as the float64 the pass computes with
    bombs = [np.zeros((1000, 1000), dtype=np.int8)] * 16
    assert _peak_bytes(lambda: RecurrentModel.parse(model.to_json(), bombs)) < 1024 * 1024
    with pytest.raises(UnsupportedModel, match="should have 3 weight arrays"):
        RecurrentModel.parse(model.to_json(), bombs)
    right_shapes_wrong_dtype = [w.astype(np.int8) for w in model.get_weights()]
    with pytest.raises(UnsupportedModel, match="not arrays of floats"):
        RecurrentModel.parse(model.to_json(), right_shapes_wrong_dtype)
    # a config that claims big layers is refused by its numbers, before any weight is looked at
    config = json.loads(_lstm().to_json())
    config["config"]["layers"][1]["config"]["units"] = 100_000
    with pytest.raises(UnsupportedModel, match="100000 units"):
        RecurrentModel.parse(json.dumps(config), [np.zeros((2, 400_000), np.float32)])
    with pytest.raises(UnsupportedModel, match="Input shape"):
        RecurrentModel.parse(_lstm(shape=(10_000, 2)).to_json(), [])
    with pytest.raises(UnsupportedModel, match="shapes of 3 units on 2 features"):
        RecurrentModel.parse(model.to_json(), [w[:, :3] if w.ndim == 2 else w for w in model.get_weights()])


def test_a_million_steps_of_data_are_refused_not_computed():
    model = _lstm(shape=(None, 1))  # an Input that takes sequences of any length
    parsed = RecurrentModel.parse(model.to_json(), model.get_weights())
    data = np.zeros((1, 1_000_000, 1), dtype=np.float32)
    start = time.monotonic()
    with pytest.raises(UnsupportedModel, match="1 sequence\\(s\\) of 1000000 steps"):
        parsed.predict(data)
    assert time.monotonic() - start < 0.1
    assert _peak_bytes(lambda: parsed.predict(data)) < 1024 * 1024  # not even converted to float64
    assert [o.shape for o in parsed.predict(np.zeros((1, 8, 1), np.float32))] == [(1, 3), (1, 3), (1, 3)]
    with pytest.raises(UnsupportedModel, match="not an array of numbers"):
        parsed.predict([[[0.0]] * 8])
