# One entry point for set-up, synthesis, deployment, tests and the local demo.
# Every target installs what it needs itself: a fresh clone only needs the Lambda runtime's Python (3.13) and Node 20+.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Tests run on the Lambda runtime's Python (infra/lambda_platform.py): python3.13 on PATH, or pyenv's 3.13.
LAMBDA_PYTHON := $(shell python3 -m infra.lambda_platform python-version)
ifndef PYTHON
PYTHON := $(shell for candidate in python$(LAMBDA_PYTHON) "$$(pyenv prefix $(LAMBDA_PYTHON) 2>/dev/null)/bin/python$(LAMBDA_PYTHON)"; do \
	"$$candidate" -c '' 2>/dev/null && { command -v "$$candidate"; break; }; done)
endif
VENV := .venv
PY := $(VENV)/bin/python
CDK := node_modules/.bin/cdk
ENV ?= staging
# cdk deploy's approval level; CI (no terminal) uses APPROVAL=never after a reviewed diff.
APPROVAL ?= broadening
# cdk diff: `template` compares with the deployed template through the bootstrap lookup role, all that CI's
# read-only diff role may assume; `change-set` (deploy credentials) adds CloudFormation's replacement analysis.
DIFF_METHOD ?= template
# make alarm-report: days of history (CloudWatch keeps 14; older ones come from the incident table)
DAYS ?= 14
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help install lock synth diff deploy preflight discover smoke lint test mutation demo invoke silence slack-manifest alarm-report bench build clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

# A new venv each time a requirements file changes, so nothing unpinned stays behind. The Lambda lock
# constrains the development install (hashes stripped: pip would demand them of every dev package too).
$(VENV)/.installed: requirements.txt requirements-dev.txt requirements.lock
	@test -n "$(PYTHON)" || { echo "Python $(LAMBDA_PYTHON), the Lambda runtime's, is needed: pyenv install $(LAMBDA_PYTHON), or set PYTHON=" >&2; exit 1; }
	@$(PYTHON) -c 'import sys; v = "$(LAMBDA_PYTHON)"; sys.exit(0 if "%d.%d" % sys.version_info[:2] == v else f"PYTHON must be Python {v}, the Lambda runtime")'
	$(PYTHON) -m venv --clear $(VENV)
	$(PY) -m pip install --quiet --upgrade pip==25.3
	$(PY) -m infra.lambda_platform constraints > $(VENV)/lambda-constraints.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt -c $(VENV)/lambda-constraints.txt
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

install: $(VENV)/.installed node_modules/.installed ## Create .venv on the Lambda runtime's Python (pinned packages) and the pinned CDK CLI

lock: ## Re-resolve requirements.lock (the Lambda asset's packages, with hashes) after changing requirements.txt
	@test -x $(VENV)/bin/uv || { $(PYTHON) -m venv $(VENV) && $(PY) -m pip install --quiet $$(grep -E '^uv==' requirements-dev.txt); }
	$(PY) -m infra.lambda_platform lock $(VENV)/bin/uv

synth: install ## Synthesize the stack for ENV (staging|production) into cdk.out/ (bundles the Lambdas)
	$(CDK) synth --quiet -c env=$(ENV)

diff: install ## Show what `make deploy ENV=...` would change in the AWS account
	$(CDK) diff -c env=$(ENV) --method=$(DIFF_METHOD)

deploy: install ## Deploy ENV's stacks (and its probe stacks, if any) to the account of the current credentials (after make preflight)
	$(PY) -m tools.preflight --env $(ENV)
	$(CDK) deploy -c env=$(ENV) --all --require-approval $(APPROVAL)

# CONFIG_DIR, TEMPLATE, CLUSTER, OUT, BACKEND, FRONTEND, RDS, REDIS and ALARM reach the commands through the
# environment ("$$CLUSTER"), so any quoting survives; an option is passed only when its variable is set.
preflight: install ## Check config/ENV.yaml against the AWS account, read-only [CONFIG_DIR=config] [TEMPLATE=<synthesized template>]
	$(PY) -m tools.preflight --env $(ENV)$(if $(CONFIG_DIR), --config-dir "$$CONFIG_DIR")$(if $(TEMPLATE), --template "$$TEMPLATE")

discover: install ## Write ENV's resource ids into config/ENV.yaml from the account: CLUSTER=<ECS cluster> [OUT=<file>] [BACKEND= FRONTEND= RDS= REDIS=]
	$(PY) -m tools.discover --env $(ENV) --cluster "$$CLUSTER"$(if $(CONFIG_DIR), --config-dir "$$CONFIG_DIR")$(if $(OUT), --out "$$OUT")$(if $(BACKEND), --backend "$$BACKEND")$(if $(FRONTEND), --frontend "$$FRONTEND")$(if $(RDS), --rds "$$RDS")$(if $(REDIS), --redis "$$REDIS")

smoke: install ## After a deploy: drive one alarm to ALARM and back, say where Slack shows it [ALARM=<name>] [ALLOW_CRITICAL=yes]
	$(PY) -m tools.smoke --env $(ENV)$(if $(CONFIG_DIR), --config-dir "$$CONFIG_DIR")$(if $(ALARM), --alarm "$$ALARM")$(if $(filter yes,$(ALLOW_CRITICAL)), --allow-critical)$(if $(HOLD), --hold $(HOLD))

build: install ## Same as synth, for every environment
	$(CDK) synth --quiet -c env=staging -o cdk.out/staging
	$(CDK) synth --quiet -c env=production -o cdk.out/production

lint: install ## ruff, mypy, and cfn-lint on both environments' templates
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	$(PY) -m mypy app.py
	$(PY) -m tools.synth_all --out build/lint-templates
	$(VENV)/bin/cfn-lint --non-zero-exit-code error -- build/lint-templates/*.template.json

test: install ## Run the whole test suite (unit, infra with cdk-nag and cfn-lint, integration, end-to-end)
	$(PY) -m pytest

# Not part of `make test`: minutes on 2 cores (the score table says how long). mutants/ keeps the last run.
mutation: install ## Mutation testing (mutmut) of parsing, routing, incidents, delivery and the synthetic checks; prints the score
	$(PY) -m tools.mutation

demo: install ## Run the whole alerting pipeline locally on 127.0.0.1 (no AWS account needed)
	$(PY) -m tools.demo $(ARGS)

invoke: install ## Run one Lambda locally: make invoke FN=alert_router|synthetic_monitor|sentry_intake|slack_actions EVENT=events/<fn>/x.json
	$(PY) -m tools.invoke $(FN) $(EVENT)

# MATCH, FOR, REASON and ID reach the command through the environment ("$$MATCH"), so any quoting survives.
silence: install ## Silences in ENV's incident table: MATCH=<pattern> FOR=2h REASON=".." [ALL_CRITICAL=yes] | ACTION=list | ACTION=expire ID=<id>
	$(PY) -m tools.silence "$${ACTION:-create}" --env $(ENV) --match "$$MATCH" --for "$$FOR" --reason "$$REASON" \
		--id "$$ID" $(if $(filter yes,$(ALL_CRITICAL)),--all-critical)

slack-manifest: install ## Print the Slack app manifest with ENV's interactivity URL (stack output) [OUT=<file>]
	$(PY) -m tools.slack_manifest --env $(ENV)$(if $(OUT), --out "$$OUT")

# HISTORY=<file> reads `aws cloudwatch describe-alarm-history --output json` output instead of AWS.
alarm-report: install ## Alarm noise report (Markdown, PNG, tuning) for ENV over DAYS into build/alarm-report/ENV [HISTORY=<file>]
	$(PY) -m tools.alarm_report $(if $(HISTORY),--history "$(HISTORY)",--env $(ENV) --days $(DAYS)) \
		--out build/alarm-report/$(ENV)

bench: install ## Print the benchmarks (parse/route/render time, cold starts, probe concurrency, cost, grouping)
	$(PY) -m bench.alert_router_bench
	$(PY) -m bench.cold_start_bench
	$(PY) -m bench.slack_actions_bench
	$(PY) -m bench.synthetic_monitor_bench
	$(PY) -m bench.grouping_bench

clean: ## Remove build output (keeps .venv and node_modules)
	rm -rf cdk.out build mutants .pytest_cache .mypy_cache .ruff_cache
