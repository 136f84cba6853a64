#!/usr/bin/env bash
# callpark under load, on this machine: builds release, makes a database of its own, starts a
# fake Twilio, a bare actix-web baseline and callpark (one and two instances), runs the
# criterion benchmarks and the workloads, and writes the "## Service under load" section of
# docs/benchmarks.md (the other sections are left as they are).
#
#   scripts/bench.sh                 # everything, each figure the median of 3 runs
#   BENCH_RUNS=5 scripts/bench.sh    # more runs
#   BENCH_ONLY="webhooks cycles" scripts/bench.sh   # a subset (criterion webhooks cycles
#                                    # latency sse memory), for trying things out; the doc
#                                    # is only rewritten by a full run
#   BENCH_FROM=target/bench/last scripts/bench.sh   # no measuring: rewrite the section from
#                                    # the raw results of an earlier full run
#
# Needs PostgreSQL (BENCH_PG_ADMIN_URL, default postgres://postgres@127.0.0.1:5432/postgres,
# a user that may create databases) and wrk (installed with apt-get when missing and root).
# All load goes to 127.0.0.1. Everything it starts is stopped on exit (trap), and the whole
# run is killed after BENCH_TIMEOUT_SECS (default 4 h) whatever happens.
#
# Before the first measurement it waits until the 1-minute load average is below 1.0 (other
# builds finished), and before every measured run until the CPU time used over 5 s is below
# BENCH_QUIET_CORES (0.5 of a core): polling every 30 s, for at most 10 minutes each time. (The
# load average is not the test between runs: our own previous run keeps it high for a minute.)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

RUNS=${BENCH_RUNS:-3}
ONLY=${BENCH_ONLY:-criterion webhooks cycles latency sse memory}
ADMIN_URL=${BENCH_PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
QUIET_CORES=${BENCH_QUIET_CORES:-0.5}
TIMEOUT_SECS=${BENCH_TIMEOUT_SECS:-14400}
WRK_SECS=${BENCH_WRK_SECS:-10}
CYCLE_SECS=${BENCH_CYCLE_SECS:-10}
MEMORY_CYCLES=${BENCH_MEMORY_CYCLES:-100000}
SSE_SUBSCRIBERS=${BENCH_SSE_SUBSCRIBERS:-1000}

AUTH_TOKEN=bench-auth-token
ADMIN_TOKEN=bench-admin-token-0123456789abcdef
ACCOUNT_SID=AC0123456789abcdef0123456789abcdef
DB=callpark_bench_$$
DB_URL="${ADMIN_URL%/*}/$DB"
WORK=$(mktemp -d /tmp/callpark-bench.XXXXXX)
RESULTS=$WORK/results
mkdir -p "$RESULTS" "$ROOT/target/bench"
if [ -n "${BENCH_FROM:-}" ]; then
  cp -r "$BENCH_FROM/." "$RESULTS/"
  ONLY=""
fi
BIN=$ROOT/target/release/callpark
LOAD=$ROOT/target/release/callpark-loadtest

PIDS=()
cleanup() {
  set +e
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
  if [ -n "${WATCHDOG:-}" ]; then
    pkill -P "$WATCHDOG" 2>/dev/null # its sleep
    kill "$WATCHDOG" 2>/dev/null
  fi
  psql "$ADMIN_URL" -XAtqc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1
  if [ -z "${BENCH_FROM:-}" ]; then
    rm -rf "$ROOT/target/bench/last"
    cp -r "$RESULTS" "$ROOT/target/bench/last" 2>/dev/null
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
( sleep "$TIMEOUT_SECS" </dev/null >/dev/null 2>&1; echo "bench: time limit reached" >&2; kill -TERM $$ ) &
WATCHDOG=$!

log() { echo "bench: $*" >&2; }
want() { [[ " $ONLY " == *" $1 "* ]]; }

# ---- the machine must be quiet before each measurement ---------------------------------------

# CPU used by everything over 5 s, in cores (from /proc/stat).
busy_cores() {
  local a b
  a=$(awk '/^cpu /{print $2+$3+$4+$7+$8, $2+$3+$4+$5+$6+$7+$8}' /proc/stat)
  sleep 5
  b=$(awk '/^cpu /{print $2+$3+$4+$7+$8, $2+$3+$4+$5+$6+$7+$8}' /proc/stat)
  echo "$a $b $(nproc)" | awk '{ if ($4 == $2) print 0; else printf "%.2f\n", ($3-$1)/($4-$2)*$5 }'
}

FIRST_WAIT=1
wait_quiet() {
  local waited=0 busy
  while [ "$FIRST_WAIT" = 1 ]; do
    if awk -v l="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN{exit !(l < 1.0)}'; then break; fi
    if [ "$waited" -ge 600 ]; then
      log "load average still $(cut -d' ' -f1 /proc/loadavg) after 10 minutes; going on"
      echo "load" >>"$RESULTS/noisy"
      break
    fi
    log "load average $(cut -d' ' -f1 /proc/loadavg); waiting 30 s for it to fall below 1.0"
    sleep 30
    waited=$((waited + 30))
  done
  FIRST_WAIT=0
  waited=0
  while :; do
    busy=$(busy_cores)
    if awk -v b="$busy" -v q="$QUIET_CORES" 'BEGIN{exit !(b < q)}'; then break; fi
    if [ "$waited" -ge 600 ]; then
      log "still busy ($busy cores) after 10 minutes; measuring anyway (noted in the results)"
      echo "busy" >>"$RESULTS/noisy"
      break
    fi
    log "machine busy ($busy cores used, load $(cut -d' ' -f1 /proc/loadavg)); waiting 30 s"
    sleep 30
    waited=$((waited + 35))
  done
}

# ---- helpers --------------------------------------------------------------------------------

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_http() { # url
  for _ in $(seq 100); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done
  log "nothing answers at $1"; return 1
}

# start_callpark NAME TWILIO_PORT: a callpark with the defaults of `callpark serve`, in the
# background; sets CP_PID, CP_PORT and CP_URL.
start_callpark() {
  local name=$1 twilio=$2
  CP_PORT=$(free_port)
  CP_URL=http://127.0.0.1:$CP_PORT
  CALLPARK_LISTEN=127.0.0.1:$CP_PORT CALLPARK_PUBLIC_URL=$CP_URL \
    DATABASE_URL=$DB_URL TWILIO_ACCOUNT_SID=$ACCOUNT_SID TWILIO_AUTH_TOKEN=$AUTH_TOKEN \
    TWILIO_API_BASE=http://127.0.0.1:$twilio CALLPARK_ADMIN_TOKEN=$ADMIN_TOKEN \
    TWILIO_TIMEOUT_MS=5000 \
    "$BIN" serve >>"$WORK/$name.log" 2>&1 &
  CP_PID=$!
  PIDS+=("$CP_PID")
  wait_http "$CP_URL/healthz"
}

stop_pid() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

median() { jq -s 'map(select(. != null)) | sort | if length == 0 then null else .[(length - 1) / 2 | floor] end'; }

# Median of a jq path over the JSON lines of a results file.
med() { jq "$2" "$RESULTS/$1" | median; }

# wrk's "--latency" percentiles to milliseconds.
wrk_ms() { # file percentile
  awk -v p="$2%" '$1 == p {
      v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
      if (u == "us") v /= 1000; else if (u == "s") v *= 1000; print v }' "$1"
}

run_wrk() { # name lua url
  local out=$WORK/wrk-$1-$RANDOM.txt
  timeout $((WRK_SECS + 30)) wrk -t1 -c32 -d"${WRK_SECS}s" --latency -s "$2" "$3" >"$out"
  local rps p50 p99 non2xx
  rps=$(awk '/^Requests\/sec:/{print $2}' "$out")
  p50=$(wrk_ms "$out" 50)
  p99=$(wrk_ms "$out" 99)
  non2xx=$(awk '/Non-2xx/{print $NF}' "$out")
  echo "{\"name\":\"$1\",\"rps\":$rps,\"p50_ms\":$p50,\"p99_ms\":$p99,\"non2xx\":${non2xx:-0},\"load\":$(cut -d' ' -f1 /proc/loadavg)}" \
    | tee -a "$RESULTS/wrk-$1.jsonl" >&2
}

# ---- build and set up -----------------------------------------------------------------------

if [ -n "$ONLY" ]; then

if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >/dev/null
  else
    log "wrk is missing: apt-get install wrk"; exit 1
  fi
fi

log "building release"
cargo build --release -q -p callpark-app -p callpark-loadtest

psql "$ADMIN_URL" -XAtqc "CREATE DATABASE $DB" >/dev/null
log "database $DB"

TWILIO_PORT=$(free_port)
"$LOAD" fake-twilio --port "$TWILIO_PORT" >"$WORK/fake-twilio.log" 2>&1 &
PIDS+=("$!")
SLOW_PORT=$(free_port)
"$LOAD" fake-twilio --port "$SLOW_PORT" --delay-ms 100 >"$WORK/slow-twilio.log" 2>&1 &
PIDS+=("$!")
BARE_PORT=$(free_port)
"$LOAD" bare --port "$BARE_PORT" >"$WORK/bare.log" 2>&1 &
PIDS+=("$!")
wait_http "http://127.0.0.1:$TWILIO_PORT/stats"
wait_http "http://127.0.0.1:$SLOW_PORT/stats"

export TWILIO_AUTH_TOKEN=$AUTH_TOKEN CALLPARK_ADMIN_TOKEN=$ADMIN_TOKEN
fi

# ---- criterion ------------------------------------------------------------------------------

if want criterion; then
  for dir in crates/*/benches; do
    crate=$(basename "$(dirname "$dir")")
    wait_quiet
    log "criterion: $crate"
    timeout 1800 cargo bench -q -p "$crate" -- --warm-up-time 1 --measurement-time 3 2>&1 \
      | tee "$WORK/criterion-$crate.txt" >&2
    # "change:" lines compare with criterion's previous run on this machine: not results.
    awk -v c="$crate" '$1 == "change:" { next } /time:/ { name = prev; if ($1 != "time:") name = $1;
        sub(/^.*time: +/, ""); print c "\t" name "\t" $0 } { if ($1 != "time:") prev = $1 }' \
      "$WORK/criterion-$crate.txt" >>"$RESULTS/criterion.tsv"
  done
fi

# ---- (5a) idle RSS: three fresh instances ----------------------------------------------------

if want memory; then
  for run in $(seq "$RUNS"); do
    start_callpark "idle$run" "$TWILIO_PORT"
    sleep 3
    "$LOAD" rss --pid "$CP_PID" | jq -c '.[0]' >>"$RESULTS/rss-idle.jsonl"
    stop_pid "$CP_PID"
  done
fi

if want webhooks || want cycles; then
  start_callpark one "$TWILIO_PORT"
  URL1=$CP_URL
fi

# ---- (1) signed webhooks returning TwiML, and the bare baseline ------------------------------

if want webhooks; then
  "$LOAD" webhook-scripts --url "$URL1" --out-dir "$WORK/lua" >"$WORK/webhooks.json"
  for run in $(seq "$RUNS"); do
    for name in bare park hold; do
      wait_quiet
      log "wrk $name, run $run"
      if [ "$name" = bare ]; then
        run_wrk bare "$WORK/lua/park.lua" "http://127.0.0.1:$BARE_PORT"
      else
        run_wrk "$name" "$WORK/lua/$name.lua" "$URL1"
      fi
    done
  done
fi

# ---- (2) park+retrieve cycles, instant Twilio ------------------------------------------------

if want cycles; then
  for run in $(seq "$RUNS"); do
    # name, in flight, organisations, extra arguments
    for spec in "c32o8 32 8" "c8o8 8 8" "c32o1 32 1" "life32o8 32 8 --new-call-each-cycle"; do
      read -r name concurrency orgs extra <<<"$spec"
      wait_quiet
      log "cycles $extra, $concurrency in flight over $orgs organisation(s), run $run"
      # shellcheck disable=SC2086 # $extra is zero or more arguments
      timeout $((CYCLE_SECS + 120)) "$LOAD" cycles --url "$URL1" --concurrency "$concurrency" \
        --orgs "$orgs" --warmup-secs 2 --duration-secs "$CYCLE_SECS" $extra \
        --fake-twilio "http://127.0.0.1:$TWILIO_PORT" | tee -a "$RESULTS/cycles-$name.jsonl" >&2
    done
  done
fi

# ---- (3) park latency with 100 ms Twilio -----------------------------------------------------

if want latency; then
  start_callpark slow "$SLOW_PORT"
  for run in $(seq "$RUNS"); do
    wait_quiet
    log "park latency with 100 ms Twilio, run $run"
    timeout $((CYCLE_SECS + 120)) "$LOAD" cycles --url "$CP_URL" --concurrency 8 \
      --orgs 1 --warmup-secs 1 --duration-secs "$CYCLE_SECS" \
      --fake-twilio "http://127.0.0.1:$SLOW_PORT" | tee -a "$RESULTS/latency.jsonl" >&2
  done
  stop_pid "$CP_PID"
fi

# ---- (4) SSE fan-out, one and two instances --------------------------------------------------

# Fresh instances for every run, so that the RSS with the subscribers connected is not
# inflated by the previous run's (a closed stream is noticed at its next keep-alive, 15 s).
if want sse; then
  for run in $(seq "$RUNS"); do
    start_callpark "sse-a$run" "$TWILIO_PORT"
    pid_a=$CP_PID url_a=$CP_URL
    wait_quiet
    log "SSE fan-out to $SSE_SUBSCRIBERS subscribers on one instance, run $run"
    timeout 600 "$LOAD" sse --url "$url_a" --subscribers "$SSE_SUBSCRIBERS" --parks 100 \
      --rss-pid "$pid_a" | tee -a "$RESULTS/sse-1.jsonl" >&2
    stop_pid "$pid_a"
    start_callpark "sse-b$run" "$TWILIO_PORT"
    pid_b=$CP_PID url_b=$CP_URL
    start_callpark "sse-c$run" "$TWILIO_PORT"
    pid_c=$CP_PID url_c=$CP_URL
    wait_quiet
    log "SSE fan-out to $SSE_SUBSCRIBERS subscribers over two instances, run $run"
    timeout 600 "$LOAD" sse --url "$url_b" --url "$url_c" --subscribers "$SSE_SUBSCRIBERS" \
      --parks 100 --rss-pid "$pid_b,$pid_c" | tee -a "$RESULTS/sse-2.jsonl" >&2
    stop_pid "$pid_b"
    stop_pid "$pid_c"
  done
fi

# ---- (5b) RSS over 100,000 cycles, each run on a fresh instance -------------------------------

if want memory; then
  for run in $(seq "$RUNS"); do
    start_callpark "memory$run" "$TWILIO_PORT"
    wait_quiet
    log "RSS over $MEMORY_CYCLES cycles, run $run"
    timeout 1800 "$LOAD" cycles --url "$CP_URL" --concurrency 32 --orgs 8 --new-call-each-cycle \
      --warmup-secs 0 --duration-secs 1500 --max-cycles "$MEMORY_CYCLES" \
      --rss-pid "$CP_PID" --rss-every-cycles $((MEMORY_CYCLES / 10)) \
      | tee -a "$RESULTS/memory.jsonl" >&2
    stop_pid "$CP_PID"
  done
fi

# ---- the table ------------------------------------------------------------------------------

cp "$WORK/"*.log "$RESULTS/" 2>/dev/null || true
if [ -z "${BENCH_FROM:-}" ] && [ "$ONLY" != "criterion webhooks cycles latency sse memory" ]; then
  log "partial run ($ONLY): docs/benchmarks.md left alone; results in target/bench/last"
  exit 0
fi

f() { # a number rounded to at most two decimals, or "n/a"
  if [ -z "$1" ] || [ "$1" = null ]; then echo "n/a"; else awk -v v="$1" 'BEGIN{ r = sprintf("%.2f", v); sub(/\.?0+$/, "", r); print r }'; fi
}
n() { # an integer with thousands separators, or "n/a"
  if [ -z "$1" ] || [ "$1" = null ]; then echo "n/a"; else printf "%.0f" "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; fi
}
mb() { if [ -z "$1" ] || [ "$1" = null ]; then echo "n/a"; else awk -v k="$1" 'BEGIN{printf "%.1f MB", k/1024}'; fi; }

bare_rps=$(med wrk-bare.jsonl .rps); bare_p50=$(med wrk-bare.jsonl .p50_ms); bare_p99=$(med wrk-bare.jsonl .p99_ms)
park_rps=$(med wrk-park.jsonl .rps); park_p50=$(med wrk-park.jsonl .p50_ms); park_p99=$(med wrk-park.jsonl .p99_ms)
hold_rps=$(med wrk-hold.jsonl .rps); hold_p50=$(med wrk-hold.jsonl .p50_ms); hold_p99=$(med wrk-hold.jsonl .p99_ms)
c8=$(med cycles-c32o8.jsonl .cycles_per_sec); c8_50=$(med cycles-c32o8.jsonl .park.p50_ms); c8_99=$(med cycles-c32o8.jsonl .park.p99_ms)
m8=$(med cycles-c8o8.jsonl .cycles_per_sec); m8_50=$(med cycles-c8o8.jsonl .park.p50_ms); m8_99=$(med cycles-c8o8.jsonl .park.p99_ms)
c1=$(med cycles-c32o1.jsonl .cycles_per_sec); c1_50=$(med cycles-c32o1.jsonl .park.p50_ms); c1_99=$(med cycles-c32o1.jsonl .park.p99_ms)
l8=$(med cycles-life32o8.jsonl .cycles_per_sec); l8_50=$(med cycles-life32o8.jsonl .park.p50_ms); l8_99=$(med cycles-life32o8.jsonl .park.p99_ms)
lat_50=$(med latency.jsonl .park.p50_ms); lat_99=$(med latency.jsonl .park.p99_ms)
lat_fetch=$(med latency.jsonl '.twilio.fetches_total + .twilio.lists_total'); lat_upd=$(med latency.jsonl '.twilio.updates_per_cycle')
s1_50=$(med sse-1.jsonl .delivery_after_response.p50_ms); s1_99=$(med sse-1.jsonl .delivery_after_response.p99_ms)
s1r_99=$(med sse-1.jsonl .delivery_after_request.p99_ms)
s2_50=$(med sse-2.jsonl .delivery_after_response.p50_ms); s2_99=$(med sse-2.jsonl .delivery_after_response.p99_ms)
s2r_99=$(med sse-2.jsonl .delivery_after_request.p99_ms)
s_incomplete=$(jq -s 'map(.incomplete) | add' "$RESULTS"/sse-*.jsonl)
rss_idle=$(med rss-idle.jsonl .rss_kib)
rss_sse=$(med sse-1.jsonl '.rss_kib_connected[0]')
rss_sse2=$(med sse-2.jsonl '.rss_kib_connected | max')
rss_100k=$(med memory.jsonl '.rss[-1].rss_kib[0]')
mem_rate=$(med memory.jsonl .cycles_per_sec)
series=$(jq -s -r 'sort_by(.rss[-1].rss_kib[0]) | .[(length-1)/2|floor] | .rss
    | map("\(if .cycles < 1000 then .cycles else "\(.cycles / 1000 | floor)k" end): \(.rss_kib[0] / 1024 * 10 | round / 10)")
    | join(", ")' "$RESULTS/memory.jsonl")
crit=$(awk -F'\t' '{ printf "| `%s` | `%s` | %s |\n", $1, $2, $3 }' "$RESULTS/criterion.tsv" 2>/dev/null || true)

cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')
ram=$(awk '/MemTotal/{printf "%.0f GiB", $2/1024/1024}' /proc/meminfo)
noisy=""
[ -f "$RESULTS/noisy" ] && noisy="Some runs started while other processes were busy (waited 10 minutes for quiet and measured anyway)."
ok() { awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN{ if (v == "" || v == "null" || v == "n/a") {print "?"; exit}
  r = (op == ">=") ? (v >= t) : (v < t); print r ? "met" : "**missed**" }'; }

section=$WORK/section.md
cat >"$section" <<EOF
## Service under load

The release binary on PostgreSQL 15, with everything on one machine: the load generator
(\`tools/callpark-loadtest\`, and \`wrk\`), a fake Twilio answering call updates at once (or after
100 ms), and one or two callpark instances on one database. Each figure is the median of
$RUNS runs; before each run the bench waited until other processes used less than
$QUIET_CORES of a core. Latency of the API is measured by the client around the request.

- Command: \`scripts/bench.sh\` (raw results of the last run: \`target/bench/last/\`)
- Date: $(date -u +%Y-%m-%d) (UTC)
- Machine: $(nproc) cores (\`nproc\`), CPU \`$cpu\`, $ram RAM, $(uname -sr) $(uname -m);
  $(rustc --version | cut -d' ' -f1-2), PostgreSQL $(psql "$ADMIN_URL" -XAtqc 'SHOW server_version' | cut -d' ' -f1)
  (\`fsync\` and \`synchronous_commit\` on, its defaults)
$( [ -n "$noisy" ] && echo "- $noisy" )

| workload | figure | target | |
|---|---|---|---|
| signed webhook \`POST /twilio/park/{id}\` (TwiML), \`wrk -t1 -c32\` | $(n "$park_rps") req/s, p50 $(f "$park_p50") ms, p99 $(f "$park_p99") ms | ≥ 50,000 req/s, p99 < 5 ms | $(ok "$park_rps" ">=" 50000) / $(ok "$park_p99" "<" 5) |
| signed webhook \`POST /twilio/hold/{id}\` (TwiML), \`wrk -t1 -c32\` | $(n "$hold_rps") req/s, p50 $(f "$hold_p50") ms, p99 $(f "$hold_p99") ms | ≥ 50,000 req/s, p99 < 5 ms | $(ok "$hold_rps" ">=" 50000) / $(ok "$hold_p99" "<" 5) |
| bare actix-web handler, same wrk, same run | $(n "$bare_rps") req/s, p50 $(f "$bare_p50") ms, p99 $(f "$bare_p99") ms | (baseline) | |
| park+retrieve cycles, 32 in flight over 8 organisations (saturation) | $(n "$c8") cycles/s; park p50 $(f "$c8_50") ms, p99 $(f "$c8_99") ms | ≥ 1,000 cycles/s, park p99 < 10 ms | $(ok "$c8" ">=" 1000) / $(ok "$c8_99" "<" 10) |
| the same, 8 in flight | $(n "$m8") cycles/s; park p50 $(f "$m8_50") ms, p99 $(f "$m8_99") ms | | $(ok "$m8" ">=" 1000) / $(ok "$m8_99" "<" 10) |
| the same, 32 in flight in one organisation | $(n "$c1") cycles/s; park p50 $(f "$c1_50") ms, p99 $(f "$c1_99") ms | | |
| a whole call's life per cycle (the call comes in first), 32 in flight over 8 organisations | $(n "$l8") cycles/s; park p50 $(f "$l8_50") ms, p99 $(f "$l8_99") ms | | |
| park with 100 ms Twilio latency (8 in flight) | park p50 $(f "$lat_50") ms, p99 $(f "$lat_99") ms; Twilio fetches: $(f "$lat_fetch"); Twilio updates per cycle (park + retrieve): $(f "$lat_upd") | median < 130 ms, one round trip | $(ok "$lat_50" "<" 130) |
| SSE fan-out, $(n "$SSE_SUBSCRIBERS") subscribers on one instance | after the park's response: p50 $(f "$s1_50") ms, p99 $(f "$s1_99") ms (after its request: p99 $(f "$s1r_99") ms) | p99 < 50 ms | $(ok "$s1_99" "<" 50) |
| SSE fan-out, $(n "$SSE_SUBSCRIBERS") subscribers split over two instances | after the park's response: p50 $(f "$s2_50") ms, p99 $(f "$s2_99") ms (after its request: p99 $(f "$s2r_99") ms) | p99 < 50 ms | $(ok "$s2_99" "<" 50) |
| RSS idle (fresh instance, 3 s after start) | $(mb "$rss_idle") | < 20 MB | $(ok "$rss_idle" "<" 20480) |
| RSS with $(n "$SSE_SUBSCRIBERS") SSE clients | $(mb "$rss_sse") (two instances: the larger $(mb "$rss_sse2")) | < 60 MB | $(ok "$rss_sse" "<" 61440) |
| RSS after $(n "$MEMORY_CYCLES") cycles (at $(n "$mem_rate") cycles/s) | $(mb "$rss_100k"); samples (cycles: MB) $series | levels off | |

How each is measured:

1. **Webhooks**: \`callpark-loadtest webhook-scripts\` parks one call and writes wrk Lua scripts
   replaying one signed Twilio request (9 form parameters, as Twilio sends them) to its park
   and hold TwiML endpoints; \`wrk -t1 -c32 -d${WRK_SECS}s --latency\`. The bare baseline is an
   actix-web handler answering a fixed TwiML body to the same request, with as many workers.
   Every response was checked to be 2xx (wrk's "Non-2xx" count is kept in the raw results).
2. **Cycles**: \`callpark-loadtest cycles --concurrency 32 --orgs 8\`: each of 32 tasks (one agent
   each, the agents spread over 8 organisations) has a call come in once (\`/twilio/voice\`, then
   \`/twilio/call-status\` of the browser leg), then loops: \`POST /api/park\` of the browser leg
   (timed), \`POST /api/lot/{slot}/retrieve\`, \`/twilio/retrieve/{id}/answered\` on a new browser
   leg, which the next park parks again. ${CYCLE_SECS} s measured after 2 s of warm-up. Three HTTP
   requests, two Twilio updates, four parked-call transitions and 9 SQL statements (4 of them
   committing writes, each flushed to disk) per cycle, besides the batched notifications. With
   \`--new-call-each-cycle\` every cycle is a new call's whole life (the call comes in, then park,
   retrieve, answer: five HTTP requests, 14 SQL statements, 7 commits). Writers of one
   organisation's lot are serialised by its lot-state row (so that sequences are gap-free),
   hence the one-organisation row.
3. **Park latency**: the same cycles against an instance whose Twilio answers after 100 ms;
   the fake Twilio counts the requests, which shows that a park costs one Twilio request
   (the redirect) and no fetch.
4. **SSE**: \`callpark-loadtest sse\`: $SSE_SUBSCRIBERS \`GET /api/events\` streams (split evenly over
   the instances), then 100 parks one after another on the first instance; for each, the time
   from the park's HTTP response (and from its request) until the event of the call reaching
   \`parked\` has arrived at every subscriber (0 when it arrived before the response). Writing
   the event to 1,000 streams takes a few milliseconds of the same two cores, so the faster the
   park answers, the more of that falls after its response.
5. **Memory**: \`VmRSS\` from \`/proc/PID/status\`; whole-life cycles of (2) (a new call each)
   run to $MEMORY_CYCLES on a fresh instance, sampled every $((MEMORY_CYCLES / 10)) cycles (the median run's samples are shown).
EOF
if [ -n "$crit" ]; then
  cat >>"$section" <<EOF

Criterion benchmarks of this run (\`cargo bench -p <crate> -- --warm-up-time 1 --measurement-time 3\`):

| crate | benchmark | time (criterion's [low mean high]) |
|---|---|---|
$crit
EOF
fi

python3 - "$ROOT/docs/benchmarks.md" "$section" <<'PY'
import re, sys
doc_path, section_path = sys.argv[1], sys.argv[2]
doc = open(doc_path).read()
section = open(section_path).read().rstrip() + "\n"
pattern = re.compile(r"^## Service under load\n.*?(?=^## |\Z)", re.S | re.M)
if pattern.search(doc):
    doc = pattern.sub(lambda _: section + "\n", doc).rstrip() + "\n"
else:
    doc = doc.rstrip() + "\n\n" + section
open(doc_path, "w").write(doc)
PY
log "wrote docs/benchmarks.md"
