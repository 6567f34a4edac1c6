"""What the answer asserts: the stance rules.

A claim counts only when the student asserts it. Each rule below is named for the way of
writing it exists for, with its example; it finds where it applies and gives the claims there
a stance:

* ``ASSERTED`` (the default), including honest hedges on a single claim: "I think h is the
  hidden state", "h is probably the hidden state", "c = cell?" are how unsure students assert,
  and the labelled corpus credits them;
* ``UNASSERTED``: questions, reported speech: no claim read there counts, right or wrong;
* ``DENIED``: retractions and disavowals: the claims there are read with the opposite polarity
  ("It is false that the GRU has a cell state" says the GRU has none).

Hedged alternatives ("maybe X, or maybe Y", "either X or Y") assert only what their branches
share: ``Alternative`` tags each branch's claims, and ``verdicts`` credits a key only where it
holds in every branch (a branch stating a misconception makes it that misconception).

Frame rules (``frame``) run on the tokens before negation scopes are drawn: the frame's own
words ("It is false that", "-- NOT", "A classmate told me ... :") are taken out and a
boundary put in their place, so their "not" negates nothing inside. Sentence rules
(``questions``, ``alternatives``) run on the mentions, in ``claims.read_claims``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .normalize import PUNCT, Token, stem

ASSERTED, UNASSERTED, DENIED = "asserted", "unasserted", "denied"
# stands where a frame's words were: a sentence break for negation scopes and claim units
BOUNDARY = "\u00b6"
SENTENCE_ENDS = frozenset({".", "!", "?", ";", "\n", "|", BOUNDARY})


def _stems(words: str) -> frozenset[str]:
    return frozenset(stem(w) for w in words.split())


# Evaluations of a claim, by polarity: "false", "wrong" deny it; "true", "right" endorse it.
FALSE_WORDS = _stems("false wrong incorrect untrue nonsense lie lies myth misconception mistake error bogus "
                     "rubbish garbage fake inaccurate")
TRUE_WORDS = _stems("true correct right accurate")
NEGATORS = frozenset({"not", "no", "none", "noth", "never"})
# "It would be wrong to say / think ... that"
SAYING = _stems("say think claim believe assume write state suggest conclude call")
BE = frozenset({"is", "are", "was", "were", "be", "been", "seem"})
MODALS = frozenset({"would", "will", "could", "might", "may", "should", "must"})
# Words of a frame that change nothing: "it's *completely* false", "*a* myth"
FILLER = frozenset({"a", "an", "the", "complet", "total", "simpli", "just", "realli", "also", "actual", "absolut",
                    "obvious", "clear", "entir", "veri", "so"})
DEMONSTRATIVES = frozenset({"it", "that", "this", "which"})
JOKES = (("not",), ("just", "kid"), ("kid",), ("jk",), ("lol", "not"), ("not", "!"))

# Reported speech: "A classmate told me", "Some people think", "My friend says".
REPORTING = _stems("say says said tell tells told claim claims claimed think thinks believe believes wrote "
                   "write writes argue argues argued suggest suggests suggested insist insists insisted "
                   "mention mentions mentioned swear swears swore reckon reckons")
# "I was told", "I heard", "I read somewhere": the writer reports what someone else said
HEARSAY = _stems("told heard read")
WRITER = frozenset({"i", "we", "you"})
# Who may "say" what the student asserts as evidence: the results, the documentation, the
# answer's own subject ("this tells us that ...", "Keras says ...").
EVIDENCE = _stems("it this that these which there doc docs documentation keras tensorflow tf api printout print "
                  "output outputs code result results experiment experiments lab notebook book textbook "
                  "lecture lectures slide slides note notes guide tutorial paper model layer lstm gru rnn "
                  "network shape shapes number numbers value values data formula equation definition "
                  "h c cell state states axis axes dimension dimensions dim first second third last row rows "
                  "column columns")
_ADVERBS = _stems("once also always just then earlier yesterday only even often")
_OBJECTS = frozenset({"me", "us", "him", "her", "them"})
# before a reporting verb, words that make it no report: "to say", "would say", "doesn't say"
_NOT_SPEAKERS = MODALS | NEGATORS | frozenset({"to", "doe", "do", "did", "can", "and", "or"})
_ACCORDING = stem("according")
_WH = frozenset({"how", "what", "which", "whi", "where", "when", "whether", "if", "who"})
# "tell" reports only to someone: "told me", "tells us that"
_TELL = _stems("tell tells told")
# Report verbs that point at what follows: "told me the following:", "said this:"
_FORWARD = _stems("following follows this these below")
# A claim's content stops at a word that starts a new claim of the writer's own
CONTENT_CUTS = _stems("but however although though whereas")

# Sentence rules.
QUESTION_OPENERS = frozenset({"is", "are", "doe", "do", "did", "what", "which", "how", "whi", "can", "could", "was",
                              "were", "will", "would", "should", "has", "have", "where", "when", "who", "ani"})
AUXILIARIES = frozenset({"is", "are", "doe", "do", "did", "can", "could", "was", "were", "will", "would", "should",
                         "has", "have"})
QUESTION_SUBJECTS = frozenset({"it", "they", "there", "this", "that", "these", "those"})
HEDGES = _stems("maybe perhaps possibly might could probably")
_LEAD = frozenset({",", "(", ")", "and", "but", "so", "now", "then", "also", "well", "ok", ":", "-", "a", "an", "the"})


@dataclass(frozen=True)
class Frame:
    """Where a rule applies: its own words (taken out before reading) and the claims it judges."""

    rule: str
    frame: tuple[int, int]  # token range of the rule's words
    content: tuple[int, int]  # token range whose claims take ``stance``
    stance: str


@dataclass
class Stances:
    tokens: list[Token]  # the answer's tokens, each frame replaced by one BOUNDARY token
    stance: list[str]  # per token of ``tokens``
    frames: list[Frame]  # what the rules found, in the original token indices


def sentences(keys: list[str]) -> list[tuple[int, int]]:
    """Token ranges of sentences, without their closing marks."""
    out, start = [], 0
    for i, k in enumerate(keys + ["."]):
        if k in SENTENCE_ENDS:
            if i > start:
                out.append((start, i))
            start = i + 1
    return out


# How far (in tokens) a rule looks back or ahead from the word that triggers it: every rule's
# work is linear in the answer's length (the longest clause in the corpora is under 40 tokens).
REACH = 40
# Hedged alternatives read per answer; the claims of any past these are not asserted at all.
MAX_ALTERNATIVES = 16


def _clause_start(keys: list[str], s: int, i: int) -> int:
    """Where the clause holding token i starts (within the sentence starting at s)."""
    j = i
    stop = max(s, i - REACH)
    while j > stop and keys[j - 1] not in (",", ":", "(", ")") and keys[j - 1] not in CONTENT_CUTS:
        j -= 1
    return j


def _skip(keys: list[str], i: int, end: int, words: frozenset[str]) -> int:
    while i < end and keys[i] in words:
        i += 1
    return i


def _polarity(words: list[str]) -> str | None:
    """DENIED or ASSERTED for an evaluation ("is not true", "a lie", "wrong"), None if it is none."""
    evals = [w for w in words if w in FALSE_WORDS or w in TRUE_WORDS]
    if len(evals) != 1:
        return None
    negative = (evals[0] in FALSE_WORDS) != (sum(w in NEGATORS for w in words) % 2 == 1)
    return DENIED if negative else ASSERTED


def retraction_before(keys: list[str], sents: list[tuple[int, int]]) -> list[Frame]:
    """"It is false that output is the last step", "It would be wrong to say h is the hidden
    state", "It's not true that ...": an evaluation of the clause after it."""
    out = []
    for s, e in sents:
        for v in range(s, e):
            if keys[v] not in FALSE_WORDS and keys[v] not in TRUE_WORDS:
                continue
            # back: [it/that/this] [would] [be] [not] [a/complete] EVAL
            j = v
            while j > max(s, v - REACH) and (keys[j - 1] in FILLER or keys[j - 1] in NEGATORS):
                j -= 1
            if not (j > s and keys[j - 1] in BE):
                continue
            j -= 1
            while j > s and keys[j - 1] in MODALS:
                j -= 1
            if not (j > s and keys[j - 1] in DEMONSTRATIVES) or _clause_start(keys, s, j - 1) != j - 1:
                continue
            begin = j - 1
            # forward: [to say] [that] [:]
            c = v + 1
            linked = False
            if c + 1 < e and keys[c] == "to" and keys[c + 1] in SAYING:
                c, linked = c + 2, True
            if c < e and keys[c] in ("that", ":"):
                c, linked = c + 1, True
            stance = _polarity(keys[begin:v + 1])
            if linked and c < e and stance is not None:
                out.append(Frame("retraction_before", (begin, c), (c, e), stance))
                break
    return out


_JUDGES = DEMONSTRATIVES | frozenset({"she", "he", "they", "you"})


def _evaluation(words: list[str]) -> str | None:
    """The stance of a clause that only evaluates ("which is false", "that's not true", "NOT",
    "just kidding", "and she is right"), or None when the clause says something else."""
    tail = [k for k in words if k not in ("but", "and", "!")]
    if tuple(tail) in JOKES:
        return DENIED
    rest = [k for k in tail if k not in _JUDGES and k not in BE and k not in FILLER]
    if not rest or not all(k in FALSE_WORDS or k in TRUE_WORDS or k in NEGATORS for k in rest):
        return None
    return _polarity(tail)


def evaluation_after(keys: list[str], sents: list[tuple[int, int]]) -> list[Frame]:
    """"output is the last step -- NOT.", "h is the hidden state (just kidding)", "output equals
    h, which is false", "output holds every step. That is wrong.": an evaluation that ends the
    sentence judges the clause before it (or, standing alone, the sentence before)."""
    out = []
    for n, (s, e) in enumerate(sents):
        tail_end = e
        while tail_end > s and keys[tail_end - 1] in (")", "!", "("):
            tail_end -= 1
        sep = max((i for i in range(s, tail_end) if keys[i] in (",", ":", "(")), default=None)
        start = s if sep is None else sep + 1
        stance = _evaluation(keys[start:tail_end])
        if stance is None:
            continue
        if sep is not None and sep > s:
            out.append(Frame("evaluation_after", (sep, e), (s, sep), stance))
        elif sep is None and n > 0:
            ps, pe = sents[n - 1]
            out.append(Frame("evaluation_after", (s, e), (ps, pe), stance))
    return out


def evaluation_before_colon(keys: list[str], sents: list[tuple[int, int]]) -> list[Frame]:
    """"The following is false: ...", "Every word of this is wrong: ...", "Wrong: output is every
    step": an evaluation ending in a colon judges what follows it (the rest of the answer when
    it names what follows, else the rest of the sentence)."""
    out = []
    for s, e in sents:
        colon = next((i for i in range(s, e) if keys[i] == ":"), None)
        if colon is None or colon == s:
            continue
        begin = _clause_start(keys, s, colon)
        head = keys[begin:colon]
        stance = _polarity(head)
        if stance is None or not any(k in FALSE_WORDS or k in TRUE_WORDS for k in head[-3:]):
            continue
        bare = all(k in FALSE_WORDS or k in TRUE_WORDS or k in NEGATORS or k in FILLER for k in head)
        end = e if bare else len(keys)
        out.append(Frame("evaluation_before_colon", (begin, colon + 1), (colon + 1, end), stance))
    return out


ENDORSING = _stems("agree believe")


def _judged_later(keys: list[str], start: int, end: int) -> str:
    """The stance a reported claim gets from what the writer says of it between ``start`` and
    ``end``: "but I think every word of it is wrong", "I don't believe it", "and she is right"."""
    words = keys[start:end]
    negated = any(w in NEGATORS for w in words)
    if any(w in FALSE_WORDS for w in words) or negated and any(w in TRUE_WORDS or w in ENDORSING for w in words):
        return DENIED
    if any(w in TRUE_WORDS or w in ENDORSING for w in words):
        return ASSERTED
    return UNASSERTED


def _is_report(keys: list[str], begin: int, v: int) -> bool:
    """Is the verb at v someone else's claim: "my friend says", "I was told", "I heard"?"""
    k = keys[v]
    p = v
    while p > max(begin, v - REACH) and keys[p - 1] in _ADVERBS:
        p -= 1
    speaker = keys[p - 1] if p > begin else ""
    if k in HEARSAY and p - 2 >= begin and keys[p - 1] in BE | {"have", "had"} and keys[p - 2] in WRITER:
        return True  # "I was told", "I have heard"
    if speaker in WRITER:  # "I think", "I told my friend": the writer's own; "I heard", "I read that": hearsay
        return k == "heard" or k == "read" and v + 1 < len(keys) and keys[v + 1] in ("that", "somewher", "onlin")
    if k not in REPORTING or not speaker or speaker in EVIDENCE or speaker in _NOT_SPEAKERS or speaker.isdigit() \
            or "as" in keys[begin:p]:
        return False  # evidence ("Keras says"), a verb's form ("wrong to say"), endorsed ("as my TA said")
    return True


def reported_speech(keys: list[str], sents: list[tuple[int, int]]) -> list[Frame]:
    """"A classmate told me the following, but I think every word of it is wrong and I do not
    believe it: ...", "My friend says output is h", "I was told that ...", "According to my
    friend, ...", "..., or so I heard": someone else's claim, not the writer's. Disavowed it is
    denied, endorsed ("and she is right") asserted, else unasserted. The documentation, the
    results and the answer's own subject are evidence, not hearsay ("Keras says", "this tells us")."""
    out = []
    for n, (s, e) in enumerate(sents):
        for v in range(s, e):
            if keys[v] not in REPORTING and keys[v] not in HEARSAY and keys[v] != _ACCORDING:
                continue
            begin = _clause_start(keys, s, v)
            if keys[v] == _ACCORDING and v + 1 < e and keys[v + 1] == "to":
                comma = next((i for i in range(v + 2, min(e, v + REACH)) if keys[i] == ","), None)
                if comma is not None and not any(w in EVIDENCE for w in keys[v + 2:comma]):
                    out.append(Frame("reported_speech", (begin, comma + 1), (comma + 1, e), UNASSERTED))
                    break
                continue
            if not _is_report(keys, begin, v):
                continue
            c = _skip(keys, v + 1, e, _OBJECTS | {"somewher", "onlin", "onc"})
            if c < e and (keys[c] in _WH or keys[v] in _TELL and c == v + 1 and keys[c] not in ("that", ":")):
                continue  # "the first axis tells how many ...", "tells the batch size": no one's claim
            if c >= e:
                # "output is h, or so my friend says": the clause before is theirs
                if begin > s:
                    out.append(Frame("reported_speech", (begin - 1, e), (s, begin - 1), UNASSERTED))
                break
            if keys[c] in _FORWARD or keys[c] == ":" or keys[c] == "the" and c + 1 < e and keys[c + 1] in _FORWARD:
                # "told me the following, but ...: <the rest of the answer>"
                colon = next((i for i in range(c, e) if keys[i] == ":"), None)
                frame_end = colon + 1 if colon is not None else e
                content_start = frame_end if colon is not None else (
                    sents[n + 1][0] if n + 1 < len(sents) else len(keys))
                out.append(Frame("reported_speech", (begin, frame_end), (content_start, len(keys)),
                                 _judged_later(keys, c, frame_end)))
                return out  # the rest of the answer is theirs
            if keys[c] == "that":
                c += 1
            cut = next((i for i in range(c, e) if keys[i] in CONTENT_CUTS), e)
            comma = max((i for i in range(c, cut) if keys[i] == ","), default=None)
            if comma is not None and _evaluation(keys[comma + 1:cut]) is not None:
                cut = comma  # "..., and she is right": the writer's judgement, not their claim
            # the writer's judgement: the rest of the sentence ("..., but that's wrong"), or a short
            # next sentence ("I don't believe it.")
            short_next = n + 1 < len(sents) and sents[n + 1][1] - sents[n + 1][0] <= 8
            judged = _judged_later(keys, cut, e) if cut < e else (
                _judged_later(keys, *sents[n + 1]) if short_next else UNASSERTED)
            out.append(Frame("reported_speech", (begin, c), (c, cut), judged))
            if cut < e and judged != UNASSERTED:
                out.append(Frame("reported_speech", (cut, e), (cut, cut), judged))  # the judgement itself
            break
    return out


# In order: a token taken by one rule's frame or content is not judged again by a later one.
FRAME_RULES: tuple[Callable[[list[str], list[tuple[int, int]]], list[Frame]], ...] = (
    reported_speech, evaluation_before_colon, retraction_before, evaluation_after)


def frame(tokens: list[Token]) -> Stances:
    """Find every frame, take its words out, and give each remaining token its stance."""
    keys = [t.key for t in tokens]
    sents = sentences(keys)
    frames: list[Frame] = []
    taken = [False] * len(tokens)
    for rule in FRAME_RULES:
        for f in rule(keys, sents):
            span = range(min(f.frame[0], f.content[0]), max(f.frame[1], f.content[1]))
            if any(taken[i] for i in span):
                continue
            for i in span:
                taken[i] = True
            frames.append(f)
    stance = [ASSERTED] * len(tokens)
    cut = [False] * len(tokens)
    for f in frames:
        for i in range(*f.content):
            stance[i] = f.stance
        for i in range(*f.frame):
            cut[i] = True
    out_tokens: list[Token] = []
    out_stance: list[str] = []
    for i, tok in enumerate(tokens):
        if cut[i]:
            if not (out_tokens and out_tokens[-1].key == BOUNDARY):
                out_tokens.append(Token(BOUNDARY, BOUNDARY, tok.start, tok.end, PUNCT))
                out_stance.append(ASSERTED)
            continue
        out_tokens.append(tok)
        out_stance.append(stance[i])
    return Stances(out_tokens, out_stance, frames)


def _sentences_with_marks(keys: list[str]) -> list[tuple[int, int, str]]:
    """Sentences as (start, end, the mark that closes them: "?", "." ... or "" at the end)."""
    out, start = [], 0
    for i, k in enumerate(keys):
        if k in SENTENCE_ENDS:
            if i > start:
                out.append((start, i, k))
            start = i + 1
    if start < len(keys):
        out.append((start, len(keys), ""))
    return out


def _opener(keys: list[str], s: int, e: int) -> int:
    return _skip(keys, s, e, _LEAD)


def questions(keys: list[str], entity_starts: set[int]) -> list[tuple[int, int]]:
    """"Is output the last step? Is h the hidden state?": a question asserts nothing. A sentence
    is a question when it ends with "?" and opens as one ("is", "what", "does" ...), or opens
    with an auxiliary and its subject, with or without the mark ("Is output the last step.").
    "c = cell?" opens as a statement: a tentative assertion, which the labelled corpus credits."""
    out = []
    for s, e, mark in _sentences_with_marks(keys):
        o = _opener(keys, s, e)
        if o >= e:
            continue
        subject = _skip(keys, o + 1, e, frozenset({"a", "an", "the"}))
        inverted = keys[o] in AUXILIARIES and subject < e and (
            subject in entity_starts or keys[subject] in QUESTION_SUBJECTS)
        if mark == "?" and keys[o] in QUESTION_OPENERS or inverted:
            out.append((s, e))
    return out


@dataclass(frozen=True)
class Alternative:
    """"maybe the last step of output is h, or maybe the first step", "either ... or", "c is the
    cell state ... maybe some constant?": two branches the writer hedges between. The second
    is read as a unit of its own, and an elided part is taken from the first ("the first
    step" [of output is h])."""

    group: int
    first: tuple[int, int]  # tokens of the first branch
    second: tuple[int, int]  # tokens of the second (its first token starts a claim unit)


def alternatives(keys: list[str]) -> list[Alternative]:
    """Every hedged pair of alternatives in the answer (see ``Alternative``): "or" after a hedge
    in its sentence or before one ("or maybe", "or it could be", "either A or B", "maybe A or B"),
    a sentence opening "Or maybe ...", and a second guess with no verb of its own ("..., maybe
    some constant")."""
    out: list[Alternative] = []
    sents = _sentences_with_marks(keys)
    for n, (s, e, _) in enumerate(sents):
        o = _opener(keys, s, e)
        if o < e and keys[o] == "or" and n > 0 and any(k in HEDGES for k in keys[o + 1:o + 4]):
            # "I think it is the hidden state? Or maybe the cell state."
            out.append(Alternative(len(out), sents[n - 1][:2], (o, e)))
            continue
        last_link = max((i for i in range(s, e) if keys[i] in _LINKING), default=-1)
        hedge_before = question_before = False  # kept as we go: each "or" looks back in O(1)
        for i in range(o, e):
            k = keys[i]
            if k == "or" and i > s and (hedge_before or any(x in HEDGES for x in keys[i + 1:i + 4])):
                a = _clause_start(keys, s, i - 1 if keys[i - 1] == "," else i)
                if keys[i - 1] == "," and a == i - 1:  # ", or": the clause before the comma
                    a = _clause_start(keys, s, i - 2)
                out.append(Alternative(len(out), (max(s, a), i), (i, e)))
                break
            if k in HEDGES and k != stem("probably") and i > o and keys[i - 1] in (",", "but") \
                    and last_link < i and not question_before:
                # "c I think is the cell state, maybe some constant": a second guess, no verb of its own
                # (after "whether ...", "if ...", the guess is about the question, not a claim)
                out.append(Alternative(len(out), (s, i), (i, e)))
                break
            hedge_before = hedge_before or k in HEDGES or k == "either"
            question_before = question_before or k in _WH - {"what"}
    return out


# A branch with one of these has a claim of its own, not an elided one.
_LINKING = frozenset({"is", "are", "was", "were", "be", "=", "mean", "repres", "contain", "hold", "has", "have"})
