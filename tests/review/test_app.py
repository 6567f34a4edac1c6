"""The TA's review app (``tools.review``): groups of identical answers, the app's pages and forms
over HTTP, the CLI on a folder without a grading. No TensorFlow: the grading is a sheet made from
the rubric engine (``tests/helpers/review_sheet.py``; ``tests/review/test_browser.py`` reviews a
real batch grading in Chromium)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.helpers.review_sheet import _csv, _row
from tools.gradebook import decisions
from tools.gradebook.sheet import DECISIONS, Sheet, SheetError, read
from tools.review.app import Review, serve
from tools.review.groups import build

pytestmark = pytest.mark.fast

ROOT = Path(__file__).resolve().parents[2]
CORPUS = [ROOT / "tests" / "calibration" / "freetext.jsonl",
          *sorted((ROOT / "tests" / "calibration" / "labelled").glob("w*.jsonl"))]


def test_one_decision_grades_a_group_and_groups_are_few():
    # issue 11: a TA opens at most half as many groups as there are answers (per concept)
    rows, n = [], 0
    for path in CORPUS:
        for line in path.read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            rows.append(_row(f"s{n}", r["question"], r["answer"]))
            n += 1
    groups = build(Sheet([], [], rows), [])
    opened = sum(len(gs) for gs in groups.values())
    answers = sum(len(g.members) for gs in groups.values() for g in gs)
    # every concept of every answered question is in one group; unanswered ones ("...") in none
    assert answers == sum(len(r.concepts) for r in rows if r.answered)
    assert any(not r.answered for r in rows)
    assert opened <= answers / 2, (opened, answers)
    for gs in groups.values():
        assert [g.confidence for g in gs] == sorted(g.confidence for g in gs)


def _http(url: str, data: dict | None = None, origin: str | None = None) -> tuple[int, str]:
    body = None if data is None else urllib.parse.urlencode(data).encode()
    req = urllib.request.Request(url, data=body, headers={"Origin": origin} if origin else {})
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(req, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.fixture
def app(out):
    review = Review.open(out, "ta")
    server = serve(review)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    yield f"http://{host}:{port}", review, out
    server.shutdown()
    server.server_close()


def test_the_app_serves_pages_and_records_a_group_decision(app):
    url, review, out = app
    status, page = _http(url + "/")
    assert status == 200 and "output_last_step" in page and "/class" in page
    status, page = _http(url + "/q/q2/output_last_step")
    assert status == 200 and "final output of the lstm" in page
    group = next(g for g in review.groups()[("q2", "output_last_step")] if len(g.members) == 2)
    form = {"question": "q2", "concept": "output_last_step", "group": group.id, "next": group.id,
            "verdict": "withhold", "comment": "vague"}
    status, _ = _http(url + "/decide", form, origin=url)
    assert status == 303
    assert review.flush()
    # the groups the app updated in place are what a fresh build gives
    fresh = build(review.sheet, review.decisions)
    assert {g.id: g.verdicts for gs in review.groups().values() for g in gs} == {
        g.id: g.verdicts for gs in fresh.values() for g in gs}
    made, _ = decisions.load(out / DECISIONS)
    assert [(d.given, d.comment, d.reviewer) for d in made] == [(False, "vague", "ta")]
    assert float(_csv(out / "final_grades.csv")["ben.ipynb"]["q2"]) == 2
    status, page = _http(url + "/class")
    assert status == 200 and "output_last_step" in page and "0%" in page


def test_the_app_refuses_other_origins_and_stale_forms(app):
    url, review, out = app
    group = review.groups()[("q2", "output_last_step")][0]
    form = {"question": "q2", "concept": "output_last_step", "group": group.id, "verdict": "give"}
    assert _http(url + "/decide", form, origin="http://evil.example")[0] == 403
    assert _http(url + "/decide", {**form, "group": "nope"}, origin=url)[0] == 409
    assert _http(url + "/decide", {**form, "verdict": "maybe"}, origin=url)[0] == 400
    assert decisions.load(out / DECISIONS) == ([], [])


def test_the_cli_names_a_folder_without_a_grading(tmp_path):
    out = subprocess.run([sys.executable, "-m", "tools.review", str(tmp_path), "--reviewer", "ta"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "make grade" in out.stderr and "Traceback" not in out.stderr
    with pytest.raises(SheetError):
        read(tmp_path)
