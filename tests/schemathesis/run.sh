#!/usr/bin/env bash
# Fuzzes the running server from its own OpenAPI document (issue 18, point 1):
# builds the server if needed (or uses $SIMPLEJWT_BIN), starts it on a free
# port with a fresh SQLite database and a staff user, and runs schemathesis
# (installed in a venv, /tmp/st-venv) with every check against
# /api/schema/: no 5xx, every status, content type, header and body as
# documented, invalid input refused, valid input accepted, undocumented
# methods refused, authentication not ignored. Bounded in time
# (SCHEMATHESIS_MAX_EXAMPLES per operation, SCHEMATHESIS_TIMEOUT seconds).
# Exits non-zero on any failure, with the server's log.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VENV="${SCHEMATHESIS_VENV:-/tmp/st-venv}"
MAX_EXAMPLES="${SCHEMATHESIS_MAX_EXAMPLES:-50}"
TIMEOUT="${SCHEMATHESIS_TIMEOUT:-300}"

if [ ! -x "$VENV/bin/st" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check schemathesis
fi

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
BASE="http://127.0.0.1:$PORT"
export DATABASE_URL="sqlite://$WORK/db.sqlite3"
export SIMPLE_JWT_SIGNING_KEY="$(head -c 32 /dev/urandom | base64)"
# Every optional endpoint that needs no outside service is mounted.
export SIMPLE_JWT_OAUTH_TOKEN_ENDPOINTS=true
export SIMPLE_JWT_OPENAPI=true
# The caller's token outlives the run.
export SIMPLE_JWT_ACCESS_TOKEN_LIFETIME=1h
USER_NAME=fuzz-staff
PASSWORD="st-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"

"$BIN" migrate >/dev/null
printf '%s' "$PASSWORD" | "$BIN" createuser "$USER_NAME" --staff --password-stdin >/dev/null
"$BIN" serve --bind "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
PID=$!
for _ in $(seq 1 100); do
  curl -fsS -o /dev/null "$BASE/healthz" 2>/dev/null && break
  kill -0 "$PID" 2>/dev/null || { cat "$WORK/server.log" >&2; exit 1; }
  sleep 0.1
done

ACCESS="$(curl -fsS -H 'Content-Type: application/json' \
  -d "{\"username\": \"$USER_NAME\", \"password\": \"$PASSWORD\"}" "$BASE/api/token/" \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["access"])')"

status=0
# schemathesis keeps its cache in the working directory: the scratch one.
cd "$WORK"
timeout "$TIMEOUT" "$VENV/bin/st" --config-file "$HERE/schemathesis.toml" run "$BASE/api/schema/" \
  --checks all \
  --max-examples "$MAX_EXAMPLES" \
  --seed "${SCHEMATHESIS_SEED:-1}" \
  --workers 1 \
  --request-timeout 10 \
  -H "Authorization: Bearer $ACCESS" \
  --no-color || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- schemathesis failed ($status); server log:" >&2
  grep -E 'status=5[0-9][0-9]|ERROR|panic' "$WORK/server.log" | tail -n 50 >&2 || true
fi
exit "$status"
