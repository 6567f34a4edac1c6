"""Agreement between the engine and human labels: full / partial / none per answer and, for rows
labelled per concept (``labels``: concept id -> 0/1, as in ``tests/calibration/labelled``), per
concept with false credit (the engine gives a concept the label withholds) and missed credit."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from .grading import grade_answer, read_answer
from .rubric import QUESTIONS

LABELS = ("full", "partial", "none")


class InputError(ValueError):
    """A line of user input cannot be used; the message says why and what to do."""


def label_for(score: float, max_score: float) -> str:
    if score >= max_score:
        return "full"
    return "none" if score <= 0 else "partial"


def parse_line(line: str, lineno: int, need_expect: bool = False) -> dict:
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
    # confidence threshold -> (label, grade) pairs once a TA decided every concept below it,
    # and how many concepts that was (the review app shows the least confident first)
    after_review: dict[float, list[tuple[str, str]]] = field(default_factory=lambda: defaultdict(list))
    reviewed: Counter = field(default_factory=Counter)

    @property
    def all_pairs(self) -> list[tuple[str, str]]:
        return [p for ps in self.pairs.values() for p in ps]

    def accuracy(self, pairs: list[tuple[str, str]] | None = None) -> float:
        pairs = self.all_pairs if pairs is None else pairs
        return sum(a == b for a, b in pairs) / len(pairs) if pairs else 0.0


# A verdict's confidence is 0.6 where the answer talks about the concept without the key's claim
# and 0.85 where a misconception cancelled it (``verdicts.judge``).
REVIEW_THRESHOLDS = (0.7, 0.9)


def calibrate(lines: list[str], split: str | None = None) -> Report:
    """Grade every labelled row (only those of ``split`` when given) and compare."""
    report = Report()
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        row = parse_line(line, lineno, need_expect=True)
        if split is not None and row.get("split") != split:
            continue
        g = grade_answer(row["question"], row.get("answer"))
        got = label_for(g.score, g.max_score)
        pair = (row["expect"], got)
        report.pairs[row["question"]].append(pair)
        report.splits[str(row.get("split", "dev"))].append(pair)
        info = {"line": lineno, **row, "got": got, "score": g.score, "max_score": g.max_score,
                "found": g.found, "missing": g.missing,
                "claims": read_answer(row["question"], row.get("answer"))}
        labels = row.get("labels") if isinstance(row.get("labels"), dict) else {}
        info["labels"] = labels
        for concept in g.concepts:
            if concept.id in labels:
                given, labelled = bool(concept.found), bool(labels[concept.id])
                outcome = "agree" if given == labelled else ("false_credit" if given else "missed_credit")
                report.concepts[(row["question"], concept.id)][outcome] += 1
        if labels and all(c.id in labels for c in g.concepts):
            for threshold in REVIEW_THRESHOLDS:
                below = [c for c in g.concepts if c.confidence < threshold]
                score = sum(c.points for c in g.concepts if (
                    bool(labels[c.id]) if c.confidence < threshold else c.found))
                report.after_review[threshold].append((row["expect"], label_for(score, g.max_score)))
                report.reviewed[threshold] += len(below)
        if pair[0] != pair[1]:
            report.disagreements.append(info)
        if row["expect"] == "none" and g.score > g.max_score / 3:
            report.over_third.append(info)
        if row["expect"] == "full" and g.score < g.max_score / 2:
            report.under_half.append(info)
    return report


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


def load(*paths: str | Path, split: str | None = None) -> Report:
    """``calibrate`` over the lines of every file in ``paths``, in order."""
    lines = [line for path in paths for line in Path(path).read_text(encoding="utf-8").splitlines()]
    return calibrate(lines, split)


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
    for threshold, pairs in sorted(report.after_review.items()):
        out.append(f"a TA deciding the concepts below confidence {threshold:g} "
                   f"({report.reviewed[threshold]} of {total}, {report.reviewed[threshold] / total:.0%}): "
                   f"agreement {report.accuracy(pairs):.1%}")
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
