# The README's commands. Each installs what it needs into .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TOOLS := .venv-tools
TOOLS_STAMP := $(TOOLS)/.installed
SAM := .venv-sam
SAM_STAMP := $(SAM)/.installed
export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= us-east-1

.PHONY: dev test lint typecheck validate unit e2e bench build invoke clean

$(STAMP): requirements-dev.txt layers/hub/requirements.txt layers/sentry/requirements.txt functions/design_template_render/requirements.txt
	$(PYTHON) -m venv $(VENV)
	@# phonenumberslite replaced phonenumbers (same module): an older .venv must drop the full one first.
	if $(BIN)/pip show phonenumbers >/dev/null 2>&1; then $(BIN)/pip uninstall --quiet --yes phonenumbers phonenumberslite; fi
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

$(TOOLS_STAMP): requirements-tools.txt
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check -r requirements-tools.txt
	touch $(TOOLS_STAMP)

$(SAM_STAMP): requirements-sam.txt
	$(PYTHON) -m venv $(SAM)
	$(SAM)/bin/pip install --quiet --disable-pip-version-check -r requirements-sam.txt
	touch $(SAM_STAMP)

## Run the whole hub locally (API :3000, Lambda :3001, AWS :5000, sandboxes :4010).
dev: $(STAMP)
	$(BIN)/python -m localcloud dev $(ARGS)

## Every check: lint, type check, template validation, tests.
test: lint typecheck validate unit

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

validate: $(SAM_STAMP) $(TOOLS_STAMP)
	$(SAM)/bin/sam validate --lint --region us-east-1
	$(SAM)/bin/cfn-lint template.yaml
	@# The SAM transform CloudFormation will run, and no circular references after it (neither check above sees those).
	$(SAM)/bin/python tools/check_template_graph.py template.yaml
	$(TOOLS)/bin/checkov --quiet --compact --skip-download --framework cloudformation -f template.yaml
	$(SAM)/bin/sam build --parallel --cached
	@# The layer ships unchecked-hash .pyc for Python 3.11, no boto family, at most 15 MB unzipped.
	$(PYTHON) layers/hub/build_layer.py check .aws-sam/build/HubLayer
	@# The Sentry layer (sentry-sdk only, stacked on the hub layer; docs/observability.md) within its 1.5 MB.
	$(PYTHON) layers/hub/build_layer.py check --layer sentry .aws-sam/build/SentryLayer

# Two workers: e2e tests mostly wait on a booted local cloud, so two halve the wall time on
# CI's 2 cores; each test module stays on one worker (its module-scoped local cloud boots once).
PYTEST_WORKERS ?= 2
unit: $(STAMP)
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --dist loadscope

# The browser tests (tests/browser) drive Debian's chromium through Playwright; Playwright's own
# browser download is never used. Installed here when missing (CI runs as root); a developer
# without root and without chromium sees the browser tests skipped with that reason.
.PHONY: browser
browser:
	@if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update && apt-get install -y chromium; \
	elif [ -n "$$CI" ]; then echo "chromium is missing and CI needs it: apt-get install -y chromium as root" >&2; exit 1; \
	else echo "chromium is missing: the browser tests will be skipped (apt-get install -y chromium)" >&2; fi
unit: browser

$(VENV)/.bench-installed: $(STAMP) requirements-bench.txt
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-bench.txt
	touch $@

## Benchmarks: cold starts and warm receivers (bench/), then fallback latency (bench/fallback.py, minutes).
bench: $(VENV)/.bench-installed
	$(BIN)/python -m bench
	$(BIN)/python -m bench.receivers
	$(BIN)/python -m bench.consumer
	$(BIN)/python -m bench.llm
	$(BIN)/python -m bench.messaging
	$(BIN)/python -m bench.payments
	$(BIN)/python -m bench.fallback
	$(BIN)/python -m bench.slow_ai
	$(BIN)/python -m bench.design_render
	$(BIN)/python -m bench.search_chain
	@# Init imports, tracing off and on, of the three headline functions (every function: drop the names; ~20 min).
	$(BIN)/python -m bench.importtime --runs 5 --tracing both webhook_evolution llm_generate payment_create_charge
	@# What Sentry adds to a cold start (reports on vs off, same run; docs/observability.md).
	$(BIN)/python -m bench.errortracking --runs 5
	$(BIN)/python -m bench.analytics_sinks --runs 5
	@# The console's event list: first and second page for an org with 100,000 events vs one with 1,000 (same table).
	$(BIN)/python -m bench.console_events --runs 5
	@# The same 100k-event org through GET /console/api/events of a booted local cloud (what a browser waits for).
	$(BIN)/python -m bench.console_events --through-api --runs 5

## sam build without a container (pure-Python and wheel dependencies only).
build: $(SAM_STAMP)
	$(SAM)/bin/sam build --parallel

## One-shot invoke like `sam local invoke`: make invoke FN=WhatsAppSendText EVENT=events/whatsapp_send_text.json
invoke: $(STAMP)
	$(BIN)/python -m localcloud invoke $(FN) --event $(EVENT)

clean:
	rm -rf $(VENV) $(TOOLS) $(SAM) .aws-sam .pytest_cache .mypy_cache .ruff_cache
