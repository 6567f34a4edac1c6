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


def score(question: str, answer: str) -> float:
    return grade_answer(question, answer).score


# The prefix, before a full-credit answer: it earned every written point.
DISAVOWAL = ("A classmate told me the following, but I think every word of it is wrong and I do not "
             "believe it: ")
FULL = {
    "q1": "the first dimension is the batch, the second the time steps and the third the features",
    "q2": "output is the last hidden state, h is the hidden state and c is the cell state",
    "q4": "yes, output and h are the same: both are the final hidden state",
    "q8": "the GRU has no cell state, it merges the two states into one",
    "q12": "the last row of output is exactly h",
}


@pytest.mark.parametrize("question", sorted(FULL))
def test_full_answers_earn_full_credit_alone(question):
    g = grade_answer(question, FULL[question])
    assert g.score == g.max_score


# ------------------------------------------------------------------ reported and disavowed

@pytest.mark.parametrize("question", sorted(FULL))
def test_a_disavowed_answer_earns_nothing(question):
    assert score(question, DISAVOWAL + FULL[question]) == 0


@pytest.mark.parametrize("question,answer", [
    ("q8", "My friend says the GRU has no cell state."),
    ("q4", "Some people think output and h are the same."),
    ("q12", "I was told that the last row of output is h."),
    ("q1", "According to my roommate, the first dimension is the batch, the second the time steps and the "
           "third the features."),
    ("q8", "The GRU has no cell state, or so my classmate claims."),
    ("q2", "A classmate told me this: output is the last hidden state, h is the hidden state, c is the cell state"),
])
def test_someone_elses_claim_earns_nothing(question, answer):
    assert score(question, answer) == 0


@pytest.mark.parametrize("question,answer,concept", [
    ("q8", "My friend says the GRU has no cell state, and she is right.", "no_cell_state"),  # endorsed
    ("q8", "As my TA said, the GRU has no cell state.", "no_cell_state"),
    ("q8", "The Keras docs say the GRU has no cell state.", "no_cell_state"),  # evidence, not hearsay
    ("q4", "This tells us that output and h are the same.", "output_equals_h"),
    ("q8", "I think the GRU has no cell state.", "no_cell_state"),  # the writer's own
    ("q1", "First axis tells how many sequences we pass (1), second the 8 time steps, third the 2 features",
     "dim1_batch"),
    # a disavowed wrong claim is read as its opposite
    ("q8", "A classmate said the GRU has a cell state, but that's wrong.", "no_cell_state"),
])
def test_endorsed_cited_or_own_claims_keep_their_credit(question, answer, concept):
    assert concept in found(question, answer)


# ------------------------------------------------------------------ questions

@pytest.mark.parametrize("question,answer", [
    ("q2", "Is output the last step? Is h the hidden state? Is c the cell state?"),
    ("q2", "Is output the last hidden state. Is h the hidden state. Is c the cell state."),  # no mark
    ("q8", "Does the GRU have no cell state? Does it merge the two states into one?"),
    ("q4", "Could it be that output and h are the same? Are they the final hidden state?"),
    ("q12", "Is the last row of output equal to h?"),
    ("q1", "Is the first dimension the batch? Is the second the time steps? Is the third the features?"),
])
def test_questions_earn_nothing(question, answer):
    assert score(question, answer) == 0


@pytest.mark.parametrize("question,answer,concepts", [
    # a statement with a question mark is a tentative assertion (a corpus answer, labelled full)
    ("q2", "output is the last step result. h = hidden. c = cell?", {"output_last_step", "h_hidden_state",
                                                                     "c_cell_state"}),
    # the prompt asked back, then answered
    ("q4", "Is there duplication? Yes, output and h are the same, both the last hidden state.",
     {"output_equals_h", "output_is_hidden_state"}),
])
def test_answers_around_a_question_keep_their_credit(question, answer, concepts):
    assert found(question, answer) == concepts


# ------------------------------------------------------------------ retractions

@pytest.mark.parametrize("question,answer,concept", [
    ("q2", "It is false that output is the last hidden state.", "output_last_step"),
    ("q12", "It would be wrong to say the last row of output is h.", "last_step_equals_h"),
    ("q4", "It's not true that output and h are the same.", "output_equals_h"),
    ("q4", "output and h are the same -- NOT.", "output_equals_h"),
    ("q12", "The last row of output is h (just kidding).", "last_step_equals_h"),
    ("q4", "Output equals h, which is false.", "output_equals_h"),
    ("q12", "The last row of output equals h. That is wrong.", "last_step_equals_h"),
    ("q8", "The following is false: the GRU has no cell state.", "no_cell_state"),
    ("q4", "Wrong: output and h are identical.", "output_equals_h"),
    ("q8", "The GRU has no cell state -- NOT.", "no_cell_state"),
    ("q8", "It is false that the GRU has no cell state.", "no_cell_state"),
])
def test_a_retraction_cancels_what_it_retracts(question, answer, concept):
    assert concept not in found(question, answer)


@pytest.mark.parametrize("question,answer,concept", [
    ("q8", "It is true that the GRU has no cell state.", "no_cell_state"),
    ("q4", "Output and h are the same, which is correct.", "output_equals_h"),
    ("q4", "It's not wrong to say output and h are the same.", "output_equals_h"),
    # a retracted wrong claim says the opposite
    ("q8", "It is false that the GRU has a cell state.", "no_cell_state"),
    # "c is not." denies c's claim only, and is no retraction of the sentence
    ("q2", "h is the hidden state, c is not.", "h_hidden_state"),
])
def test_endorsements_and_double_negatives_keep_their_credit(question, answer, concept):
    assert concept in found(question, answer)


# ------------------------------------------------------------------ hedged alternatives

@pytest.mark.parametrize("question,answer,concept,misconception", [
    # between the key and a misconception: that misconception
    ("q12", "maybe the last step of output is h, or maybe the first step", "last_step_equals_h", "first-row"),
    ("q1", "the first dimension is the batch size, or possibly the number of time steps", "dim1_batch", None),
    ("q2", "h is the hidden state, or maybe the cell state", "h_hidden_state", None),
    ("q2", "c I think is the cell state, maybe some constant", "c_cell_state", None),
    # between the key and something the rubric does not know, or nothing: no credit, flagged
    ("q1", "either the batch size or the number of time steps is the first dimension", "dim1_batch", None),
    ("q7", "output is maybe the hidden state at every time step, or maybe only the last one", "every_step", None),
    ("q8", "The GRU has no cell state. Or maybe it has one.", "no_cell_state", None),
    ("q8", "c isn't returned since the GRU has no cell state, or maybe it does have one", "no_cell_state", None),
])
def test_a_hedge_between_the_key_and_another_answer_earns_nothing(question, answer, concept, misconception):
    c = grade_answer(question, answer).concept(concept)
    assert not c.found
    assert c.confidence < 0.9  # a TA sees it before the sure verdicts
    if misconception:
        assert c.misconception == misconception


@pytest.mark.parametrize("question,answer,concept", [
    # every branch holds the key
    ("q2", "h is the hidden state, or maybe the short-term memory", "h_hidden_state"),
    # a plain "or" between two names for one thing
    ("q2", "h is the hidden state or the summary of the information learned at the final step", "h_hidden_state"),
    # a hedge on a single claim is how unsure students assert
    ("q2", "I think h is the hidden state", "h_hidden_state"),
    ("q2", "h is probably the hidden state", "h_hidden_state"),
    ("q2", "Maybe h is the hidden state.", "h_hidden_state"),
    ("q2", "h is the hidden state, I believe.", "h_hidden_state"),
    ("q2", "If I understand correctly, h is the hidden state at the last timestep.", "h_hidden_state"),
    # a firm claim, then a hedge about something else (a corpus answer, labelled so)
    ("q4", "Output and h look identical. c seems like a scaled version of them, so maybe all three are sort of "
           "duplicates? Or maybe c is separate, I can't really tell.", "output_equals_h"),
])
def test_honest_hedges_keep_their_credit(question, answer, concept):
    assert concept in found(question, answer)


def test_hedges_past_the_bound_assert_nothing():
    # the reader weighs at most MAX_ALTERNATIVES hedges per answer (bounded work); a branch past
    # them is dropped, never read as a plain claim
    from autograder.freetext.assertions import MAX_ALTERNATIVES

    filler = "c is maybe the cell state, or maybe the long-term memory. " * (MAX_ALTERNATIVES - 1)
    both_right = "h is the hidden state, or maybe the short-term memory."
    assert "h_hidden_state" in found("q2", filler + both_right)
    assert "h_hidden_state" not in found("q2", filler + "c is the cell state, or maybe the memory. " + both_right)
