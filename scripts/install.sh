#!/usr/bin/env bash
# Install what videogen needs on Debian/Ubuntu: system packages, then a venv with the exact
# versions of requirements-dev.lock (hashes checked) and the project itself (editable).
# Idempotent: a second run only checks. Prints one line per step; the full apt and pip
# output goes to var/install.log (named on failure).
set -euo pipefail
cd "$(dirname "$0")/.."

LOG="${VIDEOGEN_INSTALL_LOG:-var/install.log}"
mkdir -p "$(dirname "$LOG")"
: >"$LOG"

# step "what" command…: run it with its output in the log; one line saying how it went.
step() {
  local what="$1" started=$SECONDS; shift
  echo "== $what: $*" >>"$LOG"
  if "$@" >>"$LOG" 2>&1; then
    echo "  ok  $what ($((SECONDS - started)) s)"
  else
    echo "FAILED $what; the last lines of $LOG:" >&2
    tail -n 15 "$LOG" >&2
    echo "(full output: $LOG)" >&2
    exit 1
  fi
}

step "system packages" bash scripts/system-packages.sh

PYTHON="${PYTHON:-python3}"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || { echo "videogen needs Python >= 3.11 (found $("$PYTHON" --version))"; exit 1; }
[ -x .venv/bin/python ] || step "virtual environment" "$PYTHON" -m venv .venv
stamp=.venv/.videogen-installed
if [ ! -f "$stamp" ] || [ requirements-dev.lock -nt "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  pip=(.venv/bin/python -m pip --disable-pip-version-check)
  step "locked dependencies" "${pip[@]}" install --require-hashes --no-deps -r requirements-dev.lock
  step "videogen (editable)" "${pip[@]}" install --no-deps --no-build-isolation -e .
  step "dependency check" "${pip[@]}" check
  touch "$stamp"
fi
echo "videogen is installed (.venv; log: $LOG)"
