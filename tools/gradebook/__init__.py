"""What a grading writes under ``OUT``: one owner, imported by the batch grader and the review app.

* ``records.py``: what became of each input (``Status``, ``Record``); ``inputs.py``: the inputs
  (``Submission``, ``Submitter``);
* ``answers.py``: the written answers of a notebook, read statically;
* ``sheet.py``: ``review/sheet.json``, every written answer with the engine's concepts and the
  second reader's review flags;
* ``decisions.py``: the TA's decisions (``review/decisions.jsonl``); ``apply.py``: scores with
  them applied;
* ``grades_csv.py``, ``stats.py``, ``review_page.py``: ``final_grades.csv``,
  ``question_stats.csv/.json`` and ``score_histogram.png``, ``review.html``;
* ``reports.py``: ``write_grading`` and ``write_reports``, the two entry points.
"""
