"""Look-alike letters: "сеll ѕtаtе" typed with Cyrillic с е ѕ а is read as "cell state".

A hostile answer can hide a wrong clause from the reader by typing some of its letters in
another script; the words look right to a TA and mean nothing to the reader, so the
misconception they state cancels nothing. Before reading, every letter of another script that
Unicode's confusables table (UTS #39, as packaged by ``confusable_homoglyphs``, pinned in
requirements.txt) lists as a look-alike of a Latin letter is read as that letter, in words that:

* mix scripts ("сеll": Cyrillic and Latin), or
* are made only of such look-alikes ("іѕ"), except a lone Greek letter, which is mathematics
  (σ for the sigmoid, α for a rate), not a disguised Latin one.

A word in another script with letters that imitate nothing Latin ("состояние") is left alone:
it is a word of that language. ``flags`` names what a TA should know: ``mixed-script`` (a word
mixes scripts, whatever its letters) and ``look-alikes`` (letters were read as Latin ones).
ASCII text costs one ``str.isascii``; the table loads on the first answer that needs it.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache

# a run of letters (no digits, no underscore): the unit a script is judged on
WORD = re.compile(r"[^\W\d_]+")
# scripts that never make a word mixed: punctuation, digits, combining marks
_NEUTRAL = frozenset({"COMMON", "INHERITED", "Unknown"})


@cache
def _tables():
    """The confusables table and the script lookup, loaded once, on demand (about 50 ms)."""
    from confusable_homoglyphs import categories, confusables

    return confusables.confusables_data, categories.alias


def load_tables() -> None:
    """Load the table now: the grading process does, so that it imports nothing once student code runs."""
    _tables()


@lru_cache(maxsize=4096)
def latin_twin(ch: str) -> str | None:
    """The ASCII letter ``ch`` imitates, in ``ch``'s case, or None."""
    if ch.isascii():
        return None
    table, _ = _tables()
    for form in (ch.lower(), ch):  # Cyrillic І is listed with l; its small і with i
        for glyph in table.get(form, ()):
            twin = glyph["c"]
            if len(twin) == 1 and twin.isascii() and twin.isalpha():
                return twin.upper() if ch.isupper() else twin.lower()
    return None


@lru_cache(maxsize=4096)
def script(ch: str) -> str:
    """The Unicode script of ``ch`` (``LATIN``, ``CYRILLIC``, ``COMMON``, ...), from the confusables tables."""
    return _tables()[1](ch)


def _read_word(word: str) -> tuple[str, bool, bool]:
    """The word as read, whether it mixes scripts, and whether a look-alike was replaced."""
    scripts = {script(ch) for ch in word} - _NEUTRAL
    twins = [latin_twin(ch) for ch in word]
    mixed = len(scripts) > 1
    foreign = [t for ch, t in zip(word, twins, strict=True) if not ch.isascii() and script(ch) != "LATIN"]
    disguised = bool(foreign) and all(foreign) and (
        mixed or len(word) > 1 or scripts != {"GREEK"})
    if not disguised:
        return word, mixed, False
    return "".join(t if t and script(ch) != "LATIN" else ch for ch, t in zip(word, twins, strict=True)), mixed, True


def fold(text: str) -> str:
    """``text`` with disguised words read as the Latin words they imitate."""
    if text.isascii():
        return text
    return WORD.sub(lambda m: m.group() if m.group().isascii() else _read_word(m.group())[0], text)


def flags(text: str) -> tuple[str, ...]:
    """What a TA should know about the letters of ``text``: ("mixed-script", "look-alikes")."""
    if text.isascii():
        return ()
    mixed = replaced = False
    for m in WORD.finditer(text):
        if not m.group().isascii():
            _, w_mixed, w_replaced = _read_word(m.group())
            mixed, replaced = mixed or w_mixed, replaced or w_replaced
    return tuple(name for name, on in (("mixed-script", mixed), ("look-alikes", replaced)) if on)
