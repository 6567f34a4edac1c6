"""A second reader of written answers: a learned model that points a TA at the engine's likely mistakes.

The claim engine (``grading``) grades; this reader only *flags*. Per question it turns an answer
into character 2-5 and word 1-2 n-grams (TF-IDF) and, per concept, a logistic regression trained
on answers labelled per concept (the calibration corpus's train, dev, round 4 and round 5 rows,
and a TA's review decisions) gives the probability that the answer earns the concept. Where it and the engine
disagree, each is right about half the time, so a disagreement is a reason for a person to look,
never a grade (``review.flags``).

It is a TA tool: scikit-learn (pinned in ``requirements-dev.txt``) is imported only when a reader
is trained or loaded, and the Gradescope zip's grading never imports this module. Training is
deterministic (same rows, same file). A trained reader is saved as one ``.npz`` file (arrays and
a JSON header, read back with ``allow_pickle=False``: loading a reader runs no code from the file),
stamped with ``FORMAT`` and the writers it was trained on, so that an evaluation can refuse rows
by those writers.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .rubric import QUESTIONS, load_rubric

FORMAT = "second-reader/1"
REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "tests" / "calibration" / "labelled"  # a checkout's labelled corpus (not in the zip)
DEFAULT_MODEL = REPO / "build" / "second_reader.npz"
# Rounds 4 and 5 were measured once, frozen, with a reader that had not seen them; since then they
# teach it. The frozen test split and round 6 are never trained on.
TRAIN_SPLITS = ("train", "dev", "round4", "round5")

# Chosen by leave-one-writer-out cross-validation on the corpus's train and dev rows (rounds 2
# and 3, graded by the engine release that had not seen them): C between 3 and 30 changes the
# reviewed agreement by 0.2 points; 10 is in the middle.
CHAR_NGRAMS = (2, 5)
WORD_NGRAMS = (1, 2)
C = 10.0
MIN_DF = 2  # character n-grams seen in one answer only are noise and most of the file's size


class ReaderError(ValueError):
    """A second reader cannot be trained, loaded or used; the message says what to do."""


def _sklearn() -> Any:
    try:
        import sklearn  # noqa: F401
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
    except ImportError:
        raise ReaderError(
            "scikit-learn is not installed: the second reader is a TA tool, installed with the project's "
            "environment (make venv, or pip install -r requirements-dev.txt)"
        ) from None
    return TfidfVectorizer, LogisticRegression


@dataclass(frozen=True)
class Example:
    """One answer with the concepts a person decided (a subset of the question's is fine)."""

    question: str
    answer: str
    labels: dict[str, int]
    writer: str = ""  # who wrote it, for evaluating on writers never trained on ("" unknown)


def corpus_examples(paths: Iterable[Path] | None = None, splits: Sequence[str] = TRAIN_SPLITS) -> list[Example]:
    """The labelled corpus's rows of ``splits`` (default: every ``w*.jsonl`` of ``CORPUS``)."""
    files = sorted(CORPUS.glob("w*.jsonl")) if paths is None else list(paths)
    if not files:
        raise ReaderError(f"no labelled answers found (looked for {CORPUS}/w*.jsonl): run from a checkout")
    out = []
    for path in files:
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            if row.get("split") in splits and isinstance(row.get("labels"), dict):
                out.append(Example(row["question"], row["answer"], dict(row["labels"]), row.get("writer", "")))
    return out


def decision_examples(lines: Iterable[str]) -> list[Example]:
    """A review app's ``decisions.jsonl`` as examples: the last decision per answer text and concept."""
    last: dict[tuple[str, str, str], int] = {}
    for line in lines:
        if not line.strip():
            continue
        row = json.loads(line)
        if row.get("question") in QUESTIONS and isinstance(row.get("answer"), str) and isinstance(
                row.get("given"), bool) and isinstance(row.get("concept"), str):
            last[(row["question"], row["answer"], row["concept"])] = int(row["given"])
    by_answer: dict[tuple[str, str], dict[str, int]] = {}
    for (question, answer, concept), given in last.items():
        by_answer.setdefault((question, answer), {})[concept] = given
    return [Example(q, a, labels, "review") for (q, a), labels in by_answer.items()]


def merge(corpus: list[Example], decisions: list[Example]) -> list[Example]:
    """Corpus rows with a TA's decisions on the same answer text taking precedence, then the rest of the decisions."""
    decided = {(e.question, e.answer): e.labels for e in decisions}
    out = [Example(e.question, e.answer, {**e.labels, **decided.get((e.question, e.answer), {})}, e.writer)
           for e in corpus]
    seen = {(e.question, e.answer) for e in corpus}
    return out + [e for e in decisions if (e.question, e.answer) not in seen]


@dataclass
class _QuestionModel:
    char_vocab: list[str]
    char_idf: np.ndarray
    word_vocab: list[str]
    word_idf: np.ndarray
    concepts: list[str]
    coef: np.ndarray  # (concepts, features)
    intercept: np.ndarray  # (concepts,)
    constant: dict[str, float] = field(default_factory=dict)  # a concept every training row agreed on
    _vectorizers: Any = None

    def vectorizers(self) -> tuple[Any, Any]:
        """The character and word TF-IDF vectorizers, rebuilt from the saved vocabularies on first use."""
        if self._vectorizers is None:
            tfidf, _ = _sklearn()
            char = _vectorizer(tfidf, "char", {t: i for i, t in enumerate(self.char_vocab)}, self.char_idf)
            word = _vectorizer(tfidf, "word", {t: i for i, t in enumerate(self.word_vocab)}, self.word_idf)
            self._vectorizers = (char, word)
        return self._vectorizers

    def features(self, answers: Sequence[str]) -> Any:
        """The answers' character and word TF-IDF features side by side, one sparse row per answer."""
        from scipy.sparse import hstack

        char, word = self.vectorizers()
        return hstack([char.transform(answers), word.transform(answers)]).tocsr()


def _vectorizer(tfidf: Any, kind: str, vocabulary: dict[str, int] | None = None, idf: np.ndarray | None = None) -> Any:
    options: dict[str, Any] = {"sublinear_tf": True, "lowercase": True, "dtype": np.float64}
    if kind == "char":
        options.update(analyzer="char_wb", ngram_range=CHAR_NGRAMS, min_df=MIN_DF)
    else:
        options.update(analyzer="word", ngram_range=WORD_NGRAMS, token_pattern=r"(?u)\b\w+\b")
    if vocabulary is None:
        return tfidf(**options)
    options.pop("min_df", None)
    vec = tfidf(vocabulary=vocabulary, **options)
    vec.idf_ = idf  # a fitted vectorizer's state is its vocabulary and idf
    return vec


class SecondReader:
    """Per question and concept, the probability that an answer earns the concept."""

    def __init__(self, questions: dict[str, _QuestionModel], writers: Sequence[str], digest: str):
        self.questions = questions
        self.writers = tuple(sorted(set(writers)))  # trained on: never evaluate on them
        self.digest = digest  # of the training rows, so a stale file is noticed

    # -- training -------------------------------------------------------------------------------

    @classmethod
    def train(cls, examples: Sequence[Example]) -> SecondReader:
        """Fit one reader on ``examples`` (deterministic: the same rows give the same reader)."""
        tfidf, logistic = _sklearn()
        examples = sorted(examples, key=lambda e: (e.question, e.answer, e.writer))
        questions = {}
        for question in QUESTIONS:
            rows = [e for e in examples if e.question == question]
            if not rows:
                continue
            texts = [e.answer for e in rows]
            char, word = _vectorizer(tfidf, "char"), _vectorizer(tfidf, "word")
            char.fit(texts)
            word.fit(texts)
            model = _QuestionModel(
                char_vocab=list(char.get_feature_names_out()), char_idf=char.idf_.astype(np.float64),
                word_vocab=list(word.get_feature_names_out()), word_idf=word.idf_.astype(np.float64),
                concepts=[], coef=np.zeros((0, 0)), intercept=np.zeros(0),
            )
            model._vectorizers = (char, word)
            features = model.features(texts)
            coefs, intercepts = [], []
            for concept in (c.id for c in load_rubric(question).concepts):
                known = [i for i, e in enumerate(rows) if concept in e.labels]
                y = np.array([int(bool(rows[i].labels[concept])) for i in known])
                if not len(known):
                    continue
                model.concepts.append(concept)
                if y.min() == y.max():  # nothing to learn: every decision agreed
                    model.constant[concept] = float(y[0])
                    coefs.append(np.zeros(features.shape[1]))
                    intercepts.append(0.0)
                    continue
                fit = logistic(C=C, max_iter=5000).fit(features[known], y)
                coefs.append(fit.coef_[0])
                intercepts.append(float(fit.intercept_[0]))
            model.coef = np.array(coefs, dtype=np.float32).reshape(len(model.concepts), features.shape[1])
            model.intercept = np.array(intercepts, dtype=np.float64)
            questions[question] = model
        return cls(questions, [e.writer for e in examples if e.writer], _digest(examples))

    # -- use ------------------------------------------------------------------------------------

    def probabilities(self, question: str, answers: Sequence[str]) -> list[dict[str, float]]:
        """For each answer, concept id -> probability that a TA gives it."""
        model = self.questions.get(question)
        if model is None:
            return [{} for _ in answers]
        scores = model.features(list(answers)) @ model.coef.T.astype(np.float64) + model.intercept
        probs = 1.0 / (1.0 + np.exp(-np.asarray(scores)))
        out = []
        for row in probs:
            p = {c: float(v) for c, v in zip(model.concepts, row, strict=True)}
            p.update(model.constant)
            out.append(p)
        return out

    def probability(self, question: str, answer: str) -> dict[str, float]:
        """For one answer, concept id -> probability that a TA gives it."""
        return self.probabilities(question, [answer])[0]

    # -- file -----------------------------------------------------------------------------------

    def save(self, path: Path) -> None:
        """One ``.npz``: a JSON header (format, writers, digest, vocabularies) and the arrays."""
        header: dict[str, Any] = {"format": FORMAT, "writers": list(self.writers), "digest": self.digest,
                                  "questions": {}}
        arrays: dict[str, np.ndarray] = {}
        for q, m in self.questions.items():
            header["questions"][q] = {"char_vocab": m.char_vocab, "word_vocab": m.word_vocab,
                                      "concepts": m.concepts, "constant": m.constant}
            arrays[f"{q}.char_idf"] = m.char_idf
            arrays[f"{q}.word_idf"] = m.word_idf
            arrays[f"{q}.coef"] = m.coef
            arrays[f"{q}.intercept"] = m.intercept
        arrays["header"] = np.frombuffer(json.dumps(header, sort_keys=True).encode("utf-8"), dtype=np.uint8)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **arrays)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> SecondReader:
        """Read a trained second reader from ``path``; ``ReaderError`` saying to train one if the file is
        missing, of another format or not a second reader file.
        """
        try:
            with np.load(path, allow_pickle=False) as data:
                header = json.loads(bytes(data["header"]).decode("utf-8"))
                if header.get("format") != FORMAT:
                    raise ReaderError(f"{path} is a {header.get('format')!r} file, not {FORMAT}: train it again "
                                      "(python -m autograder.freetext train)")
                questions = {}
                for q, h in header["questions"].items():
                    questions[q] = _QuestionModel(
                        char_vocab=h["char_vocab"], char_idf=data[f"{q}.char_idf"], word_vocab=h["word_vocab"],
                        word_idf=data[f"{q}.word_idf"], concepts=h["concepts"], coef=data[f"{q}.coef"],
                        intercept=data[f"{q}.intercept"], constant=h.get("constant", {}),
                    )
        except FileNotFoundError:
            raise ReaderError(f"{path} does not exist: train a second reader first "
                              "(python -m autograder.freetext train)") from None
        except (OSError, ValueError, KeyError) as e:
            if isinstance(e, ReaderError):
                raise
            raise ReaderError(f"{path} is not a second reader file ({e}): train it again") from None
        return cls(questions, header.get("writers", []), header.get("digest", ""))


def _digest(examples: Sequence[Example]) -> str:
    h = hashlib.sha256()
    h.update(FORMAT.encode())
    for e in examples:
        h.update(json.dumps([e.question, e.answer, sorted(e.labels.items())]).encode("utf-8"))
    return h.hexdigest()[:16]


def train_default(decisions: Iterable[str] = ()) -> SecondReader:
    """A reader of the corpus's ``TRAIN_SPLITS`` rows, with a TA's decisions (``decisions.jsonl`` lines) on top."""
    return SecondReader.train(merge(corpus_examples(), decision_examples(decisions)))


def training_digest(decisions: Iterable[str] = ()) -> str:
    """The digest a reader trained on today's corpus and these decisions has (cheap: no training, no scikit-learn)."""
    examples = merge(corpus_examples(), decision_examples(decisions))
    return _digest(sorted(examples, key=lambda e: (e.question, e.answer, e.writer)))


def load_or_train(path: Path = DEFAULT_MODEL, decisions: Iterable[str] = ()) -> SecondReader:
    """The reader saved at ``path`` if it was trained on today's rows, else a new one (saved there)."""
    decisions = list(decisions)
    examples = merge(corpus_examples(), decision_examples(decisions))
    if path.is_file():
        try:
            reader = SecondReader.load(path)
            if reader.digest == training_digest(decisions):
                return reader
        except ReaderError:
            pass
    reader = SecondReader.train(examples)
    reader.save(path)
    return reader


class HeldOut:
    """Second readers for evaluation, each never trained on the writer (or the answer) it reads.

    A row by a writer of the corpus is read by a reader trained on every other writer's train and
    dev rows; a row by anyone else (a new round, a TA's own set) by one trained on all of them,
    minus any identical answer. Readers are trained on first use and kept for the run.
    """

    def __init__(self, evaluated: Iterable[tuple[str, str]] = (), examples: Sequence[Example] | None = None):
        held_out = set(evaluated)  # (question, answer) of the rows being evaluated
        rows = corpus_examples() if examples is None else examples
        self.examples = [e for e in rows if (e.question, e.answer) not in held_out]
        self.writers = {e.writer for e in self.examples if e.writer}
        self._readers: dict[str, SecondReader] = {}

    def reader_for(self, writer: str) -> SecondReader:
        """The reader for rows by ``writer``: trained on every other writer (all of them, for a new writer)."""
        key = writer if writer in self.writers else ""
        if key not in self._readers:
            self._readers[key] = SecondReader.train([e for e in self.examples if not key or e.writer != key])
        return self._readers[key]
