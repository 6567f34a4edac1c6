"""Otter plugins shipped in the autograder zip (enabled in ``otter_config.json``)."""
