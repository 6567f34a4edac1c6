"""Grade a folder of submissions without Docker: ``python -m tools.batch SUBMISSIONS_DIR``.

Every ``.ipynb``, every ``grader.export()`` zip and every ``submission_<id>`` folder of an
unpacked Gradescope "Export Submissions" download is graded with the built autograder zip in
its own sandbox (``tools.gradescope.grade``: bubblewrap, cgroup memory/CPU limits, timeout),
several at a time. OUT (default ``out/grades``) receives:

* ``final_grades.csv``: Otter's ``otter grade`` format (first row ``points-per-question``,
  columns ``file``, the questions, ``total_points_earned``, ``percent_correct``,
  ``grading_status``), one row per input, followed by ``status`` and ``reason`` (and the
  submitters' identities for Gradescope exports);
* ``question_stats.csv`` / ``question_stats.json``: mean, median, min, max, full and zero
  counts per question; ``score_histogram.png``;
* ``review.html``: every written answer with its score, the rubric's concepts found and
  missing, and what a TA should check first (a second reader's flags);
* ``logs/``: the grading log of every submission that was not graded;
* ``.state/``: one JSON record per graded submission, keyed by content hash, so a re-run
  resumes (``--force`` regrades).

Modules: ``discover`` (inputs, static checks, Gradescope metadata), ``grade`` (parallel
runner and resume state), ``workers`` (warm sandboxes), ``__main__`` (CLI). What is written under
OUT belongs to ``tools.gradebook``.
"""
