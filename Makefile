# Quick start: `make run` and `make test`. Both create .venv and install the pinned project first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Never ask for telemetry consent, never phone out (the committed .telemetry says the same).
export DO_NOT_TRACK := 1
export KEDRO_DISABLE_TELEMETRY := 1

.PHONY: install run test lint format data viz ui app serve bench java postgres clean-outputs

install: $(STAMP)

# Re-install when pyproject.toml is newer than the last install.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)  ## run the whole workflow on the embedded default data
	$(BIN)/kedro run

# The suite needs Java 17 (the Spark tests) and a PostgreSQL server (the order log in a database):
# Debian's packages, installed by `make java postgres` when missing (no-ops when present).
test: $(STAMP) java postgres  ## the whole test suite
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

data: $(STAMP)  ## regenerate the embedded examples in data/01_raw/ byte-identically
	$(BIN)/python -m customer_segmentation.data_generator

# Ports: `make viz VIZ_PORT=4242`, `make ui UI_PORT=5001` when another project or user has the default.
VIZ_PORT ?= 4141
UI_PORT ?= 5000

viz: $(STAMP)  ## pipeline graph at http://127.0.0.1:$(VIZ_PORT)
	@echo "kedro-viz: http://127.0.0.1:$(VIZ_PORT)"
	$(BIN)/kedro viz run --host 127.0.0.1 --port $(VIZ_PORT) --no-browser

ui: $(STAMP)  ## the tracked runs (MLflow UI over sqlite:///mlflow.db); prints the runs list's address
	@$(BIN)/python -m customer_segmentation.tracking_ui --port $(UI_PORT)
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/kedro mlflow ui --host 127.0.0.1 --port $(UI_PORT)

# `make app ENV=cards` / `make serve ENV=cards`: another configuration environment (default: local).
ENV ?=
ENV_ARGS = $(if $(ENV),--env $(ENV))
APP_PORT ?= 8501
SERVE_PORT ?= 8000

app: $(STAMP)  ## the segment explorer at http://127.0.0.1:8501 (after `make run`; .streamlit/config.toml)
	@echo "Segment explorer: http://127.0.0.1:$(APP_PORT)"
	$(BIN)/streamlit run src/customer_segmentation/app/explorer.py --server.port $(APP_PORT) -- $(ENV_ARGS)

serve: $(STAMP)  ## the HTTP scoring service at http://127.0.0.1:8000 (after `make run`; conf/base/service.yml)
	$(BIN)/python -m customer_segmentation.app.service --port $(SERVE_PORT) $(ENV_ARGS)

# The whole run against the bare scikit-learn floor and the seed-style script (benchmarks/README.md);
# Mall-style customers and the cards example; `make bench TEN_MILLION=1` adds 10,000,000 customers.
BENCH_SIZES = 50000 1000000 $(if $(TEN_MILLION),10000000)
bench: $(STAMP)  ## speed and memory benchmarks: prints the table for benchmarks/README.md
	$(BIN)/python -m benchmarks.run workflow --example mall cards --sizes $(BENCH_SIZES) --repeats 3

java:  ## Java 17 for `kedro run --env spark` and its tests (Debian's package; the default run needs none)
	command -v java >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null)

postgres:  ## PostgreSQL for the tests of the order log in a database (Debian's package; the tests start their own server)
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null)

clean-outputs:  ## delete everything the pipelines wrote (data/02_* … data/08_*, every environment's data/<env>/)
	find data/0[2-8]_* -type f ! -name .gitkeep -delete
	find data -mindepth 1 -maxdepth 1 -type d ! -name '0[1-8]_*' -exec rm -rf {} +
	rm -f data/.run.lock
