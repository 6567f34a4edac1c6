"""The reader's own words: the function words it reads claims by (links, breaks, pronouns,
coordinators ...), as data. Keys are stems (``normalize.phrase_keys``: "carries" -> "carri").
The rubrics' words (entities and roles) live in the rubrics; these are the same for every
question. A rule of the reader names the list it reads, so a word is added here, not in a rule.
"""

from __future__ import annotations

from . import assertions
from .normalize import SKIP_KEYS

# Tokens that tie a subject to what follows it.
LINKS = frozenset({
    "is", "are", "was", "were", "be", "been", "becom", ":", "equals", "equal", "repres",
    "mean", "contain", "hold", "give", "store", "correspond", "denot", "indic", "refer",
    "describ", "has", "have", "had", "keep", "carri", "return", "act", "serv",
    "stand", "aka", "ie", "includ", "show", "=", "get", "print", "produc", "provid",
})
# An entity inside a formula ("o_t * tanh(c_t)") is an operand, not a claim.
FORMULA = frozenset({"tanh", "sigmoid", "sigma", "*", "softmax"})
# Words before an entity that make it part of the predicate, not a new subject:
# "out is what h is at each step", "same as h".
NOT_SUBJECT_BEFORE = frozenset({"what", "as", "like", "than", "of", "to", "with", "in", "from", "and", "or"})
PRONOUNS = frozenset({"it", "they", "this", "which", "that", "these", "those", "both", "thes"})
HARD_BREAKS = frozenset({".", "!", "?", ";", "\n", "|", assertions.BOUNDARY})
SOFT_BREAKS = frozenset({",", "/", "and", "but", "howev", "wherea", "while", "whilst", "so",
                         "becaus", "sinc", "therefor", "henc", "thus", "although", "though",
                         "which", "instead", "then", "yet", "bc", "b", "caus", "cuz"})
# Between coordinated entities: "output, h and c", "output as well as h".
COORDINATORS = frozenset({",", "and", "or", "&", "/", "as", "well", "plus", "nor"})
# What may stand between a subject and its link: "output (1, 3) is", "h now is".
BEFORE_LINK = frozenset({"(", ")", "[", "]", "onli", "just", "also", "still", "now", "alway", "basic", "realli",
                          "actual", "literal", "simpli", "essenti", "technic", "effect", "here"})
# Words an answer that only names an entity may also hold: "the output of the LSTM".
ALONE_FILLER = SKIP_KEYS | frozenset({"of", "lstm", "layer", "model", "it", "now", "return", "is", "just",
                                      "onli", "from", ".", "!", "the", "array", "tensor", "(", ")", ","})
HYPOTHETICAL = frozenset({"whether", "if", "unless"})
QUESTION_WORDS = frozenset({"is", "are", "doe", "do", "what", "which", "how", "whi", "can", "could", "was",
                            "were", "will", "would", "should", "ani", "if"})
YES = frozenset({"yes", "yeah", "yep", "yup", "ye", "true", "correct", "indeed"})
NO = frozenset({"no", "nope", "nah"})
# Words that may stand between a link and the entity it equates: "is exactly the same as h".
EQUATING = frozenset({"just", "exact", "simpli", "basic", "realli", "actual", "also", "again", "onli", "same",
                       "as", "to", "ident", "like", "what", "=", ":", "(", ")", ",", "literal", "itself",
                       "precis", "effect", "still", "now", "then", "alway", "equival", "ie", "i", "e", "aka",
                       "so", "its", "the", "that", "both", "too", "not"})
# Before a dimension's role, these make it a modifier of another: "features per time step".
MODIFYING = frozenset({"per", "each", "everi", "at", "in", "on", "for", "from", "over", "through", "across",
                        "/", "within", "by", "along", "to", "after", "befor", "until"})
# "the number of": words before a role that still make it the role's phrase
COUNT_WORDS = frozenset({"number", "amount", "count", "size", "of", "quantiti"})
# Words before a unit's first real word: "so now it ...".
LEAD = frozenset({",", "(", ")", "and", "but", "so", "now", "then", "basic", "also", "well", "ok", "still", ":",
                   "becaus", "sinc", "therefor", "henc", "thus", "wherea", "while", "although", "though", "yet",
                   "bc", "caus", "cuz"})
# Words that always start a new claim.
CLAUSE_CUTS = frozenset({"but", "howev", "wherea", "while", "whilst", "so", "becaus", "sinc", "therefor", "whether",
                         "henc", "thus", "although", "though", "which", "instead", "yet", "bc", "caus", "cuz"})
# Function words: a unit with none of them and many mentions is a keyword list, not a claim.
FUNCTION = LINKS | SKIP_KEYS | frozenset({
    "and", "or", "not", "no", "for", "in", "on", "at", "with", "by", "it", "they", "this", "that",
    "there", "its", "their", "each", "everi", "all", "onli", "just", "per", "so", "what", "which",
    "one", "both", "also", "we", "of", "=", "(", ")", "but", "becaus", "sinc", "now", "anymor",
    "into", "from", "to", "as", "than", "instead",
})
LIST_MIN_MENTIONS = 4
# What may stand between a comma and the entity that opens the next claim: "(2) h = ...".
FILLER = SKIP_KEYS | frozenset({"1", "2", "3", "and", "then", "while", "finally", "also", "last", "lastli"})
MAX_GAP = 2  # tokens a multi-word phrasing may skip ("each of the 8 steps")
# An entity's words may only be split by these: "the last of the 8 rows", "the last row (t=8) of output".
ENTITY_GAP_WORDS = frozenset({"of", "8", "3", "(", ")", "its", "in"})
# The only words such a gap may hold.
GAP_WORDS = frozenset({"of", "8", "3", "all", "its", "their", "lstm", "gru", "layer", "model", "see",
                       "read", "process", "go", "through", "the", "these", "those", "sequenc", "input", "it", "we",
                       "(", ")", "[", "]", "has", "have", "keep", "carri", "use"})

# How far past a comma or bracket the cutter looks for the entities and link of a new claim
# ("(2) h and c are ..."); the longest such opening in the corpora is under ten tokens.
LOOKAHEAD = 24
# What may join the roles of a dimension list: "(batch, time, features)", "samples x time x features".
TUPLE_GLUE = frozenset({",", "x", "|", "/", "(", ")", "[", "]", "then", "by", ":", "*", "\n", ";", "-"})
SEPARATORS = frozenset({",", "x", "|", "/", "*", "then", "by", ";", "\n", "-", "]"})
# Words that are a verb as well as a rubric's name for something: "carry" is Keras' name for the
# cell state, but "the layer carries h forward" is the verb and names nothing. They name the
# thing only where the answer uses the bare word as a name ("the carry", "c = carry",
# "carry/cell state"); a verb's form ("carries", "carried", "carrying"), or a subject or an
# auxiliary right before the bare word ("the LSTM carry it", "don't carry", "to carry"), makes it
# the verb (reading.py, rule verb-not-name). Only "carry" is a rubric's word today; "hold" and
# "keep" are here for the rubric that makes them one ("what the cell holds").
VERB_NAMES = frozenset({"carri", "hold", "keep"})
VERB_ENDINGS = ("s", "ed", "ing")
VERB_BEFORE = frozenset({"it", "they", "we", "you", "i", "which", "that", "who", "to", "not", "do", "doe", "did",
                         "can", "could", "will", "would", "must", "should", "may", "might", "onli", "also", "still",
                         "alway", "just"})
