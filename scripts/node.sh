# Node.js for the page's checks (scripts/test-page.sh) and the browser tests
# (scripts/test-browser.sh): sourced by both. Fails loudly, never skips.

# Node.js 20 or newer, and npm.
require_node() {
  local tool
  for tool in node npm; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      echo "error: $tool is required (Node.js 20 or newer)" >&2
      exit 1
    fi
  done
  if ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)'; then
    echo "error: Node.js 20 or newer is required; this is $(node --version)" >&2
    exit 1
  fi
}

# `npm ci` in a folder with a package-lock.json, unless its node_modules is already what the
# lockfile says (npm writes node_modules/.package-lock.json as it installs).
npm_ci() {
  local dir=$1
  if [ ! -f "$dir/node_modules/.package-lock.json" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    echo "==> npm ci ($dir)"
    (cd "$dir" && npm ci --no-audit --no-fund)
  fi
}
