"""Grading with the operating system as the boundary between student code and the grader.

The student's notebook runs in a kernel whose processes belong to an unprivileged user of their
own (``student``, ``launch``, ``execute``); the kernel's only output the grader reads is the
exported values, as data (``export``); every hidden test runs in the grading process, which
loaded the tests and the grader code before the kernel started (``hidden_tests``, ``grade``),
each question in a child process within its time and memory budget (``bounded``); what students
see is the grader's text (``results``, whose ``write_results`` writes results.json and
results.pkl); a ``watchdog`` writes them if grading cannot before the outer time limit.
``plugin`` puts this in Otter's place.
"""
