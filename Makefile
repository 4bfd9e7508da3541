# kleroterion — run `make help` for the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-zA-Z_%-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*?## "}{printf "  %-18s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "kleroterion needs Python 3.11 or newer")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test]'
	@touch $@

.PHONY: venv
venv: $(STAMP) ## Create .venv and install kleroterion with its test tools

.PHONY: demo
demo: $(STAMP) ## Run the main job on embedded defaults (SQLite, in-process bus)
	$(VENV)/bin/kleroterion demo

.PHONY: test
test: $(STAMP) ## Lint and type-check, start Apache Kafka and PostgreSQL, run the whole test suite, stop them
	$(MAKE) --no-print-directory lint
	bash tools/test.sh

.PHONY: lint
lint: $(STAMP) ## ruff (pyflakes, pycodestyle, isort, bugbear, pyupgrade) and mypy, as configured in pyproject.toml
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

.PHONY: test-quick
test-quick: $(STAMP) ## Tests that need no real component (Kafka/PostgreSQL tests are skipped)
	$(PY) -m pytest -q -m "not kafka and not postgres and not browser"

.PHONY: proto
proto: $(STAMP) ## Regenerate protobuf/gRPC code from proto/ into services/contracts/
	$(PY) tools/gen_proto.py

.PHONY: plugins
plugins: $(STAMP) ## List installed and enabled plugins
	$(VENV)/bin/kleroterion plugins

.PHONY: kafka-up kafka-down postgres-up postgres-down
kafka-up: $(STAMP) ## Start a local Apache Kafka broker (fetched from Maven Central)
	bash tools/kafka/broker.sh start
kafka-down: ## Stop the local Kafka broker
	bash tools/kafka/broker.sh stop
postgres-up: ## Start a local PostgreSQL server (installed from Debian if missing)
	bash tools/postgres/server.sh start
postgres-down: ## Stop the local PostgreSQL server
	bash tools/postgres/server.sh stop

.PHONY: lock
lock: $(STAMP) ## Write the exact versions now installed to constraints.txt
	{ sed -n '1,2p' constraints.txt; $(PY) -m pip freeze --exclude-editable | grep -v '^kleroterion'; } > constraints.new && mv constraints.new constraints.txt

.PHONY: clean
clean: ## Remove embedded data, caches and run folders (keeps .venv)
	rm -rf .kleroterion .run out .pytest_cache .hypothesis

.PHONY: bench-registry
bench-registry: $(STAMP) ## Registry benchmarks: 1M-row extract import, 100k invitations via Kafka
	$(PY) bench/registry/bench.py

# --- sortition ---------------------------------------------------------------------------
REF_VENV := .venv-bench-reference
REF_STAMP := $(REF_VENV)/.installed

# The reference library is AGPL: it lives in its own virtualenv and is only run as a program.
$(REF_STAMP):
	@test -x $(REF_VENV)/bin/python || $(PYTHON) -m venv $(REF_VENV)
	$(REF_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(REF_VENV)/bin/python -m pip install --quiet 'sortition-algorithms==0.12.15'
	@touch $@

.PHONY: bench-sortition
bench-sortition: $(STAMP) $(REF_STAMP) ## Our leximin/maximin vs sortition-algorithms maximin (HiGHS); prints a table
	$(PY) bench/sortition/compare.py $(BENCH_ARGS)

serve-%: $(STAMP) ## Run one service as its own process: make serve-registry (or -sortition, -sessions, -recommendations)
	$(VENV)/bin/kleroterion serve $*

.PHONY: bench-groups
bench-groups: $(STAMP) ## Rotating groups: distinct pairs and repeats, ours vs random shuffles (36/6/10, 99/8/12)
	$(PY) bench/groups/run.py

# --- deployment (deploy/, kleroterion/ops, tests/deploy) ------------------------------------
HELM_CHART := deploy/helm/kleroterion
HELM_REGIONS := national hovedstaden syddanmark rudersdal

.PHONY: helm helm-lint helm-template test-deploy
helm: ## Build the pinned helm once (go install) into tools/helm/bin/ and print its path
	@bash tools/helm/install.sh

helm-lint: ## helm lint --strict the chart with every region's values file
	@HELM="$$(bash tools/helm/install.sh)"; for r in $(HELM_REGIONS); do \
	  "$$HELM" lint --strict $(HELM_CHART) -f $(HELM_CHART)/values-$$r.yaml || exit 1; done

helm-template: ## Render every region's release into out/helm/<region>.yaml
	@mkdir -p out/helm; HELM="$$(bash tools/helm/install.sh)"; for r in $(HELM_REGIONS); do \
	  "$$HELM" template $$r $(HELM_CHART) -n klero-$$r -f $(HELM_CHART)/values-$$r.yaml \
	    > out/helm/$$r.yaml || exit 1; echo "out/helm/$$r.yaml"; done

test-deploy: $(STAMP) ## The deployment tests (chart, schema, ops CLI); Kafka ones skip without a broker
	KLERO_HELM="$$(bash tools/helm/install.sh)" $(PY) -m pytest -q tests/deploy

# --- fuzzing and the sign-up benchmark (tests/fuzz, bench/signup) ------------------------
.PHONY: test-fuzz bench-signup
test-fuzz: $(STAMP) ## Fuzz every JSON endpoint from its OpenAPI document; CSV importer properties
	$(PY) -m pytest -q -p no:logging tests/fuzz

bench-signup: $(STAMP) ## 200 clients on the public sign-up for 60 s against one registry process (BENCH_ARGS)
	$(PY) bench/signup/bench.py $(BENCH_ARGS)

# --- distributed demo (demos/distributed.py, tools/distributed_demo.sh) -----------
.PHONY: demo-distributed
demo-distributed: $(STAMP) ## The four services as separate processes on Kafka + PostgreSQL (started and stopped here)
	bash tools/distributed_demo.sh $(DEMO_ARGS)
