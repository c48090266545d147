#!/usr/bin/env bash
# Issue 15's figures, one sitting: protected and refresh req/s with the
# default settings, with ACCESS_TOKEN_REVOCATION alone (the protected path's
# user read then also reads the session), and with PRESET=hardened (rotation,
# blacklisting, reuse detection, grace, revocation, …). wrk with
# ../shared/anchors/load.sh's parameters and scenario.lua; fresh SQLite per
# configuration. `rotate` is simplejwt's own rotation (ROTATE_REFRESH_TOKENS +
# BLACKLIST_AFTER_ROTATION), to compare the hardened rotation with.
# Refresh under rotation sends every request its own token
# (tokens_once.lua; minted, so recorded in no session).
#
#   bench/sessions.sh            (NO_BUILD=1 skips the release build)
# Knobs: DURATION (10s), CONNECTIONS (64), PORT (18731), COUNT (tokens to mint, 400000).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"; ROOT="$(cd "$HERE/.." && pwd)"
SCEN="$ROOT/../shared/anchors/load/scenario.lua"
DURATION="${DURATION:-10s}"; CONNECTIONS="${CONNECTIONS:-64}"; PORT="${PORT:-18731}"
COUNT="${COUNT:-400000}"
[[ -n "${NO_BUILD:-}" ]] || (cd "$ROOT" && cargo build -q --release --bin simplejwt --example mint_tokens)
BIN="$ROOT/target/release/simplejwt"; MINT="$ROOT/target/release/examples/mint_tokens"
WORK="$(mktemp -d)"; trap 'kill $(cat "$WORK/pid" 2>/dev/null) 2>/dev/null || true; rm -rf "$WORK"' EXIT
export SIMPLE_JWT_SIGNING_KEY="bench-sessions-signing-key-0123456789abcdef0123456789abcdef"

rps() { python3 -c 'import json,sys; d=json.loads(sys.argv[1]); r=d["requests"]/(d["duration_us"]/1e6); print("%.0f req/s (p99 %.1f ms, non-2xx %d)%s" % (r, d["p99_us"]/1000, d["err_status"], " (tokens ran out: a lower bound, raise COUNT)" if d.get("exhausted", 0) else ""))' "$1"; }

run() {  # name, env pairs…
  local name="$1"; shift
  rm -f "$WORK/db.sqlite3"
  ( export DATABASE_URL="sqlite://$WORK/db.sqlite3" "$@"
    "$BIN" migrate >/dev/null 2>&1
    printf 'alice-Password-1\n' | "$BIN" createuser alice --password-stdin >/dev/null 2>&1
    SIMPLEJWT_LOG=warn "$BIN" serve --bind "127.0.0.1:$PORT" >"$WORK/log" 2>&1 & echo $! >"$WORK/pid" )
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/api/token/" && break; sleep 0.1; done
  local pair access refresh
  pair="$(curl -s -H 'Content-Type: application/json' -d '{"username":"alice","password":"alice-Password-1"}' "http://127.0.0.1:$PORT/api/token/")"
  access="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["access"])' "$pair")"
  refresh="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["refresh"])' "$pair")"
  local p r
  p="$(LOAD_METHOD=GET LOAD_AUTH="Bearer $access" wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --timeout 10s -s "$SCEN" "http://127.0.0.1:$PORT/api/protected/" | grep '^RESULT ' | cut -d' ' -f2-)"
  echo "| $name | protected | $(rps "$p") |"
  if [[ "$name" == hardened || "$name" == rotate ]]; then
    ( env "$@" "$MINT" --count "$COUNT" --user-id 1 >"$WORK/tokens" )
    r="$(TOKENS_FILE="$WORK/tokens" wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --timeout 10s -s "$HERE/lua/tokens_once.lua" "http://127.0.0.1:$PORT/api/token/refresh/" | grep '^RESULT ' | cut -d' ' -f2-)"
    echo "| $name | refresh (rotating, one token per request) | $(rps "$r") |"
  else
    r="$(LOAD_METHOD=POST LOAD_BODY="{\"refresh\": \"$refresh\"}" wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --timeout 10s -s "$SCEN" "http://127.0.0.1:$PORT/api/token/refresh/" | grep '^RESULT ' | cut -d' ' -f2-)"
    echo "| $name | refresh (same token) | $(rps "$r") |"
  fi
  # serve is not this shell's child: wait until it has exited (and freed the port).
  local pid; pid="$(cat "$WORK/pid")"; kill "$pid"
  for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
}

echo "loadavg before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| configuration | scenario | result |"
echo "|---|---|---|"
run default SIMPLE_JWT_PRESET=compatible
run revocation SIMPLE_JWT_SESSION_ID_CLAIM=sid SIMPLE_JWT_ACCESS_TOKEN_REVOCATION=true
run rotate SIMPLE_JWT_ROTATE_REFRESH_TOKENS=true SIMPLE_JWT_BLACKLIST_AFTER_ROTATION=true
run hardened SIMPLE_JWT_PRESET=hardened
run default-again SIMPLE_JWT_PRESET=compatible
echo "loadavg after: $(cut -d' ' -f1-3 /proc/loadavg)"
