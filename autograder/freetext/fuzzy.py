"""Typo tolerance: map a misspelt long word onto the rubric's vocabulary.

Only words of 5+ letters are corrected (4-letter ones only by a missing
letter), with a bounded edit distance (transpositions count once) and
the same first letter, so short words ("h", "c", "no") and ordinary
English words that happen to be close to a rubric word stay untouched.
"""

from __future__ import annotations

from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import OSA

from .normalize import WORD, Token, stem

# Common words one or two edits away from rubric words; never "correct" them.
PROTECTED = frozenset("""
simple simply stage stages notes noted these those there where which other after
first third count shape shapes share value values times makes while state states
match batch sample rather whole would could should model models layer layers about
above below between never their stated still model since input inputs unit units
maybe matter mattered steps stops hidden biden right light night might eight
element elements entry entries sell cells calls tells feature future nature
sequence sequences frequency consequence return returns retain retains retained
predict predicted prediction predictions present presents prevent same some seem
seems these theses thesis number numbers member members remember timer timers
summary summarize summarized memory memories
with when then them they also only just will were have here more most some like very into over
ones last next both none each thus than does done made make back rows sums half full holds hold
""".split())


# Words the engine itself relies on (position markers, links), always
# part of the correction vocabulary whatever the rubric.
ENGINE_WORDS = {
    w: stem(w) for w in (
        "dimension", "dimensions", "number", "first", "second", "third", "represents",
        "returns", "returned", "different", "separate", "because", "identical", "equals",
        "duplicate", "duplication", "output", "hidden", "state", "batch", "features",
    )
}


def max_distance(word: str) -> int:
    """The edits a misspelling of ``word`` may be away from it: 1 up to seven letters, 2 beyond."""
    return 1 if len(word) <= 7 else 2


@lru_cache(maxsize=16384)
def _correct(word: str, vocab: tuple[str, ...]) -> str | None:
    if len(word) == 4:
        # Four-letter words: only a dropped letter of a longer word ("bach").
        candidates = [v for v in vocab if v[0] == word[0] and len(v) == 5]
    else:
        candidates = [v for v in vocab if v[0] == word[0] and abs(len(v) - len(word)) <= 2]
    if not candidates:
        return None
    hit = process.extractOne(
        word, candidates, scorer=OSA.distance, score_cutoff=max_distance(word)
    )
    return hit[0] if hit else None


def correct_typos(tokens: list[Token], vocab: dict[str, str]) -> list[Token]:
    """Return tokens whose misspelt words carry the key of the vocab word."""
    vocab = {**ENGINE_WORDS, **vocab}
    known = set(vocab.values())
    words = tuple(sorted(vocab))
    for tok in tokens:
        w = tok.text
        if (tok.kind != WORD or len(w) < 4 or not w.isalpha() or tok.key in known
                or w in PROTECTED or w in vocab):
            continue
        fixed = _correct(w, words)
        if fixed is not None and stem(fixed) != tok.key:
            tok.key = vocab[fixed]
            tok.fuzzy = True
    return tokens
