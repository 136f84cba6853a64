#!/usr/bin/env bash
# Checks docs/openapi.yaml against the running service (tests-api/): schemathesis fuzzes every
# operation, and a walk through a call's life validates each answer. A response the description
# does not document fails. Called by scripts/test.sh; runs alone too. Fails, never skips.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v python3 >/dev/null 2>&1 ||
  ! python3 -c 'import sys, venv; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
  echo "error: the API tests need python3 >= 3.10 with its venv module (apt-get install python3-venv)" >&2
  exit 1
fi

venv=target/venv-api
if [ ! -x "$venv/bin/pytest" ] || [ tests-api/requirements.txt -nt "$venv/bin/pytest" ]; then
  echo "==> pip install (tests-api/requirements.txt into $venv)"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r tests-api/requirements.txt
  touch "$venv/bin/pytest"
fi

cargo build -q -p callpark-app
CALLPARK_BIN="$PWD/target/debug/callpark" "$venv/bin/pytest" -q -p no:cacheprovider tests-api
