"""Bounded reader work (issue 25): an answer of any size is read in time linear in its length,
capped at ``bounds.MAX_ANSWER_CHARS`` characters, and no regular expression the reader runs on
student text backtracks catastrophically. Timings are bounds far above what linear code needs
and far below what the quadratic reader took (1 MB: past Gradescope's 600 s; 16,000 characters
of "[]": 6.4 s)."""

from __future__ import annotations

import time

import pytest

from autograder.freetext import grade_answer
from autograder.freetext.bounds import MAX_ANSWER_CHARS, first_part
from autograder.freetext.grading import FLAGGED_CONFIDENCE, _grade
from autograder.freetext.normalize import STUDENT_TEXT_PATTERNS, clean

pytestmark = pytest.mark.fast

# What an adversary repeats, after what opens a pattern: brackets, spaces and minus-ones inside
# an index, commas between states, digits, a call without its closing bracket, comment signs.
_OPENERS = ["", "o", "o[", "out[", "[", "o_1", "h_1,", "x_1", "==", "a = predict(", "1", "c(", "x #", "y_"]
_REPEATS = [" ", "-1", "[]", "[", "t ", ", ", "...", "-", "1", "h_1, ", "o_1 ", "=", "# ", "_", "a", "\t"]


def _slowest(pattern) -> tuple[float, str]:
    worst = (0.0, "")
    for opener in _OPENERS:
        for repeat in _REPEATS:
            text = opener + repeat * (MAX_ANSWER_CHARS // len(repeat))
            start = time.perf_counter()
            for _ in pattern.finditer(text):
                pass
            took = time.perf_counter() - start
            worst = max(worst, (took, f"{opener!r} + {repeat!r} * n"))
    return worst


@pytest.mark.parametrize("index", range(len(STUDENT_TEXT_PATTERNS)))
def test_no_pattern_backtracks_on_adversarial_text(index):
    # linear scans of 5,000 characters take about a millisecond; the unbounded patterns took
    # seconds (three adjacent \s* inside one bracket: minutes)
    pattern = STUDENT_TEXT_PATTERNS[index]
    took, text = _slowest(pattern)
    assert took < 0.5, f"{pattern.pattern!r} took {took:.2f} s on {text}"


def test_every_pattern_on_student_text_is_registered():
    # a new pattern in the reader must join the registry the test above times
    import ast
    from pathlib import Path

    package = Path(__file__).resolve().parents[2] / "autograder" / "freetext"
    calls = []
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "re" \
                    and node.func.attr in ("sub", "match", "search", "fullmatch", "finditer", "findall", "split"):
                calls.append(f"{path.name}:{node.lineno} re.{node.func.attr}")
    assert calls == [], "compile the pattern at module level and add it to STUDENT_TEXT_PATTERNS: " + ", ".join(calls)


def _read_time(question: str, text: str) -> float:
    """Seconds to read ``text`` whole (no cap, no cache): the best of five (the machine is shared)."""
    best = float("inf")
    for _ in range(5):
        _grade.cache_clear()
        start = time.perf_counter()
        _grade(question, clean(text))
        best = min(best, time.perf_counter() - start)
    return best


@pytest.mark.parametrize("unit", [
    "[]",  # the 1 MB answer: every bracket scanned all the brackets after it
    "h , ",  # a list of entities: each comma walked the rest of the list
    "and ",  # each "and" looked back over its whole clause for a verb
    "((",
    "output is h and ",  # one unit that never ends
    "output is the last hidden state. ",  # many short claims
    "h is c, ",
    # the stance rules' triggers (assertions.py): each looks a bounded distance around it
    "or maybe ", "my friend says ", "not wrong ", "h is c or maybe h. ", "is h? ", "h is c -- NOT, ",
])
def test_reading_time_is_linear_in_the_answer_length(unit):
    # the reader itself, past the cap: half the cap's length, then twice it
    n = MAX_ANSWER_CHARS // 2 // len(unit)
    short, long = _read_time("q12", "Yes: o" + unit * n), _read_time("q12", "Yes: o" + unit * 4 * n)
    # four times the text: about four times the time (3 to 6.5 measured); the quadratic reader took 13 to 25
    assert long < 10 * short + 0.02, f"{unit!r}: {short * 1000:.1f} ms, 4x the length {long * 1000:.1f} ms"


def test_a_megabyte_answer_is_read_on_its_first_part_and_flagged():
    answer = "Yes: o" + "[]" * 500_000
    start = time.perf_counter()
    g = grade_answer("q12", answer)
    took = time.perf_counter() - start
    assert took < 2.0, took
    assert g.flags == ("cut",)
    for c in g.concepts:
        assert c.confidence <= FLAGGED_CONFIDENCE  # a TA sees it first
        assert f"first {MAX_ANSWER_CHARS:,} characters" in c.message and "1,000,006" in c.message
    # the part read is graded as it would be alone
    honest = "The last row of output is exactly h. " * 200
    assert grade_answer("q12", honest).found == grade_answer("q12", honest[:MAX_ANSWER_CHARS]).found == [
        "last_step_equals_h"]
    assert grade_answer("q12", honest).flags == ("cut",)


def test_the_cut_keeps_whole_words_and_short_answers_whole():
    assert first_part("short answer") == ("short answer", False)
    text = "word " * 2000
    part, cut = first_part(text)
    assert cut and len(part) <= MAX_ANSWER_CHARS and part.endswith("word")
    assert first_part("x" * (MAX_ANSWER_CHARS + 5)) == ("x" * MAX_ANSWER_CHARS, True)
    assert grade_answer("q8", "GRUs have no cell state").flags == ()
