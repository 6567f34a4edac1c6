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
.PHONY: all venv system system-grading docker dist demo test test-fast lint gradescope grade otter-grade review clean

all: demo

$(INSTALLED): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	# the grader code itself, editable, so `otter run` finds the plugins from any directory
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

venv: $(INSTALLED)

# Debian packages, one target per use so that each installs only what it needs (as root, apt-get).
# Grading (make grade, make gradescope): bubblewrap sandboxes it like Gradescope's container.
system-grading:
	@command -v bwrap >/dev/null 2>&1 || { echo "installing bubblewrap (apt-get)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null; }

# The tests: grading's, the student's browser (chromium and its driver, tests/student/test_browser.py) and
# jq (what the zip's setup.sh runs, tests/docker/test_zip_for_otter_grade.py).
system: system-grading
	@missing=""; \
	test -x /usr/bin/chromium || missing="$$missing chromium"; \
	test -x /usr/bin/chromedriver || missing="$$missing chromium-driver"; \
	command -v jq >/dev/null 2>&1 || missing="$$missing jq"; \
	if [ -n "$$missing" ]; then \
		echo "installing$$missing (apt-get)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

# otter grade's Docker path: Debian's docker.io, dockerd started if none runs, the buildx plugin,
# and the offline base image (tools/docker/); prints the image's tag
docker: $(INSTALLED)
	$(PY) -m tools.docker.engine
	$(PY) -m tools.docker.base_image

# otter assign: student notebook, solutions notebook and exactly one autograder zip.
$(BUILT): $(INSTALLED) $(SOURCES)
	$(PY) -m tools.build
	touch $@

dist: $(BUILT)

demo: $(BUILT)
	$(PY) -m tools.demo

test: $(INSTALLED) system docker $(BUILT)
	$(PY) -m ruff check .
	$(PY) -m pytest --durations=15 tests

# the rubric engine, the registry, config parsing, reports and the scan, in under a minute
test-fast: $(INSTALLED)
	$(PY) -m ruff check .
	$(PY) -m pytest -m fast -q tests

lint: $(INSTALLED)
	$(PY) -m ruff check .

# make gradescope SUBMISSION=path/to/notebook.ipynb (or an exported .zip)
gradescope: $(INSTALLED) system-grading $(BUILT)
	@test -n "$(SUBMISSION)" || { echo "usage: make gradescope SUBMISSION=path/to/submission.ipynb"; exit 2; }
	$(PY) -m tools.gradescope "$(SUBMISSION)"

# make grade SUBMISSIONS=dir [OUT=dir]: a whole class without Docker
grade: $(INSTALLED) system-grading $(BUILT)
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade SUBMISSIONS=dir [OUT=dir]"; exit 2; }
	$(PY) -m tools.batch "$(SUBMISSIONS)" --out "$(or $(OUT),out/grades)"

# make otter-grade SUBMISSIONS=dir [OUT=dir] [EXT=zip]: Otter's own otter grade in Docker (as root),
# then exits non-zero naming every submission that was not graded
otter-grade: $(INSTALLED) $(BUILT)
	@test -n "$(SUBMISSIONS)" || { echo "usage: make otter-grade SUBMISSIONS=dir [OUT=dir] [EXT=zip]"; exit 2; }
	$(PY) -m tools.docker.otter_grade "$(SUBMISSIONS)" --out "$(or $(OUT),out/otter-grade)" $(if $(EXT),--ext $(EXT))

# make review [OUT=dir] REVIEWER=name: correct written-answer grades in a browser (prints the URL)
review: $(INSTALLED)
	@test -n "$(REVIEWER)" || { echo "usage: make review [OUT=dir] REVIEWER=your-name"; exit 2; }
	$(PY) -m tools.review "$(or $(OUT),out/grades)" --reviewer "$(REVIEWER)" $(if $(PORT),--port $(PORT))

clean:
	rm -rf dist build
