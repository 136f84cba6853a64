#!/usr/bin/env bash
# The chaos run (docs/reliability.md): call lives through two callpark instances on one
# PostgreSQL, with the simulated Twilio failing REST requests and disordering callbacks, one
# instance killed with SIGKILL and PostgreSQL restarted mid-run; then the invariants. Prints
# the run's figures as JSON on stdout; exits non-zero when an invariant is broken.
#
#   bash scripts/chaos.sh                 # the short form (500 lives), as scripts/test.sh runs it
#   CHAOS_PROFILE=release bash scripts/chaos.sh --lives 20000 --concurrency 64   # the long form
#
# Arguments go to `callpark-loadtest chaos` (`--help` lists them). It needs initdb and pg_ctl:
# the run starts a PostgreSQL cluster of its own, because it restarts it.
set -euo pipefail
cd "$(dirname "$0")/.."

profile="${CHAOS_PROFILE:-debug}"
flag=""
[ "$profile" = release ] && flag="--release"
cargo build -q $flag -p callpark-app -p callpark-loadtest

export CALLPARK_PG_THROWAWAY=1 CALLPARK_PG_ROOT="$(pwd)/target/chaos-pg"
# shellcheck source=scripts/test-postgres.sh
. scripts/test-postgres.sh
restart="$_CALLPARK_PG_AS $_CALLPARK_PG_BIN/pg_ctl -D $_CALLPARK_PG_DATA -m immediate -w -t 30 restart -l $_CALLPARK_PG_ROOT/server.log >/dev/null"

rm -rf target/chaos
"./target/$profile/callpark-loadtest" chaos \
  --callpark-bin "./target/$profile/callpark" \
  --database-url "$DATABASE_URL" \
  --pg-restart "$restart" \
  --logs target/chaos \
  "$@"
