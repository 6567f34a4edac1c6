"""The review app: a local web page over a batch grading's ``OUT`` folder.

Standard library only (``http.server``), no front-end build, no internet: pages are HTML
written here with a few lines of JavaScript for the keyboard (``j``/``k`` next and previous
group, ``g`` give, ``w`` withhold). It listens on 127.0.0.1 and refuses posts from other
origins. Each decision is appended to ``OUT/review/decisions.jsonl`` (fsync) before the page
answers; the grade sheet and the statistics are then rewritten with every decision applied, by a
background thread the app waits for before it exits (``Review.flush``).

On opening, a second reader is trained on the labelled corpus and every decision so far
(``autograder.freetext.second_reader``: the decisions teach it) and flags the concepts a TA
should decide; those groups come first on each concept's page, each saying why.
"""

from __future__ import annotations

import html
import threading
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

from autograder.freetext.review import meaning
from autograder.freetext.rubric import load_rubric
from autograder.freetext.second_reader import ReaderError, load_or_train, training_digest
from tools.gradebook import decisions as decisions_file
from tools.gradebook.apply import class_stats
from tools.gradebook.decisions import Decision, DecisionError
from tools.gradebook.reports import write_reports
from tools.gradebook.sheet import DECISIONS, Sheet, read, reflag
from tools.review.groups import Group, build, order

MAX_BODY = 64 * 1024  # a decision form is a few hundred bytes


@dataclass
class Review:
    """The state behind the pages: the grading, the decisions so far, who is reviewing."""

    out: Path
    reviewer: str
    sheet: Sheet
    decisions: list[Decision] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    reports_written: int = 0  # how many decisions the files on disk carry
    _groups: tuple[int, dict] | None = None  # (decisions count, groups) last built
    _pending: threading.Condition = field(default_factory=threading.Condition)
    _writer: threading.Thread | None = None
    flags_from: str = ""  # where the review flags come from, said on the index page

    @classmethod
    def open(cls, out: Path, reviewer: str, second_reader: bool = True) -> Review:
        """The grading in ``out``; with ``second_reader``, flags from a reader taught by the decisions so far."""
        sheet = read(out)
        path = Path(out) / DECISIONS
        decisions, _ = decisions_file.load(path)
        flags_from = "the flags written when the submissions were graded"
        if second_reader:
            lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
            taught = f"a second reader trained on the labelled corpus and the {len(decisions)} decisions so far"
            try:
                if not sheet.flags_from or sheet.flags_from != training_digest(lines):
                    sheet = reflag(sheet, load_or_train(decisions=lines))  # decisions since: it learns from them
                flags_from = taught
            except ReaderError as e:
                flags_from += f" ({e})"
        return cls(Path(out), reviewer, sheet, decisions, reports_written=len(decisions), flags_from=flags_from)

    def groups(self) -> dict[tuple[str, str], list[Group]]:
        """(question, concept) -> the groups of answers read alike; rebuilt only when a decision was added."""
        cached = self._groups
        if cached is None or cached[0] != len(self.decisions):
            cached = self._groups = (len(self.decisions), build(self.sheet, self.decisions))
        return cached[1]

    def _update_groups(self, question: str, concept: str, made: list[Decision]) -> None:
        """Apply new decisions to the groups built (no rebuild: grouping does not depend on them)."""
        groups = self.groups().get((question, concept), [])
        for d in made:
            for g in groups:
                for m in g.members:
                    if m.answer.norm != d.answer:
                        continue
                    if d.file:  # one submission's answer
                        if m.answer.file == d.file:
                            m.decision = d
                    elif m.decision is None or not m.decision.file:  # a split decision stands
                        m.decision = d
        groups.sort(key=order)

    def _write_reports(self) -> None:
        """Rewrite the grade sheet and statistics whenever decisions were added (one thread)."""
        while True:
            with self._pending:
                while self.reports_written >= len(self.decisions):
                    self._pending.wait()
                count = len(self.decisions)
            write_reports(self.out, self.sheet)
            with self._pending:
                self.reports_written = count
                self._pending.notify_all()

    def flush(self, timeout: float = 30) -> bool:
        """Wait until the files on disk carry every decision made."""
        with self._pending:
            return self._pending.wait_for(lambda: self.reports_written >= len(self.decisions), timeout)

    def decide(self, question: str, concept: str, group_id: str, given: bool, comment: str = "",
               text: str | None = None, file: str = "") -> list[Decision]:
        """Record a decision on a group (every text in it), one text of it, or one submission."""
        with self.lock:
            groups = {g.id: g for g in self.groups().get((question, concept), [])}
            group = groups.get(group_id)
            if group is None:
                raise DecisionError(f"no group {group_id!r} for {question} {concept}: reload the page")
            if file:
                member = next((m for m in group.members if m.answer.file == file), None)
                if member is None:
                    raise DecisionError(f"{file} is not in this group: reload the page")
                targets = [(member.answer.text or "", file)]
            elif text is not None:
                if text not in group.texts:
                    raise DecisionError("that answer is not in this group: reload the page")
                targets = [(text, "")]
            else:
                targets = [(t, "") for t in group.texts]
            made = [decisions_file.decide(self.out / DECISIONS, question, concept, t, given, self.reviewer,
                                          comment, f) for t, f in targets]
            self._update_groups(question, concept, made)
        # saved: the grade sheet follows in the background (``flush`` waits for it)
        with self._pending:
            self.decisions.extend(made)
            if self._groups is not None and self._groups[0] == len(self.decisions) - len(made):
                self._groups = (len(self.decisions), self._groups[1])
            if self._writer is None:
                self._writer = threading.Thread(target=self._write_reports, name="reports", daemon=True)
                self._writer.start()
            self._pending.notify_all()
        return made


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.2em auto; max-width: 72em; }
a { color: #0b57d0; } table { border-collapse: collapse; } td, th { padding: 3px 8px; text-align: left; }
th { background: #f0f0f0; } tr:nth-child(even) td { background: #fafafa; }
section.group { border: 1px solid #ccc; border-radius: 6px; margin: 0.8em 0; padding: 0.6em 0.9em; }
section.group:focus { outline: 3px solid #0b57d0; }
section.decided { background: #f5fbf5; }
.given { color: #1b5e20; font-weight: bold; } .withheld { color: #b71c1c; font-weight: bold; }
.note { color: #555; } .claims { font-family: monospace; font-size: 90%; color: #444; }
ul.texts { margin: 0.4em 0; } ul.texts li { margin: 0.3em 0; white-space: pre-wrap; }
kbd { border: 1px solid #aaa; border-radius: 3px; padding: 0 4px; }
.flag { color: #6a1b9a; font-weight: bold; } section.flagged { border-left: 6px solid #6a1b9a; }
"""

_KEYS = """
<script>
const groups = () => Array.from(document.querySelectorAll('section.group'));
function move(step) {
  const all = groups(); if (!all.length) return;
  let i = all.indexOf(document.activeElement.closest('section.group'));
  i = i < 0 ? 0 : Math.min(all.length - 1, Math.max(0, i + step));
  all[i].focus(); all[i].scrollIntoView({block: 'center'});
}
document.addEventListener('keydown', (e) => {
  if (e.target.matches('input, textarea') || e.ctrlKey || e.metaKey || e.altKey) return;
  const here = document.activeElement.closest('section.group');
  if (e.key === 'j') { move(1); e.preventDefault(); }
  else if (e.key === 'k') { move(-1); e.preventDefault(); }
  else if ((e.key === 'g' || e.key === 'w') && here) {
    here.querySelector(e.key === 'g' ? 'button.give' : 'button.withhold').click(); e.preventDefault();
  }
});
window.addEventListener('load', () => {
  const target = location.hash ? document.querySelector(location.hash) : groups()[0];
  if (target) target.focus();
});
</script>
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _page(title: str, body: str, review: Review) -> str:
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>'
            f"<style>{_STYLE}</style></head><body><p class=note><a href='/'>questions</a> · "
            f"<a href='/class'>what the class got wrong</a> · reviewing as <b>{_e(review.reviewer)}</b> · "
            f"{_e(review.out)}</p>{body}{_KEYS}</body></html>")


def count(n: int, noun: str) -> str:
    """``1 answer``, ``2 answers``: counts read as words."""
    return f"{n} {noun}" + ("" if n == 1 else "s")


def index_page(review: Review) -> str:
    """The start page: a row per concept with its answers, groups and the undecided (and flagged) ones."""
    groups = review.groups()
    rows = []
    for (q, c), gs in sorted(groups.items(), key=lambda kv: (int(kv[0][0][1:]), kv[0][1])):
        answers = sum(len(g.members) for g in gs)
        open_ = sum(1 for g in gs if not g.decided)
        flagged = sum(1 for g in gs if g.flagged and not g.decided)
        rows.append(f"<tr><td>{_e(q)}</td><td><a href='/q/{quote(q)}/{quote(c)}'>{_e(c)}</a>"
                    f"<div class=note>{_e(meaning(q, c))}</div></td>"
                    f"<td>{count(answers, 'answer')}</td><td>{count(len(gs), 'group')}</td><td>{open_}</td>"
                    f"<td>{flagged}</td></tr>")
    answered = [a for a in review.sheet.answers if a.answered]
    body = (f"<h1>Written answers to review</h1><p>{count(len(answered), 'answer')} of "
            f"{count(len({a.file for a in review.sheet.answers}), 'submission')} "
            f"({count(len(review.sheet.answers) - len(answered), 'unanswered question')} need no review); "
            f"{count(len(review.decisions), 'decision')} so far. "
            "Open a concept: its answers come in groups the engine read alike, those flagged for review first "
            f"(flags: {_e(review.flags_from)}), then the least confident. "
            "Keys: <kbd>j</kbd>/<kbd>k</kbd> next/previous group, <kbd>g</kbd> give, <kbd>w</kbd> withhold.</p>"
            "<table><tr><th>question</th><th>concept</th><th>answers</th><th>groups</th><th>undecided</th>"
            f"<th>undecided, flagged</th></tr>{''.join(rows)}</table>")
    return _page("Review", body, review)


def _verdict(given: bool) -> str:
    return "<span class=given>given</span>" if given else "<span class=withheld>withheld</span>"


def concept_page(review: Review, question: str, concept: str) -> str | None:
    """The page of one concept, its groups of answers with the forms to decide them; None for an unknown
    question or concept.
    """
    groups = review.groups().get((question, concept))
    if groups is None:
        return None
    parts = [f"<h1>{_e(question)} · {_e(concept)}</h1>",
             f"<p class=meaning>{_e(question)} asks: <i>{_e(load_rubric(question).question_text)}</i><br>"
             f"The concept is earned when the answer says: <b>{_e(meaning(question, concept))}</b></p>",
             f"<p>{count(len(groups), 'group')}, {count(sum(len(g.members) for g in groups), 'answer')}. "
             "A decision on a group applies to every answer in it (and to the same answer in later submissions); "
             "the buttons on one answer split it off.</p>"]
    for n, g in enumerate(groups):
        nxt = groups[n + 1].id if n + 1 < len(groups) else g.id
        verdicts = g.verdicts
        now = _verdict(next(iter(verdicts))) if len(verdicts) == 1 else "mixed"
        engine = _verdict(g.found)
        mis = f" · misconception <b>{_e(g.misconception)}</b>" if g.misconception else ""
        claims = f"<div class=claims>read: {_e('; '.join(g.claims))}</div>" if g.claims else ""
        why = "".join(f"<div class=flag>flagged: {_e(r)}</div>" for r in g.reasons)
        items = []
        for text, members in g.texts.items():
            shown = next((m.answer.text for m in members if m.answer.text is not None), None)
            label = _e(shown) if shown else f"<span class=note>{_e(members[0].answer.source or 'no answer')}</span>"
            files = ", ".join(_e(m.answer.file) for m in members[:6]) + (" …" if len(members) > 6 else "")
            items.append(
                f"<li>{label} <span class=note>× {count(len(members), 'answer')} ({files})</span> "
                f"{_form(question, concept, g.id, nxt, text=text)}</li>")
        decided = " decided" if g.decided else ""
        decided += " flagged" if g.flagged else ""
        parts.append(
            f"<section class='group{decided}' id='g-{g.id}' tabindex=0 aria-label='group {n + 1}'>"
            f"<div><b>{count(len(g.members), 'answer')}</b> · engine: {engine} (confidence {g.confidence:g}){mis} · "
            f"now: {now}</div>{why}{claims}<ul class=texts>{''.join(items)}</ul>"
            f"{_form(question, concept, g.id, nxt, whole=True)}</section>")
    return _page(f"{question} {concept}", "".join(parts), review)


def _form(question: str, concept: str, gid: str, nxt: str, text: str | None = None, whole: bool = False) -> str:
    hidden = (f"<input type=hidden name=question value='{_e(question)}'>"
              f"<input type=hidden name=concept value='{_e(concept)}'>"
              f"<input type=hidden name=group value='{gid}'><input type=hidden name=next value='{nxt}'>")
    if whole:
        return (f"<form method=post action=/decide>{hidden}"
                "<input name=comment placeholder='comment (optional)' size=40> "
                "<button class=give name=verdict value=give>Give to the group (g)</button> "
                "<button class=withhold name=verdict value=withhold>Withhold from the group (w)</button></form>")
    return (f"<form method=post action=/decide style='display:inline'>{hidden}"
            f"<input type=hidden name=text value='{_e(text)}'>"
            "<button class=split name=verdict value=give title='give to this answer only'>give this</button>"
            "<button class=split name=verdict value=withhold title='withhold from this answer only'>"
            "withhold this</button></form>")


def class_page(review: Review) -> str:
    """The page of what the class got wrong: concepts earned, misconceptions and common wrong answers, by question."""
    stats = class_stats(review.sheet, review.decisions, top=5)
    parts = ["<h1>What the class got wrong</h1><p>Shares of the graded submissions, with the decisions "
             "so far applied.</p>"]
    for q in sorted(stats, key=lambda q: int(q[1:])):
        s = stats[q]
        concepts = "".join(f"<tr><td>{_e(c)}</td><td>{v:.0%}</td></tr>" for c, v in s["concepts"].items())
        mis = "".join(f"<tr><td>{_e(m)}</td><td>{v:.0%}</td></tr>" for m, v in s["misconceptions"].items())
        wrong = "".join(f"<li>{_e(w['answer'])} <span class=note>× {w['count']}</span></li>"
                        for w in s["common_wrong_answers"])
        parts.append(
            f"<h2>{_e(q)} <span class=note>({s['students']} students)</span></h2>"
            f"<table><tr><th>concept</th><th>earned by</th></tr>{concepts}</table>"
            + (f"<table><tr><th>misconception</th><th>asserted by</th></tr>{mis}</table>" if mis else "")
            + (f"<p>Most common answers that lost points:</p><ul>{wrong}</ul>" if wrong else ""))
    return _page("What the class got wrong", "".join(parts), review)


class Handler(BaseHTTPRequestHandler):
    review: Review  # set on the server's handler class

    def log_message(self, format: str, *args: object) -> None:
        pass  # the terminal shows the URL, not every request

    def _send(self, status: int, body: str, content_type: str = "text/html; charset=utf-8",
              headers: dict[str, str] | None = None) -> None:
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        """Serve the start page, a concept's page, the class page or ``/status`` (JSON counts); else 404."""
        path = urlsplit(self.path).path
        parts = [p for p in path.split("/") if p]
        if not parts:
            return self._send(HTTPStatus.OK, index_page(self.review))
        if parts == ["class"]:
            return self._send(HTTPStatus.OK, class_page(self.review))
        if parts == ["status"]:
            return self._send(HTTPStatus.OK, f'{{"decisions": {len(self.review.decisions)}, '
                                             f'"reports": {self.review.reports_written}}}', "application/json")
        if len(parts) == 3 and parts[0] == "q":
            page = concept_page(self.review, parts[1], parts[2])
            if page is not None:
                return self._send(HTTPStatus.OK, page)
        self._send(HTTPStatus.NOT_FOUND, _page("Not found", "<p>No such page.</p>", self.review))

    def do_POST(self) -> None:
        """Record a decision from a ``/decide`` form and redirect to the next group; refuses forms from
        another origin (403), too large (413), without a give/withhold verdict (400) or that the review
        refuses (409, with its reason).
        """
        if urlsplit(self.path).path != "/decide":
            return self._send(HTTPStatus.NOT_FOUND, "no such form", "text/plain")
        origin = self.headers.get("Origin")
        host = self.headers.get("Host", "")
        if origin not in (None, "null") and urlsplit(origin).netloc != host:
            return self._send(HTTPStatus.FORBIDDEN, "decisions are taken from this app's own pages only",
                              "text/plain")
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            return self._send(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "form too large", "text/plain")
        form = {k: v[-1] for k, v in parse_qs(self.rfile.read(length).decode("utf-8", "replace"),
                                               keep_blank_values=True).items()}
        q, c, gid = form.get("question", ""), form.get("concept", ""), form.get("group", "")
        verdict = form.get("verdict")
        if verdict not in ("give", "withhold"):
            return self._send(HTTPStatus.BAD_REQUEST, "verdict must be give or withhold", "text/plain")
        try:
            self.review.decide(q, c, gid, verdict == "give", form.get("comment", ""), form.get("text"),
                               form.get("file", ""))
        except DecisionError as e:
            return self._send(HTTPStatus.CONFLICT, _page("Not recorded", f"<p>{_e(e)}</p>", self.review))
        nxt = form.get("next") or gid
        self._send(HTTPStatus.SEE_OTHER, "", headers={"Location": f"/q/{quote(q)}/{quote(c)}#g-{nxt}"})


def serve(review: Review, port: int = 0) -> ThreadingHTTPServer:
    """A server for ``review`` on 127.0.0.1 (``port`` 0: any free one), not yet serving."""
    handler = type("ReviewHandler", (Handler,), {"review": review})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    return server

