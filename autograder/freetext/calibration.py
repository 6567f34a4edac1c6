"""Agreement between the engine and human labels: full / partial / none per answer and, for rows
labelled per concept (``labels``: concept id -> 0/1, as in ``tests/calibration/labelled``), per
concept with false credit (the engine gives a concept the label withholds) and missed credit."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .grading import GradeResult, grade_answer, read_answer
from .review import POLICY, flags, group_key
from .rubric import QUESTIONS

LABELS = ("full", "partial", "none")


class InputError(ValueError):
    """A line of user input cannot be used; the message says why and what to do."""


def label_for(score: float, max_score: float) -> str:
    """The label (``full``, ``partial`` or ``none``) a score of ``max_score`` points stands for."""
    if score >= max_score:
        return "full"
    return "none" if score <= 0 else "partial"


def parse_line(line: str, lineno: int, need_expect: bool = False) -> dict:
    """One JSON line of a labelled file as a dict; ``InputError`` naming the line if it is not an object for a
    known question (or, with ``need_expect``, has no valid ``expect`` label).
    """
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InputError(f"line {lineno}: not valid JSON ({exc.msg}); "
                         'write one object per line like {"question": "q2", "answer": "..."}') from None
    if not isinstance(row, dict):
        raise InputError(f"line {lineno}: expected a JSON object with 'question' and 'answer'")
    if row.get("question") not in QUESTIONS:
        raise InputError(f"line {lineno}: unknown question {row.get('question')!r}; "
                         f"use one of {', '.join(QUESTIONS)}")
    if need_expect and row.get("expect") not in LABELS:
        raise InputError(f"line {lineno}: 'expect' must be one of {', '.join(LABELS)}, "
                         f"got {row.get('expect')!r}")
    return row


def cohen_kappa(pairs: list[tuple[str, str]]) -> float:
    """Cohen's kappa for (expected, predicted) label pairs."""
    n = len(pairs)
    if n == 0:
        return 0.0
    observed = sum(a == b for a, b in pairs) / n
    ca = Counter(a for a, _ in pairs)
    cb = Counter(b for _, b in pairs)
    expected = sum(ca[k] * cb[k] for k in LABELS) / (n * n)
    return 1.0 if expected == 1 else (observed - expected) / (1 - expected)


@dataclass
class Report:
    pairs: dict[str, list[tuple[str, str]]] = field(default_factory=lambda: defaultdict(list))
    splits: dict[str, list[tuple[str, str]]] = field(default_factory=lambda: defaultdict(list))
    disagreements: list[dict] = field(default_factory=list)
    over_third: list[dict] = field(default_factory=list)  # labelled none, > 1/3 of points
    under_half: list[dict] = field(default_factory=list)  # labelled full, < 1/2 of points
    # (question, concept id) -> counts of "agree", "false_credit", "missed_credit"
    concepts: dict[tuple[str, str], Counter] = field(default_factory=lambda: defaultdict(Counter))
    # a way of choosing what a TA reviews -> what deciding those concepts as the labels do buys
    reviews: dict[str, ReviewOutcome] = field(default_factory=dict)
    engine_errors: Counter = field(default_factory=Counter)  # "false_credit" / "missed_credit" concepts

    @property
    def submissions(self) -> int:
        """Submissions the rows stand for: a submission answers every question once."""
        return max((len(ps) for ps in self.pairs.values()), default=0)

    @property
    def all_pairs(self) -> list[tuple[str, str]]:
        """The label pairs of every question, in one list."""
        return [p for ps in self.pairs.values() for p in ps]

    def accuracy(self, pairs: list[tuple[str, str]] | None = None) -> float:
        """The share of ``pairs`` (default: all) whose two labels agree; 0.0 when there are none."""
        pairs = self.all_pairs if pairs is None else pairs
        return sum(a == b for a, b in pairs) / len(pairs) if pairs else 0.0


@dataclass
class ReviewOutcome:
    """What a review that decides some concepts as the labels do buys, over a labelled set."""

    pairs: list[tuple[str, str]] = field(default_factory=list)  # (label, grade after the review)
    reviewed: int = 0  # concepts a TA decides
    groups: set = field(default_factory=set)  # answer groups those fall into (one decision each)
    caught: Counter = field(default_factory=Counter)  # engine errors among the reviewed, by kind


# A verdict's confidence is 0.6 where the answer talks about the concept without the key's claim
# and 0.85 where a misconception cancelled it (``verdicts.judge``).
REVIEW_THRESHOLDS = (0.7, 0.9)
SECOND_READER = "second reader"


def _review(report: Report, name: str, row: dict, g: GradeResult, labels: dict, chosen: set[str],
            claims: list[str]) -> None:
    outcome = report.reviews.setdefault(name, ReviewOutcome())
    score = sum(c.points for c in g.concepts if (bool(labels[c.id]) if c.id in chosen else c.found))
    outcome.pairs.append((row["expect"], label_for(score, g.max_score)))
    outcome.reviewed += len(chosen)
    for c in g.concepts:
        if c.id in chosen:
            outcome.groups.add(group_key(row["question"], c, claims))
            if bool(c.found) != bool(labels[c.id]):
                outcome.caught["false_credit" if c.found else "missed_credit"] += 1


def calibrate(lines: list[str], split: str | None = None, second_reader: bool = False) -> Report:
    """Grade every labelled row (only those of ``split`` when given) and compare.

    With ``second_reader``, the report also says what a review of the concepts a second reader flags
    buys; each row is read by a second reader never trained on its writer or its answer
    (``second_reader.HeldOut``: needs scikit-learn).
    """
    report = Report()
    rows = []
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        row = parse_line(line, lineno, need_expect=True)
        if split is not None and row.get("split") != split:
            continue
        rows.append((lineno, row))
    held_out = None
    if second_reader:
        from .second_reader import HeldOut

        held_out = HeldOut(evaluated={(row["question"], str(row.get("answer") or "")) for _, row in rows})
    for lineno, row in rows:
        g = grade_answer(row["question"], row.get("answer"))
        got = label_for(g.score, g.max_score)
        pair = (row["expect"], got)
        report.pairs[row["question"]].append(pair)
        report.splits[str(row.get("split", "dev"))].append(pair)
        info = {"line": lineno, **row, "got": got, "score": g.score, "max_score": g.max_score,
                "found": g.found, "missing": g.missing,
                "claims": read_answer(row["question"], row.get("answer"))}
        info["labels"] = labels = row.get("labels") if isinstance(row.get("labels"), dict) else {}
        _per_concept(report, row, g, labels, info["claims"], held_out)
        if pair[0] != pair[1]:
            report.disagreements.append(info)
        if row["expect"] == "none" and g.score > g.max_score / 3:
            report.over_third.append(info)
        if row["expect"] == "full" and g.score < g.max_score / 2:
            report.under_half.append(info)
    return report


def _per_concept(report: Report, row: dict, g: GradeResult, labels: dict, claims: list[str], held_out: Any) -> None:
    """Concept-level agreement, and what each way of choosing concepts for review buys on this row."""
    for concept in g.concepts:
        if concept.id in labels:
            given, labelled = bool(concept.found), bool(labels[concept.id])
            outcome = "agree" if given == labelled else ("false_credit" if given else "missed_credit")
            report.concepts[(row["question"], concept.id)][outcome] += 1
    if not labels or not all(c.id in labels for c in g.concepts):
        return
    for c in g.concepts:
        if bool(c.found) != bool(labels[c.id]):
            report.engine_errors["false_credit" if c.found else "missed_credit"] += 1
    for threshold in REVIEW_THRESHOLDS:
        chosen = {c.id for c in g.concepts if c.confidence < threshold}
        _review(report, f"confidence below {threshold:g}", row, g, labels, chosen, claims)
    if held_out is not None:
        reader = held_out.reader_for(str(row.get("writer", "")))
        probabilities = reader.probability(row["question"], str(row.get("answer") or ""))
        chosen = {f.concept for f in flags(g, probabilities, POLICY)}
        _review(report, SECOND_READER, row, g, labels, chosen, claims)


def calibrate_decisions(lines: list[str]) -> Report:
    """A TA's review decisions (``OUT/review/decisions.jsonl``) as labelled rows: each says whether
    one concept is earned by one answer text. The last decision per answer and concept counts;
    the report has concept-level agreement and disagreements (there is no answer-level label)."""
    last: dict[tuple[str, str, str, str], dict] = {}
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        row = parse_line(line, lineno)
        if not isinstance(row.get("concept"), str) or not isinstance(row.get("given"), bool):
            raise InputError(f"line {lineno}: a decision needs 'concept' and 'given' (true/false); "
                             "pass the decisions.jsonl the review app wrote")
        last[(row["question"], row["concept"], str(row.get("answer", "")), str(row.get("file", "")))] = {
            **row, "line": lineno}
    report = Report()
    for (question, concept, answer, _), row in last.items():
        g = grade_answer(question, answer)
        try:
            result = g.concept(concept)
        except KeyError:
            raise InputError(f"line {row['line']}: {question} has no concept {concept!r}") from None
        given, labelled = bool(result.found), row["given"]
        outcome = "agree" if given == labelled else ("false_credit" if given else "missed_credit")
        report.concepts[(question, concept)][outcome] += 1
        if given != labelled:
            report.disagreements.append({
                "line": row["line"], "question": question, "answer": answer, "expect": "given" if labelled
                else "withheld", "got": "given" if given else "withheld", "score": g.score, "max_score": g.max_score,
                "found": g.found, "missing": g.missing, "labels": {concept: int(labelled)},
                "claims": read_answer(question, answer), "comment": row.get("comment", ""),
            })
    return report


def load(*paths: str | Path, split: str | None = None, second_reader: bool = False) -> Report:
    """``calibrate`` over the lines of every file in ``paths``, in order."""
    lines = [line for path in paths for line in Path(path).read_text(encoding="utf-8").splitlines()]
    return calibrate(lines, split, second_reader)


def format_report(report: Report, verbose: bool = True) -> str:
    """Agreement per question, per split, per concept; with ``verbose`` every disagreement too."""
    out = ["question  n    accuracy  kappa"]
    for q in QUESTIONS:
        ps = report.pairs.get(q, [])
        if ps:
            out.append(f"{q:<9} {len(ps):<4} {report.accuracy(ps):8.1%}  {cohen_kappa(ps):5.2f}")
    ps = report.all_pairs
    if ps:
        out.append(f"{'overall':<9} {len(ps):<4} {report.accuracy(ps):8.1%}  {cohen_kappa(ps):5.2f}")
    else:
        out.append("(no answer-level labels: concept-level agreement only)")
    if len(report.splits) > 1:
        for name, sp in sorted(report.splits.items()):
            out.append(f"split {name:<10} n={len(sp):<4} accuracy {report.accuracy(sp):.1%}  "
                       f"kappa {cohen_kappa(sp):.2f}")
    if report.concepts:
        out.append("")
        out.append("question  concept                   n    agree   false credit  missed credit")
        for (q, cid), counts in sorted(report.concepts.items(), key=lambda item: (QUESTIONS.index(item[0][0]),)):
            n = sum(counts.values())
            out.append(f"{q:<9} {cid:<24} {n:<4} {counts['agree'] / n:6.1%}   {counts['false_credit']:>12}"
                       f"  {counts['missed_credit']:>13}")
    total = sum(sum(c.values()) for c in report.concepts.values())
    if report.reviews:
        out.append("")
        out.append(f"what a review buys, a TA deciding the chosen concepts as the labels do ({report.submissions} "
                   f"submissions; the engine's errors: {report.engine_errors['false_credit']} false credit, "
                   f"{report.engine_errors['missed_credit']} missed credit):")
    for name, outcome in report.reviews.items():
        per_100 = 100 * len(outcome.groups) / report.submissions if report.submissions else 0.0
        out.append(f"  {name}: {outcome.reviewed} of {total} concepts ({outcome.reviewed / total:.0%}), "
                   f"{len(outcome.groups)} answer groups ({per_100:.0f} per 100 submissions): "
                   f"agreement {report.accuracy(outcome.pairs):.1%}; catches {outcome.caught['false_credit']} "
                   f"false and {outcome.caught['missed_credit']} missed credit")
    out.append(f"labelled none but scored over a third: {len(report.over_third)}")
    out.append(f"labelled full but scored under half: {len(report.under_half)}")
    out.append(f"disagreements: {len(report.disagreements)}")
    if not verbose:
        return "\n".join(out)
    for d in report.disagreements:
        labelled = f" labels={d['labels']}" if d["labels"] else ""
        out.append(f"  line {d['line']} {d['question']} expect={d['expect']} got={d['got']} "
                   f"score={d['score']:g}/{d['max_score']:g} found={d['found']} "
                   f"missing={d['missing']}{labelled}\n    answer: {d['answer']!r}"
                   + (f"\n    claims read: {'; '.join(d['claims'])}" if d["claims"] else ""))
    return "\n".join(out)
