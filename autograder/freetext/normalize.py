"""Turn raw student text into comparable tokens.

Every token keeps the character span of the student's own words so the
grader can quote them back as evidence.  Matching then works on ``key``
(a Snowball stem of a canonical spelling), which makes it insensitive to
case, accents, punctuation, hyphenation and inflection.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

import snowballstemmer

from . import lookalikes

_STEMMER = snowballstemmer.stemmer("english")

# Token kinds.
WORD, NUM, PUNCT = "word", "num", "punct"


@dataclass
class Token:
    text: str  # canonical lower-case spelling ("not" for "n't")
    key: str  # what matching compares: stem, or the number / mark itself
    start: int  # span in the normalised answer string (for evidence)
    end: int
    kind: str = WORD
    fuzzy: bool = False  # key came from typo correction
    code: bool = False  # stands for a code spelling such as output[:, -1, :]


@lru_cache(maxsize=8192)
def stem(word: str) -> str:
    """The Snowball (English) stem of ``word``, cached."""
    return _STEMMER.stemWord(word)


# "no. of features" and "# sequences" are counts, not a negation or a comment
_NUMBER_OF = re.compile(r"\b([Nn])o\.\s{0,4}(?=of\b)")
# "x  # final hidden state" after code is a comment: it describes what stands before it
_COMMENT = re.compile(r"(?<=\S)[ \t]+#[ \t]+(?!of\b)(?=[A-Za-z])")  # one start per run of spaces
_COUNT_SIGN = re.compile(r"#\s{0,4}(?=[A-Za-z])")
# h_T / c_{T}: the last step; casefolding would make it h_t, any step
_LAST_STEP = re.compile(r"\b([hHcCyYoO])_\{?T\}?(?![\w{(])")


def clean(text: str) -> str:
    """Unicode-fold: NFKC, casefold, drop accents, unify quotes and dashes."""
    text = text.replace("\u2260", " != ")  # NFKD would leave a bare "=" of "≠"
    text = _NUMBER_OF.sub("number ", text)
    text = _COMMENT.sub(", ", text)
    text = _COUNT_SIGN.sub("number of ", text)
    # look-alike letters of other scripts ("сеll") are read as the Latin ones they imitate
    text = _LAST_STEP.sub(r"\1_last", lookalikes.fold(unicodedata.normalize("NFKC", text))).casefold()
    text = "".join(
        ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch)
    )
    table = {
        "\u2018": "'", "\u2019": "'", "\u201b": "'", "\u2032": "'", "`": "'",
        "\u201c": '"', "\u201d": '"', "\u2010": "-", "\u2011": "-", "\u2012": "-",
        "\u2013": "-", "\u2014": "-", "\u2212": "-", "\u00d7": " x ",
    }
    return text.translate(str.maketrans(table))


# Code-ish spellings students paste from the notebook.  Each maps to the
# canonical words it stands for; order matters (first alternative wins).
_CODE_RULES: list[tuple[str, tuple[str, ...]]] = [
    # output[:, -1, :], o[0][-1], outputs[:,7,:] -> the last time step of output
    (r"\b(?:outputs?|out|o|x|y|seq|sequence)\s{0,4}(?:\[[^\]\n]{0,40}\]\s{0,4}){0,8}"
     r"\[[^\]\n]{0,40}(?:-\s{0,4}1|\b7)\s{0,4}[^\]\n]{0,40}\](?:\s{0,4}\[[^\]\n]{0,40}\]){0,8}",
     ("output", "last", "timestep")),
    (r"\[\s{0,4}:?\s{0,4},?\s{0,4}(?:-\s{0,4}1)\s{0,4}(?:,\s{0,4}:?\s{0,4})?\]", ("last", "timestep")),
    # Keras flags are settings, not claims about states being returned.
    (r"\breturn_?states?\s{0,4}=\s{0,4}(true|false)\b", ("rstate_{0}",)),
    (r"\breturn_?sequences?\s{0,4}=\s{0,4}(true|false)\b", ("rseq_{0}",)),
    (r"\breturn_?states?\b", ("rstate",)),
    (r"\breturn_?sequences?\b", ("rseq",)),
    # "output = model.predict(data)": the student's code line, not a claim that output is the model
    (r"\b(\w{1,40})\s{0,4}=\s{0,4}(?:\w{1,40}\.)?predict\s{0,4}\([^)\n]{0,80}\)", ("{0}", "assigned")),
    # x_t, x_1..x_8: the inputs, not the time index t or a size
    (r"\bx_?\{?[0-9tn]\}?(?:\s{0,4}(?:\.{2,3}|\u2026|-|to)\s{0,4}x_?\{?[0-9tn]\}?)?(?![\w(])", ("x",)),
    # "t = 1..8", "0...7": a range of indices, not a size
    (r"\b\d{1,9}\s{0,4}(?:\.{2,3}|\u2026)\s{0,4}\d{1,9}\b", ("range",)),
    # "h_k for every k", "h_t for all t": the state at every step
    (r"\b([hc])_?\{?([kitn])\}?\s{1,4}for\s{1,4}(?:every|each|all)\s{1,4}\2\b", ("{0}", "every", "timestep")),
    # y_T, o_8: the output at the last step
    # (o_8 * tanh(c_8) is the output gate's, not the output)
    (r"\b[yo](?:_\{?(?:8|n|last)\}?|8)(?![\w(])(?!\s{0,4}[*\u2299\u00b7]\s{0,4}tanh)", ("output", "last")),
    # y_t: the output at a step (o_t is the LSTM's output gate)
    (r"\by_\{?t\}?(?![\w(])", ("output",)),
    # y_1..y_8, o_1, ..., o_T: the outputs of every step
    (r"\b[yo]_?\{?[01]\}?\s{0,4}(?:,\s{0,4})?(?:\.{2,3}|\u2026|-|to)\s{0,4}(?:,\s{0,4})?(?:[yo]_?\{?)?(?:8|7|t|n)\}?(?![\w(])",
     ("output", "every", "timestep")),
    # output[:, t, :], out[0, t]: the output at step t, for every t
    (r"\b(?:outputs?|out|y)\s{0,4}\[[^\]\n]{0,40}\bt\b[^\]\n]{0,40}\]", ("output", "every", "timestep")),
    # [h_1, h_2, ..., h_8]: the hidden state at every step
    (r"\b([hc])_?\{?1\}?\s{0,4},\s{0,4}[hc]_?\{?2\}?(?:\s{0,4},\s{0,4}(?:\.{2,3}|\u2026|[hc]_?\{?\d\}?)){0,8}(?:\s{0,4},\s{0,4}[hc]_?\{?(?:8|t|n)\}?)?",
     ("{0}", "every", "timestep")),
    # h_1..h_8, h_1, ..., h_T: the hidden state at every step
    (r"\b([hc])_?\{?[01]\}?\s{0,4}(?:,\s{0,4})?(?:\.{2,3}|\u2026|-|to)\s{0,4}(?:,\s{0,4})?(?:[hc]_?\{?)?(?:8|7|t|n)\}?(?![\w(])",
     ("{0}", "every", "timestep")),
    # h_8, h_T, c_n: the state at the last step (casefolding made T a t only for h_t); in the
    # LSTM's notation h_T is the hidden state and c_T the cell state at step T
    (r"\bh_?\{?(?:8|n|last|final|end)\}?(?![\w(])", ("h", "last", "hidden", "state")),
    (r"\bc_?\{?(?:8|n|last|final|end)\}?(?![\w(])", ("c", "last", "cell", "state")),
    # h_t, h(t): the subject of a claim ("h_t is the hidden state") is h; elsewhere
    # ("output = h_t") it is the hidden state at a step, named by its notation
    (r"(?:\bh_\{?t\}?\b|\bh\s{0,4}\(\s{0,4}t\s{0,4}\))(?=\s{0,4}(?:is\b|are\b|=|:|->))", ("h",)),
    (r"\bh_\{?t\}?\b|\bh\s{0,4}\(\s{0,4}t\s{0,4}\)", ("hidden", "state")),
    (r"\bstate_h\b|\bh_state\b|\bht\b|\bh_?\{?T\}?\b", ("h",)),
    (r"\bstate_c\b|\bc_state\b|\bc_?\{?t\}?\b|\bc\s{0,4}\(\s{0,4}t\s{0,4}\)", ("c",)),
    # "is coinciding with h" matches h; only the noun ("a coincidence") says it is chance
    (r"\bcoincid(?:e|es|ed|ing)\b", ("matches",)),
    # "c == h False" (a printed comparison): not equal
    (r"==\s{0,4}(\w{1,40})\s{0,4}(?:->|:|#|\u2192)?\s{0,4}false\b", ("not", "=", "{0}")),
    (r"!=|=/=|\u2260", ("not", "=")),
    (r"==|=(?!>)|\u2261", ("=",)),
]
_CODE_RE = [(re.compile(p), words) for p, words in _CODE_RULES]

_CONTRACTIONS = {
    "can't": ("can", "not"), "cannot": ("can", "not"), "won't": ("will", "not"),
    "shan't": ("shall", "not"), "ain't": ("is", "not"),
}
_S_IS = {"it", "that", "there", "what", "here", "who", "he", "she", "this"}
_SUFFIX = {"'re": "are", "'ve": "have", "'ll": "will", "'d": "would", "'m": "am"}

_NUMBER_WORDS = {
    "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
    "seven": "7", "eight": "8", "single": "1",
}
_ORDINALS = {
    "1st": "first", "2nd": "second", "3rd": "third", "4th": "fourth",
    "8th": "eighth", "eigth": "eighth",
}
# Spelled as two words by some students and one by others.
_COMPOUNDS = {
    ("time", "step"): "timestep", ("time", "stamp"): "timestamp",
    ("long", "term"): "longterm", ("short", "term"): "shortterm",
    ("sub", "sequenc"): "subsequ",
}

_TOKEN_RE = re.compile(
    r"(?P<dim>\d+-?d\b)"  # "3d array": a kind of array, not the size 3
    r"|(?P<num>\d+(?:\.\d+)?(?:st|nd|rd|th)?)"
    r"|(?P<word>[^\W\d_]+(?:'[^\W\d_]+)?)"
    r"|(?P<dash>(?<!\S)(?:-+>?|=>)(?!\S))"  # "h - hidden state", "(1, 8, 2) -> batch": a colon
    r"|(?P<punct>[.,;:!?()\[\]/|\n])",
)


def _emit_word(raw: str, start: int, end: int, out: list[Token]) -> None:
    if raw in _CONTRACTIONS:
        for w in _CONTRACTIONS[raw]:
            out.append(Token(w, stem(w), start, end))
        return
    if raw.endswith("n't"):
        base = raw[:-3]
        out.append(Token(base, stem(base), start, end))
        out.append(Token("not", "not", start, end))
        return
    if "'" in raw:
        base, _, suf = raw.partition("'")
        out.append(Token(base, stem(base), start, end))
        suf = "'" + suf
        if suf == "'s":
            if base in _S_IS:
                out.append(Token("is", "is", start, end))
        elif suf in _SUFFIX:
            w = _SUFFIX[suf]
            out.append(Token(w, stem(w), start, end))
        return
    if raw in ("ts", "tstep", "tsteps"):
        out.append(Token("timestep", "timestep", start, end))
        return
    if raw in _NUMBER_WORDS:
        out.append(Token(raw, _NUMBER_WORDS[raw], start, end, NUM))
        return
    out.append(Token(raw, stem(raw), start, end))


# Answers are typed between triple quotes, where a long sentence is broken across lines by hand.
# A break after a line this long is such a wrap (a space); after a shorter line, a list item's end.
_WRAPPED_LINE = 50


# A line that opens a list item or a "key: value" line starts a claim of its own.
_NEW_ITEM = re.compile(r"[-*\u2022>|]|\d{1,9}[.)]\s|[\w\[\], ]{1,15}?[ \t]{0,4}(?::|=|->|\u2192)")


# Every regular expression the reader runs on student text, for the test that times each on
# adversarial strings (tests/freetext/test_bounds.py). Repeats are bounded ({0,4}, {0,40}) wherever
# two of them could share characters, so no pattern backtracks more than a constant per position.
STUDENT_TEXT_PATTERNS: tuple[re.Pattern[str], ...] = (
    _NUMBER_OF, _COMMENT, _COUNT_SIGN, _LAST_STEP, *(rx for rx, _ in _CODE_RE), _TOKEN_RE, _NEW_ITEM,
    lookalikes.WORD)


def unwrap(text: str) -> str:
    """Join hand-wrapped lines into their sentences; keep the breaks of lists and paragraphs."""
    lines = [line.strip() for line in text.strip().split("\n")]
    out = lines[0]
    for previous, line in pairwise(lines):
        joined = len(previous) >= _WRAPPED_LINE and line and not _NEW_ITEM.match(line)
        out += (" " if joined else "\n") + line
    return out


def tokenize(answer: str) -> tuple[str, list[Token]]:
    """Return the folded answer string and its tokens (spans index that string)."""
    text = clean(unwrap(answer))
    # Mark code spans first so their punctuation does not split them.
    spans: list[tuple[int, int, tuple[str, ...]]] = []
    taken = [False] * (len(text) + 1)
    for rx, words in _CODE_RE:
        for m in rx.finditer(text):
            if any(taken[m.start():m.end()]):
                continue
            groups = [g for g in m.groups() if g]
            ws = tuple(w.format(*groups) for w in words)
            spans.append((m.start(), m.end(), ws))
            for i in range(m.start(), m.end()):
                taken[i] = True
    spans.sort()
    tokens: list[Token] = []
    pos = 0
    for s, e, ws in spans + [(len(text), len(text), ())]:
        for m in _TOKEN_RE.finditer(text, pos, s):
            kind = m.lastgroup
            raw = m.group()
            if kind == "dash":
                tokens.append(Token(":", ":", m.start(), m.end(), PUNCT))
            elif kind == "dim":
                tokens.append(Token(raw, raw.replace("-", ""), m.start(), m.end()))
            elif kind == "num":
                if raw in _ORDINALS:
                    tokens.append(Token(_ORDINALS[raw], _ORDINALS[raw], m.start(), m.end()))
                else:
                    tokens.append(Token(raw, raw, m.start(), m.end(), NUM))
            elif kind == "word":
                _emit_word(raw, m.start(), m.end(), tokens)
            else:
                tokens.append(Token(raw, raw, m.start(), m.end(), PUNCT))
        for w in ws:
            tokens.append(Token(w, stem(w) if w.isalpha() else w, s, e, code=True))
        pos = e
    return text, merge_compounds(tokens)


def merge_compounds(tokens: list[Token]) -> list[Token]:
    """Join adjacent word tokens that form a known compound (``_COMPOUNDS``) into one token spanning both."""
    out: list[Token] = []
    for tok in tokens:
        if out and (out[-1].key, tok.key) in _COMPOUNDS and out[-1].kind == tok.kind == WORD:
            prev = out[-1]
            merged = _COMPOUNDS[(prev.key, tok.key)]
            out[-1] = Token(merged, merged, prev.start, tok.end)
        else:
            out.append(tok)
    return out


_PLAIN = re.compile(r"[a-z ]+")


@lru_cache(maxsize=4096)
def phrase_keys(phrase: str) -> tuple[str, ...]:
    """Keys of a rubric phrasing, normalised exactly like student text."""
    if _PLAIN.fullmatch(phrase):
        # Fast path for plain words (most phrasings): same result as the full
        # tokenizer, without running the code-spelling rules.
        toks = []
        for w in phrase.split():
            key = _NUMBER_WORDS.get(w) or stem(w)
            toks.append(Token(w, key, 0, 0, NUM if w in _NUMBER_WORDS else WORD))
        toks = merge_compounds(toks)
    else:
        _, toks = tokenize(phrase)
    # ":" is kept: "output: the last hidden state" uses it as a copula.
    return tuple(t.key for t in toks if (t.kind != PUNCT or t.key == ":") and t.key not in SKIP_KEYS)


# Articles never carry meaning for matching; dropping them lets
# "the hidden state" match "hidden state".
SKIP_KEYS = frozenset({"the", "a", "an"})
