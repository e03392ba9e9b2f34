# grantsconsole: `make run` (the whole product on the demo org; PORT and SIM_PORT
# choose its ports), `make test` (the suite, what CI runs) and `make check` (the
# fast tier: unit, service and view tests on SQLite).
# Both do all set-up on a fresh Debian machine: the venv, pip, and the Debian packages
# the tests need (installed with apt-get when running as root).

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)

.PHONY: run test check drills lint bench clean system-packages

$(STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 12))' || \
	  { echo "Python 3.12 is needed (.python-version); '$(PYTHON)' is $$($(PYTHON) --version)."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r requirements-dev.txt
	rm -f $(VENV)/.installed-* && touch $@

# make run PORT=8010 SIM_PORT=8011: the console's and the simulator's ports.
PORT     ?= 8000
SIM_PORT ?= 8001

run: $(STAMP)
	$(PY) manage.py migrate --noinput -v0
	@# On the demo org, alerts go to the simulator's local webhook receiver too.
	@[ -n "$$OKTA_ORG_URL" ] || $(PY) manage.py demo_alert_destination \
	  http://127.0.0.1:$(SIM_PORT)/__sim__/webhooks
	@PORT=$(PORT) SIM_PORT=$(SIM_PORT) bash .ci/run-local

system-packages:
	@bash .ci/system-packages

test: $(STAMP) system-packages
	$(PY) manage.py collectstatic --noinput -v0
	bash .ci/with-services bash .ci/test-suite $(PYTEST_ARGS)

# The fast tier (about 2 minutes on 2 cores): everything but the browser, whole-stack,
# real-worker and drill tests, and the tests that need Redis or PostgreSQL servers.
check: $(STAMP)
	$(PY) manage.py collectstatic --noinput -v0
	$(VENV)/bin/pytest -n 2 --dist loadfile tests \
	  --ignore=tests/drills --ignore=tests/stack --ignore=tests/browser \
	  --ignore=tests/grants/test_worker_failover.py \
	  -m "not browser and not stack and not slow and not redis and not postgres" $(PYTEST_ARGS)

drills: $(STAMP) system-packages
	bash .ci/with-services bash .ci/drills $(PYTEST_ARGS)

bench: $(STAMP)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r requirements-bench.txt
	$(PY) bench/run_all.py $(BENCH_ARGS)    # BENCH_ARGS=--full for the issue's sizes (~1 h)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf $(VENV) staticfiles .celery .run db.sqlite3*
