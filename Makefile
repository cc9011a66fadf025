# Two commands set everything up on a fresh machine:
#   make run   - the service on the embedded sandbox (moto + Zoho/Xero stand-ins)
#   make test  - lint and the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)

.PHONY: install run test lint format bench soak clean e2e-deps browser-check

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# chalice pins pip < 26.3
	$(BIN)/python -m pip install -q --disable-pip-version-check 'pip<26.3'
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

# The portal's end-to-end tests drive Debian's chromium (Playwright never downloads a browser here).
# Installed with apt when missing: as root, or through sudo when it needs no password.
e2e-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then sudo=; elif sudo -n true 2>/dev/null; then sudo=sudo; \
	  else echo "Installing chromium needs root: sudo apt-get install chromium"; exit 1; fi; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq chromium; }

# `make test` runs the browser tests too. Without chromium (and no way to install it) it stops
# here, unless SKIP_E2E=1: then pytest's summary counts those tests as skipped, and says why.
browser-check:
ifeq ($(SKIP_E2E),1)
	@echo "SKIP_E2E=1: the portal's browser tests will be skipped."
else
	@$(MAKE) --no-print-directory -s e2e-deps || { \
	  echo "make test runs the portal's browser tests, which need Debian's chromium, and it could not be installed."; \
	  echo "Install it (sudo apt-get install chromium), or skip those tests: make test SKIP_E2E=1"; exit 1; }
endif

# PORT / XERO_PORT / ZOHO_PORT / MOTO_PORT choose the ports; VERBOSE=1 prints every request line.
run: install
	$(BIN)/python -m sandbox.stack

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: lint browser-check
	SKIP_E2E=$(SKIP_E2E) $(BIN)/python -m pytest $(PYTEST_ARGS)

# Bulk runs and button clicks on the sandbox -> bench/results.json and a table (README "Benchmarks").
# BENCH_SIZES=200 for a quick run; cold start is measured when `make package` has built the zip.
BENCH_SIZES ?= 1000,10000
bench: install
	@mkdir -p build
	$(BIN)/python -m bench.run --sizes $(BENCH_SIZES) 2>build/bench.log || { tail -30 build/bench.log; exit 1; }

# 10 bulk runs of 1,000 synthetic Accounts plus 1,000 button clicks against `make run`'s stack
# (its own process): peak RSS and wall time per run -> bench/results.json ("soak"), README table.
SOAK_ARGS ?=
soak: install
	@mkdir -p build
	$(BIN)/python -m bench.soak $(SOAK_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache build

# --- Packaging and deployment (AWS) -------------------------------------------
#   make package STAGE=dev|prod   build/<stage>/sam.yaml + deployment.zip (needs PyPI, never AWS)
#   make cfn-lint STAGE=...       lint that template
#   make deploy STAGE=... ARTIFACT_BUCKET=<bucket> [ALARM_EMAIL=...] [STACK_NAME=...]
#                                 needs the AWS CLI v2 and credentials for the target account
#   SYNC_SCHEDULE_HOURS=N         (package/deploy) the scheduled sync's interval, default 4
#   PARAMETERS="Key=Value ..."    (deploy) more stack parameters, e.g. XeroDayLimit=5000
STAGE      ?= dev
STACK_NAME ?= zoho-xero-sync-$(STAGE)
STAGE_DIR  := build/$(STAGE)

.PHONY: package cfn-lint deploy

package: install
	$(BIN)/python -m deploy.package --stage $(STAGE) --out $(STAGE_DIR)

cfn-lint: package
	$(BIN)/cfn-lint $(STAGE_DIR)/sam.yaml

deploy: package
	@command -v aws >/dev/null 2>&1 || { echo "make deploy needs the AWS CLI v2: https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html"; exit 1; }
	@test -n "$(ARTIFACT_BUCKET)" || { echo "Name an S3 bucket (in the stack's region) for the code: make deploy STAGE=$(STAGE) ARTIFACT_BUCKET=<bucket>"; exit 1; }
	aws cloudformation package --template-file $(STAGE_DIR)/sam.yaml \
	  --s3-bucket $(ARTIFACT_BUCKET) --s3-prefix zoho-xero-sync/$(STAGE) \
	  --output-template-file $(STAGE_DIR)/packaged.yaml
	aws cloudformation deploy --template-file $(STAGE_DIR)/packaged.yaml --stack-name $(STACK_NAME) \
	  --capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND --no-fail-on-empty-changeset \
	  --parameter-overrides Stage=$(STAGE) $(if $(ALARM_EMAIL),AlarmEmail=$(ALARM_EMAIL)) $(PARAMETERS)
	aws cloudformation describe-stacks --stack-name $(STACK_NAME) --query 'Stacks[0].Outputs' --output table
