"""Local tooling for instructors and TAs: build the distributions and grade submissions.

Nothing here ships in the autograder zip; that is ``autograder/``.
"""
