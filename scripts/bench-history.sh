#!/usr/bin/env bash
# The history on a long record (docs/benchmarks.md, "History"): a database of its own with
# BENCH_HISTORY_ROWS (1,000,000) ended parked calls of one organisation, one callpark (release)
# on it, and `callpark-loadtest history`: the first page, pages deep in the history, a filtered
# page, the CSV of everything with the service's memory while it streams, and a supervisor's
# reports (`GET /api/stats`) of the last day and 30 days. Prints the figures as JSON.
#
#   scripts/bench-history.sh
#   BENCH_HISTORY_ROWS=100000 scripts/bench-history.sh   # a quicker try
#
# Needs PostgreSQL (BENCH_PG_ADMIN_URL, default postgres://postgres@127.0.0.1:5432/postgres, a
# user that may create databases) and psql. Everything it starts is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

ROWS=${BENCH_HISTORY_ROWS:-1000000}
ADMIN_URL=${BENCH_PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
ADMIN_TOKEN=bench-admin-token-0123456789abcdef
DB=callpark_bench_history_$$
DB_URL="${ADMIN_URL%/*}/$DB"
WORK=target/bench-history
log() { echo "bench-history: $*" >&2; }
command -v psql >/dev/null || { log "psql is missing (apt-get install postgresql-client)"; exit 1; }

PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  psql "$ADMIN_URL" -XAtqc "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true
}
trap cleanup EXIT

cargo build --release -q -p callpark-app -p callpark-loadtest
mkdir -p "$WORK"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

psql "$ADMIN_URL" -XAtqc "CREATE DATABASE $DB" >/dev/null
DATABASE_URL=$DB_URL target/release/callpark migrate >/dev/null

TWILIO_PORT=$(free_port)
target/release/callpark-loadtest fake-twilio --port "$TWILIO_PORT" >"$WORK/fake-twilio.log" 2>&1 &
PIDS+=("$!")
PORT=$(free_port)
URL=http://127.0.0.1:$PORT
CALLPARK_LISTEN=127.0.0.1:$PORT CALLPARK_PUBLIC_URL=$URL DATABASE_URL=$DB_URL \
  TWILIO_ACCOUNT_SID=AC0123456789abcdef0123456789abcdef TWILIO_AUTH_TOKEN=bench-auth-token \
  TWILIO_API_BASE=http://127.0.0.1:$TWILIO_PORT CALLPARK_ADMIN_TOKEN=$ADMIN_TOKEN \
  target/release/callpark serve >"$WORK/callpark.log" 2>&1 &
CP_PID=$!
PIDS+=("$CP_PID")
for _ in $(seq 100); do curl -fs -o /dev/null "$URL/healthz" && break; sleep 0.1; done

curl -fsS "$URL/admin/orgs" -H "Authorization: Bearer $ADMIN_TOKEN" \
  -H 'Content-Type: application/json' \
  -d '{"slug": "acme", "name": "Acme", "slots": 8, "numbers": ["+15550001000"]}' >/dev/null
TOKEN=$(curl -fsS "$URL/admin/orgs/acme/agents" -H "Authorization: Bearer $ADMIN_TOKEN" \
  -H 'Content-Type: application/json' -d '{"identity": "alice", "role": "supervisor"}' |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')

log "filling $ROWS parked calls"
# One a second going back from now, in the mix a contact centre sees: most retrieved (some
# after a ring-back), some hung up, some to voicemail, a few failed; slots 1 to 8.
psql "$DB_URL" -XAtq -v ON_ERROR_STOP=1 -v rows="$ROWS" <<'SQL'
INSERT INTO parked_calls (id, org, slot, state, pstn_sid, caller_number, caller_name, parked_by,
                          parked_at, state_changed_at, ended_at, retrieval_kind, retrieval_agent,
                          recording_url, version, attempt, call_started_at, ringbacks)
SELECT gen_random_uuid(), 'acme', i % 8 + 1, s.state, 'CA' || lpad(to_hex(i), 32, '0'),
       '+1415' || lpad((i % 10000000)::text, 7, '0'), CASE WHEN i % 3 = 0 THEN 'Caller ' || i END,
       'agent' || (i % 20), t, t + interval '90 seconds', t + interval '90 seconds',
       CASE WHEN s.state = 'retrieved' THEN 'by_agent' END,
       CASE WHEN s.state = 'retrieved' THEN 'agent' || (i % 17) END,
       CASE WHEN s.state = 'voicemail' THEN 'https://api.twilio.com/recordings/RE' || i END,
       3, 1, t - interval '1 minute', CASE WHEN i % 10 = 0 THEN 1 ELSE 0 END
  FROM generate_series(1, :rows) AS i,
       LATERAL (SELECT now() - i * interval '1 second' AS t) AS at_,
       LATERAL (SELECT CASE WHEN i % 20 < 14 THEN 'retrieved' WHEN i % 20 < 17 THEN 'abandoned'
                            WHEN i % 20 < 19 THEN 'voicemail' ELSE 'failed' END AS state) AS s;
ANALYZE parked_calls;
SQL

log "reading it"
target/release/callpark-loadtest history --base "$URL" --token "$TOKEN" --pid "$CP_PID" |
  tee "$WORK/result.json"
