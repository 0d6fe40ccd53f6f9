#!/usr/bin/env bash
# The project's test command (README): every crate's unit, integration and doc tests, on the
# test data in tests/data (the corpus and GitHub's payloads: part of the repository; a missing
# folder fails the tests that read it).
set -euo pipefail
cd "$(dirname "$0")/.."
export INSTA_UPDATE="${INSTA_UPDATE:-no}"
cargo test --workspace "$@"

# The web UI in a real headless Chromium (tests/browser, playwright-core driving Debian's
# /usr/bin/chromium) against the server binary the tests above built. Needs node, chromium and
# `npm ci --prefix tests/browser`; CI installs them and sets CHARTIMPACT_REQUIRE_BROWSER=1,
# elsewhere a missing piece skips these tests with a note.
if [ $# -gt 0 ]; then
  exit 0 # a filtered run (arguments for cargo) is about Rust tests only
fi
missing=""
command -v node >/dev/null || missing="node"
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || missing="$missing chromium"
[ -d tests/browser/node_modules/playwright-core ] || missing="$missing tests/browser/node_modules (npm ci --prefix tests/browser)"
if [ -n "$missing" ]; then
  if [ "${CHARTIMPACT_REQUIRE_BROWSER:-}" = 1 ]; then
    echo "browser tests required but missing: $missing" >&2
    exit 1
  fi
  echo "note: skipping the browser tests, missing: $missing"
  exit 0
fi
target="${CARGO_TARGET_DIR:-$(pwd)/target}"
[ -x "$target/debug/chartimpact-server" ] || cargo build --bin chartimpact-server
echo "== browser tests (tests/browser)"
CHARTIMPACT_SERVER_BIN="$target/debug/chartimpact-server" node --test --test-concurrency=1 tests/browser/ui.test.mjs tests/browser/operations.test.mjs
