"""Checks used by the hidden tests on what a student's own code built and computed.

Every check raises ``AssertionError`` with a message a student can act on. Messages say
what is wrong, never what the right value is, so they are safe to release after grading.
Facts are measured on the student's tensors *and* on tensors recomputed from the
student's model, so a hand-written array cannot stand in for a real layer output.

They run in the grading process on the values the student's kernel exported as data: a model
arrives as a ``RecurrentModel`` (its config and weights) and is recomputed by its NumPy forward
pass; a value that could not be exported arrives as ``NotGradable``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np

from autograder.not_gradable import NotGradable
from autograder.recurrent_model import RecurrentModel, UnsupportedModel

F = TypeVar("F", bound=Callable[..., Any])

# Values recomputed from the same model and data agree to float32 rounding.
_ATOL = 1e-5


def _student_safe(check: F) -> F:
    """Turn any error other than a failed check into a fixed message.

    Student objects can raise exceptions with any text (even a grader file's contents);
    that text must never reach the test output.
    """

    @functools.wraps(check)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return check(*args, **kwargs)
        except (AssertionError, MemoryError):  # a MemoryError is the grader's budget: its runner says so
            raise
        except Exception:  # anything a student object raises
            raise AssertionError(
                "Your values could not be checked: re-run the notebook from the top with the cells as given."
            ) from None

    return wrapper  # type: ignore[return-value]


def _is_blank(value: Any) -> bool:
    return value is None or value is Ellipsis


@_student_safe
def as_array(value: Any, name: str) -> np.ndarray:
    """Return ``value`` as a numeric NumPy array or fail naming the variable."""
    if _is_blank(value):
        raise AssertionError(f"{name} is not defined: fill in and run the cell that computes it.")
    if isinstance(value, NotGradable) and value.reason:  # over a budget of the export: the reason says which
        raise AssertionError(f"{name} could not be graded: {value.reason}.")
    try:
        array = np.asarray(value)
    except Exception:  # any conversion failure means "not an array"
        raise AssertionError(f"{name} is not an array of numbers.") from None
    if array.dtype == object or not np.issubdtype(array.dtype, np.number):
        raise AssertionError(f"{name} is not an array of numbers.")
    return array


@_student_safe
def recurrent_model(model: Any, name: str) -> RecurrentModel:
    """Return the student's model (one LSTM or GRU layer on an Input) as data, or fail naming why."""
    if _is_blank(model):
        raise AssertionError(f"{name} is not defined: fill in and run the cell that builds it.")
    if isinstance(model, NotGradable) and model.reason:
        raise AssertionError(f"{name} could not be graded: {model.reason}.")
    if not isinstance(model, RecurrentModel):
        raise AssertionError(f"{name} is not a Keras Model built with Model(inputs=..., outputs=...).")
    return model


@_student_safe
def check_layer(
    model: Any,
    name: str,
    *,
    kind: str,
    units: int,
    return_state: bool,
    return_sequences: bool,
) -> None:
    """Check the type and configuration of the recurrent layer in ``model``."""
    layer = recurrent_model(model, name).layer
    if layer.kind != kind:
        raise AssertionError(f"The recurrent layer in {name} should be a {kind}.")
    if layer.units != units:
        raise AssertionError(f"The {kind} in {name} should have num_nodes units.")
    if layer.return_state is not return_state:
        raise AssertionError(f"Check the return_state argument of the {kind} in {name}.")
    if layer.return_sequences is not return_sequences:
        raise AssertionError(f"Check the return_sequences argument of the {kind} in {name}.")


@_student_safe
def recompute(model: Any, name: str, data: Any) -> list[np.ndarray]:
    """Run the student's model on ``data`` again (NumPy forward pass) and return its outputs."""
    spec = recurrent_model(model, name)
    inputs = as_array(data, "data")
    try:
        return spec.predict(inputs)
    except UnsupportedModel:
        raise AssertionError(f"{name} cannot be run on data: re-run the notebook from the top.") from None


@_student_safe
def check_returns(model: Any, name: str, data: Any, count: int) -> list[np.ndarray]:
    """Check that ``model`` returns ``count`` arrays for ``data`` and return them."""
    outputs = recompute(model, name, data)
    if len(outputs) != count:
        raise AssertionError(f"{name} should return {count} array(s) from predict; it returns {len(outputs)}.")
    return outputs


@_student_safe
def check_computed(
    model: Any,
    model_name: str,
    data: Any,
    values: Sequence[Any],
    names: Sequence[str],
) -> list[np.ndarray]:
    """Check that the student's arrays are exactly what their model returns for ``data``.

    Returns the student's arrays, so that facts checked next are measured on them.
    """
    outputs = check_returns(model, model_name, data, len(names))
    arrays = [as_array(value, name) for value, name in zip(values, names, strict=True)]
    for array, output, name in zip(arrays, outputs, names, strict=True):
        if array.shape != output.shape or not np.allclose(array, output, atol=_ATOL):
            raise AssertionError(
                f"{name} is not what {model_name}.predict(data) returns: re-run the cell that computes it."
            )
    return arrays


@_student_safe
def check_shape(value: Any, name: str, expected: tuple[int, ...]) -> None:
    """Check the shape of an array the student computed."""
    array = as_array(value, name)
    if array.shape != tuple(expected):
        raise AssertionError(f"{name} does not have the shape this layer configuration produces.")


@_student_safe
def check_reported_shape(reported: Any, variable: str, expected: tuple[int, ...]) -> None:
    """Check a shape the student reported as a tuple of ints."""
    if _is_blank(reported):
        raise AssertionError(f"{variable} is not filled in.")
    if not isinstance(reported, (tuple, list)) or not all(
        isinstance(n, (int, np.integer)) and not isinstance(n, bool) for n in reported
    ):
        raise AssertionError(f"{variable} should be a tuple of ints, like the .shape of an array.")
    if tuple(int(n) for n in reported) != tuple(expected):
        raise AssertionError(f"{variable} is not the shape printed for this array.")


@_student_safe
def check_equal(a: np.ndarray, b: np.ndarray, a_name: str, b_name: str) -> None:
    """Check that two arrays hold the same values."""
    if a.shape != b.shape or not np.allclose(a, b, atol=_ATOL):
        raise AssertionError(f"{a_name} and {b_name} should hold the same values here.")


@_student_safe
def check_differs(a: np.ndarray, b: np.ndarray, a_name: str, b_name: str) -> None:
    """Check that two arrays do not hold the same values."""
    if a.shape == b.shape and np.allclose(a, b, atol=_ATOL):
        raise AssertionError(f"{a_name} and {b_name} should not hold the same values here.")
