"""What a flagged submission scores, as configured in ``otter_config.json``.

``Policy`` declares the settings of the ``autograder.integrity.plugin.IntegrityPlugin`` entry,
each with its type, default and meaning. A file finding is local to a question when its statement
assigns that question's answer (reading a file into ``q1_answer``); every other finding
(monkeypatching, imports of grader code, exits, processes, ...) affects every question.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from autograder import upstream
from autograder.integrity.scan import CATEGORIES, Finding
from autograder.settings import boolean, names, one_of, setting

LOCAL_CATEGORIES = {"grader_files", "filesystem"}
DYNAMIC = {
    "no_export": "the notebook did not run to its end (kernel exited or the export was sabotaged)",
    "kernel_died": "the kernel exited before grading finished",
}
NOT_GRADED = (
    "❌ Test case failed\nNot graded: this submission was flagged by the integrity check (see the submission output)."
)


@dataclass(frozen=True)
class Policy:
    """The plugin's settings (``IntegrityPlugin.Settings``), declared once: ``autograder.settings``."""

    action: str = setting(
        "zero",
        one_of("zero", "review"),
        "zero: the questions a finding affects score 0 and the output says why; review: the same scores, "
        "and the output says the submission is held for instructor review (a hold never keeps points won "
        "by tampering)",
    )
    scope: str = setting(
        "affected",
        one_of("affected", "all"),
        "affected: a finding local to one question's answer zeroes that question, any other finding every "
        "question; all: every finding zeroes every question",
    )
    allowed_magics: frozenset[str] = setting(
        frozenset({"matplotlib"}), names(), "line magics (%name) the scan does not flag"
    )
    ignore_categories: frozenset[str] = setting(
        frozenset(), names(CATEGORIES), "scan categories reported to the instructor but not acted on"
    )
    explain: bool = setting(
        True, boolean(), "name the reasons (category, cell, line) in the student output, not only their number"
    )


@dataclass
class Flag:
    reason: str  # student-safe text
    questions: set[str] | None  # None: every question
    acts: bool = True  # False: reported only


@dataclass
class Decision:
    flags: list[Flag] = field(default_factory=list)
    zeroed: list[str] = field(default_factory=list)

    @property
    def flagged(self) -> bool:
        return bool(self.flags)


def affected_questions(finding: Finding, question_vars: dict[str, set[str]], scope: str) -> set[str] | None:
    if scope == "all" or finding.category not in LOCAL_CATEGORIES or not finding.targets:
        return None
    hit = {q for q, names in question_vars.items() if set(finding.targets) & names}
    return hit or None


def decide(
    policy: Policy,
    findings: list[Finding],
    dynamic: list[tuple[str, str | None]],
    question_vars: dict[str, set[str]],
    questions: list[str],
) -> Decision:
    """Turn scan findings and dynamic flags (``(kind, question or None)``) into what to zero."""
    decision = Decision()
    for f in findings:
        acts = f.category not in policy.ignore_categories
        decision.flags.append(Flag(f.describe(), affected_questions(f, question_vars, policy.scope), acts))
    for kind, question in dynamic:
        where = f" ({question})" if question else ""
        decision.flags.append(Flag(DYNAMIC.get(kind, kind) + where, {question} if question else None))
    zeroed: set[str] = set()
    for flag in decision.flags:
        if flag.acts:
            zeroed |= set(questions) if flag.questions is None else flag.questions & set(questions)
    decision.zeroed = [q for q in questions if q in zeroed]
    return decision


def apply(results: Any, decision: Decision) -> None:
    """Fail every test case of the zeroed questions in Otter's ``GradingResults``."""
    for name in decision.zeroed:
        test_file = results.results.get(name)
        if test_file is None:
            continue
        test_file.test_case_results = [
            upstream.case_result(tcr.test_case, NOT_GRADED, passed=False) for tcr in test_file.test_case_results
        ]


def report(policy: Policy, decision: Decision) -> str:
    """The student-visible explanation (empty when nothing was flagged)."""
    if not decision.flagged:
        return ""
    acting = [f for f in decision.flags if f.acts]
    lines = []
    if acting and policy.action == "review":
        lines.append("INTEGRITY CHECK: this submission is held for instructor review.")
    elif acting:
        lines.append("INTEGRITY CHECK: this submission was flagged.")
    else:
        lines.append("INTEGRITY CHECK: notes for the instructor (scores unchanged).")
    if decision.zeroed:
        lines.append("No points are given for: " + ", ".join(decision.zeroed) + ".")
    lines.append(
        "Your notebook ran as an unprivileged user and every test ran outside it, on the values it "
        "computed; code that tries to reach the grader, starts processes or exits the kernel is not allowed."
    )
    if policy.explain:
        lines.append("Reasons:")
        lines += [f"  - {f.reason}" + ("" if f.acts else " (noted only)") for f in decision.flags[:30]]
        if len(decision.flags) > 30:
            lines.append(f"  - ... and {len(decision.flags) - 30} more")
    else:
        lines.append(f"{len(decision.flags)} reason(s); your instructor can see them.")
    return "\n".join(lines)
