#!/usr/bin/env bash
# The project's one test command (README, CI): formatting, lints, then every test of the
# workspace against a real PostgreSQL. Fails, never skips, when something it needs is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "==> cargo fmt --check"
cargo fmt --all -- --check

echo "==> sizes of product files and functions"
python3 scripts/check-size.py

echo "==> cargo clippy"
cargo clippy --workspace --all-targets --all-features -- -D warnings

# PostgreSQL for the storage and end-to-end tests: exports DATABASE_URL.
if [ -f scripts/test-postgres.sh ]; then
  # shellcheck source=scripts/test-postgres.sh
  . scripts/test-postgres.sh
fi

echo "==> tests"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --all-features --no-fail-fast
  # nextest does not run doc tests.
  cargo test --workspace --all-features --doc
else
  cargo test --workspace --all-features --no-fail-fast
fi

echo "==> the domain crate as a library: its embedding example, docs and package"
# The example checks every step itself and exits non-zero on a failed check; its last line
# says that every check passed. (Its output is shown from a file: `tee /dev/stderr` would
# reopen a log file that stderr is, and truncate it.)
embed_out=target/embed-example.out
cargo run -q -p callpark-domain --example embed --all-features >"$embed_out"
cat "$embed_out"
tail -n 1 "$embed_out" | grep -qx 'embed: every check passed'
RUSTDOCFLAGS="-D warnings" cargo doc -p callpark-domain --no-deps --all-features
cargo package -p callpark-domain --allow-dirty --no-verify --offline

echo "==> sandbox walk (the real binary, over HTTP)"
bash scripts/sandbox-walk.sh

echo "==> the chaos run, short form (two instances, kill -9, a PostgreSQL restart)"
# Its own throwaway cluster (it restarts it), so it needs initdb and pg_ctl; it says so if not.
# It prints the run's figures as JSON; a broken invariant fails it.
bash scripts/chaos.sh --lives 500

echo "==> every command of docs/deploy.md"
bash scripts/test-deploy-doc.sh

echo "==> the API description against the running service"
bash scripts/test-api.sh

echo "==> the page: types and unit tests"
bash scripts/test-page.sh

if [ -f scripts/test-browser.sh ]; then
  echo "==> browser tests"
  bash scripts/test-browser.sh
fi
