# The two commands of the README: `make run` and `make test`. Everything else is a helper.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
# Parallel test processes (pytest-xdist); the machine in CI has two cores.
JOBS ?= 2
# `make soak`: how long the embedded default runs under steady submissions.
SOAK_SECONDS ?= 1800
CHROMIUM ?= /usr/bin/chromium

.PHONY: help install setup run test lint format check-migrations chromium gettext pdf-fonts pgbackrest pitr messages compilemessages screenshots bench bench-full soak load clean

help:
	@echo "make run    - install, migrate, seed and start web + worker + beat on http://127.0.0.1:$(PORT)/"
	@echo "make test   - install and run the whole test suite"
	@echo "make messages - update the zh_Hans catalog from the code, then compile it (docs/translation.md)"
	@echo "make lint   - ruff check, ruff format --check, import layers (lint-imports), makemigrations --check"
	@echo "make screenshots - docs/screenshots/ of the main pages in both languages (Chromium)"
	@echo "make soak   - the make-run stack on a fresh SQLite + filesystem broker for SOAK_SECONDS (1800)"
	@echo "make bench  - quick benchmarks (PostgreSQL + Redis); make bench-full: 1,000,000 cases"
	@echo "make load   - load test: 100 users for 3 minutes against gunicorn, a worker and beat"
	@echo "make pitr   - point-in-time recovery with pgBackRest on a throwaway PostgreSQL cluster"

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# Installs Debian packages $(1) where that is possible (root + apt), else prints $(2): the
# chromium, gettext and pdf-fonts targets below call it only for what is missing.
apt_install = if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	echo "Installing Debian's $(strip $(1))"; \
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(1) >/dev/null; \
	else echo "$(2)"; fi

install: $(BIN)/.installed pdf-fonts compilemessages

# GNU gettext (msgfmt, msgmerge, xgettext) for compiling and updating the translation catalogs;
# installed only where missing and possible (root + apt), like Chromium below.
gettext:
	@command -v msgfmt >/dev/null || { $(call apt_install,gettext,msgfmt not found: install Debian's gettext package to compile the catalogs.); }

# Folders makemessages never reads: the virtualenv, runtime state, benchmarks and tests.
MESSAGES_IGNORE := -i .venv -i var -i bench -i tests -i node_modules -i build
# The compiled catalogs are committed (docs/translation.md); this rebuilds them from the .po files.
compilemessages: $(BIN)/.installed gettext
	DJANGO_SETTINGS_MODULE=config.settings.dev $(BIN)/python manage.py compilemessages -v 0 \
		$(MESSAGES_IGNORE) -i $(notdir $(VENV))

# Update the catalog from the code (new msgids appear untranslated, removed ones are dropped);
# translate the new entries, then `make compilemessages` (tests/test_translations.py checks both).
messages: $(BIN)/.installed gettext
	DJANGO_SETTINGS_MODULE=config.settings.dev $(BIN)/python manage.py makemessages -l zh_Hans \
		--no-obsolete $(MESSAGES_IGNORE)
	$(MAKE) compilemessages

setup: install
	DJANGO_SETTINGS_MODULE=config.settings.dev $(BIN)/python manage.py migrate --noinput
	DJANGO_SETTINGS_MODULE=config.settings.dev $(BIN)/python manage.py seed_demo

run: setup
	DJANGO_SETTINGS_MODULE=config.settings.dev BIND_ADDRESS=$${BIND_ADDRESS:-127.0.0.1} \
		PATH="$(abspath $(BIN)):$$PATH" $(BIN)/honcho start --port $(PORT)

# Debian's Chromium for the browser tests; installed only where missing and possible (root + apt).
chromium:
	@[ -x "$(CHROMIUM)" ] || { $(call apt_install,chromium,Chromium not found at $(CHROMIUM): browser tests will be skipped (install Debian's chromium package).); }

# Debian's pgBackRest, for point-in-time recovery (docs/operations.md) and `make pitr`;
# installed only where missing and possible (root + apt), like Chromium above.
pgbackrest:
	@command -v pgbackrest >/dev/null || { $(call apt_install,pgbackrest,pgbackrest not found: install Debian's pgbackrest package for point-in-time recovery.); }

# Point-in-time recovery shown end to end (tools/pitr_drill.sh): a throwaway PostgreSQL 15
# cluster on another port with WAL archived by pgBackRest, restored to a moment between two
# submissions. Needs root (the cluster runs as the postgres user); removes everything after.
pitr: install pgbackrest
	PYTHON=$(abspath $(BIN))/python tools/pitr_drill.sh

# What WeasyPrint needs to draw the receipts (receipts/render.py): Pango, Debian's Noto CJK fonts
# so Chinese text is set and can be extracted again, and HarfBuzz's subsetter (without it
# WeasyPrint subsets with fontTools: seconds per font, and not the same bytes every time).
# Installed only where missing and possible (root + apt), as part of `make install`; a failed
# install is reported, not fatal, so `make run` still starts (only the receipts need them).
pdf-fonts:
	@missing=""; \
	fc-list 2>/dev/null | grep -q "Noto Sans CJK SC" || missing="$$missing fonts-noto-cjk"; \
	ldconfig -p 2>/dev/null | grep -q "libpango-1.0.so" || missing="$$missing libpango-1.0-0"; \
	ldconfig -p 2>/dev/null | grep -q "libpangoft2-1.0.so" || missing="$$missing libpangoft2-1.0-0"; \
	ldconfig -p 2>/dev/null | grep -q "libharfbuzz-subset.so" || missing="$$missing libharfbuzz-subset0"; \
	if [ -n "$$missing" ]; then \
		$(call apt_install,$$missing,Missing for the PDF receipts:$$missing (install these Debian packages).) \
			|| echo "Could not install$$missing: receipts are not drawn as they should be until they are."; \
	fi

test: install chromium gettext pdf-fonts
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/pytest -n $(JOBS) $(PYTEST_ARGS)

# docs/screenshots/<page>-<language>.png of the main pages in both languages (tools/screenshots.py),
# on the test database of DATABASE_URL (else SQLite) with the demo data.
screenshots: install chromium gettext pdf-fonts
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/python tools/screenshots.py

# Benchmarks (bench/README.md): PostgreSQL and Redis from BENCH_PG / BENCH_REDIS_URL (default:
# this machine's). `bench` is the quick version CI runs; `bench-full` seeds 1,000,000 cases.
bench: install
	$(BIN)/python bench/run.py $(BENCH_ARGS)

bench-full: install
	$(BIN)/python bench/run.py --full $(BENCH_ARGS)

# The embedded default (`make run`'s honcho stack, in a runtime folder of its own on a free port)
# under steady API submissions; fails if a process stops or a submission is not routed.
soak: install
	env -u DATABASE_URL -u REDIS_URL $(BIN)/python bench/soak.py --seconds $(SOAK_SECONDS)

# Load test (bench/README.md, "Load"): locust, 100 users for 3 minutes after a 1-minute
# baseline, against gunicorn + Celery worker + beat on BENCH_PG / BENCH_REDIS_URL, 127.0.0.1 only.
load: install
	$(BIN)/python bench/load.py $(LOAD_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	DJANGO_SETTINGS_MODULE=config.settings.dev $(BIN)/python manage.py makemigrations --check --dry-run

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf var/broker var/cache var/test-*.sqlite3* .pytest_cache
