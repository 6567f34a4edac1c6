"""The Otter plugin: scan before execution, export after it, regrade and apply the policy.

Event order in Otter 7 (``otter/run/run_autograder/runners/python_runner.py``,
``otter/execute/__init__.py``):

1. ``__init__`` (grading process, before any student code): import and load the grader code and
   rubrics, read the test files into memory, fingerprint grader files.
2. ``before_grading``: drop an uploaded ``.OTTER_LOG`` (Otter unpickles it in the grading process),
   make Otter's results-pickle load accept only Otter's result classes, and let a dead kernel end
   execution instead of the whole grading run.
3. ``before_execution``: scan the submission's cells; append the cell that exports the graded values.
4. (Otter executes the notebook in a kernel and runs the tests there.)
5. ``after_grading`` (kernel gone): regrade every test on the exported values in this process,
   replace Otter's in-kernel results with it, compare, apply the policy, explain in the output.
"""

from __future__ import annotations

import io
import os
import pickle
import shutil
import tempfile
from pathlib import Path
from typing import Any

from otter.plugins import AbstractOtterPlugin

from autograder.integrity import export, policy, regrade, scan

PLUGIN_NAME = "autograder.integrity.plugin.IntegrityPlugin"
OTTER_LOG = ".OTTER_LOG"
_PRELOAD_PROBLEMS = regrade.preload()  # at import: before the student's code can touch the files


def _fingerprint(paths: list[Path]) -> dict[str, tuple[int, int, int]]:
    """``path -> (size, mtime_ns, ctime_ns)`` of every file under ``paths`` (bytecode caches aside)."""
    prints: dict[str, tuple[int, int, int]] = {}
    for root in paths:
        if not root.exists():
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if d != "__pycache__"]
            for name in filenames:
                path = Path(dirpath) / name
                try:
                    st = path.lstat()
                except OSError:
                    continue
                prints[str(path)] = (st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    return prints


class _OtterResultsUnpickler(pickle.Unpickler):
    """Unpickles Otter's ``GradingResults`` and nothing else (no functions, no student classes)."""

    def find_class(self, module: str, name: str) -> Any:
        allowed = module.startswith("otter.test_files") or (module, name) in {
            ("builtins", "set"), ("builtins", "frozenset"), ("builtins", "object"),
            ("collections", "OrderedDict"), ("copyreg", "_reconstructor"),
            ("nbformat.notebooknode", "NotebookNode"),
        }  # fmt: skip
        obj = super().find_class(module, name) if allowed else None
        if not isinstance(obj, type) and (module, name) != ("copyreg", "_reconstructor"):
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed in grading results")
        return obj


class _SafePickle:
    """Stands in for the ``pickle`` module inside ``otter.execute`` while this plugin is active."""

    def __getattr__(self, name: str) -> Any:
        return getattr(pickle, name)

    @staticmethod
    def load(f: Any) -> Any:
        return _OtterResultsUnpickler(io.BytesIO(f.read())).load()


class IntegrityPlugin(AbstractOtterPlugin):
    def __init__(self, submission_path: str, submission_metadata: dict, plugin_config: dict):
        super().__init__(submission_path, submission_metadata, plugin_config)
        self.policy = policy.Policy.from_config(plugin_config)
        self.findings: list[scan.Finding] = []
        self.dynamic: list[tuple[str, str | None]] = []
        self.log: list[str] = list(_PRELOAD_PROBLEMS)
        self.kernel_died = False
        self.export_dir: str | None = None
        self.decision: policy.Decision | None = None
        self._restore: list[tuple[Any, str, Any]] = []
        cwd = Path.cwd()
        self.tests = regrade.read_tests(cwd / "tests") if (cwd / "tests").is_dir() else {}
        ag_dir = cwd.parent
        self.watched = [cwd / "tests", cwd / "autograder", ag_dir / "source" / "tests", ag_dir / "source" / "files"]
        self.watched.append(ag_dir / "results")
        import autograder

        package = Path(autograder.__file__).resolve().parent
        if ag_dir.resolve() in package.parents:  # the grader's own copy (not a checkout being edited)
            self.watched.append(package)
        self.prints = _fingerprint(self.watched)

    # -- helpers ------------------------------------------------------------------------------
    def _patch(self, owner: Any, name: str, value: Any) -> None:
        self._restore.append((owner, name, getattr(owner, name)))
        setattr(owner, name, value)

    def _unpatch(self) -> None:
        while self._restore:
            owner, name, value = self._restore.pop()
            setattr(owner, name, value)

    def _question_vars(self) -> dict[str, set[str]]:
        out = {}
        for source in self.tests.values():
            name = regrade.test_name(source)
            if name:
                out[name] = regrade.parameters(source)
        return out

    # -- events -------------------------------------------------------------------------------
    def before_grading(self, config: Any) -> None:
        if not getattr(config, "grade_from_log", False) and os.path.isfile(OTTER_LOG):
            os.remove(OTTER_LOG)  # Otter would unpickle (dill) it in this process
            self.log.append("removed the submission's .OTTER_LOG (not grading from the log)")
        import nbconvert.preprocessors as npp
        import otter.execute as otter_execute

        self._patch(otter_execute, "pickle", _SafePickle())
        try:
            from nbclient.exceptions import DeadKernelError
        except ImportError:  # pragma: no cover
            return
        plugin = self
        base = npp.ExecutePreprocessor

        class _SurvivingExecutePreprocessor(base):  # type: ignore[misc, valid-type]
            def preprocess(self, nb: Any, resources: Any = None, km: Any = None) -> Any:
                try:
                    return super().preprocess(nb, resources, km)
                except DeadKernelError:
                    plugin.kernel_died = True
                    return nb, resources

        self._patch(npp, "ExecutePreprocessor", _SurvivingExecutePreprocessor)

    def before_execution(self, submission: Any) -> Any:
        if not self.tests and Path("tests").is_dir():
            self.tests = regrade.read_tests(Path("tests"))
        import nbformat

        # scan what the student submitted (other plugins may already have added their own cells)
        try:
            if str(self.submission_path).endswith(".ipynb"):
                nb = nbformat.read(self.submission_path, as_version=4)
            else:
                source = Path(self.submission_path).read_text(encoding="utf-8")
                nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
        except Exception:  # noqa: BLE001 - fall back to what Otter hands over
            nb = submission
            if isinstance(submission, str):
                nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(submission)])
        self.findings = scan.scan_notebook(nb, allowed_magics=set(self.policy.allowed_magics))
        if not self.policy.regrade:
            return submission
        self.export_dir = tempfile.mkdtemp(prefix="integrity-")
        names = sorted(set().union(*self._question_vars().values())) if self.tests else []
        cell = export.export_cell(names, self.export_dir)
        if isinstance(submission, str):
            return submission + "\n\n" + cell
        import nbformat

        submission.cells.append(nbformat.v4.new_code_cell(cell))
        return submission

    def after_grading(self, results: Any) -> None:
        try:
            self._after_grading(results)
        finally:
            self._unpatch()
            if self.export_dir:
                shutil.rmtree(self.export_dir, ignore_errors=True)

    def _after_grading(self, results: Any) -> None:
        if self.kernel_died:
            self.dynamic.append(("kernel_died", None))
        after = _fingerprint(self.watched)
        if after != self.prints:
            changed = sorted(k for k in set(after) | set(self.prints) if after.get(k) != self.prints.get(k))
            self.log.append("grader files changed: " + ", ".join(changed[:20]))
            self.dynamic.append(("grader_files_modified", None))
        in_kernel = {}
        if not results.has_catastrophic_failure():
            for name, tf in list(results.results.items()):
                try:
                    in_kernel[name] = {tcr.test_case.name: bool(tcr.passed) for tcr in tf.test_case_results}
                except Exception:  # noqa: BLE001
                    pass
        if self.policy.regrade:
            namespace, problems = export.load_export(Path(self.export_dir or "/nonexistent"))
            self.log += problems
            if namespace is None:
                self.dynamic.append(("no_export", None))
                namespace = {}
            try:
                regraded = regrade.run_tests(self.tests, namespace)
            except Exception as e:  # noqa: BLE001
                self.log.append(f"regrade failed: {type(e).__name__}: {e}")
                self.dynamic.append(("regrade_failed", None))
                regraded = {}
            order = [n for n in in_kernel if n in regraded] + sorted(
                (n for n in regraded if n not in in_kernel), key=lambda n: (len(n), n)
            )
            results._catastrophic_error = None
            results.results = {n: regraded[n] for n in order}
            for name, tf in results.results.items():
                for tcr in tf.test_case_results:
                    if in_kernel.get(name, {}).get(tcr.test_case.name) and not tcr.passed:
                        self.dynamic.append(("results_mismatch", name))
                        break
        questions = list(results.results)
        self.decision = policy.decide(self.policy, self.findings, self.dynamic, self._question_vars(), questions)
        policy.apply(results, self.decision)
        text = policy.report(self.policy, self.decision)
        if text:
            results.set_output(f"{results.output}\n\n{text}" if results.output else text)
        results.set_plugin_data(
            PLUGIN_NAME,
            {
                "findings": [f.to_dict() for f in self.findings],
                "dynamic": self.dynamic,
                "zeroed": self.decision.zeroed,
                "log": self.log,
            },
        )

    def generate_report(self) -> str:
        """Instructor log (stdout of the grading run; hidden from students on Gradescope)."""
        lines = ["Integrity check"]
        if self.decision is None:
            return "\n".join(lines + ["  (did not run)"])
        zeroed = ", ".join(self.decision.zeroed) or "none"
        lines += [f"  flagged: {'yes' if self.decision.flagged else 'no'}; zeroed: {zeroed}"]
        lines += [f"  - {f.reason}" for f in self.decision.flags]
        lines += [f"  log: {entry}" for entry in self.log]
        return "\n".join(lines)
