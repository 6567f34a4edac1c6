"""Rules as data: a named rule, the example it exists for, when it applies and what it does,
read in order by one small engine (``apply``). The reader's tables (``units.CUT_RULES``,
``reading.READ_RULES`` and ``END_RULES``, ``sameness.COMPARED``) are made of these; each
rule's example is a test (``tests/freetext/test_rules.py``): the reader reads it as the example
says, and without the rule it does not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

State = TypeVar("State")
Place = TypeVar("Place")


@dataclass(frozen=True)
class Example:
    """The answer a rule exists for and what the reader makes of it, as claims written
    "subject is role" / "subject is not role" ("h is hidden", "output is =h", "gru is not cell")."""

    question: str
    answer: str
    reads: tuple[str, ...] = ()
    not_reads: tuple[str, ...] = ()


def _always(state: object, place: object) -> bool:
    return True


@dataclass(frozen=True)
class Rule(Generic[State, Place]):
    """``says`` is the rule in words. ``when(state, place)`` says whether the rule applies where the
    reader stands (a mention, a token); ``does(state, place)`` changes the state. ``stops``: the
    first rule that applies and stops ends the reading of that place; one that goes on lets later
    rules apply too. ``kind`` limits a rule to entity or role mentions."""

    name: str
    says: str  # the rule in words
    example: Example
    does: Callable[[State, Place], None]
    when: Callable[[State, Place], bool] = _always
    stops: bool = True
    kind: str = "any"


def apply(rules: Iterable[Rule[State, Place]], state: State, place: Place, kind: str = "any") -> str | None:
    """Apply ``rules`` in order at ``place``; the name of the rule that stopped, if one did."""
    for rule in rules:
        if rule.kind in ("any", kind) and rule.when(state, place):
            rule.does(state, place)
            if rule.stops:
                return rule.name
    return None


def names(rules: Iterable[Rule]) -> list[str]:
    """The rules' names, in order (each must be unique in its table)."""
    return [r.name for r in rules]
