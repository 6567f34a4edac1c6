"""Advisory integrity signals for the RNN states autograder (the boundary is ``autograder.isolation``).

``scan``: static analysis of every code cell a student changed or added (AST, after IPython's
own transformation of ``!`` and ``%`` lines), against the cells the student notebook ships.
``policy``: what findings become: notes for the instructor and a review list, never a score
(configured in ``otter_config.json``).
``plugin``: the Otter plugin that runs the scan and records its notes.
"""
