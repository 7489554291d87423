# agentdesk developer and CI entry points. Works on a fresh Debian with python3 (>= 3.11) + pip:
# missing Debian packages are installed with apt when running as root (see .ci/system-deps.sh).
#
#   make venv         .venv with uv and the project (editable, dev extra) pinned by requirements.lock
#   make lock         re-resolve requirements.lock from pyproject.toml
#   make lint         ruff check, ruff format --check, mypy, lint-imports, deptry (undeclared deps)
#   make test         lint + the whole pytest suite (PostgreSQL tests must run, none may be skipped)
#   make demo ARGS=…  the desktop with demo data (agentdesk demo)
#   make bench [QUICK=1], make reliability [ITER=20], make package, make i18n, make clean

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.agentdesk-installed
PYTEST_ARGS ?=

.PHONY: help venv lock lint test pytest demo bench reliability package i18n clean distclean \
	sysdeps-test sysdeps-demo

help:
	@sed -n '1,/^$$/p' Makefile | sed 's/^# \{0,1\}//'

# --- environment -------------------------------------------------------------------------

$(STAMP): pyproject.toml requirements.lock .ci/venv.sh
	@.ci/venv.sh dev
	@touch $@

venv: $(STAMP)

lock:
	@.ci/venv.sh --uv-only
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra package --universal \
		--python-version 3.11 -q -o requirements.lock

sysdeps-test:
	@.ci/system-deps.sh test

sysdeps-demo:
	@.ci/system-deps.sh demo

# --- checks ------------------------------------------------------------------------------

lint: venv
	@rc=0; \
	echo "== ruff check";         $(BIN)/ruff check --output-format=concise . || rc=1; \
	echo "== ruff format --check"; $(BIN)/ruff format --check . || rc=1; \
	echo "== mypy";               $(BIN)/mypy || rc=1; \
	echo "== lint-imports";       $(BIN)/lint-imports || rc=1; \
	echo "== deptry";             $(BIN)/deptry src sync tests bench || rc=1; \
	exit $$rc

pytest: venv sysdeps-test
	$(BIN)/pytest -p no:cacheprovider -q --require-postgres $(PYTEST_ARGS)

# Lint and the tests both run, so one report shows every problem; either failing fails.
test: venv sysdeps-test
	@rc=0; \
	$(MAKE) lint || rc=1; \
	echo "== pytest"; \
	$(BIN)/pytest -p no:cacheprovider -q --require-postgres --durations=15 $(PYTEST_ARGS) \
		|| rc=$$?; \
	if [ $$rc -ne 0 ]; then echo "make test: FAILED (exit $$rc)"; fi; \
	exit $$rc

# --- running -----------------------------------------------------------------------------

demo: venv sysdeps-demo
	$(BIN)/agentdesk demo $(ARGS)

# compileall first: an installed app has its bytecode (pip writes it), so P5's cold start must not
# pay for compiling changed modules, which PYTHONDONTWRITEBYTECODE=1 would make every start redo
bench: venv sysdeps-test
	$(BIN)/python -m compileall -q src sync bench
	$(BIN)/python -m bench $(if $(QUICK),--quick)

reliability: venv sysdeps-test
	$(BIN)/python -m tests.reliability.run --iterations $(or $(ITER),20)

# --- translations and packaging ------------------------------------------------------------

# Extract _() / N_() / ngettext msgids from the code and merge them into every .po (keeps the
# translations; new entries arrive with an empty msgstr to fill in).
i18n: venv
	@mkdir -p build
	$(BIN)/pybabel -q extract --width=100 --no-location --sort-output --project agentdesk \
		--version "$$($(BIN)/python -c 'import agentdesk; print(agentdesk.__version__)')" \
		-o build/agentdesk.pot src sync
	$(BIN)/pybabel -q update --width=100 --no-fuzzy-matching -D agentdesk -i build/agentdesk.pot \
		-d resources/i18n

package: venv
	@.ci/system-deps.sh package
	@.ci/venv.sh dev,package
	$(BIN)/pyinstaller --noconfirm --clean --distpath dist --workpath build/pyinstaller \
		packaging/agentdesk.spec
	@echo "built: dist/agentdesk/agentdesk"

clean:
	rm -rf build dist .pytest_cache .mypy_cache .ruff_cache .import_linter_cache .hypothesis \
		htmlcov .coverage .coverage.* .bench-data .demo
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
