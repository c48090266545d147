#!/usr/bin/env bash
# Issue 20's figure, one sitting: protected req/s over HTTPS (rustls, in
# `serve`) against plain HTTP, rounds interleaved so that a noisy machine
# affects both alike. wrk with ../shared/anchors/load.sh's parameters and
# scenario.lua; keep-alive connections, so the handshake is paid once per
# connection and the figure is the per-request cost of TLS records.
#
#   bench/https.sh            (NO_BUILD=1 skips the release build)
# Knobs: ROUNDS (3), DURATION (8s), CONNECTIONS (64), PORT (18741; PORT+1 for HTTPS).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"; ROOT="$(cd "$HERE/.." && pwd)"
SCEN="$ROOT/../shared/anchors/load/scenario.lua"
ROUNDS="${ROUNDS:-3}"; DURATION="${DURATION:-8s}"; CONNECTIONS="${CONNECTIONS:-64}"
PORT="${PORT:-18741}"; TLS_PORT=$((PORT + 1))
[[ -n "${NO_BUILD:-}" ]] || (cd "$ROOT" && cargo build -q --release --bin simplejwt)
BIN="$ROOT/target/release/simplejwt"
WORK="$(mktemp -d)"
trap 'kill $(cat "$WORK"/*.pid 2>/dev/null) 2>/dev/null || true; rm -rf "$WORK"' EXIT
export SIMPLE_JWT_SIGNING_KEY="bench-https-signing-key-0123456789abcdef0123456789abcdef"

"$BIN" keygen --tls-cert --out "$WORK/dev" >/dev/null

start() {  # name, port, env pairs…
  local name="$1" port="$2"; shift 2
  ( export DATABASE_URL="sqlite://$WORK/$name.sqlite3" "$@"
    "$BIN" migrate >/dev/null 2>&1
    printf 'alice-Password-1\n' | "$BIN" createuser alice --password-stdin >/dev/null 2>&1
    SIMPLEJWT_LOG=warn "$BIN" serve --bind "127.0.0.1:$port" >"$WORK/$name.log" 2>&1 & echo $! >"$WORK/$name.pid" )
}
start plain "$PORT"
start tls "$TLS_PORT" SIMPLEJWT_TLS_CERT_FILE="$WORK/dev.crt" SIMPLEJWT_TLS_KEY_FILE="$WORK/dev.key"

access_token() {  # base url
  local pair
  for _ in $(seq 100); do
    pair="$(curl -s --cacert "$WORK/dev.crt" -H 'Content-Type: application/json' \
      -d '{"username":"alice","password":"alice-Password-1"}' "$1/api/token/" || true)"
    [[ "$pair" == *access* ]] && break; sleep 0.1
  done
  python3 -c 'import json,sys; print(json.loads(sys.argv[1])["access"])' "$pair"
}
PLAIN="http://127.0.0.1:$PORT"; TLS="https://localhost:$TLS_PORT"
A_PLAIN="$(access_token "$PLAIN")"; A_TLS="$(access_token "$TLS")"

rps() { python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print("%.0f" % (d["requests"]/(d["duration_us"]/1e6)))' "$1"; }
load() {  # base url, access token
  LOAD_METHOD=GET LOAD_AUTH="Bearer $2" wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --timeout 10s -s "$SCEN" \
    "$1/api/protected/" | grep '^RESULT ' | cut -d' ' -f2-
}

echo "loadavg before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| round | plain HTTP (req/s) | HTTPS, TLS 1.3 (req/s) | HTTPS / plain |"
echo "|---|---|---|---|"
for r in $(seq "$ROUNDS"); do
  p="$(rps "$(load "$PLAIN" "$A_PLAIN")")"
  t="$(rps "$(load "$TLS" "$A_TLS")")"
  echo "| $r | $p | $t | $(python3 -c "print('%.3f' % ($t/$p))") |"
done
echo "loadavg after: $(cut -d' ' -f1-3 /proc/loadavg)"
