"""Submission integrity for the RNN states autograder.

``scan``: static analysis of every code cell a student changed or added (AST, after IPython's
own transformation of ``!`` and ``%`` lines), against the cells the student notebook ships.
``export`` / ``regrade``: the graded values leave the student's kernel as plain data and every
test runs again in the grading process, which student code never touched.
``policy``: what a flagged submission scores (configured in ``otter_config.json``).
``plugin``: the Otter plugin that wires these into grading.
"""
