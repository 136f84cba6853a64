#!/usr/bin/env bash
# The agents' parking-lot page in headless Chromium (Debian's package, driven by playwright-core
# under node's test runner), against the real callpark binary in sandbox mode.
# Called by scripts/test.sh; runs alone too. Fails loudly, never skips, when something it needs
# is missing. Screenshots: target/browser-artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$CHROMIUM" ]; then
  echo "==> installing Debian's chromium for the browser tests"
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "error: $CHROMIUM is missing and apt-get is not available to install it (package: chromium)" >&2
    exit 1
  fi
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
      echo "error: $CHROMIUM is missing; install it as root: apt-get install -y chromium" >&2
      exit 1
    fi
  fi
  if ! { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null; }; then
    echo "error: could not install chromium with apt-get; the browser tests need $CHROMIUM" >&2
    exit 1
  fi
  if [ ! -x "$CHROMIUM" ]; then
    echo "error: chromium was installed but $CHROMIUM is still missing" >&2
    exit 1
  fi
fi

# shellcheck source=scripts/node.sh
. scripts/node.sh
require_node
npm_ci tests-browser

# CALLPARK_BIN: a callpark binary built already (its debug build serves the page from
# crates/callpark-http/ui/ on disk), for working on the page without rebuilding.
if [ -n "${CALLPARK_BIN:-}" ]; then
  BIN=$CALLPARK_BIN
else
  echo "==> cargo build -p callpark-app"
  cargo build -p callpark-app
  BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/callpark"
fi

WORK=$(mktemp -d)
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

# Port 0: the service picks a free port and prints it in the sign-in links. The log files exist
# before the server starts (the background job opens them on its own time).
: >"$WORK/stdout"
: >"$WORK/stderr"
# The admin API, for the tests that need an organisation of their own (a short hold time: the
# time-out warnings): a fresh token each run, passed to the tests.
CALLPARK_ADMIN_TOKEN=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
export CALLPARK_ADMIN_TOKEN
# The sandbox on its embedded in-memory store, whatever DATABASE_URL the test run set.
env -u DATABASE_URL "$BIN" serve --listen 127.0.0.1:0 >"$WORK/stdout" 2>"$WORK/stderr" &
SERVER_PID=$!

token_of() { sed -n "s|^ *$1 \+\(http://[^ ]*\)/#token=\(cpk_[0-9a-f]*\).*|\2|p" "$WORK/stdout"; }
BASE_URL=""
for _ in $(seq 1 600); do
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "error: callpark exited before it was ready:" >&2
    cat "$WORK/stdout" "$WORK/stderr" >&2
    exit 1
  fi
  BASE_URL=$(sed -n 's|^ *carol \+\(http://[^ ]*\)/#token=.*|\1|p' "$WORK/stdout" || true)
  [ -n "$BASE_URL" ] && break
  sleep 0.1
done
if [ -z "$BASE_URL" ]; then
  echo "error: callpark printed no sign-in links within 60 s:" >&2
  cat "$WORK/stdout" "$WORK/stderr" >&2
  exit 1
fi

export CALLPARK_URL="$BASE_URL"
CALLPARK_TOKEN_ALICE=$(token_of alice)
CALLPARK_TOKEN_BOB=$(token_of bob)
CALLPARK_TOKEN_CAROL=$(token_of carol)
export CALLPARK_TOKEN_ALICE CALLPARK_TOKEN_BOB CALLPARK_TOKEN_CAROL
export CHROMIUM
export CALLPARK_ARTIFACTS="${CALLPARK_ARTIFACTS:-${CARGO_TARGET_DIR:-$ROOT/target}/browser-artifacts}"
mkdir -p "$CALLPARK_ARTIFACTS"

echo "==> browser tests against $BASE_URL (screenshots: $CALLPARK_ARTIFACTS)"
status=0
(cd tests-browser && node --test --test-concurrency=1 --test-timeout=120000 ${CALLPARK_BROWSER_TESTS:-*.test.mjs}) || status=$?
if [ "$status" -ne 0 ]; then
  echo "browser tests failed; the service's log:" >&2
  tail -n 40 "$WORK/stderr" >&2
fi
exit "$status"
