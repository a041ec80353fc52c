# meshkb — the two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test check-articles clean

# One venv for running and testing, rebuilt when a requirements file changes.
$(VENV)/.installed: requirements.txt requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check --quiet -r requirements-dev.txt
	@touch $@

# Development defaults: DEBUG on (so a built-in SECRET_KEY is allowed), SQLite file and the filesystem
# Celery broker: no servers needed. Web, worker and beat run together; Ctrl-C stops all three.
DEMO ?= 1
run: export DEBUG ?= true
run: $(VENV)/.installed
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py loadarticles
	@if [ "$(DEMO)" = "1" ]; then $(BIN)/python manage.py addcluster demo --snapshot troubleshooting/demo/demo-mesh.yaml --interval 10 --update; fi
	@$(BIN)/python manage.py ensureadmin
	$(BIN)/python manage.py runall $(HOST):$(PORT)

test: $(VENV)/.installed
	$(BIN)/python -m pytest $(PYTEST_ARGS)

check-articles: $(VENV)/.installed
	$(BIN)/python -m troubleshooting.catalog

clean:
	rm -rf $(VENV) var
