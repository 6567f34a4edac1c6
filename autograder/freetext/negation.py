"""Sentence / clause segmentation and negation scope.

A concept mentioned inside the scope of a negation cue ("not the same",
"no duplication", "without the states") is a different claim from the
bare mention, so every token gets a ``negated`` flag.  Scope runs forward
from the cue to the end of its clause (or a few tokens), which is how
these short answers are written in practice.
"""

from __future__ import annotations

from dataclasses import dataclass

from .normalize import PUNCT, Token

SENTENCE_END = frozenset({".", "!", "?", ";", "\n", "|", "\u00b6"})  # \u00b6: where a frame's words were
# Clause breaks: punctuation plus conjunctions that start a new claim.
CLAUSE_PUNCT = SENTENCE_END | frozenset({",", "(", ")", "[", "]", ":"})
CLAUSE_WORDS = frozenset({
    "but", "howev", "wherea", "while", "although", "though", "becaus", "sinc",
    "so", "which", "instead", "unlik", "therefor", "henc", "thus", "then", "whilst", "yet",
})

NEG_CUES = frozenset({
    "not", "no", "never", "without", "none", "neither", "nor", "nobodi",
    "noth", "lack", "absent", "nope", "non",
})
# Multi-token cues (keys) that negate what follows.
NEG_PHRASES = (("instead", "of"), ("rather", "than"), ("other", "than"), ("oppos", "to"))
# Sequences that look negative but are not ("not only X but also Y",
# "nothing but the output" = only the output, "no longer" handled as cue).
NOT_NEGATION = (("not", "onli"), ("not", "just"), ("noth", "but"), ("noth", "except"),
                ("no", "matter"), ("not", "sure"))
SCOPE_MAX = 9
# "and" followed by one of these starts a new predicate, which the
# negation does not reach ("has no cell state and only has h").
AND_NEW_CLAIM = frozenset({
    "onli", "just", "is", "are", "has", "have", "it", "they", "there", "return",
    "keep", "use", "so", "then", "therefor", "thus", "output", "h", "c", "this",
})


# After "and", these start a new claim only when a verb follows ("no h and c" keeps the scope).
ENTITY_WORDS = frozenset({"output", "h", "c"})


@dataclass
class Annotated:
    tokens: list[Token]
    negated: list[bool]
    clause: list[int]  # clause index per token (-1 for boundaries)
    sentence: list[int]


# "A is B and C is D" holds two claims: "and" splits them when a verb
# precedes it in the clause and another follows within a few tokens.
VERBS = frozenset({
    "is", "are", "was", "were", "equal", "equals", "=", "repres", "mean", "has", "have",
    "hold", "contain", "store", "return", "give", "refer", "correspond", "denot",
})


def _and_splits(tokens: list[Token], i: int, before: bool) -> bool:
    """``before``: a verb stands between the clause's start and token i."""
    if tokens[i].key != "and":
        return False
    after = False
    for t in tokens[i + 1:i + 6]:
        if _is_clause_break(t) or t.key == "and":
            break
        if t.key in VERBS:
            after = True
            break
    return before and after


def _code_apposition(tokens: list[Token], i: int) -> bool:
    """Is the comma at i one of a pair enclosing only a code span?"""
    n = len(tokens)
    if i + 1 < n and tokens[i + 1].code:
        j = i + 1
        while j < n and tokens[j].code:
            j += 1
        if j < n and tokens[j].key == ",":
            return True
    if i > 0 and tokens[i - 1].code:
        k = i - 1
        while k >= 0 and tokens[k].code:
            k -= 1
        if k >= 0 and tokens[k].key == ",":
            return True
    return False


# Verbs between a prepositional cue and the setting it negates: "without setting return_sequences".
SETTING_VERBS = frozenset({"set", "use", "pass", "turn", "enabl", "specifi", "the", "a"})
SETTING_WORDS = frozenset({"sequenc", "state", "sequences", "states"})


def _setting_start(tokens: list[Token], keys: list[str], start: int) -> int:
    k = start
    while k < len(tokens) and keys[k] in SETTING_VERBS:
        k += 1
    return k


def _setting_object(tokens: list[Token], keys: list[str], cue: int, start: int) -> bool:
    """Whether a "without"/"no" cue governs a layer setting (return_sequences, return_state)."""
    if keys[cue] not in ("without", "no"):
        return False
    k = _setting_start(tokens, keys, start)
    if k >= len(tokens):
        return False
    if tokens[k].code:
        return True
    return keys[k] == "return" and k + 1 < len(tokens) and keys[k + 1] in SETTING_WORDS


def _setting_end(tokens: list[Token], keys: list[str], start: int) -> int:
    k = _setting_start(tokens, keys, start)
    if tokens[k].code:
        while k < len(tokens) and tokens[k].code:
            k += 1
        return k
    return k + 2  # "return sequences" / "return state"


def _is_clause_break(tok: Token) -> bool:
    return (tok.kind == PUNCT and tok.key in CLAUSE_PUNCT) or tok.key in CLAUSE_WORDS


def annotate(tokens: list[Token]) -> Annotated:
    """Mark each token negated or not, and number its clause and sentence.

    A negation cue ("no", "not", ...) negates the tokens after it up to the clause's end (at most
    ``SCOPE_MAX``), unless a fresh claim starts; a cue before a layer setting ("without
    ``return_sequences``") negates only that setting. Tokens that end or bracket a clause get clause and
    sentence -1.
    """
    n = len(tokens)
    negated = [False] * n
    clause = [-1] * n
    sentence = [-1] * n
    c = s = 0
    top = 0  # next fresh clause id
    verb = False  # a verb since the current clause's start (kept as we go: "and and and ..." stays linear)
    for i, tok in enumerate(tokens):
        if tok.kind == PUNCT and tok.key in SENTENCE_END:
            s += 1
            top += 1
            c = top
            verb = False
            continue
        # A parenthetical belongs to the claim around it: "the last row
        # (output[:, -1]) is h", "output (equal to h)".  It still ends a
        # negation scope, see below.
        if tok.kind == PUNCT and tok.key in ("(", "[", ")", "]"):
            continue
        # Commas around a pasted code span are an apposition, not a break:
        # "the last step of output, output[:, -1, :], is identical to h".
        if tok.key == "," and _code_apposition(tokens, i):
            continue
        if _is_clause_break(tok) or _and_splits(tokens, i, verb):
            top += 1
            c = top
            verb = False
            continue
        verb = verb or tok.key in VERBS
        clause[i] = c
        sentence[i] = s

    keys = [t.key for t in tokens]
    i = 0
    while i < n:
        pair = tuple(keys[i:i + 2])
        if pair in NOT_NEGATION:
            i += 2
            continue
        start = None
        if keys[i] in NEG_CUES:
            start = i + 1
        elif pair in NEG_PHRASES:
            start = i + 2
        if start is not None and _setting_object(tokens, keys, i, start):
            # "without return_sequences, only the last step is returned": the
            # cue negates the layer setting it names, not the claim after it.
            j = _setting_end(tokens, keys, start)
            for k in range(i, j):
                negated[k] = True
            i = j
            continue
        if start is not None:
            j = start
            while j < n and j < start + SCOPE_MAX and not _is_clause_break(tokens[j]):
                # "and"/"or" keep the scope ("no h or c"), a fresh claim does not.
                if keys[j] == "and" and j + 1 < n and keys[j + 1] in AND_NEW_CLAIM and (
                        keys[j + 1] not in ENTITY_WORDS or j + 2 < n and keys[j + 2] in VERBS):
                    break
                negated[j] = True
                j += 1
            # The cue itself belongs to the negated claim ("none", "no").
            negated[i] = True
        i += 1
    return Annotated(tokens, negated, clause, sentence)
