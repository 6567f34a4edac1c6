"""The student's public checks, run again on the submission so Gradescope can say which pass.

Public checks (0 points) are the ``grader.check`` tests students run in Jupyter; they look at
Keras objects, so they can only run where those objects live: the student's kernel. The grader
appends one cell after the student's cells (``cell_source``) holding the public test functions
from the autograder's own test files (the same code the student notebook carries, nothing
hidden), runs each on the kernel's globals and leaves one bool per check in ``VARIABLE``, which
the export cell carries out as data. What reaches the student is the grader's wording of those
bools (``verdicts``, ``label``): a kernel that fakes them only misleads its own author, and no
text of the kernel's is ever shown.
"""

from __future__ import annotations

import ast
import re
import textwrap
from dataclasses import dataclass

VARIABLE = "_grading_public_verdicts"  # the kernel global the verdicts are exported in


@dataclass(frozen=True)
class PublicCheck:
    """One public test function of a test file, as source to run again in the student's kernel."""

    question: str  # the test file's name: q6
    function: str  # test_q6_experiment_3
    parameters: tuple[str, ...]  # the student's variables it takes
    source: str  # the function's source, without its decorator

    @property
    def label(self) -> str:
        """What the check looks at, in a student's words (see ``label``)."""
        return label(self.function)


def label(function: str) -> str:
    """What a public check looks at, in a student's words, from its test's name.

    The notebook's ``grader.check`` names its checks with the same rule (``_check_name`` in the
    master notebook's set-up cell; ``tests/student/test_feedback.py`` holds the two together).
    """
    experiment = re.search(r"_experiment_(\d+)$", function)
    if experiment:
        return f"Experiment {experiment.group(1)}"
    if function.endswith("_shapes_format"):
        return "your shapes"
    if function.endswith("_answer_format"):
        return "your written answer"
    return function.split("_", 2)[-1].replace("_", " ")


def _is_public(node: ast.FunctionDef) -> bool:
    for decorator in node.decorator_list:
        if isinstance(decorator, ast.Call) and getattr(decorator.func, "id", "") == "test_case":
            hidden = next((k.value for k in decorator.keywords if k.arg == "hidden"), None)
            return isinstance(hidden, ast.Constant) and hidden.value is False
    return False


def collect(question: str, source: str) -> list[PublicCheck]:
    """The public test functions of one test file (``source``), in file order."""
    checks = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef) and _is_public(node):
            parameters = tuple(a.arg for a in node.args.args if a.arg != "env")
            text = ast.get_source_segment(source, node) or ""
            checks.append(PublicCheck(question, node.name, parameters, text))
    return checks


CELL_TEMPLATE = '''
def _grading_public_checks(_g):
    _verdicts = []
CHECKS
    for _check, _parameters in CALLS:
        try:
            _check(*[_g.get(_name) for _name in _parameters])
            _verdicts.append(True)
        except Exception:
            _verdicts.append(False)
    return tuple(_verdicts)


VARIABLE = _grading_public_checks(globals())
del _grading_public_checks
'''


def cell_source(checks: list[PublicCheck]) -> str:
    """The cell run in the student's kernel after the student's cells: one bool per check, in order."""
    functions = "\n".join(textwrap.indent(check.source, "    ") for check in checks)
    calls = "(" + "".join(f"({check.function}, {check.parameters!r}), " for check in checks) + ")"
    source = CELL_TEMPLATE.replace("CHECKS", functions).replace("CALLS", calls).replace("VARIABLE", VARIABLE)
    return source.strip() + "\n"


def verdicts(checks: list[PublicCheck], exported: object) -> dict[str, list[tuple[str, bool]]] | None:
    """question -> [(label, passed)] from the exported bools, or None when they are missing or malformed."""
    if not isinstance(exported, tuple) or len(exported) != len(checks):
        return None
    if not all(type(v) is bool for v in exported):
        return None
    by_question: dict[str, list[tuple[str, bool]]] = {}
    for check, passed in zip(checks, exported, strict=True):
        by_question.setdefault(check.question, []).append((check.label, passed))
    return by_question
