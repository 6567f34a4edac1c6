"""Plugin settings: declared once, checked with messages naming the key, by grading and by the build alike.

Fast: no TensorFlow, no dist/; the plugins are imported as Otter and the build import them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autograder.integrity.plugin import IntegrityPlugin
from autograder.integrity.policy import HONEST_MAGICS, Policy
from autograder.integrity.scan import CATEGORIES
from autograder.isolation.plugin import IsolatedGrading, IsolationSettings
from autograder.settings import SettingsError, declared
from tools.build import CONFIG, BuildError, load_grading_config

pytestmark = pytest.mark.fast

ISOLATION = "autograder.isolation.plugin.IsolatedGrading"
INTEGRITY = "autograder.integrity.plugin.IntegrityPlugin"


def test_an_unknown_key_is_named_with_the_known_ones():
    with pytest.raises(SettingsError) as error:
        IsolatedGrading.validate_settings({"cell_timout": 60})
    message = str(error.value)
    assert "IsolatedGrading: unknown setting 'cell_timout'" in message
    for key in ("cell_timeout", "total_timeout"):
        assert f"  {key}: a number of seconds, at least 5 (default " in message, message
    with pytest.raises(SettingsError, match="unknown setting 'regrade'") as error:
        IntegrityPlugin.validate_settings({"regrade": True, "allowed_magics": []})
    assert all(f"  {key}: " in str(error.value) for key in declared(Policy))


SECONDS = "expected a number of seconds, at least 5; got"


@pytest.mark.parametrize(
    "plugin, config, expected",
    [
        (IsolatedGrading, {"cell_timeout": "60"}, f"'cell_timeout': {SECONDS} \"60\""),
        (IsolatedGrading, {"total_timeout": True}, f"'total_timeout': {SECONDS} true"),
        (IsolatedGrading, {"cell_timeout": 1}, f"'cell_timeout': {SECONDS} 1"),
        (IntegrityPlugin, {"review_categories": ["everything"]}, "'review_categories': expected a list of names from:"),
        (IntegrityPlugin, {"allowed_magics": "matplotlib"}, "'allowed_magics': expected a list of names; got"),
        (IntegrityPlugin, {"ignore_categories": ["x"]}, "'ignore_categories': expected a list of names from: "),
    ],
)
def test_a_wrong_type_or_value_names_the_key_and_what_it_takes(plugin, config, expected):
    with pytest.raises(SettingsError) as error:
        plugin.validate_settings(config)
    assert str(error.value).startswith(f"{plugin.__name__} setting "), error.value
    assert expected in str(error.value), error.value


@pytest.mark.parametrize(
    "config, expected",
    [
        ({"deadline": 600}, "'deadline': 600 s is not before Gradescope's 600 s limit"),
        ({"total_timeout": 500}, "total_timeout (500 s) leaves less than 75 s before the deadline (540 s)"),
        ({"question_memory": 8}, "'question_memory': expected a whole number of MiB, at least 32; got 8"),
        ({"question_timeout": 0.5}, "'question_timeout': expected a number of seconds, at least 1; got 0.5"),
    ],
)
def test_the_isolation_limits_fit_inside_gradescopes(config, expected):
    with pytest.raises(SettingsError) as error:
        IsolatedGrading.validate_settings(config)
    assert expected in str(error.value), error.value


def test_settings_that_are_not_an_object_are_refused():
    with pytest.raises(SettingsError, match="IntegrityPlugin: the settings must be a JSON object"):
        IntegrityPlugin.validate_settings(["allowed_magics", "time"])


def test_missing_keys_take_the_declared_defaults():
    for config in (None, {}):
        assert IsolatedGrading.validate_settings(config) == IsolationSettings(
            cell_timeout=60.0, total_timeout=360.0, question_timeout=20.0, question_memory=256, deadline=540.0
        )
        assert IntegrityPlugin.validate_settings(config) == Policy(
            allowed_magics=HONEST_MAGICS,
            ignore_categories=frozenset(),
            review_categories=frozenset({"otter_internals", "grader_code", "grader_files", "dynamic_code"}),
        )
    # values are stored as declared: seconds as floats, names as sets
    assert IsolatedGrading.validate_settings({"cell_timeout": 30}).cell_timeout == 30.0
    policy = IntegrityPlugin.validate_settings({"ignore_categories": sorted(CATEGORIES)[:2], "allowed_magics": []})
    assert policy.ignore_categories == frozenset(sorted(CATEGORIES)[:2]) and policy.allowed_magics == frozenset()
    # every setting has a description
    for settings_type in (IsolationSettings, Policy):
        assert all(decl.description for decl, _ in declared(settings_type).values())


def _config(tmp_path: Path, plugins: list) -> Path:
    config = json.loads(CONFIG.read_text())
    config["plugins"] = plugins
    path = tmp_path / "otter_config.json"
    path.write_text(json.dumps(config))
    return path


def test_the_build_accepts_the_repository_config():
    assert load_grading_config()["plugins"]


def test_the_build_rejects_a_misspelt_plugin_setting(tmp_path):
    plugins = json.loads(CONFIG.read_text())["plugins"]
    plugins[0] = {ISOLATION: {"cell_timout": 60, "total_timeout": 360}}
    path = _config(tmp_path, plugins)
    with pytest.raises(BuildError) as error:
        load_grading_config(path)
    assert str(error.value).startswith(f"{path}: IsolatedGrading: unknown setting 'cell_timout'"), error.value
    assert "cell_timeout" in str(error.value)


def test_the_build_rejects_a_wrong_value_and_a_plugin_it_cannot_import(tmp_path):
    with pytest.raises(BuildError, match="IntegrityPlugin setting 'review_categories': expected a list of names"):
        load_grading_config(_config(tmp_path, [{INTEGRITY: {"review_categories": "everything"}}]))
    # the former policy's settings are gone: a config that still zeroes on findings fails the build
    with pytest.raises(BuildError, match="IntegrityPlugin: unknown setting 'action'"):
        load_grading_config(_config(tmp_path, [{INTEGRITY: {"action": "zero"}}]))
    with pytest.raises(BuildError, match="plugin autograder.integrity.plugin.Integrity cannot be imported"):
        load_grading_config(_config(tmp_path, ["autograder.integrity.plugin.Integrity"]))
    with pytest.raises(BuildError, match="plugins: Invalid plugin specification"):
        load_grading_config(_config(tmp_path, [{ISOLATION: {}, INTEGRITY: {}}]))
