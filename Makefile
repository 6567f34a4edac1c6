# The two commands: `make` (build dist/ and grade the reference submissions) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
BUILT := dist/.built
# what the autograder zip is built from
SOURCES := assignment/rnn_states.ipynb otter_config.json requirements.txt \
	$(shell find autograder -type f \( -name '*.py' -o -name '*.yaml' \) 2>/dev/null) tools/build.py

.DEFAULT_GOAL := all
.PHONY: all venv system dist demo test test-fast lint gradescope grade review clean

all: demo

$(INSTALLED): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	# the grader code itself, editable, so `otter run` finds the plugins from any directory
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

venv: $(INSTALLED)

# Debian packages: bubblewrap sandboxes grading like Gradescope's container; chromium and its
# driver are the student's browser in tests/test_browser.py.
system:
	@missing=""; \
	command -v bwrap >/dev/null 2>&1 || missing="$$missing bubblewrap"; \
	test -x /usr/bin/chromium || missing="$$missing chromium"; \
	test -x /usr/bin/chromedriver || missing="$$missing chromium-driver"; \
	if [ -n "$$missing" ]; then \
		echo "installing$$missing (apt-get)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

# otter assign: student notebook, solutions notebook and exactly one autograder zip.
$(BUILT): $(INSTALLED) $(SOURCES)
	$(PY) -m tools.build
	touch $@

dist: $(BUILT)

demo: $(BUILT)
	$(PY) -m tools.demo

test: $(INSTALLED) system $(BUILT)
	$(PY) -m ruff check .
	$(PY) -m pytest tests

# the rubric engine, the registry, config parsing, reports and the scan, in under a minute
test-fast: $(INSTALLED)
	$(PY) -m ruff check .
	$(PY) -m pytest -m fast -q tests

lint: $(INSTALLED)
	$(PY) -m ruff check .

# make gradescope SUBMISSION=path/to/notebook.ipynb (or an exported .zip)
gradescope: $(INSTALLED) system $(BUILT)
	@test -n "$(SUBMISSION)" || { echo "usage: make gradescope SUBMISSION=path/to/submission.ipynb"; exit 2; }
	$(PY) -m tools.gradescope "$(SUBMISSION)"

# make grade SUBMISSIONS=dir [OUT=dir]: a whole class without Docker
grade: $(INSTALLED) system $(BUILT)
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade SUBMISSIONS=dir [OUT=dir]"; exit 2; }
	$(PY) -m tools.batch "$(SUBMISSIONS)" --out "$(or $(OUT),out/grades)"

# make review [OUT=dir] REVIEWER=name: correct written-answer grades in a browser (prints the URL)
review: $(INSTALLED)
	@test -n "$(REVIEWER)" || { echo "usage: make review [OUT=dir] REVIEWER=your-name"; exit 2; }
	$(PY) -m tools.review "$(or $(OUT),out/grades)" --reviewer "$(REVIEWER)" $(if $(PORT),--port $(PORT))

clean:
	rm -rf dist build
