# The course's commands. Each one creates the virtual environment first if it is missing.
#   make course      run every notebook headless; executed copies, HTML and a summary go to build/
#   make test        unit tests + every notebook in notebooks/, solutions/, exercises/ under nbval
#   make check       contributors' fast loop: the unit tests without notebooks, browser or shipped-model re-measurement
#   make lab         open JupyterLab on the notebooks
#   make exercises   regenerate exercises/ from solutions/
#   make bench       training and generation speed benchmarks
#   make models      train the shipped models into minigpt/weights/ (one of them: make models NAME=icl-2layer)
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Notebook kernels are started with the environment's own python.
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: setup course test check lab exercises bench models clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	# nbgrader is only the tests' reference for make exercises: keep its menus and server out of the course's JupyterLab
	$(VENV)/bin/jupyter labextension disable --level=sys_prefix @jupyter/nbgrader >/dev/null
	$(VENV)/bin/jupyter server extension disable --sys-prefix nbgrader.server_extensions.formgrader \
		nbgrader.server_extensions.validate_assignment nbgrader.server_extensions.assignment_list \
		nbgrader.server_extensions.course_list >/dev/null 2>&1
	touch $(STAMP)

course: $(STAMP)
	$(PY) tools/run_course.py --out build

# A fresh model cache for every test run, so that the notebooks' training is always exercised (and a
# later notebook still reuses an earlier one's models within the run); the student's cache is untouched.
TEST_CACHE := build/test-cache

# The test files and notebooks run in parallel, one worker per core (pytest-xdist); a notebook's cells run in order
# in one worker (--dist loadscope). Each worker's PyTorch uses one thread, so that workers do not fight over the cores
# (two threads of each of two workers on two cores run slower than one).
test: $(STAMP)
	rm -rf $(TEST_CACHE)
	MINIGPT_CACHE=$(abspath $(TEST_CACHE)) OMP_NUM_THREADS=1 $(PY) -m pytest tests notebooks solutions exercises \
		--nbval-lax --nbval-current-env -rs -n auto --dist loadscope

# The unit tests marked slow (notebooks run in a kernel or a browser, the shipped models measured again) are left
# out; make test runs them all.
check: $(STAMP)
	MINIGPT_CACHE=$(abspath build/check-cache) $(PY) -m pytest tests -m "not slow" -q

lab: $(STAMP)
	$(PY) -m jupyter lab notebooks

exercises: $(STAMP)
	$(PY) tools/make_exercises.py

bench: $(STAMP)
	$(PY) benchmarks/run.py

models: $(STAMP)
	$(PY) tools/make_models.py $(NAME)

clean:
	rm -rf build .pytest_cache
