"""Claims the answer does not assert earn nothing (issue 25): by category, each with several
phrasings written for these tests, next to the honest phrasings that must keep their credit.
The end-to-end hostile gallery (tests/hostile/) grades whole notebooks; these read one answer."""

from __future__ import annotations

import pytest

from autograder.freetext import grade_answer
from autograder.freetext.grading import FLAGGED_CONFIDENCE
from autograder.freetext.lookalikes import flags, fold

pytestmark = pytest.mark.fast


def found(question: str, answer: str) -> set[str]:
    return set(grade_answer(question, answer).found)


# ------------------------------------------------------------------ look-alike letters

@pytest.mark.parametrize("question,disguised,plain", [
    # a wrong clause typed with Cyrillic е а о с: invisible before, so it cancelled nothing
    ("q4", "output and h are the same. c is also the sаme as h", "output and h are the same. c is also the same as h"),
    ("q12", "the last row of output is h. The first rоw is h tоо.",
     "the last row of output is h. The first row is h too."),
    ("q8", "GRUs have no cell state. A GRU hаѕ а сеll ѕtаtе.", "GRUs have no cell state. A GRU has a cell state."),
    # a whole word of look-alikes ("іѕ") and a lone Cyrillic letter for c
    ("q2", "output іѕ the last hidden state, h is the hidden state, с is the cell state",
     "output is the last hidden state, h is the hidden state, c is the cell state"),
    # Greek omicron and capitals
    ("q5", "Only the οutput, nο ѕtates", "Only the output, no states"),
])
def test_look_alike_letters_read_as_the_latin_letters_they_imitate(question, disguised, plain):
    assert grade_answer(question, disguised).score == grade_answer(question, plain).score
    assert found(question, disguised) == found(question, plain)
    g = grade_answer(question, disguised)
    assert "look-alikes" in g.flags
    assert all(c.confidence <= FLAGGED_CONFIDENCE for c in g.concepts)  # a TA reads it first


def test_a_word_mixing_scripts_is_flagged_even_when_nothing_imitates_latin():
    assert flags("пoutput is h") == ("mixed-script",)
    assert flags("сеll") == ("mixed-script", "look-alikes")
    assert "mixed-script" in grade_answer("q4", "пoutput and h are the same").flags


@pytest.mark.parametrize("text", [
    "output ≡ h (same 3 nums); h = o ⊙ tanh(c), x ∈ R^{B×T×F}",  # mathematics
    "σ(x) is the sigmoid, α a rate",  # a lone Greek letter is a symbol, not a disguise
    "Sí, hay duplicación: output is h",  # accented Latin
    "所以 total is 16 numbers",  # another language's words
    "h это скрытое состояние",  # a Russian sentence: its words imitate nothing Latin
    "ｏｕｔｐｕｔ is h",  # full-width letters are Latin (NFKC)
])
def test_honest_unicode_is_neither_changed_nor_flagged(text):
    assert flags(text) == ()
    assert fold(text) == text


# ------------------------------------------------------------------ honest answers keep their credit

@pytest.mark.parametrize("question,answer,concepts", [
    ("q2", "output is the last hidden state, h is the hidden state and c is the cell state",
     {"output_last_step", "h_hidden_state", "c_cell_state"}),
    ("q8", "GRUs don't have a separate cell state.", {"no_cell_state"}),
])
def test_plain_answers_are_untouched(question, answer, concepts):
    g = grade_answer(question, answer)
    assert set(g.found) == concepts and g.flags == ()
