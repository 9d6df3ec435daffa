# Empower: `make run` starts everything on a laptop; `make test` runs the whole suite.
VENV := .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin

.PHONY: install run test fuzz lint format messages browser bench

$(VENV)/.installed: requirements.txt
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

# Development defaults; production sets its own environment instead.
.env:
	printf 'DEBUG=1\n' > .env

install: $(VENV)/.installed .env

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo --with-examples
	@echo "Open http://127.0.0.1:8000/ and log in as alice (agent) or bob (her team lead); README: 'First five minutes'."
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/honcho start

# The browser tests drive Debian's chromium; install it when it is missing (needs root).
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)

test: install browser
	PATH=$(CURDIR)/$(BIN):$$PATH $(PY) -m pytest

# schemathesis against a live server on DATABASE_URL's database (PostgreSQL in CI); `make test` runs it too.
# More examples: make fuzz FUZZ_EXAMPLES=50
fuzz: install
	FUZZ_EXAMPLES=$(or $(FUZZ_EXAMPLES),3) $(PY) -m pytest -q -p no:cacheprovider -s tests/test_fuzz_api.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

messages: install
	$(PY) manage.py makemessages --all --ignore=.venv --ignore=staticfiles
	$(PY) manage.py compilemessages --ignore=.venv

# PostgreSQL and Redis (DATABASE_URL, CELERY_BROKER_URL): the app against a bare endpoint; see bench/run.py.
# Options through BENCH_ARGS, e.g. make bench BENCH_ARGS="--rounds 1 --seconds 2 --no-micro".
bench: install
	$(PY) bench/run.py $(BENCH_ARGS)
