# shellcheck shell=bash
# Makes a PostgreSQL available to the tests and exports DATABASE_URL (an admin URL: the tests
# create and drop a database of their own per test, cloned from a template they migrate once:
# callpark_postgres::testdb). Meant to be SOURCED, by scripts/test.sh:
#
#   . scripts/test-postgres.sh
#
# In order:
#   1. DATABASE_URL, if set (it must answer);
#   2. a server on 127.0.0.1:5432 that lets user `postgres` in (a developer's or CI's own);
#   3. a throwaway cluster made with initdb/pg_ctl under target/pg, on a free port. It is
#      stopped and removed when the sourcing shell exits (an EXIT trap), so that shell must stay
#      alive while the tests run: source this script, do not run it in a subshell;
#   4. otherwise it fails, saying how to install PostgreSQL.
#
# CALLPARK_PG_THROWAWAY=1 skips 1 and 2 (a clean cluster every run; also how this script's
# step 3 is tested). CALLPARK_PG_ROOT puts the throwaway cluster elsewhere than target/pg.

_callpark_pg_log() { echo "test-postgres: $*" >&2; }

# Whether a server answers at URL $1 (and lets us in, when psql is there to try).
_callpark_pg_answers() {
  if command -v psql >/dev/null 2>&1; then
    psql "$1" -XAtqc 'SELECT 1' >/dev/null 2>&1
  elif command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -d "$1" >/dev/null 2>&1
  else
    # No client tools: a TCP connection to the default port is the best we can check.
    (exec 3<>/dev/tcp/127.0.0.1/5432) >/dev/null 2>&1
  fi
}

# The directory holding initdb and pg_ctl: on PATH, or Debian's versioned directory.
_callpark_pg_bindir() {
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v pg_ctl)"
    return 0
  fi
  local dir
  # Newest version first; the glob stays literal when nothing matches, and the test skips it.
  for dir in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V -r); do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
      echo "$dir"
      return 0
    fi
  done
  return 1
}

_callpark_pg_free_port() {
  local port
  for port in $(seq 55432 55531); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") >/dev/null 2>&1; then
      echo "$port"
      return 0
    fi
  done
  return 1
}

_callpark_pg_cleanup() {
  if [ -n "${_CALLPARK_PG_DATA:-}" ] && [ -d "$_CALLPARK_PG_DATA" ]; then
    $_CALLPARK_PG_AS "$_CALLPARK_PG_BIN/pg_ctl" -D "$_CALLPARK_PG_DATA" -m immediate -w stop \
      >/dev/null 2>&1 || true
    rm -rf "$_CALLPARK_PG_ROOT"
    _callpark_pg_log "stopped and removed the throwaway cluster"
  fi
}

# Starts the throwaway cluster and exports DATABASE_URL, or fails.
_callpark_pg_throwaway() {
  local bin port root
  if ! bin="$(_callpark_pg_bindir)"; then
    return 1
  fi
  if ! port="$(_callpark_pg_free_port)"; then
    _callpark_pg_log "no free port in 55432-55531 for a throwaway cluster"
    return 1
  fi
  root="${CALLPARK_PG_ROOT:-$(pwd)/target/pg}"
  rm -rf "$root"
  mkdir -p "$root"
  # initdb refuses to run as root: run the cluster as the `postgres` system user then.
  _CALLPARK_PG_AS=""
  if [ "$(id -u)" = 0 ]; then
    if ! id postgres >/dev/null 2>&1; then
      _callpark_pg_log "running as root and there is no 'postgres' user to run a cluster as"
      return 1
    fi
    chown postgres "$root"
    _CALLPARK_PG_AS="runuser -u postgres --"
  fi
  _CALLPARK_PG_BIN="$bin"
  _CALLPARK_PG_ROOT="$root"
  _CALLPARK_PG_DATA="$root/data"
  trap _callpark_pg_cleanup EXIT

  _callpark_pg_log "starting a throwaway cluster ($bin) on 127.0.0.1:$port under $root"
  # Durability is pointless for a cluster that is deleted after the run: fsync off is faster.
  if ! $_CALLPARK_PG_AS "$bin/initdb" -D "$_CALLPARK_PG_DATA" -U postgres -A trust -E UTF8 \
      --locale=C --no-sync >"$root/initdb.log" 2>&1; then
    _callpark_pg_log "initdb failed:"; cat "$root/initdb.log" >&2
    return 1
  fi
  if ! $_CALLPARK_PG_AS "$bin/pg_ctl" -D "$_CALLPARK_PG_DATA" -l "$root/server.log" -w -t 30 \
      -o "-p $port -c listen_addresses=127.0.0.1 -k $root -c fsync=off -c max_connections=200" \
      start >/dev/null; then
    _callpark_pg_log "the throwaway cluster did not start:"; cat "$root/server.log" >&2
    return 1
  fi
  export DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
}

_callpark_pg_setup() {
  if [ "${CALLPARK_PG_THROWAWAY:-0}" != 1 ]; then
    if [ -n "${DATABASE_URL:-}" ]; then
      if _callpark_pg_answers "$DATABASE_URL"; then
        _callpark_pg_log "using DATABASE_URL"
        return 0
      fi
      _callpark_pg_log "DATABASE_URL is set but no PostgreSQL answers there"
      return 1
    fi
    local local_url="postgres://postgres@127.0.0.1:5432/postgres"
    if _callpark_pg_answers "$local_url"; then
      export DATABASE_URL="$local_url"
      _callpark_pg_log "using the server on 127.0.0.1:5432"
      return 0
    fi
  fi
  if _callpark_pg_throwaway; then
    return 0
  fi
  _callpark_pg_log "no PostgreSQL to test against. Install it (Debian/Ubuntu:" \
    "'apt-get install postgresql', which provides initdb and pg_ctl for a throwaway cluster)," \
    "or point DATABASE_URL at a server where the user may create databases."
  return 1
}

# Sourced, `return` fails the sourcing shell's `.` (and so a `set -e` caller); run as a script
# by mistake, `exit` does.
# shellcheck disable=SC2317
_callpark_pg_setup || { _callpark_pg_log "failed"; return 1 2>/dev/null || exit 1; }
