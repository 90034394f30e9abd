# One entry point for people and CI. Every target sets up .venv itself on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: setup demo test test-fast lint format build validate deploy bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,deploy]'
	rm -f $(VENV)/.installed-*
	touch $@

setup: $(STAMP)

demo: $(STAMP)
	$(PY) -m infra.local.demo

test: $(STAMP)
	$(PY) -m pytest -n auto -q

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# sam build without Docker needs python3.12 on PATH: infra/with-python312 finds it or fails clearly.
build: $(STAMP)
	SAM_CLI_TELEMETRY=0 PATH="$(CURDIR)/$(VENV)/bin:$$PATH" infra/with-python312 $(VENV)/bin/sam build

validate: $(STAMP)
	SAM_CLI_TELEMETRY=0 $(VENV)/bin/sam validate --lint
	$(VENV)/bin/cfn-lint template.yaml

# --guided asks for SenderEmail etc. the first time and keeps the answers in samconfig.toml.
deploy: build
	SAM_CLI_TELEMETRY=0 $(VENV)/bin/sam deploy --guided

bench: $(STAMP)
	$(PY) -m tests.bench

clean:
	rm -rf .aws-sam out .pytest_cache

# Security audit: bandit (no high-severity finding), pip-audit (no known vulnerability) and the
# offline check against a dated PyPA Advisory Database snapshot (infra/advisories/SOURCE.md).
# pip-audit needs PyPI's advisory API; where only a mirror is reachable the test says so and
# skips, unless RESPONSEGAP_REQUIRE_AUDIT=1 (see tests/integration/test_audit.py).
.PHONY: audit
audit: $(STAMP)
	$(VENV)/bin/bandit -r shared functions -lll -q
	$(PY) -m infra.advisory_check
	$(PY) -m pytest -q -rs -p no:randomly tests/integration/test_audit.py
