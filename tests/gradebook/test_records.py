"""A grading's record and its status (``tools.gradebook.records``)."""

from __future__ import annotations

import pytest

from autograder.submission_check import Reason
from tools.gradebook.records import Status


@pytest.mark.fast
def test_every_refusal_reason_has_a_status():
    from tools.gradebook.records import status_of

    assert {status_of(reason) for reason in Reason} <= {Status.MALFORMED, Status.WRONG_ASSIGNMENT}
