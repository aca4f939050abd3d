# Two commands: `make run` (set up, migrate a SQLite file, load demo data, serve on :8000 with one job worker) and
# `make test`.
# Everything the project needs is installed here: Debian packages, the Python venv, npm packages, fonts.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
STAMPS := .stamps
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export FLASK_APP := wsgi

APT_RUN  := libzbar0 fonts-dejavu-core fonts-ocr-b
APT_TEST := chromium chromium-driver chromium-l10n fonts-noto-color-emoji poppler-utils
APT_BENCH := postgresql-contrib

.PHONY: run setup test test-js test-sqlite test-postgres lint format bench translations browser-rules clean

run: setup
	mkdir -p instance
	$(BIN)/flask db upgrade
	$(BIN)/flask units load
	$(BIN)/flask demo load
	@echo "ASM: http://127.0.0.1:$(PORT)  (đăng nhập / login: letan.hoanggia / demo1234; more in README.md)"
	@# One command, two processes: a job worker (asm/jobs, its queue a SQLite file in instance/) beside the web
	@# server. Ctrl-C stops both (the terminal signals the whole group; the trap covers gunicorn exiting alone).
	$(BIN)/flask jobs worker --workers 2 & worker=$$!; trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT; \
	  $(BIN)/gunicorn --workers 2 --threads 4 --bind 127.0.0.1:$(PORT) --access-logfile - wsgi:app

setup: $(STAMPS)/apt-run $(STAMPS)/python $(STAMPS)/npm $(STAMPS)/translations

test: setup $(STAMPS)/apt-test test-js
	env -u ASM_TEST_DATABASE_URL $(BIN)/pytest
	@if [ -n "$$ASM_TEST_DATABASE_URL" ]; then \
	  echo "== again on $$ASM_TEST_DATABASE_URL"; $(BIN)/pytest; \
	else echo "(set ASM_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test to run on PostgreSQL too)"; fi

# The browser's ID-card parser against the shared vectors (tests/vectors/cccd.json), with node's own test runner.
test-js: $(STAMPS)/npm
	npm test --silent

lint: $(STAMPS)/python
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMPS)/python
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: setup $(STAMPS)/apt-bench
	$(BIN)/python -m bench

# The data the browser's parser shares with asm/idcard (asm/static/idcard/rules.js), regenerated after a change there.
browser-rules: $(STAMPS)/python
	$(BIN)/python -m asm.idcard.browser

translations: $(STAMPS)/python
	$(BIN)/pybabel extract -F babel.cfg -o asm/translations/messages.pot --no-location --sort-output .
	$(BIN)/pybabel update -i asm/translations/messages.pot -d asm/translations --no-fuzzy-matching
	$(BIN)/pybabel compile -d asm/translations

$(STAMPS)/apt-%:
	@pkgs="$(APT_$(shell echo $* | tr a-z A-Z))"; \
	missing=$$(for p in $$pkgs; do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:" $$missing; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@mkdir -p $(STAMPS) && touch $@

$(STAMPS)/python: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	@mkdir -p $(STAMPS) && touch $@

$(STAMPS)/npm: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@mkdir -p $(STAMPS) && touch $@

$(STAMPS)/translations: $(STAMPS)/python $(wildcard asm/translations/*/LC_MESSAGES/messages.po)
	@if [ -d asm/translations ]; then $(BIN)/pybabel compile -d asm/translations >/dev/null; fi
	@mkdir -p $(STAMPS) && touch $@

clean:
	rm -rf $(VENV) node_modules $(STAMPS) instance/asm.sqlite3
