"""Bounded work: how much of an answer the reader reads.

The reader's time is linear in what it reads, and what it reads is capped: an answer longer
than ``MAX_ANSWER_CHARS`` is graded on its first part, flagged for review, and every concept's
message tells the student so. The longest of the 2,000 answers in the calibration corpora is
under 500 characters; the cap is ten times that, so an honest answer is never cut.
"""

from __future__ import annotations

MAX_ANSWER_CHARS = 5_000
# A claim unit (a clause) longer than this is read in pieces of this many tokens: the reader's
# work inside one unit grows with the square of its length, so a bound on the unit makes the
# whole answer linear. The longest unit in the corpora is 37 tokens.
MAX_UNIT_TOKENS = 120
# Where a cut may back off to the last space, so a word is not split in two.
_WORD_SLACK = 40


def first_part(text: str) -> tuple[str, bool]:
    """The part of ``text`` the reader reads, and whether it was cut."""
    if len(text) <= MAX_ANSWER_CHARS:
        return text, False
    cut = text.rfind(" ", MAX_ANSWER_CHARS - _WORD_SLACK, MAX_ANSWER_CHARS + 1)
    return text[:cut if cut > 0 else MAX_ANSWER_CHARS], True


def cut_note(length: int) -> str:
    """What the student is told about an answer that was cut (no grading secret in it)."""
    return (f"Only the first {MAX_ANSWER_CHARS:,} characters of this answer were read (it has {length:,}). "
            "Write the answer in a few sentences.")
