#!/usr/bin/env bash
# The browser tests of the example page, from a clean clone: builds the
# server if needed (or uses $SIMPLEJWT_BIN), starts it on a free port with
# a fresh SQLite database, a test user and the browser-session settings,
# installs playwright-core (npm ci), runs the tests in Debian's headless
# Chromium (apt-get install -y chromium chromium-driver), stops the server.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"

CHROMIUM="${CHROMIUM:-$(command -v chromium || true)}"
if [ -z "$CHROMIUM" ]; then
  echo "chromium is not installed: apt-get install -y chromium chromium-driver" >&2
  exit 1
fi
export CHROMIUM

BIN="${SIMPLEJWT_BIN:-}"
if [ -z "$BIN" ]; then
  (cd "$ROOT" && cargo build --release --bin simplejwt)
  BIN="$ROOT/target/release/simplejwt"
fi

WORK="$(mktemp -d)"
PID=""
cleanup() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
export DATABASE_URL="sqlite://$WORK/db.sqlite3"
export SIMPLE_JWT_SIGNING_KEY="$(head -c 32 /dev/urandom | base64)"
export SIMPLE_JWT_AUTH_COOKIE=true
export SIMPLE_JWT_ACCESS_TOKEN_LIFETIME=2s
export SIMPLE_JWT_ROTATE_REFRESH_TOKENS=true
export SIMPLE_JWT_BLACKLIST_AFTER_ROTATION=true
# Reuse detection (sessions, issue 15) where this build has it: a tab that
# raced into a rotated-out token would then end the whole session.
# The device list marks this browser's own session by the session id claim.
if "$BIN" settings --markdown | grep -q '`REFRESH_REUSE_DETECTION`'; then
  export SIMPLE_JWT_REFRESH_REUSE_DETECTION=true
  export SIMPLE_JWT_SESSION_ID_CLAIM=sid
fi
export TEST_USER=alice
export TEST_PASSWORD="browser-test-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"

"$BIN" migrate >/dev/null
export TEST_USER2=bob
printf '%s' "$TEST_PASSWORD" | "$BIN" createuser "$TEST_USER" --password-stdin >/dev/null
printf '%s' "$TEST_PASSWORD" | "$BIN" createuser "$TEST_USER2" --password-stdin >/dev/null
"$BIN" serve --bind "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
PID=$!

# Chromium treats http://localhost as a secure context, so Secure cookies work.
export BASE_URL="http://localhost:$PORT"
for _ in $(seq 1 100); do
  curl -fsS -o /dev/null "$BASE_URL/" 2>/dev/null && break
  kill -0 "$PID" 2>/dev/null || { cat "$WORK/server.log" >&2; exit 1; }
  sleep 0.1
done

cd "$HERE"
npm ci --no-audit --no-fund --silent
status=0
node --test --test-concurrency=1 browser.test.mjs || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- server log" >&2
  tail -n 50 "$WORK/server.log" >&2
fi
exit "$status"
