#!/usr/bin/env bash
# The main job: install if needed, start the stack, make one video from the built-in topics,
# print its path, stop. Extra arguments go to `videogen demo` (e.g. --topic "Ohm's Law").
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
exec .venv/bin/videogen demo "$@"
