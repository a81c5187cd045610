#!/usr/bin/env bash
# Shared by scripts/dev and scripts/test: a virtualenv with the project installed (re-installed
# only when a pyproject.toml changes). Sourced, not run.
#
# Two distributions, installed editable in ONE pip command: the product (`bff`, ./pyproject.toml,
# with the test extra) and its dev stack (`bff-dev`, ./dev/pyproject.toml: the twins, `bff dev`).
# A production install is `pip install .` alone (Dockerfile, Makefile): it never gets bff_dev.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv"
  "$PY" -m venv .venv
fi
STAMP=.venv/.bff-installed
WANT="$(cat pyproject.toml dev/pyproject.toml | sha256sum | cut -d' ' -f1)-${BFF_EXTRAS:-test}"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ]; then
  echo "==> installing the project into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[${BFF_EXTRAS:-test}]" -e ./dev
  echo "$WANT" > "$STAMP"
fi
export PATH="$ROOT/.venv/bin:$PATH"
