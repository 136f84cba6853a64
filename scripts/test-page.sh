#!/usr/bin/env bash
# The agents' page without a browser: tsc checks the JSDoc types of its ES modules
# (crates/callpark-http/ui/), and node's test runner runs the unit tests of its pure parts
# (crates/callpark-http/ui-tests/). Called by scripts/test.sh; runs alone too.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/node.sh
. scripts/node.sh

require_node
npm_ci crates/callpark-http

cd crates/callpark-http
echo "==> tsc --noEmit (the page's modules, then its unit tests)"
npm run --silent check
echo "==> node --test (the page's unit tests)"
npm test --silent
