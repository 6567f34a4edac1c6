"""What a flagged submission scores, as configured in ``otter_config.json``.

    "plugins": [{"autograder.integrity.plugin.IntegrityPlugin": {
        "action": "zero",          # "zero" (default) | "review"
        "scope": "affected",       # "affected" (default) | "all"
        "allowed_magics": ["matplotlib"],
        "ignore_categories": [],   # scan categories to report but not act on
        "explain": true            # name the reasons (category, cell, line) in the student output
    }}]

``zero``: the questions a finding affects score 0 and the output says why. ``review``: the same
scores (a hold never keeps points the tampering could have won), and the output says the
submission is held for instructor review. ``scope: affected`` attributes a finding to a question
only when it is local to that question's answer (reading a file into ``q1_answer``); everything
else (monkeypatching, imports of grader code, exits, processes, ...) affects every question.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from autograder import upstream
from autograder.integrity.scan import CATEGORIES, Finding

LOCAL_CATEGORIES = {"grader_files", "filesystem"}
DYNAMIC = {
    "no_export": "the notebook did not run to its end (kernel exited or the export was sabotaged)",
    "kernel_died": "the kernel exited before grading finished",
}
NOT_GRADED = (
    "❌ Test case failed\nNot graded: this submission was flagged by the integrity check (see the submission output)."
)


class PolicyError(ValueError):
    pass


@dataclass
class Policy:
    action: str = "zero"
    scope: str = "affected"
    allowed_magics: frozenset[str] = frozenset({"matplotlib"})
    ignore_categories: frozenset[str] = frozenset()
    explain: bool = True

    @classmethod
    def from_config(cls, config: dict[str, Any] | None) -> Policy:
        config = dict(config or {})
        known = {"action", "scope", "allowed_magics", "ignore_categories", "explain"}
        unknown = set(config) - known
        if unknown:
            raise PolicyError(f"unknown integrity settings: {', '.join(sorted(unknown))}")
        policy = cls(
            action=config.get("action", "zero"),
            scope=config.get("scope", "affected"),
            allowed_magics=frozenset(config.get("allowed_magics", ["matplotlib"])),
            ignore_categories=frozenset(config.get("ignore_categories", [])),
            explain=bool(config.get("explain", True)),
        )
        if policy.action not in ("zero", "review"):
            raise PolicyError("integrity action must be 'zero' or 'review'")
        if policy.scope not in ("affected", "all"):
            raise PolicyError("integrity scope must be 'affected' or 'all'")
        bad = policy.ignore_categories - set(CATEGORIES)
        if bad:
            raise PolicyError(f"unknown integrity categories: {', '.join(sorted(bad))}")
        return policy


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
