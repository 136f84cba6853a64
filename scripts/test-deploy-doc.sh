#!/usr/bin/env bash
# Runs every shell command of docs/deploy.md, in order, as a reader would: the release build,
# the database role and database (on a throwaway PostgreSQL cluster of its own, since the doc
# names them `callpark`), the configuration file, migrations, the service (real-Twilio mode,
# with the doc's example credentials: nothing here calls Twilio), the admin API, the sign-in
# link, backup and restore. The doc's placeholders are replaced: https://park.example.com by
# the service's local address, /etc/callpark/ by a temporary directory, the database's and the
# service's ports by free ones. A block whose first line is `# not run by the tests: <why>` is
# listed, not run. Then it checks what the commands should have made. Called by
# scripts/test.sh; runs alone too. Fails loudly, never skips.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
DOC=docs/deploy.md

for tool in psql pg_dump pg_restore curl openssl python3; do
  command -v "$tool" >/dev/null 2>&1 ||
    { echo "error: docs/deploy.md's commands need $tool (PostgreSQL client tools: apt-get install postgresql-client)" >&2; exit 1; }
done

WORK=$(mktemp -d /tmp/callpark-deploy-doc.XXXXXX)
chmod 0755 "$WORK" # the cluster runs as the postgres user when we are root
unset DATABASE_URL
export CALLPARK_PG_THROWAWAY=1 CALLPARK_PG_ROOT="$WORK/pg"
# shellcheck source=scripts/test-postgres.sh
. scripts/test-postgres.sh
cleanup() {
  pkill -f "serve --config $WORK/" 2>/dev/null || true
  _callpark_pg_cleanup
  rm -rf "$WORK" "$ROOT/callpark.dump"
}
trap cleanup EXIT

pg_port=${DATABASE_URL##*:}
pg_port=${pg_port%%/*}
http_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$http_port"
unset DATABASE_URL
# The doc's psql commands run as a superuser, through libpq's variables.
export PGHOST=127.0.0.1 PGPORT=$pg_port PGUSER=postgres PGDATABASE=postgres
# Whatever the calling shell had must not override the doc's configuration file.
while IFS= read -r name; do unset "$name"; done < <(env | sed -n 's/^\(CALLPARK_[A-Z_]*\|TWILIO_[A-Z_]*\)=.*/\1/p')
export PATH="$ROOT/target/release:$PATH"

python3 - "$DOC" "$WORK" "$base" "$pg_port" "$http_port" >"$WORK/doc.sh" <<'PY'
import re, shlex, sys
doc, work, base, pg_port, http_port = sys.argv[1:]
text = open(doc).read()
replace = [("https://park.example.com", base), ("/etc/callpark", f"{work}/etc/callpark"),
           ("127.0.0.1:5432", f"127.0.0.1:{pg_port}"), ("127.0.0.1:8080", f"127.0.0.1:{http_port}")]
skip = "# not run by the tests:"
out = ["set -euo pipefail"]
ran = 0
for info, block in re.findall(r"^```(\S*)\n(.*?)^```$", text, re.M | re.S):
    if info != "sh":
        continue
    lines = block.splitlines()
    if lines[0].startswith(skip):
        out.append(f"echo {shlex.quote('deploy doc: not run (' + lines[0][len(skip):].strip() + ')')}")
        continue
    for old, new in replace:
        block = block.replace(old, new)
    command = next(line for line in block.splitlines() if not line.startswith("#"))
    out.append(f"echo {shlex.quote('deploy doc: $ ' + command)}")
    if lines[0] == "# runs until stopped":
        # The service runs on while the next blocks talk to it; the trap stops it.
        out.append(f"( {block.strip()} ) >{work}/serve.log 2>&1 &")
        out.append(f"for _ in $(seq 300); do curl -fsS {base}/healthz >/dev/null 2>&1 && break; sleep 0.2; done")
    else:
        out.append(block)
    ran += 1
if ran < 10:
    sys.exit(f"only {ran} runnable blocks found in {doc}: the extraction is broken")
print("\n".join(out))
PY

echo "==> the commands of $DOC"
if ! (cd "$ROOT" && bash "$WORK/doc.sh"); then
  echo "FAIL: a command of $DOC failed. The service's output:" >&2
  cat "$WORK/serve.log" >&2 2>/dev/null || true
  exit 1
fi

echo "==> what they made"
fail() { echo "FAIL: $*" >&2; cat "$WORK/serve.log" >&2 2>/dev/null || true; exit 1; }
admin_token=$(sed -n 's/^CALLPARK_ADMIN_TOKEN=//p' "$WORK/etc/callpark/callpark.env")
[ ${#admin_token} -eq 64 ] || fail "the configuration file has no generated admin token"
[ "$(stat -c %a "$WORK/etc/callpark/callpark.env")" = 640 ] || fail "the configuration file is not 0640"
org=$(curl -fsS "$base/admin/orgs/acme" -H "Authorization: Bearer $admin_token")
echo "$org" | python3 -c 'import json,sys; o=json.load(sys.stdin); assert o["name"] == "Acme Support" and o["numbers"] == ["+14155550100"], o' ||
  fail "the organisation is not as the doc created it: $org"
# CALLPARK_LOG_FORMAT=json: the start line says whether it runs the sandbox.
grep -q '"message":"callpark is listening".*"sandbox":false' "$WORK/serve.log" ||
  fail "the documented configuration did not start callpark on real Twilio"
agents=$(psql -d callpark_restored -XAtc "SELECT count(*) FROM agents WHERE identity = 'alice'")
[ "$agents" = 1 ] || fail "the restored database does not hold the agent (found $agents)"
echo "deploy doc: every runnable command of $DOC worked"
