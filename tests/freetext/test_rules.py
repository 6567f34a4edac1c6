"""One test per reader rule, built from the example it exists for: with every rule, the reader
reads the example as the rule says (``Example.reads``, and none of ``Example.not_reads``);
without that one rule, it does not. A rule whose example reads the same without it is either
dead or needs a better example. The tables: ``units.CUT_RULES`` (where a claim unit starts),
``reading.READ_RULES`` and ``END_RULES`` (how a unit's mentions become claims),
``sameness.COMPARED`` (which entities a sameness word compares)."""

from __future__ import annotations

import pytest

from autograder.freetext import reading, sameness, units
from autograder.freetext.grading import claims_read
from autograder.freetext.rules import Example, Rule, names

pytestmark = pytest.mark.fast

TABLES = {
    (units, "CUT_RULES"): units.CUT_RULES,
    (reading, "READ_RULES"): reading.READ_RULES,
    (reading, "END_RULES"): reading.END_RULES,
    (sameness, "COMPARED"): sameness.COMPARED,
}
CASES = [(module, table, rule) for (module, table), rules in TABLES.items() for rule in rules]


def read(example: Example) -> set[str]:
    """Every claim read, as "subject is role" / "subject is not role"."""
    return {f"{c.subject} {'is not' if c.negated else 'is'} {c.role}"
            for c in claims_read(example.question, example.answer)}


def holds(example: Example) -> bool:
    claims = read(example)
    return set(example.reads) <= claims and not set(example.not_reads) & claims


@pytest.mark.parametrize("module,table,rule", CASES, ids=[f"{t}:{r.name}" for _, t, r in CASES])
def test_each_rule_reads_its_example_and_is_needed_for_it(module, table, rule: Rule, monkeypatch):
    example = rule.example
    assert example.reads or example.not_reads, "an example says what it reads"
    assert holds(example), f"{rule.name}: {example.answer!r} reads {sorted(read(example))}"
    monkeypatch.setattr(module, table, tuple(r for r in getattr(module, table) if r is not rule))
    assert not holds(example), f"without {rule.name}, {example.answer!r} still reads {sorted(read(example))}"


def test_rule_names_are_unique_per_table():
    for rules in TABLES.values():
        assert len(set(names(rules))) == len(rules)


def test_the_readme_says_how_a_rule_is_added_in_four_files():
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    section = (root / "README.md").read_text(encoding="utf-8").split("#### Add a reader rule", 1)[1].split("\n#", 1)[0]
    assert len(re.findall(r"^\d\. ", section, re.M)) == 4
    for path in re.findall(r"`([\w./-]+/[\w./-]*)`", section):
        assert (root / path).exists(), path
    for (module, table), _ in TABLES.items():
        assert f"{module.__name__.rsplit('.', 1)[1]}.{table}" in section or f"`{table}`" in section, table
