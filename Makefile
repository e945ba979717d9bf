# One command for each thing a developer does. Everything runs from .venv, which
# is built from requirements.lock so every machine gets the same versions.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-from-lock

CATALOGUE := portal/translations/zh_Hans/LC_MESSAGES/messages
.PHONY: install migrate run test bench lint lock clean translations

# Installing also compiles the translations: only the .po files are kept in git.
install: $(STAMP) $(CATALOGUE).mo

$(CATALOGUE).mo: $(CATALOGUE).po $(STAMP)
	$(BIN)/pybabel compile -d portal/translations -D messages --statistics

# After changing any user-facing text: collect it, then translate what is new in the .po.
translations: install
	$(BIN)/pybabel extract -F babel.cfg -k _ -k N_ -k gettext -k ngettext:1,2 -k Phrase -k said:3 --no-location \
		--sort-output --project dispute-portal -o portal/translations/messages.pot .
	$(BIN)/pybabel update -i portal/translations/messages.pot -d portal/translations \
		-D messages --no-fuzzy-matching --ignore-obsolete

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

migrate: install
	$(BIN)/portal migrate

# On a fresh database this also creates the demo accounts and cases, and prints them.
run: migrate
	$(BIN)/portal demo --if-empty
	$(BIN)/portal serve --host 127.0.0.1 --port 8000

# The suite runs every database test on SQLite and on PostgreSQL (skipped, with
# its reason, when no server answers at 127.0.0.1:5432).
test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Every benchmark, then docs/BENCHMARKS.md written from what they printed.
# A subset: make bench BENCH="scale casefile"; smaller loads: make bench QUICK=1.
bench: install
	$(BIN)/python -m tests.bench.report $(foreach b,$(BENCH),--only $(b)) $(if $(QUICK),--quick)

# What mypy checks, and which modules are not yet strict-clean, is in pyproject.toml.
# Needs no network: mypy reads only the installed packages.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Re-resolve the lock after changing dependencies in pyproject.toml.
lock: install
	$(BIN)/pip-compile --quiet --extra dev --no-emit-index-url --no-emit-find-links \
		--strip-extras -o requirements.lock pyproject.toml

clean:
	rm -rf $(VENV) var $(CATALOGUE).mo .pytest_cache .mypy_cache .ruff_cache
