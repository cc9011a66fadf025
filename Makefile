# Two commands set everything up on a fresh machine:
#   make run   - the service on the embedded sandbox (moto + Zoho/Xero stand-ins)
#   make test  - lint and the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)

.PHONY: install run test lint format bench clean e2e-deps

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# chalice pins pip < 26.3
	$(BIN)/python -m pip install -q --disable-pip-version-check 'pip<26.3'
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

# The portal's end-to-end tests drive Debian's chromium (Playwright never downloads a browser here).
e2e-deps:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

run: install
	$(BIN)/python -m sandbox.stack

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Bulk runs and button clicks on the sandbox -> bench/results.json and a table (README "Benchmarks").
# BENCH_SIZES=200 for a quick run; cold start is measured when `make package` has built the zip.
BENCH_SIZES ?= 1000,10000
bench: install
	@mkdir -p build
	$(BIN)/python -m bench.run --sizes $(BENCH_SIZES) 2>build/bench.log || { tail -30 build/bench.log; exit 1; }

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
