"""A TA reviews a real batch grading (``tests/helpers/graded_folder.py``) in Chromium, by
keyboard: flagged groups first, a decision recorded, the grade sheet and statistics rewritten, and
kept by a re-run of the batch grader."""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from otter.grade.utils import POINTS_POSSIBLE_LABEL

from tests.helpers.graded_folder import _run_cli
from tools.build import ROOT
from tools.gradebook.records import Status


def _start_review(out: Path) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "tools.review", str(out), "--reviewer", "ta", "--port", "0"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    match = re.search(r"(http://127\.0\.0\.1:\d+/)", line)
    assert match, (line, proc.stderr.read() if proc.poll() is not None else "")
    return proc, match.group(1)


def test_a_ta_reviews_flagged_groups_first_and_decides_by_keyboard_in_chromium(mixed, tmp_path):
    from autograder.freetext import rubric_concepts
    from tests.helpers.jupyterlab import browser_missing, chromium
    from tools.gradebook import decisions as decisions_file
    from tools.gradebook.apply import apply
    from tools.gradebook.sheet import DECISIONS, read

    missing = browser_missing()
    if missing:
        pytest.fail(missing)
    out = tmp_path / "out"
    shutil.copytree(mixed["out"], out)
    before_csv = (out / "final_grades.csv").read_text(encoding="utf-8")
    before_stats = json.loads((out / "question_stats.json").read_text(encoding="utf-8"))
    sheet = read(out)
    proc, url = _start_review(out)
    try:
        with chromium(tmp_path / "profile") as driver:
            from selenium.webdriver.common.action_chains import ActionChains
            from selenium.webdriver.common.by import By
            from selenium.webdriver.support.ui import WebDriverWait

            def press(key: str) -> None:  # to whatever has the focus, as a person typing
                ActionChains(driver).send_keys(key).perform()

            driver.get(url)
            # what to review first: bob's partial q2 answer is one a second reader reads otherwise
            index = driver.find_element(By.TAG_NAME, "body").text
            assert "need no review" in index and "flagged" in index
            driver.find_element(By.CSS_SELECTOR, "a[href='/q/q2/output_last_step']").click()
            WebDriverWait(driver, 20).until(
                lambda d: d.execute_script("return document.activeElement.matches('section.group')"))
            page = driver.find_element(By.TAG_NAME, "body").text
            assert "q2 asks: What do output, h and c represent?" in page
            assert "The concept is earned when the answer says: output is the LSTM's output at the last" in page
            sections = driver.find_elements(By.CSS_SELECTOR, "section.group")
            flagged = ["flagged" in g.get_attribute("class").split() for g in sections]
            assert flagged[0] and flagged == sorted(flagged, reverse=True), flagged  # flagged groups first
            bob = next(g for g in sections if "bob_partial.ipynb" in g.text)
            assert "flagged" in bob.get_attribute("class").split(), bob.text
            assert "flagged: a second reader thinks this answer does say: output is" in bob.text
            assert re.search(r"\b1 answer\b", bob.text) and "1 answers" not in page
            assert "carol_blank" not in page  # an unanswered question is in no group
            driver.get(url)
            driver.find_element(By.LINK_TEXT, "every_step").click()
            WebDriverWait(driver, 20).until(
                lambda d: d.execute_script("return document.activeElement.matches('section.group')"))
            groups = driver.find_elements(By.CSS_SELECTOR, "section.group")
            assert len(groups) >= 2
            first = groups[0].get_attribute("id")
            engine_gave = "engine: given" in groups[0].text
            # keyboard alone: decide the focused group the other way from the engine
            press("w" if engine_gave else "g")
            WebDriverWait(driver, 20).until(lambda d: len(decisions_file.load(out / DECISIONS)[0]) >= 1)
            WebDriverWait(driver, 20).until(
                lambda d: d.execute_script("return document.readyState") == "complete"
                and d.execute_script("return document.activeElement.matches('section.group')"))
            # the page comes back on the next group (a decided group sorts after the open ones);
            # j moves on, k back
            focused = driver.execute_script("return document.activeElement.id")
            assert focused != first
            assert "decided" in driver.find_element(By.ID, first).get_attribute("class")
            order = [g.get_attribute("id") for g in driver.find_elements(By.CSS_SELECTOR, "section.group")]
            press("j")
            assert driver.execute_script("return document.activeElement.id") == order[order.index(focused) + 1]
            press("k")
            assert driver.execute_script("return document.activeElement.id") == focused
            driver.get(url + "class")
            assert "every_step" in driver.page_source
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    made, problems = decisions_file.load(out / DECISIONS)
    assert not problems and made and all(d.question == "q7" and d.concept == "every_step" and d.reviewer == "ta"
                                         and d.given != engine_gave for d in made)
    records, reviewed = apply(sheet, made)
    changed = {r.file for r in records if r.status == Status.GRADED} & set(reviewed)
    assert changed, "the decision changed no graded submission's score"
    after = {row["file"]: row for row in csv.DictReader((out / "final_grades.csv").open(encoding="utf-8"))}
    old = {row["file"]: row for row in csv.DictReader(before_csv.splitlines())}
    points = dict(rubric_concepts("q7"))["every_step"]
    for file in changed:
        delta = float(after[file]["q7"]) - float(old[file]["q7"])
        assert delta == (-points if engine_gave else points) and "q7 every_step" in after[file]["reviewed"]
    for file in set(old) - changed - {POINTS_POSSIBLE_LABEL}:
        assert after[file]["q7"] == old[file]["q7"] and after[file]["reviewed"] == ""
    stats = json.loads((out / "question_stats.json").read_text(encoding="utf-8"))
    q7_before = next(s for s in before_stats if s["question"] == "q7")
    q7_after = next(s for s in stats if s["question"] == "q7")
    assert q7_after["concepts"]["every_step"] != q7_before["concepts"]["every_step"]
    # a re-run of the batch grader keeps the decision
    proc = _run_cli(mixed["folder"], out, mixed["zip"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rerun = {row["file"]: row for row in csv.DictReader((out / "final_grades.csv").open(encoding="utf-8"))}
    assert all(rerun[f]["q7"] == after[f]["q7"] and rerun[f]["reviewed"] for f in changed)
