"""The TA's review of written-answer grades, after a batch grading (``python -m tools.review OUT``).

* ``groups.py``: answers grouped per question and concept, so one decision grades a group,
  flagged groups first;
* ``app.py`` and ``__main__.py``: the local web app. What it reads and writes under ``OUT``
  (the sheet, the decisions, the reports) belongs to ``tools.gradebook``.
"""
