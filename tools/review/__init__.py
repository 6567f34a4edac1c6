"""The TA's review of written-answer grades, after a batch grading.

* ``decisions.py``: the TA's decisions, appended to ``OUT/review/decisions.jsonl``;
* ``sheet.py``: what a grading leaves for the review (``OUT/review/sheet.json``: the records,
  the submitters and every written answer with the concepts the engine gave it);
* ``apply.py``: scores with the decisions applied, and which rows they changed;
* ``reports.py``: ``final_grades.csv`` (with a ``reviewed`` column), the question statistics
  (with each concept's and misconception's share of the class) and ``review.html``;
* ``groups.py``: answers grouped per question and concept, so one decision grades a group;
* ``app.py`` and ``__main__.py``: the local web app (``python -m tools.review OUT``).
"""
