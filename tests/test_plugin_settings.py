"""Plugin settings: declared once, checked with messages naming the key.

Fast: no TensorFlow, no dist/; the plugins are imported as Otter imports them.
"""

from __future__ import annotations

import pytest

from autograder.integrity.plugin import IntegrityPlugin
from autograder.integrity.policy import Policy
from autograder.integrity.scan import CATEGORIES
from autograder.isolation.plugin import IsolatedGrading, IsolationSettings
from autograder.settings import SettingsError, declared


def test_an_unknown_key_is_named_with_the_known_ones():
    with pytest.raises(SettingsError) as error:
        IsolatedGrading.validate_settings({"cell_timout": 60})
    message = str(error.value)
    assert "IsolatedGrading: unknown setting 'cell_timout'" in message
    for key in ("cell_timeout", "total_timeout"):
        assert f"  {key}: a number of seconds, at least 5 (default " in message, message
    with pytest.raises(SettingsError, match="unknown setting 'regrade'") as error:
        IntegrityPlugin.validate_settings({"regrade": True, "action": "zero"})
    assert all(f"  {key}: " in str(error.value) for key in declared(Policy))


SECONDS = "expected a number of seconds, at least 5; got"


@pytest.mark.parametrize(
    "plugin, config, expected",
    [
        (IsolatedGrading, {"cell_timeout": "60"}, f"'cell_timeout': {SECONDS} \"60\""),
        (IsolatedGrading, {"total_timeout": True}, f"'total_timeout': {SECONDS} true"),
        (IsolatedGrading, {"cell_timeout": 1}, f"'cell_timeout': {SECONDS} 1"),
        (IntegrityPlugin, {"action": "keep"}, "'action': expected one of \"zero\", \"review\"; got \"keep\""),
        (IntegrityPlugin, {"explain": "yes"}, "'explain': expected true or false; got \"yes\""),
        (IntegrityPlugin, {"allowed_magics": "matplotlib"}, "'allowed_magics': expected a list of names; got"),
        (IntegrityPlugin, {"ignore_categories": ["x"]}, "'ignore_categories': expected a list of names from: "),
    ],
)
def test_a_wrong_type_or_value_names_the_key_and_what_it_takes(plugin, config, expected):
    with pytest.raises(SettingsError) as error:
        plugin.validate_settings(config)
    assert str(error.value).startswith(f"{plugin.__name__} setting "), error.value
    assert expected in str(error.value), error.value


def test_settings_that_are_not_an_object_are_refused():
    with pytest.raises(SettingsError, match="IntegrityPlugin: the settings must be a JSON object"):
        IntegrityPlugin.validate_settings(["action", "zero"])


def test_missing_keys_take_the_declared_defaults():
    for config in (None, {}):
        assert IsolatedGrading.validate_settings(config) == IsolationSettings(cell_timeout=60.0, total_timeout=360.0)
        assert IntegrityPlugin.validate_settings(config) == Policy(
            action="zero",
            scope="affected",
            allowed_magics=frozenset({"matplotlib"}),
            ignore_categories=frozenset(),
            explain=True,
        )
    # values are stored as declared: seconds as floats, names as sets
    assert IsolatedGrading.validate_settings({"cell_timeout": 30}).cell_timeout == 30.0
    policy = IntegrityPlugin.validate_settings({"ignore_categories": sorted(CATEGORIES)[:2], "scope": "all"})
    assert policy.ignore_categories == frozenset(sorted(CATEGORIES)[:2]) and policy.scope == "all"
    # every setting has a description
    for settings_type in (IsolationSettings, Policy):
        assert all(decl.description for decl, _ in declared(settings_type).values())
