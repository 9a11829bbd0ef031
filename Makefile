# UMS Portal — `make run` serves the demo, `make test` runs the whole suite.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
export FLASK_APP := webapp

.PHONY: run test setup test-deps migrate demo worker serve lint i18n i18n-compile clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

setup: $(VENV)/.installed system-deps

.PHONY: system-deps

system-deps:
	@command -v espeak-ng >/dev/null 2>&1 && command -v chromium >/dev/null 2>&1 && command -v java >/dev/null 2>&1 || \
	  { (apt-get update -qq && apt-get install -y -qq chromium espeak-ng default-jre-headless) >/dev/null || \
	    echo "note: could not install chromium/espeak-ng/java with apt-get; install them to run every test"; }

migrate: setup
	$(BIN)/flask migrate

demo: migrate
	$(BIN)/flask demo

worker: setup
	$(BIN)/huey_consumer webapp.worker.huey -w 2 -k thread

serve: demo
	DEV_MAILBOX=$${DEV_MAILBOX:-1} $(BIN)/flask run --host 127.0.0.1 --port $(PORT)

# gunicorn + the queue consumer, like production; the Dev-Postfach on (a demo tool only).
run: demo
	@PORT=$(PORT) DEV_MAILBOX=$${DEV_MAILBOX:-1} $(BIN)/python scripts/run.py

test: setup
	$(BIN)/pytest -q

lint: setup
	$(BIN)/ruff check .

i18n: setup
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o webapp/translations/messages.pot . --no-location --omit-header --sort-output
	$(BIN)/pybabel update -i webapp/translations/messages.pot -d webapp/translations --no-fuzzy-matching --omit-header
	$(BIN)/pybabel compile -d webapp/translations

i18n-compile: setup
	$(BIN)/pybabel compile -d webapp/translations

clean:
	rm -rf instance/ums.db* instance/huey.db*
