#!/usr/bin/env bash
# Where the CPU of park+retrieve cycles goes: one cycles run against a release build of callpark
# on a database of its own, with a fake Twilio, and the CPU time each process group used over
# five seconds in the middle of it (callpark, PostgreSQL's backends, the load generator, the
# fake Twilio). For trying out a change quickly; scripts/bench.sh makes the published figures.
# The load generator and the fake Twilio are tools/callpark-loadtest, not part of the product.
#
#   scripts/profile-cycles.sh                          # 32 in flight over 8 organisations
#   scripts/profile-cycles.sh --concurrency 8          # any `callpark-loadtest cycles` option
#   scripts/profile-cycles.sh --new-call-each-cycle
#   CALLPARK_WORKERS=1 scripts/profile-cycles.sh      # callpark's environment passes through
#
# Needs PostgreSQL (PROFILE_PG_ADMIN_URL, default postgres://postgres@127.0.0.1:5432/postgres,
# a user that may create databases). PostgreSQL's CPU is summed over all its processes, so run
# it where nothing else uses the server.
set -euo pipefail
cd "$(dirname "$0")/.."

ADMIN_URL=${PROFILE_PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
DB=callpark_profile_$$
DB_URL="${ADMIN_URL%/*}/$DB"
ACCOUNT_SID=AC0123456789abcdef0123456789abcdef
export TWILIO_AUTH_TOKEN=profile-auth-token CALLPARK_ADMIN_TOKEN=profile-admin-token-0123456789abcdef

cargo build --release -q -p callpark-app -p callpark-loadtest
BIN=target/release/callpark
LOAD=target/release/callpark-loadtest
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql "$ADMIN_URL" -XAtqc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT
psql "$ADMIN_URL" -XAtqc "CREATE DATABASE $DB" >/dev/null

TWILIO_PORT=$(port)
"$LOAD" fake-twilio --port "$TWILIO_PORT" >/dev/null 2>&1 &
TWILIO_PID=$!
PIDS+=("$TWILIO_PID")
CP_PORT=$(port)
CALLPARK_LISTEN=127.0.0.1:$CP_PORT CALLPARK_PUBLIC_URL=http://127.0.0.1:$CP_PORT \
  DATABASE_URL=$DB_URL TWILIO_ACCOUNT_SID=$ACCOUNT_SID \
  TWILIO_API_BASE=http://127.0.0.1:$TWILIO_PORT TWILIO_TIMEOUT_MS=5000 \
  "$BIN" serve >/dev/null 2>&1 &
CP_PID=$!
PIDS+=("$CP_PID")
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$CP_PORT/healthz" && break; sleep 0.1; done

# CPU time (utime + stime) in clock ticks, of one process or of every postgres process.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
pg_ticks() {
  for pid in $(pgrep -x postgres); do awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null; done |
    awk '{s += $1} END {print s + 0}'
}

args=("$@")
[[ " $* " == *" --orgs"* ]] || args+=(--orgs 8)
"$LOAD" cycles --url "http://127.0.0.1:$CP_PORT" --warmup-secs 2 --duration-secs 10 \
  --fake-twilio "http://127.0.0.1:$TWILIO_PORT" "${args[@]}" >"/tmp/profile-cycles-$$.json" &
LOAD_PID=$!
sleep 4
before=("$(ticks "$CP_PID")" "$(pg_ticks)" "$(ticks "$LOAD_PID")" "$(ticks "$TWILIO_PID")")
sleep 5
after=("$(ticks "$CP_PID")" "$(pg_ticks)" "$(ticks "$LOAD_PID")" "$(ticks "$TWILIO_PID")")
wait "$LOAD_PID"
hz=$(getconf CLK_TCK)
names=(callpark postgres load-generator fake-twilio)
echo "cores used over 5 s, mid-run:"
for i in 0 1 2 3; do
  awk -v n="${names[$i]}" -v d=$((after[i] - before[i])) -v hz="$hz" \
    'BEGIN { printf "  %-15s %.2f\n", n, d / hz / 5 }'
done
jq -c '{cycles_per_sec, park, new_call_each_cycle}' "/tmp/profile-cycles-$$.json"
rm -f "/tmp/profile-cycles-$$.json"
