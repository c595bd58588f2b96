# Two commands for a fresh machine with Python 3.11+:
#   make lab   - set up .venv (first time only) and open JupyterLab on notebooks/
#   make test  - set up .venv (first time only) and run the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# The stamp makes set-up idempotent: it is redone only when the pins change.
STAMP  := $(VENV)/.installed-stamp
PIP    := $(BIN)/python -m pip --disable-pip-version-check --quiet
PYTEST_ARGS ?=

.PHONY: install lab test release release-check lock clean-venv

# Students see nbgrader's Validate button and nothing of the instructor's: these
# JupyterLab plugins and server extensions are switched off inside .venv only
# (sys-prefix config). Instructors keep them in an environment of their own (README).
INSTRUCTOR_PLUGINS := @jupyter/nbgrader:formgrader @jupyter/nbgrader:assignment-list \
	@jupyter/nbgrader:course-list @jupyter/nbgrader:create-assignment @jupyter/nbgrader:menu
INSTRUCTOR_SERVER_EXTENSIONS := nbgrader.server_extensions.formgrader \
	nbgrader.server_extensions.assignment_list nbgrader.server_extensions.course_list
# Validate is served by grader.validate_dialog: nbgrader's handler, its dialog leading with the message.
STUDENT_LAB := $(VENV)/.student-lab-stamp

install: $(STAMP) $(STUDENT_LAB)

$(STUDENT_LAB): $(STAMP) Makefile
	$(BIN)/jupyter labextension disable --level=sys_prefix $(INSTRUCTOR_PLUGINS) >/dev/null 2>&1
	$(BIN)/jupyter labextension lock --level=sys_prefix $(INSTRUCTOR_PLUGINS) >/dev/null 2>&1
	$(BIN)/jupyter server extension disable --sys-prefix $(INSTRUCTOR_SERVER_EXTENSIONS) \
	    nbgrader.server_extensions.validate_assignment >/dev/null 2>&1
	@mkdir -p $(VENV)/etc/jupyter/jupyter_server_config.d
	@echo '{"ServerApp": {"jpserver_extensions": {"grader.validate_dialog": true}}}' \
	    > $(VENV)/etc/jupyter/jupyter_server_config.d/grader.validate_dialog.json
	@touch $@

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install --requirement requirements.lock
	$(PIP) install --no-deps --no-build-isolation --editable .
	@touch $@

# Extra options for Jupyter, e.g. make lab LAB_ARGS="--port 8890 --no-browser".
# Jupyter refuses to run as root unless told; containers and CI often are root.
LAB_ARGS ?=
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)
lab: install
	$(BIN)/jupyter lab --ServerApp.root_dir=notebooks $(ROOT_FLAG) $(LAB_ARGS)

# Lint (ruff, configured in pyproject.toml), unit, pipeline and end-to-end tests, then every
# solutions notebook through nbval (stored text outputs must match a fresh top-to-bottom run).
test: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)
	$(BIN)/python -m pytest --nbval solutions --nbval-current-env \
	    --nbval-sanitize-with grader/nbval_sanitize.cfg -p no:cacheprovider $(PYTEST_ARGS)

# Regenerate notebooks/ (student versions) from solutions/.
release: install
	$(BIN)/python -m grader release

release-check: install
	$(BIN)/python -m grader release --check

# Re-resolve the pins in a scratch venv (needs network); commit the result.
lock:
	rm -rf build/lockenv
	$(PYTHON) -m venv build/lockenv
	build/lockenv/bin/python -m pip --disable-pip-version-check --quiet install --upgrade setuptools ".[test]"
	{ echo '# Exact versions that make installs. Regenerate with `make lock` (needs network), then commit.'; build/lockenv/bin/python -m pip freeze --all --exclude pip --exclude improving-dnn; } > requirements.lock
	rm -rf build/lockenv

clean-venv:
	rm -rf $(VENV)
