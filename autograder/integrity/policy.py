"""What the scan's findings do: notes for the instructor, never points.

**Policy: no finding takes a point** (and this cannot be configured back on). Isolation is the
defence (``autograder.isolation``): the student's code runs as an unprivileged user that cannot
read or write anything of the grader's, and the hidden tests run outside it on exported data. The
hostile gallery (``tests/hostile/cases.yaml``) shows every attack the scan looks for, written so
the scan sees none of its names, gaining nothing; so there is no tampering left that isolation
cannot contain and that a zero would stop. What a zero did do was take points from honest
students: under the former policy (any finding but a file read zeroes every question) 8 of the 10
honest notebooks of ``tests/hostile/honest.yaml`` (``%%time``, ``%whos``, ``!pip list``,
``getattr`` in a loop, ``import gc``, ``open(..., "w")``, ...) scored 0/44.

So findings are reported, for a person to judge: each is a **note** in the instructor's grading
log and in results.json's ``extra_data`` (never in what the student sees), and a finding in one of
``review_categories`` (code that reaches for the grader itself: Otter's grading internals, the
grader's code or files; or hides what it runs: ``exec``, ``__import__``, ``sys.modules``) also
puts the submission on the **review list** (``review: true``; the batch grader's ``integrity``
column). ``Policy`` declares the plugin's settings, each with its type, default and meaning.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from autograder.integrity.scan import CATEGORIES, Finding
from autograder.settings import names, setting

# magics that only measure, show or configure the student's own session
HONEST_MAGICS = frozenset({
    "matplotlib", "time", "timeit", "whos", "who", "who_ls", "load_ext", "reload_ext", "autoreload",
    "config", "precision", "pprint", "xmode", "lsmagic", "magic", "history", "pdoc", "pinfo", "pinfo2",
    "psearch", "pwd", "capture", "prun", "html", "markdown", "latex", "svg", "javascript", "js",
})
# code that reaches for the grader or hides what it runs: honest work in this lab needs none of it
REVIEW_CATEGORIES = frozenset({"otter_internals", "grader_code", "grader_files", "dynamic_code"})
DYNAMIC = {
    "no_export": "the notebook did not run to its end (kernel exited or the export was sabotaged)",
    "kernel_died": "the kernel exited before grading finished",
}
NOTE, REVIEW = "note", "review"


@dataclass(frozen=True)
class Policy:
    """The plugin's settings (``IntegrityPlugin.Settings``), declared once: ``autograder.settings``."""

    allowed_magics: frozenset[str] = setting(
        HONEST_MAGICS,
        names(),
        "magics (%name and %%name) the scan does not mention; the cells a cell magic such as %%time runs are "
        "scanned like any other",
    )
    ignore_categories: frozenset[str] = setting(
        frozenset(), names(CATEGORIES), "scan categories not reported at all"
    )
    review_categories: frozenset[str] = setting(
        REVIEW_CATEGORIES,
        names(CATEGORIES),
        "scan categories that put a submission on the instructor's review list (every other finding is a note); "
        "no finding changes a score",
    )


@dataclass
class Flag:
    """One note on a submission for the instructor, and whether it puts the submission up for review."""

    reason: str  # grader text (categories and constructs, never the student's code)
    level: str  # NOTE or REVIEW


@dataclass
class Decision:
    """What the scan of one submission comes to: its notes (none changes a score)."""

    flags: list[Flag] = field(default_factory=list)

    @property
    def flagged(self) -> bool:
        """Whether the scan left any note for the instructor."""
        return bool(self.flags)

    @property
    def review(self) -> bool:
        """Whether a note puts the submission on the instructor's review list."""
        return any(f.level == REVIEW for f in self.flags)


def decide(policy: Policy, findings: list[Finding], dynamic: list[tuple[str, str | None]]) -> Decision:
    """Turn scan findings and what grading observed (``(kind, question or None)``) into notes."""
    decision = Decision()
    for f in findings:
        if f.category in policy.ignore_categories:
            continue
        level = REVIEW if f.category in policy.review_categories else NOTE
        decision.flags.append(Flag(f.describe(), level))
    for kind, question in dynamic:
        where = f" ({question})" if question else ""
        decision.flags.append(Flag(DYNAMIC.get(kind, kind) + where, NOTE))
    return decision


def summary(decision: Decision) -> dict[str, object]:
    """What results.json's ``extra_data`` says (for tools, and for the instructor's review list)."""
    return {"review": decision.review, "notes": [f"{f.level}: {f.reason}" for f in decision.flags]}


def report(decision: Decision) -> list[str]:
    """The instructor log's lines about the scan (nothing of it reaches the student)."""
    if not decision.flagged:
        return ["  nothing to note"]
    head = "for review" if decision.review else "notes only"
    lines = [f"  {head} (no score changed): {len(decision.flags)} finding(s)"]
    lines += [f"  - {f.level}: {f.reason}" for f in decision.flags[:50]]
    if len(decision.flags) > 50:
        lines.append(f"  - ... and {len(decision.flags) - 50} more")
    return lines
