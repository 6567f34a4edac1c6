"""What a student reads about a run that went wrong: cells named by question or experiment, errors quoted
once, in one attributed field, and public checks run again (fast: synthetic notebooks and results).

The end-to-end runs (a real grading of a notebook with a syntax error) are at the bottom.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import nbformat
import pytest

from autograder.isolation import hidden_tests, notebook_report, public_checks
from autograder.isolation.execute import Execution, Raised
from autograder.isolation.notebook_report import CellProblem, NotebookReport, cell_names, error_text
from autograder.isolation.results import ERRORS_ENTRY, PUBLIC_SUMMARY, IsolatedResults, cells_line
from tools.build import MASTER

fast = pytest.mark.fast

# the student notebook's structure, as otter assign hands it out (prompts, headings, checks)
STRUCTURE = [
    ("code", "import otter"),  # set-up
    ("markdown", "# What do Keras' recurrent layers return?"),
    ("code", "import keras"),
    ("markdown", "## The data"),
    ("code", "rng_seed = 42\ndata = ..."),
    ("markdown", "**Question 1.** What do the dimensions ..."),
    ("code", 'q1_answer = """\n...\n"""'),
    ("code", 'grader.check("q1")'),
    ("markdown", "## Experiment 1: an LSTM that returns its states"),
    ("code", "lstm_inputs = Input(shape=(timesteps, num_features))\nlstm_layer = ..."),
    ("markdown", "**Question 2.** What do these ..."),
    ("code", 'q2_answer = """\n...\n"""'),
    ("code", 'grader.check("q2")'),
    ("markdown", "## Experiment 2: an LSTM without its states"),
    ("markdown", "**Question 5.** Change the LSTM below ..."),
    ("code", "lstm_nostate_inputs = Input(...)"),
    ("code", 'q5_answer = """\n...\n"""'),
    ("code", 'grader.check("q5")'),
    ("markdown", "---\n\n## Submission"),
    ("code", "grader.check_all()"),
]


@fast
def test_cells_are_named_by_their_question_or_experiment():
    names = [n for n in cell_names(STRUCTURE) if n is not None]
    assert names == [
        "a set-up cell above Question 1",
        "a set-up cell above Question 1",
        "a set-up cell above Question 1",
        "Question 1",
        "the check of Question 1",
        "Experiment 1",
        "Question 2",
        "the check of Question 2",
        "Experiment 2",  # the first code cell after the heading, even with Question 5's prompt between
        "Question 5",
        "the check of Question 5",
        "the check_all cell",
    ]


@fast
def test_names_are_the_graders_words_whatever_the_markdown_says():
    hostile = [("markdown", "## Experiment 07 <script>alert(1)</script> PWNED"), ("code", "x = 1"),
               ("markdown", "**Question 3.** PWNED `all passed`"), ("code", "y = 2")]
    assert [n for n in cell_names(hostile) if n] == ["Experiment 7", "Question 3"]


@fast
def test_the_notebook_names_cells_by_the_graders_rule():
    """The export helper in the master notebook has its own copy of the rule: both name alike."""
    rule = _notebook_function("_cell_names")
    cells = [{"cell_type": kind, "source": source} for kind, source in STRUCTURE]
    assert rule(cells) == cell_names(STRUCTURE)


@fast
def test_the_notebook_names_checks_as_the_grader_does():
    rule = _notebook_function("_check_name")
    functions = ["test_q6_experiment_3", "test_q6_shapes_format", "test_q1_answer_format", "test_q9_other_thing"]
    assert [rule(f) for f in functions] == [public_checks.label(f) for f in functions]
    assert [public_checks.label(f) for f in functions[:3]] == ["Experiment 3", "your shapes", "your written answer"]


def _notebook_function(name: str):
    """A function of the master notebook's helper cells, compiled on its own (it needs only ``re``)."""
    for cell in nbformat.read(MASTER, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        for node in ast.parse(cell.source).body:
            if isinstance(node, ast.FunctionDef) and node.name == name:
                namespace = {"_re": re}
                exec(compile(ast.Module([node], []), MASTER.name, "exec"), namespace)
                return namespace[name]
    raise AssertionError(f"no function {name} in {MASTER}")


@fast
@pytest.mark.parametrize(
    ("ename", "evalue", "lines_added", "shown"),
    [
        ("SyntaxError", "invalid syntax (3419405044.py, line 5)", 1, "SyntaxError: invalid syntax (line 4)"),
        ("SyntaxError", "'(' was never closed (2081851603.py, line 2)", 0,
         "SyntaxError: '(' was never closed (line 2)"),
        ("ValueError", "bad\nthing\r\n\twith\x1b[31m colour", 0, "ValueError: bad thing with [31m colour"),
        ("AssertionError", "`close` the span ``` and <b>bold</b>", 0,
         "AssertionError: 'close' the span ''' and <b>bold</b>"),
        ("RuntimeError", "right\u202eto-left\u200b hidden", 0, "RuntimeError: right to-left hidden"),
        ("Not A Name!", "x", 0, "an exception: x"),
        ("KeyError", "", 0, "KeyError"),
        ("FileNotFoundError", "[Errno 2] No such file: '/tmp/student-abc/data.csv'", 0,
         "FileNotFoundError: [Errno 2] No such file: 'data.csv'"),
    ],
)
def test_an_error_is_one_sanitised_line(ename, evalue, lines_added, shown):
    assert error_text(Raised(3, ename, evalue), Path("/tmp/student-abc"), lines_added) == shown


@fast
def test_an_error_message_is_capped():
    text = error_text(Raised(1, "ValueError", "x" * 5000))
    assert len(text) == len("ValueError: ") + notebook_report.MESSAGE_CHARS and text.endswith("…")


@fast
def test_a_cell_affects_the_questions_whose_tests_take_what_it_assigns():
    experiment_3 = (
        "lstm_seq_inputs = Input(shape=(timesteps, num_features))\nlstm_seq_layer = LSTM(3, return_state=True\n"
        "lstm_seq_model = Model(inputs=lstm_seq_inputs, outputs=lstm_seq_layer(lstm_seq_inputs))\n"
        "lstm_seq_output, lstm_seq_h, lstm_seq_c = lstm_seq_model.predict(data verbose=0)\n"
    )
    parameters = {"q6": {"lstm_seq_model", "q6_h_shape"}, "q7": {"lstm_seq_output", "q7_answer"}, "q10": {"gru_h"}}
    assert notebook_report.affected(experiment_3, parameters) == ("q6", "q7")
    assert notebook_report.affected("if x == 1:\n    pass", parameters) == ()


def _run(sources_and_errors: list[tuple[str, str, str]], timed_out: tuple[int, ...] = ()) -> Execution:
    cells = []
    raised = []
    for number, (kind, source, error) in enumerate(sources_and_errors, start=1):
        make = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
        cell = make(source)
        if kind == "code":
            cell.metadata["grading"] = {"cell": number, "lines_added": 0}
        if error:
            raised.append(Raised(len(cells), *error.split(": ", 1)))
        cells.append(cell)
    cells.append(nbformat.v4.new_code_cell("export", metadata={"grading": {"grader": True}}))
    raised.append(Raised(len(cells) - 1, "OSError", "the grader's own cell"))
    return Execution(nbformat.v4.new_notebook(cells=cells), timed_out=list(timed_out), raised=raised)


SYNTAX_RUN = [
    ("markdown", "## Experiment 3: an LSTM", ""),
    ("code", "lstm_seq_model = Model(\nlstm_seq_output = 1", "SyntaxError: invalid syntax (1234.py, line 2)"),
    ("markdown", "**Question 6.** Now ...", ""),
    ("code", "q6_h_shape = (1, 3)", ""),
    ("markdown", "**Question 9.** ...", ""),
    ("code", "while True:\n    q9_h_shape = 1", "GradingTimeout: stopped"),
]
PARAMETERS = {"q6": {"lstm_seq_model", "q6_h_shape"}, "q7": {"lstm_seq_output"}, "q9": {"q9_h_shape"}}


def _report(public: tuple | None = None) -> NotebookReport:
    run = _run(SYNTAX_RUN, timed_out=(5,))
    checks = [public_checks.PublicCheck(q, f"test_{q}_{kind}", (), "") for q, kind in
              [("q6", "experiment_3"), ("q6", "shapes_format"), ("q7", "answer_format"), ("q9", "shapes_format")]]
    namespace = {public_checks.VARIABLE: public} if public is not None else {}
    return notebook_report.build(run, PARAMETERS, checks, namespace, cell_timeout=60)


@fast
def test_the_report_names_raised_and_stopped_cells_but_never_the_graders_own():
    report = _report()
    assert report.problems == (
        CellProblem(2, "Experiment 3", ("q6", "q7"), stopped=False, error="SyntaxError: invalid syntax (line 2)"),
        CellProblem(6, "Question 9", ("q9",), stopped=True, error=""),
    )
    assert report.public is None  # the verdicts were not exported


@fast
def test_public_verdicts_are_read_only_as_bools_of_the_right_count():
    assert _report((False, True, True, True)).public == {
        "q6": [("Experiment 3", False), ("your shapes", True)],
        "q7": [("your written answer", True)],
        "q9": [("your shapes", True)],
    }
    for forged in [(True, True), ("PWNED", True, True, True), (1, 1, 1, 1), [True, True, True, True]]:
        assert _report(forged).public is None, forged


def _results(report: NotebookReport) -> dict:
    from otter.run.run_autograder.autograder_config import AutograderConfig

    from autograder import upstream

    source = (
        'from otter.test_files import test_case\nOK_FORMAT = False\nname = "q6"\npoints = None\n'
        "@test_case(points=1, hidden=True)\ndef test_q6_layer(lstm_seq_model):\n"
        "    assert False, 'lstm_seq_model is not defined: fill in and run the cell that builds it.'\n"
    )
    tests = hidden_tests.HiddenTests([upstream.parse_test_file(source, "./tests/q6.py")], {"q6": {"lstm_seq_model"}})
    results = IsolatedResults(list(hidden_tests.run(tests, {}).files.values()), notebook=nbformat.v4.new_notebook())
    results.set_report(report)
    config = AutograderConfig({"show_hidden": True, "force_public_test_summary": True})
    return results.to_gradescope_dict(config)


@fast
def test_public_tests_say_what_ran_in_the_graders_words_only():
    results = _results(_report((False, True, True, True)))
    public, errors, q6 = results["tests"]
    assert public["name"] == "Public Tests" and public["visibility"] == "visible"
    text = public["output"]
    assert text.startswith(PUBLIC_SUMMARY)
    assert "- Pass: q7, q9" in text and "- q6 does not pass: Experiment 3" in text
    assert "- Experiment 3 raised an error (Python's message is under \"Errors in your cells\"). " \
           "Questions 6 and 7 use what it computes." in text
    assert "- Question 9 was stopped after 60 s (each cell may run 60 s). Question 9 uses what it computes." in text
    assert "SyntaxError" not in text and "invalid syntax" not in text  # the student's text is quoted only once
    # the one attributed field
    assert errors["name"] == ERRORS_ENTRY and errors["visibility"] == "visible" and errors["max_score"] == 0
    assert errors["output"].splitlines()[-1] == "- Experiment 3: `SyntaxError: invalid syntax (line 2)`"
    # after publication, the question says why it lost points, before the check's own words
    assert q6["output"].splitlines()[2:] == [
        "- Experiment 3 raised an error when the grader ran your notebook, so this question's checks did not get "
        "what it computes (see Public Tests).",
        "- lstm_seq_model is not defined: fill in and run the cell that builds it.",
    ]


@fast
def test_the_top_level_output_names_the_cells_for_a_tas_grade_sheet():
    assert cells_line(_report()) == (
        "Cells that did not finish: Experiment 3 (raised an error), Question 9 (stopped after 60 s). See Public Tests."
    )
    assert cells_line(NotebookReport()) == ""


@fast
def test_questions_come_in_the_notebooks_order():
    from otter.run.run_autograder.autograder_config import AutograderConfig

    from autograder import upstream

    files = [
        upstream.parse_test_file(
            f'from otter.test_files import test_case\nname = "{q}"\n@test_case(points=1, hidden=True)\n'
            f"def test_{q}(x):\n    pass\n",
            f"./tests/{q}.py",
        )
        for q in ("q1", "q10", "q2")
    ]
    tests = hidden_tests.HiddenTests(files, {q: {"x"} for q in ("q1", "q10", "q2")})
    results = IsolatedResults(list(hidden_tests.run(tests, {}).files.values()), notebook=nbformat.v4.new_notebook())
    config = AutograderConfig({"show_hidden": True, "force_public_test_summary": True})
    assert [t["name"] for t in results.to_gradescope_dict(config)["tests"]] == ["Public Tests", "q1", "q2", "q10"]


@fast
def test_without_problems_the_summary_has_no_errors_entry():
    results = _results(NotebookReport(public={"q6": [("Experiment 3", True)]}, questions=("q6",)))
    assert [t["name"] for t in results["tests"]] == ["Public Tests", "q6"]
    assert "Cells that did not finish" not in results["tests"][0]["output"]


@fast
def test_the_public_check_cell_runs_each_public_test_and_leaves_bools():
    source = (
        'from otter.test_files import test_case\nname = "q1"\n'
        "@test_case(points=0, hidden=False)\ndef test_q1_answer_format(q1_answer):\n"
        "    assert type(q1_answer) is str, 'Write your answer.'\n\n"
        "@test_case(points=1, hidden=True)\ndef test_q1_concept(q1_answer):\n    SECRET_HIDDEN_CODE = 1\n\n"
        "@test_case(points=0, hidden=False)\ndef test_q1_experiment_9(model, env):\n    assert model is not None\n"
    )
    checks = public_checks.collect("q1", source)
    assert [(c.function, c.parameters) for c in checks] == [
        ("test_q1_answer_format", ("q1_answer",)), ("test_q1_experiment_9", ("model",))]
    cell = public_checks.cell_source(checks)
    assert "SECRET_HIDDEN_CODE" not in cell and "test_q1_concept" not in cell  # hidden tests never go to the kernel
    namespace = {"q1_answer": "an answer"}
    exec(cell, namespace)
    assert namespace[public_checks.VARIABLE] == (True, False)
    assert "_grading_public_checks" not in namespace


@fast
def test_the_public_check_cell_holds_every_public_test_of_the_lab():
    tests = {}
    for cell in nbformat.read(MASTER, as_version=4).cells:
        match = re.match(r'""" # BEGIN TEST CONFIG\n(.*?)""" # END TEST CONFIG\n(.*)', cell.source, re.S)
        if cell.cell_type == "code" and match and "hidden: false" in match.group(1):
            tests[re.search(r"def (\w+)", match.group(2)).group(1)] = match.group(2)
    source = "from otter.test_files import test_case\n" + "".join(
        f"@test_case(points=0, hidden=False)\n{body}\n" for body in tests.values())
    checks = public_checks.collect("q", source)
    assert [c.function for c in checks] == list(tests)
    ast.parse(public_checks.cell_source(checks))
    assert json.dumps(sorted({c.label for c in checks})) == json.dumps(
        sorted({"your written answer", "your shapes", *(f"Experiment {n}" for n in range(1, 6))}))
