"""Static scan: shipped cells in sync with the student notebook, honest code unflagged, hostile code flagged."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
import yaml

from autograder.integrity import policy, scan
from tools.submissions import build_submission

HOSTILE = Path(__file__).parent / "hostile" / "cases.yaml"
CASES = yaml.safe_load(HOSTILE.read_text())


def test_shipped_cells_match_the_student_notebook(ag_zip, dist):
    nb = nbformat.read(dist / "student" / "rnn_states.ipynb", as_version=4)
    shipped = json.loads(scan.SHIPPED_CELLS.read_text())["digests"]
    refresh = "run: python -m autograder.integrity.scan --write-shipped dist/student/rnn_states.ipynb"
    assert scan.shipped_digests(nb) == shipped, refresh


@pytest.mark.parametrize("name", ["full_credit", "seed_answers", "partial", "blank"])
def test_reference_submissions_are_not_flagged(ag_zip, tmp_path, name):
    nb = nbformat.read(build_submission(name, tmp_path), as_version=4)
    assert scan.scan_notebook(nb) == []


def test_solutions_notebook_is_not_flagged(ag_zip, dist):
    assert scan.scan_notebook(nbformat.read(dist / "autograder" / "rnn_states.ipynb", as_version=4)) == []


ORDINARY = [
    "import numpy as np\nprint(np.mean(data), data.shape)",
    "import matplotlib.pyplot as plt\nplt.plot(lstm_seq_output[0])\nplt.title('h over time')\nplt.show()",
    "%matplotlib inline",
    "def describe(a):\n    return f'{a.shape} {a.dtype}'\nprint(describe(lstm_h))",
    "class Helper:\n    def __init__(self, x):\n        self.x = x\n    def __repr__(self):\n        return 'Helper'\n",
    "from keras.layers import Dense\nimport keras\nprint(keras.__version__)",
    "q1_answer = 'The first dimension is the batch; tests show that it is 1.'",
    "import os\nos.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')",
]


@pytest.mark.parametrize("source", ORDINARY)
def test_ordinary_code_is_not_flagged(source):
    assert scan.scan_source(source, allowed_magics={"matplotlib"}) == []


@pytest.mark.parametrize("name", sorted(n for n, c in CASES.items() if c["class"] == "scan" or not c.get("quiet")))
def test_hostile_cells_are_flagged(name):
    findings = [f for cell in CASES[name]["cells"] for f in scan.scan_source(cell)]
    assert findings, name


@pytest.mark.parametrize(
    "source",
    [
        "!ls /",
        "%%bash\necho hi",
        "get_ipython().kernel.do_shutdown(False)",
        "import socket\nsocket.create_connection(('example.com', 80))",
        "sys_exit = __builtins__\n",
        "import builtins\nbuiltins.print = lambda *a: None",
        "f = vars()['q1_answer']",
        "globals()['np'] = None",
        "raise SystemExit",
        "exit()",
        "x = (1).__class__.__base__.__subclasses__()",
        "import importlib\nimportlib.import_module('autograder.checks')",
        "with open('.OTTER_LOG', 'wb') as f:\n    f.write(b'')",
    ],
)
def test_more_tampering_is_flagged(source):
    assert scan.scan_source(source), source


def test_policy_attributes_local_reads_and_zeroes_all_otherwise():
    qvars = {"q1": {"q1_answer"}, "q2": {"q2_answer"}}
    local = scan.scan_source("q1_answer = open('tests/q1.py').read()", 3)
    global_ = scan.scan_source("import sys\nsys.modules['x'] = None", 4)
    p = policy.Policy()
    assert policy.decide(p, local, [], qvars, ["q1", "q2"]).zeroed == ["q1"]
    assert policy.decide(p, global_, [], qvars, ["q1", "q2"]).zeroed == ["q1", "q2"]
    assert policy.decide(policy.Policy(scope="all"), local, [], qvars, ["q1", "q2"]).zeroed == ["q1", "q2"]
    review = policy.Policy(action="review")
    decision = policy.decide(review, local, [], qvars, ["q1", "q2"])
    assert decision.zeroed == ["q1"] and "held for instructor review" in policy.report(review, decision)
    ignoring = policy.Policy(ignore_categories=frozenset({"grader_files"}))
    noted = policy.decide(ignoring, local, [], qvars, ["q1", "q2"])
    assert noted.zeroed == [] and noted.flagged and "noted only" in policy.report(ignoring, noted)
    died = policy.decide(p, [], [("kernel_died", None)], qvars, ["q1", "q2"])
    assert died.zeroed == ["q1", "q2"]


def test_otter_config_enables_isolation_first_then_the_scan():
    config = json.loads((Path(__file__).parents[1] / "otter_config.json").read_text())
    entries = [next(iter(p)) if isinstance(p, dict) else p for p in config["plugins"]]
    assert entries == ["autograder.isolation.plugin.IsolatedGrading", "autograder.integrity.plugin.IntegrityPlugin"]
