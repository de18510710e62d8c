#!/usr/bin/env bash
# Regenerate the hashed lock files from pyproject.toml (run after changing a dependency).
#   requirements.lock      what the services need (the Dockerfile installs only this)
#   requirements-dev.lock  that plus the test and lint tools (install.sh and CI)
# Both are universal (every platform, Python >= 3.11) and carry every file's sha256, so
# plain `pip install --require-hashes` reproduces them; the dev lock is constrained by the
# runtime one, so the two never disagree. `--upgrade` moves every pin to the newest release
# allowed by pyproject.toml; without it, pins change only where pyproject.toml requires.
# Needs `uv` (pip install uv, or set UV=/path/to/uv); installing from the locks does not.
set -euo pipefail
cd "$(dirname "$0")/.."
UV="${UV:-uv}"
upgrade=(); [ "${1:-}" = "--upgrade" ] && upgrade=(--upgrade)
common=(--universal --python-version 3.11 --generate-hashes --quiet
        --no-header)
build=$(mktemp); trap 'rm -f "$build"' EXIT
echo "setuptools>=69" >"$build"   # the build backend, for `pip install --no-build-isolation`
"$UV" pip compile "${common[@]}" "${upgrade[@]}" pyproject.toml "$build" -o requirements.lock
"$UV" pip compile "${common[@]}" "${upgrade[@]}" pyproject.toml "$build" --extra dev \
  -c requirements.lock -o requirements-dev.lock
echo "locked: requirements.lock ($(grep -c '^[a-z0-9]' requirements.lock) packages)," \
     "requirements-dev.lock ($(grep -c '^[a-z0-9]' requirements-dev.lock) packages)"
