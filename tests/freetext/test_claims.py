"""The claim reader: answers read as *entity -> role* claims, graded as "the key's claim is
asserted and none of its misconceptions is". One test per way of saying things that the
co-occurring-words engine could not read (issue 9), and per way a wrong claim must cancel."""

from __future__ import annotations

import pytest

from autograder.freetext import grade_answer
from autograder.freetext.grading import read_answer
from autograder.freetext.normalize import phrase_keys
from autograder.freetext.rubric import RubricError, load_rubric, parse_rubric

pytestmark = pytest.mark.fast


def found(question: str, answer: str) -> set[str]:
    return set(grade_answer(question, answer).found)


def cancelled(question: str, answer: str) -> dict[str, str]:
    """concept -> the misconception that cancelled it."""
    return {c.id: c.misconception for c in grade_answer(question, answer).concepts if c.misconception}


ALL_Q1 = {"dim1_batch", "dim2_timesteps", "dim3_features"}


@pytest.mark.parametrize("answer", [
    # positions and values instead of "dimension 1/2/3"
    "The first is the number of samples, the second one the time steps and the last one the features.",
    "samples 1 | steps 8 | features 2",
    "one sample with eight steps of two values each",
    "batch=1 / timesteps=8 / features=2",
    "(1, 8, 2) = (batch, timesteps, features)",
    "1 = batch, 8 = timesteps, 2 = features",
    "dim0 -> number of samples (1) ; dim1 -> timesteps (8) ; dim2 -> features per timestep (2)",
    "dim 1 = batch size, dim 2 = timesteps, dim 3 = num_features",
    "[N, T, F] with N=1, T=8, F=2",
])
def test_numbers_positions_and_lists_tie_a_dimension_to_a_role(answer):
    assert found("q1", answer) == ALL_Q1


def test_a_dimension_given_another_role_too_is_cancelled():
    assert cancelled("q1", "1 = batch, 8 = timesteps, 2 = features. 8 is also the number of units")
    assert found("q1", "1 = batch, 8 = features, 2 = timesteps") == {"dim1_batch"}
    assert found("q1", "8 samples of 2 timesteps each, 1 = feature") == set()


@pytest.mark.parametrize("question,answer,concepts", [
    ("q2", "out = h_8 and h = h_8, c = c_8", {"output_last_step", "h_hidden_state", "c_cell_state"}),
    ("q7", "out[0, k] is h_k for every k", {"every_step"}),
    ("q7", "Now output stacks h_1..h_8: (batch=1, time=8, units=3)",
     {"every_step", "axis1_batch", "axis2_timesteps", "axis3_units"}),
    ("q5", "just out (= h_T), the two states are gone", {"only_output", "no_states"}),
    ("q12", "output[0, -1] == h", {"last_step_equals_h"}),
])
def test_code_notation_is_read(question, answer, concepts):
    assert found(question, answer) == concepts


def test_separators_keep_each_claim_whole():
    assert "h_hidden_state" in found("q2", "h: last hidden state / short-term memory.")
    assert "h_hidden_state" in found("q2", "h: last hidden state.")
    assert found("q2", "h and c are the hidden and cell states") == {"h_hidden_state", "c_cell_state"}


def test_a_wrong_claim_cancels_the_concept_it_touches_and_is_named():
    answer = "out is what h is at each of the 8 steps; h is the last hidden state; c is the last cell state"
    g = grade_answer("q2", answer)
    assert g.found == ["h_hidden_state", "c_cell_state"]
    output = g.concept("output_last_step")
    assert output.misconception == "output-every-step" and "every step" in output.message
    assert cancelled("q7", "it is the cell state at each step") == {"every_step": "cell-state-sequence"}
    assert cancelled("q4", "yes, output, h and c are all identical")["output_equals_h"] == "all-three-equal"


def test_keyword_stuffing_and_prompt_echo_earn_nothing():
    assert found("q4", "output h c same different equal hidden cell last step") == set()
    assert found("q10", "Is there any duplication between the values of output and h? If so, explain.") == set()
    assert found("q12", "last step output h same") == set()


@pytest.mark.parametrize("question,answer,concepts", [
    ("q5", "Only the output comes back now (the last hidden state), no h or c.", {"only_output", "no_states"}),
    ("q8", "GRUs are simpler: cell state and hidden state are merged into a single state.", {"no_cell_state"}),
    ("q8", "the GRU has a single state that plays both roles, hidden and memory", {"no_cell_state"}),
    ("q12", "the row for step 8 of output is exactly h", {"last_step_equals_h"}),
    ("q10", "They are identical, since for a GRU the hidden state is the output and we only get the last step.",
     {"output_equals_h", "output_is_hidden_state"}),
])
def test_correct_answers_in_other_words(question, answer, concepts):
    assert found(question, answer) == concepts


def test_negation_and_contradiction():
    assert found("q8", "there is no cell state in a GRU") == {"no_cell_state"}
    assert found("q8", "the GRU doesn't have c") == set()  # what happened, not why (the answer key)
    assert found("q12", "h equals the last row of output. h is not the last row of output.") == set()
    # naming h again does not take back "no h"
    assert found("q5", "single return: output (1,3). no extra h and c. its the same vector as h from exp 1") == {
        "only_output", "no_states"}


def test_questions_and_conditions_assert_nothing():
    assert found("q10", "is there duplication?") == set()
    assert "states is returned" not in read_answer(
        "q5", "Only the output. return_state controls whether the final states get returned.")


def test_the_claims_read_are_reported():
    claims = read_answer("q2", "output = last hidden state, h = hidden state, c = cell state")
    assert {"output is last", "output is hidden", "h is hidden", "c is cell"} <= set(claims)


def test_unsure_misses_are_flagged_for_review():
    # something said about h that the rubric does not read as the key: a TA should look
    assert grade_answer("q2", "h is what keeps the LSTM going").concept("h_hidden_state").confidence < 0.7
    assert grade_answer("q2", "no idea").concept("h_hidden_state").confidence >= 0.9


def test_misconception_hints_do_not_reveal_the_keys_phrasings():
    for q in ("q1", "q2", "q4", "q5", "q7", "q8", "q10", "q12"):
        rubric = load_rubric(q)
        for concept in rubric.concepts:
            key_roles = {r for alt in concept.key for t in alt for r in t.roles if not r.startswith("=")}
            phrases = [p for r in key_roles if r in rubric.roles for p in rubric.roles[r].phrases if len(p) >= 2]
            for hint in [concept.hint, *(m.hint for m in concept.misconceptions)]:
                text = f" {' '.join(phrase_keys(hint))} "
                for p in phrases:
                    assert f" {' '.join(p)} " not in text, (q, concept.id, p, hint)


def test_bad_claims_in_a_rubric_are_named():
    base = {"question": "q9", "entities": {"output": ["output"]}, "roles": {"last": ["last"]}}
    with pytest.raises(RubricError, match="names \\['lats'\\]"):
        parse_rubric({**base, "concepts": [{"id": "c", "hint": "h", "claims": ["output is lats"]}]}, "t.yaml")
    with pytest.raises(RubricError, match="cannot read claim"):
        parse_rubric({**base, "concepts": [{"id": "c", "hint": "h", "claims": ["output last"]}]}, "t.yaml")
    with pytest.raises(RubricError, match="needs 'claims' and 'hint'"):
        parse_rubric({**base, "concepts": [{"id": "c", "hint": "h", "claims": ["output is last"],
                                            "misconceptions": [{"claims": ["output is last"]}]}]}, "t.yaml")


# Round 3 (writers w11-w14): ways of saying things the second release could not read.
@pytest.mark.parametrize("question,answer,concepts", [
    # "the GRU output" is the output; "the GRU's hidden state" says nothing about the GRU
    ("q10", "yep identical, gru output basically is the hidden state at the last step", {
        "output_equals_h", "output_is_hidden_state"}),
    ("q10", "output and h are duplicates - both are the GRU's hidden state after the last timestep.", {
        "output_equals_h", "output_is_hidden_state"}),
    # a chain goes on past its second entity
    ("q12", "output[:, 7, :] = h = h_8; the other rows are unique", {"last_step_equals_h"}),
    # a pronoun reaches across a full stop
    ("q4", "output and h are the same. they are the final hidden state.", {
        "output_equals_h", "output_is_hidden_state"}),
    # h_t after a link is the hidden state at a step; y_t is the output
    ("q10", "yes output == h. GRU output = h_t; last step only", {"output_equals_h", "output_is_hidden_state"}),
    ("q4", "output == h. Because LSTM output y_t = h_t, and we only return the last t.", {
        "output_equals_h", "output_is_hidden_state"}),
    # a printed comparison that came out False
    ("q4", "output==h True, c==h False. LSTM emits h as its output, last step only", {
        "output_equals_h", "output_is_hidden_state"}),
    # "coinciding" is matching, not chance
    ("q12", "Last row of output matrix is coinciding with h.", {"last_step_equals_h"}),
    # "into" makes a terse claim, not a keyword list
    ("q8", "GRU merges cell & hidden into 1 state (h) / no c to return", {"no_cell_state"}),
    # describing the merge does not take back "no cell state"
    ("q8", "The GRU merges the cell state and hidden state into a single state vector, no separate memory cell.",
     {"no_cell_state"}),
    # "one value per unit" is a share, not the size of dimension 1
    ("q7", "hidden state at every step. 1 = batch (one sample), 8 = the 8 timesteps, 3 = the 3 units, so one "
           "hidden value per unit per step", {"every_step", "axis1_batch", "axis2_timesteps", "axis3_units"}),
    # a comment after code describes what stands before it; a "key: value" line stays its own
    ("q2", "output: y_T   # last-step activation\nh: h_T        # final hidden state; for an LSTM y_T == h_T\n"
           "c: c_T        # final cell state (long-term memory)", {"output_last_step", "h_hidden_state",
                                                                  "c_cell_state"}),
])
def test_round_three_phrasings(question, answer, concepts):
    assert found(question, answer) == concepts


def test_round_three_wrong_claims_still_cancel():
    # o_8 * tanh(c_8) is the output gate's product, not a claim that output is c
    assert "output_is_hidden_state" in found("q4", "output == h. h_t = o_t * tanh(c_t) != c_t, output = h_8")
    # a bare opposite still takes back "no cell state"
    assert found("q8", "GRU does have a cell state, and GRU doesn't have a cell state") == set()
    # on q10 output holding every step is wrong for both concepts; a wrong reason cancels only the reason
    assert found("q10", "output contains all 8 timesteps and h is the last one, so h is inside output") == set()
    assert found("q10", "yes, because h = c in GRU and output = c") == {"output_equals_h"}
    assert found("q10", "output equals c") == set()
    # "the 3 classes" is a prediction's, which cancels every step
    assert cancelled("q7", "output is the prediction for each of the 8 timesteps, with 3 classes per timestep")[
        "every_step"] == "predictions"
    # "3 features" costs the units point only
    assert found("q7", "output is the hidden state at every step; 1 is the batch, 8 the timesteps, 3 features") == {
        "every_step", "axis1_batch", "axis2_timesteps"}


def test_a_verb_that_is_also_a_name_is_read_as_the_verb():
    # issue 27: "carries" matched Keras' name for the cell state, and the feedback told the student h is c
    g = grade_answer("q2", "h is the hidden state, the short-term memory the layer carries forward")
    assert g.found == ["h_hidden_state"] and g.concept("h_hidden_state").misconception == ""
    assert "cell state" not in g.concept("h_hidden_state").message
    for answer in ("c is the long-term memory they carry along", "c: the cell state, carried from step to step",
                   "h is the state the LSTM carry to the next step"):
        assert "h is cell" not in read_answer("q2", answer), answer
    assert "h is cell" not in read_answer("q4", "an LSTM carries h and c through time, and output is h")


@pytest.mark.parametrize("answer", [
    "h is the hidden state and c is the carry", "h = hidden state, c = carry", "h: hidden, c: the internal carry",
    "h is the hidden state, c the long-term carry", "h is the hidden state, c is the carry/cell state",
])
def test_the_same_word_used_as_a_name_still_names_the_cell_state(answer):
    assert found("q2", answer) == {"h_hidden_state", "c_cell_state"}
