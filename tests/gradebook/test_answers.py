"""The written answers read from a notebook without running it (``tools.gradebook.answers``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.gradebook.answers import extract_answers


@pytest.mark.fast
def test_answers_are_read_statically():
    nb = {"cells": [
        {"cell_type": "code", "source": "q1_answer = 'first'\nq1_answer = 'second'"},
        {"cell_type": "code", "source": ["%matplotlib inline\n", "q2_answer = ('implicit '\n", "  'concatenation')"]},
        {"cell_type": "code", "source": "q4_answer = f'{1 + 1} states'"},
        {"cell_type": "code", "source": "q5_answer = 'kept despite' \nthis is not python("},
        {"cell_type": "code", "source": "q7_answer = ..."},
        {"cell_type": "markdown", "source": "q8_answer = 'markdown is not code'"},
        {"cell_type": "code", "source": "import os\nos.system('touch /tmp/pwned')\nq10_answer = 'x'"},
    ]}
    answers = extract_answers(nb)
    assert answers["q1"].text == "second"
    assert answers["q2"].text == "implicit concatenation"
    assert answers["q4"].text is None and "f'" in answers["q4"].source
    assert answers["q5"].text == "kept despite"
    assert answers["q7"].text is None and answers["q7"].source == "..."
    assert "q8" not in answers
    assert answers["q10"].text == "x"
    assert not Path("/tmp/pwned").exists()
