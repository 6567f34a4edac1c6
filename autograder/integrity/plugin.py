"""The Otter plugin for the advisory integrity signals: the static scan and the policy on them.

The boundary between student code and the grader is the operating system's
(``autograder.isolation``): this plugin does not defend it, it reports, and it changes no score
(``policy``). Events:

1. ``before_execution``: scan the submission's cells (``scan``), as submitted.
2. ``after_grading``: add what isolated grading observed (the kernel died; no values were
   exported) and record the notes where the instructor and the TAs' tools read them: the grading
   log (``generate_report``), results.json's ``extra_data["integrity"]`` (``review`` and
   ``notes``) and the plugin data of results.pkl. Nothing of it reaches the student's output.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from otter.plugins import AbstractOtterPlugin

from autograder.integrity import policy, scan
from autograder.isolation.grade import PLUGIN_DATA_KEY as ISOLATION_DATA
from autograder.isolation.results import add_extra_data
from autograder.settings import DeclaredSettings

PLUGIN_NAME = "autograder.integrity.plugin.IntegrityPlugin"
EXTRA_DATA_NAME = "integrity"  # results.json: extra_data["integrity"] = {"review": bool, "notes": [...]}


class IntegrityPlugin(DeclaredSettings, AbstractOtterPlugin):
    """The Otter plugin of the advisory scan: notes for the instructor, never a score changed."""

    Settings = policy.Policy

    def __init__(self, submission_path: str, submission_metadata: dict, plugin_config: dict):
        super().__init__(submission_path, submission_metadata, plugin_config)
        self.policy: policy.Policy = self.validate_settings(plugin_config)
        self.findings: list[scan.Finding] = []
        self.dynamic: list[tuple[str, str | None]] = []
        self.log: list[str] = []
        self.decision: policy.Decision | None = None

    def before_execution(self, submission: Any) -> Any:
        """Scan the notebook as the student submitted it (before other plugins add cells); pass it on unchanged."""
        import nbformat

        # what the student submitted (other plugins may add cells to ``submission``)
        try:
            if str(self.submission_path).endswith(".ipynb"):
                nb = nbformat.read(self.submission_path, as_version=4)
            else:
                source = Path(self.submission_path).read_text(encoding="utf-8")
                nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
        except Exception:  # fall back to what Otter hands over
            nb = submission
        self.findings = scan.scan_notebook(nb, allowed_magics=set(self.policy.allowed_magics))
        return submission

    def after_grading(self, results: Any) -> None:
        """Add what isolated grading observed to the findings; put the notes in ``extra_data`` and the plugin data."""
        observed = results.get_plugin_data(ISOLATION_DATA, {}) or {}
        if observed.get("kernel_died"):
            self.dynamic.append(("kernel_died", None))
        if not observed.get("exported", True):
            self.dynamic.append(("no_export", None))
        self.log += list(observed.get("log", []))
        self.decision = policy.decide(self.policy, self.findings, self.dynamic)
        add_extra_data(results, EXTRA_DATA_NAME, policy.summary(self.decision))
        results.set_plugin_data(
            PLUGIN_NAME,
            {
                "findings": [f.to_dict() for f in self.findings],
                "dynamic": self.dynamic,
                "review": self.decision.review,
                "log": self.log,
            },
        )

    def generate_report(self) -> str:
        """Instructor log (stdout of the grading run; hidden from students on Gradescope)."""
        lines = ["Integrity check (advisory, no score changed: the isolation is the boundary)"]
        if self.decision is None:
            return "\n".join(lines + ["  (did not run)"])
        lines += policy.report(self.decision)
        lines += [f"  log: {entry}" for entry in self.log]
        return "\n".join(lines)
