# Packaging the BFF for AWS Lambda (docs/deploy.md).
#
# `sam build` runs `make build-BffFunction` / `make build-OutboxRelayFunction` here (the functions
# have `Metadata: BuildMethod: makefile` in infra/template.yaml) with ARTIFACTS_DIR set. By hand:
#
#     make lambda ARTIFACTS_DIR=build/lambda
#
# The artifact mirrors the repository layout the code expects (bff/settings.py: REPO_ROOT is
# the folder holding bff/): /var/task/{bff,content,spa-shell,infra/routes.toml} plus the
# dependencies from pyproject.toml as manylinux wheels for the function's architecture.

PYTHON ?= python3
# The template's Architectures: [arm64] and Runtime: python3.11 (x86_64: manylinux2014_x86_64).
LAMBDA_PLATFORM ?= manylinux2014_aarch64
LAMBDA_PYTHON ?= 3.11
ROUTES ?= infra/routes.toml
BUILD := build

.PHONY: lambda lambda-deps lambda-source build-BffFunction build-OutboxRelayFunction

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
