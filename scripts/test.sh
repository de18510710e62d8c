#!/usr/bin/env bash
# Install if needed, then lint, type-check and run every test (unit, integration on a real
# nats-server, end to end with real renders). Extra arguments go to pytest (e.g. -m "not e2e").
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy   # config in pyproject.toml: strict on shared/, reasonable elsewhere
exec .venv/bin/pytest "$@"
