#!/usr/bin/env bash
# Starts the real `callpark` binary in sandbox mode and walks through a call's life over HTTP:
# simulate a call, park it, see it on the lot, retrieve it, see the slot free. Exits non-zero
# on the first thing that does not happen.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build -q -p callpark-app
out=$(mktemp)
# The sandbox is the embedded default: in-memory store, whatever DATABASE_URL the test run set.
env -u DATABASE_URL ./target/debug/callpark serve --listen 127.0.0.1:0 >"$out" 2>"$out.log" &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -f "$out" "$out.log"' EXIT

# A loaded machine can take a while to start it; give it a minute before calling it failed.
for _ in $(seq 600); do grep -q ' bob ' "$out" && break; sleep 0.1; done
base=$(grep -o 'http://[^/ ]*/#token=' "$out" | head -1 | sed 's|/#token=||' || true)
alice=$(grep ' alice ' "$out" | sed 's/.*#token=//' || true)
bob=$(grep ' bob ' "$out" | sed 's/.*#token=//' || true)
if [ -z "$base" ] || [ -z "$alice" ] || [ -z "$bob" ]; then
  echo "FAIL: the sandbox did not print its sign-in links within a minute. Its output:"
  cat "$out" "$out.log"
  exit 1
fi

api() { # method path token [json]
  curl -sS -f --max-time 10 -X "$1" "$base$2" -H "Authorization: Bearer $3" \
    -H 'Content-Type: application/json' ${4:+-d "$4"} || { echo "FAIL: $1 $2" >&2; return 1; }
}
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1], {'d': d}))" "$1"; }
wait_for() { # description python-expression-on-lot
  for _ in $(seq 100); do
    [ "$(api GET /api/lot "$bob" | json "$2")" = True ] && return 0
    sleep 0.1
  done
  echo "FAIL: $1"; api GET /api/lot "$bob"; exit 1
}

api POST /api/session "$alice" >/dev/null
api POST /api/session "$bob" >/dev/null
api POST /api/sandbox/calls "$alice" '{"from":"+14155550142"}' >/dev/null
browser=$(api GET /api/me "$alice" | json 'd["currentCall"]["callSid"]')
echo "alice is on call $browser"
api POST /api/park "$alice" "{\"callSid\":\"$browser\",\"slot\":3}" >/dev/null
wait_for "slot 3 parked with a conference" 'd["slots"][2]["state"] == "parked" and d["slots"][2]["call"]["conferenceSid"] is not None'
echo "parked in slot 3: $(api GET /api/lot "$bob" | json 'd["slots"][2]["call"]["callerNumber"]')"
api POST /api/lot/3/retrieve "$bob" >/dev/null
wait_for "slot 3 free after bob retrieved it" 'd["slots"][2]["state"] == "free"'
[ "$(api GET /api/me "$bob" | json 'd["currentCall"]["callerNumber"]')" = "+14155550142" ] || { echo "FAIL: bob does not have the call"; exit 1; }
echo "bob has the caller; slot 3 is free"
echo "1 passed, 0 failed"
