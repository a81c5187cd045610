# Packaging for AWS Lambda (docs/deploy.md).
#
# `sam build` runs `make build-<LogicalId>` here for every function with
# `Metadata: BuildMethod: makefile` in infra/template.yaml (CodeUri: ../), with ARTIFACTS_DIR set.
#
# The BFF (build-BffFunction, build-OutboxRelayFunction): `make lambda ARTIFACTS_DIR=build/lambda`.
# The artifact mirrors the repository layout the code expects (bff/settings.py: REPO_ROOT is
# the folder holding bff/): /var/task/{bff,content,spa-shell,infra/routes.toml} plus the
# dependencies from pyproject.toml as manylinux wheels for the function's architecture. The dev
# stack (dev/: the twins, `bff dev`, moto) is a separate distribution and never part of it.
#
# The functions in infra/functions/ (build-AdminApiFunction, build-WelcomeEmailFunction,
# build-AccountValidationFunction, build-AccountNoticesFunction): `make functions ARTIFACTS_DIR=build/functions`. The artifact
# is what `CodeUri: functions/` used to ship (every package of infra/functions/ at the root) plus
# the shared Okta Management API client (bff/okta/, with bff/__init__.py: `import bff.okta`,
# self-contained, nothing else of the BFF), the bundled `email` copy where welcome_email (and
# account_notices) look for it (welcome_email/copy/<locale>/email.json, from content/copy/) and
# infra/functions/requirements.txt as manylinux wheels.

PYTHON ?= python3
# The template's Architectures: [arm64] and Runtime: python3.11 (x86_64: manylinux2014_x86_64).
LAMBDA_PLATFORM ?= manylinux2014_aarch64
LAMBDA_PYTHON ?= 3.11
ROUTES ?= infra/routes.toml
BUILD := build

FUNCTIONS_DIR := infra/functions
# Every package of infra/functions/ (a folder with __init__.py): the handlers and fnlib.
FUNCTION_PACKAGES := $(patsubst $(FUNCTIONS_DIR)/%/__init__.py,%,$(wildcard $(FUNCTIONS_DIR)/*/__init__.py))
# Shipped with the functions from the BFF's tree: the Okta client, self-contained
# (tests/unit/infra/test_function_requirements.py checks it imports nothing else of bff).
FUNCTIONS_SHARED := bff/__init__.py bff/okta
# The welcome email's bundled copy: the `email` journey of every locale.
EMAIL_COPY := $(wildcard content/copy/*/email.json)

.PHONY: lambda lambda-deps lambda-source build-BffFunction build-OutboxRelayFunction
.PHONY: functions functions-deps functions-source
.PHONY: build-AdminApiFunction build-WelcomeEmailFunction build-AccountValidationFunction build-AccountNoticesFunction

build-BffFunction build-OutboxRelayFunction: lambda

lambda: lambda-deps lambda-source

lambda-deps:
	@test -n "$(ARTIFACTS_DIR)" || { echo "make: set ARTIFACTS_DIR" >&2; exit 2; }
	mkdir -p "$(BUILD)" "$(ARTIFACTS_DIR)"
	$(PYTHON) -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))' \
	  > "$(BUILD)/lambda-requirements.txt"
	$(PYTHON) -m pip install --quiet --disable-pip-version-check --no-compile --upgrade \
	  --target "$(ARTIFACTS_DIR)" --platform $(LAMBDA_PLATFORM) --implementation cp \
	  --python-version $(LAMBDA_PYTHON) --only-binary=:all: -r "$(BUILD)/lambda-requirements.txt"

lambda-source:
	@test -n "$(ARTIFACTS_DIR)" || { echo "make: set ARTIFACTS_DIR" >&2; exit 2; }
	@test -f "$(ROUTES)" || { echo "make: $(ROUTES) is missing: the BFF's API route policy (BFF_API_ROUTES); start from infra/routes.example.toml" >&2; exit 2; }
	mkdir -p "$(ARTIFACTS_DIR)/infra"
	rm -rf "$(ARTIFACTS_DIR)/bff" "$(ARTIFACTS_DIR)/content" "$(ARTIFACTS_DIR)/spa-shell"
	cp -R bff content spa-shell "$(ARTIFACTS_DIR)/"
	cp "$(ROUTES)" "$(ARTIFACTS_DIR)/infra/routes.toml"
	find "$(ARTIFACTS_DIR)/bff" -name __pycache__ -type d -prune -exec rm -rf {} +

build-AdminApiFunction build-WelcomeEmailFunction build-AccountValidationFunction build-AccountNoticesFunction: functions

functions: functions-deps functions-source

functions-deps:
	@test -n "$(ARTIFACTS_DIR)" || { echo "make: set ARTIFACTS_DIR" >&2; exit 2; }
	mkdir -p "$(ARTIFACTS_DIR)"
	$(PYTHON) -m pip install --quiet --disable-pip-version-check --no-compile --upgrade \
	  --target "$(ARTIFACTS_DIR)" --platform $(LAMBDA_PLATFORM) --implementation cp \
	  --python-version $(LAMBDA_PYTHON) --only-binary=:all: -r "$(FUNCTIONS_DIR)/requirements.txt"

# Copies files only (no network): tests/integration/ops/test_packaging.py runs it.
functions-source:
	@test -n "$(ARTIFACTS_DIR)" || { echo "make: set ARTIFACTS_DIR" >&2; exit 2; }
	@test -f content/copy/en/email.json || { echo "make: content/copy/en/email.json is missing: welcome_email needs its bundled copy" >&2; exit 2; }
	mkdir -p "$(ARTIFACTS_DIR)"
	for pkg in $(FUNCTION_PACKAGES); do \
	  rm -rf "$(ARTIFACTS_DIR)/$$pkg" && cp -R "$(FUNCTIONS_DIR)/$$pkg" "$(ARTIFACTS_DIR)/" || exit 1; \
	done
	rm -rf "$(ARTIFACTS_DIR)/bff" && mkdir -p "$(ARTIFACTS_DIR)/bff"
	for src in $(FUNCTIONS_SHARED); do \
	  cp -R "$$src" "$(ARTIFACTS_DIR)/bff/" || exit 1; \
	done
	for src in $(EMAIL_COPY); do \
	  locale=$$(basename "$$(dirname "$$src")"); \
	  mkdir -p "$(ARTIFACTS_DIR)/welcome_email/copy/$$locale" && \
	  cp "$$src" "$(ARTIFACTS_DIR)/welcome_email/copy/$$locale/email.json" || exit 1; \
	done
	find "$(ARTIFACTS_DIR)" -name __pycache__ -type d -prune -exec rm -rf {} +
