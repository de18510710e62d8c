#!/usr/bin/env bash
# Install if needed, then lint and run every test (unit, integration on a real nats-server,
# end to end with real renders). Extra arguments go to pytest (e.g. -m "not e2e").
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
.venv/bin/ruff check .
exec .venv/bin/pytest "$@"
