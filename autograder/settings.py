"""Plugin settings declared once, as data: each one's default, type and description.

A plugin's settings are a frozen dataclass whose fields are made with ``setting``::

    @dataclass(frozen=True)
    class Settings:
        cell_timeout: float = setting(60.0, seconds(minimum=5), "seconds one cell may run")

``load(Settings, plugin_config, owner)`` turns the plugin's entry of ``otter_config.json`` into
an instance, or raises ``SettingsError`` naming the key: an unknown key (listing the known ones,
with their types, defaults and descriptions), or a value of the wrong type or out of range
(saying what is expected). Plugins inherit ``DeclaredSettings``, so the build asks them the same
question Otter's grading run does (``tools/build.py``) and a misspelt key fails ``make dist``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar, TypeVar

T = TypeVar("T")
METADATA_KEY = "setting"


class SettingsError(ValueError):
    """A plugin's settings in ``otter_config.json`` are wrong; the message says which key and why."""


@dataclasses.dataclass(frozen=True)
class Kind:
    """A setting's type as written in JSON: what it accepts, how it is stored, and the words for it."""

    expected: str  # completes "expected ...", e.g. "a number of seconds, at least 5"
    accepts: Callable[[Any], bool]
    convert: Callable[[Any], Any] = lambda value: value


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)  # JSON true is not a number


def seconds(minimum: float) -> Kind:
    """A number of seconds, at least ``minimum``, stored as a float (JSON ``true`` is not a number)."""
    return Kind(f"a number of seconds, at least {minimum:g}", lambda v: _number(v) and v >= minimum, float)


def one_of(*options: str) -> Kind:
    """One of the given strings."""
    return Kind("one of " + ", ".join(json.dumps(o) for o in options), lambda v: v in options)


def boolean() -> Kind:
    """A JSON ``true`` or ``false``."""
    return Kind("true or false", lambda v: isinstance(v, bool))


def names(allowed: Iterable[str] | None = None) -> Kind:
    """A JSON list of strings, stored as a frozenset; with ``allowed``, each must be one of them."""
    known = None if allowed is None else frozenset(allowed)
    expected = "a list of names" + ("" if known is None else " from: " + ", ".join(sorted(known)))

    def accepts(value: Any) -> bool:
        """Whether ``value`` is a list of strings, each an allowed name when a set of them is given."""
        return isinstance(value, list) and all(isinstance(v, str) and (known is None or v in known) for v in value)

    return Kind(expected, accepts, frozenset)


@dataclasses.dataclass(frozen=True)
class Setting:
    kind: Kind
    description: str


def setting(default: Any, kind: Kind, description: str) -> Any:
    """A dataclass field declaring one setting (the default is the stored value, e.g. a frozenset)."""
    return dataclasses.field(default=default, metadata={METADATA_KEY: Setting(kind, description)})


def declared(settings_type: type) -> dict[str, tuple[Setting, Any]]:
    """``key -> (declaration, default)`` for every setting of ``settings_type``, in declaration order."""
    return {
        f.name: (f.metadata[METADATA_KEY], f.default)
        for f in dataclasses.fields(settings_type)
        if METADATA_KEY in f.metadata
    }


def _json(value: Any) -> str:
    """``value`` as the instructor writes it in ``otter_config.json``."""
    if isinstance(value, frozenset):
        value = sorted(value)
    elif isinstance(value, float) and value.is_integer():
        value = int(value)
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


def describe(settings_type: type) -> str:
    """One line per setting: key, type, default, description."""
    return "\n".join(
        f"  {key}: {decl.kind.expected} (default {_json(default)}) - {decl.description}"
        for key, (decl, default) in declared(settings_type).items()
    )


def load(settings_type: type[T], config: Mapping[str, Any] | None, owner: str) -> T:
    """``settings_type`` from a plugin's ``otter_config.json`` entry (missing keys take their defaults)."""
    if config is None:
        config = {}
    if not isinstance(config, Mapping):
        raise SettingsError(f"{owner}: the settings must be a JSON object (key: value), not {type(config).__name__}")
    keys = declared(settings_type)
    unknown = sorted(set(config) - set(keys))
    if unknown:
        listed = ", ".join(repr(k) for k in unknown)
        raise SettingsError(f"{owner}: unknown setting {listed}. The settings are:\n{describe(settings_type)}")
    values = {}
    for key, value in config.items():
        kind = keys[key][0].kind
        if not kind.accepts(value):
            raise SettingsError(f"{owner} setting '{key}': expected {kind.expected}; got {_json(value)}")
        values[key] = kind.convert(value)
    return settings_type(**values)


class DeclaredSettings:
    """For a plugin whose settings are the dataclass ``Settings``: the check grading and the build share."""

    Settings: ClassVar[type]

    @classmethod
    def validate_settings(cls, config: Mapping[str, Any] | None) -> Any:
        """The plugin's settings from its ``otter_config.json`` entry; ``SettingsError`` if they are wrong."""
        return load(cls.Settings, config, cls.__name__)
