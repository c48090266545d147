#!/usr/bin/env bash
# Soak: a few minutes of mixed traffic (logins, rotations, protected calls,
# blacklists — bench/lua/soak.lua) against `simplejwt serve` on a fresh
# SQLite database (or PostgreSQL with CONFORMANCE_BACKEND=postgres), started
# by the conformance target adapter with the `rotate` profile. Every SAMPLE
# seconds it prints the server's RSS and open descriptors; at the end the
# request counts, latency and the error count (non-200 answers + socket errors).
#
#   bench/soak.sh [DURATION_SECONDS]        default 180
#
# Knobs: CONNECTIONS (default 32), SAMPLE (10), PORT (18019), NO_BUILD=1 to
# skip `cargo build --release`, SOAK_LOGIN_EVERY (200: one login per N requests).
# Needs wrk (`apt-get install -y wrk`). Exit status 1 when any error was seen.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
DURATION="${1:-180}"
CONNECTIONS="${CONNECTIONS:-32}"
SAMPLE="${SAMPLE:-10}"
PORT="${PORT:-18019}"
TARGET=../shared/conformance/targets/simplejwt-rs.sh
STATE_DIR="${CONFORMANCE_STATE_DIR:-/tmp/jwt-conformance}"
export CONFORMANCE_STATE_DIR="$STATE_DIR"

command -v wrk >/dev/null || { echo "soak: needs wrk (apt-get install -y wrk)" >&2; exit 2; }
[[ "${NO_BUILD:-}" == 1 ]] || cargo build --release --bin simplejwt >&2

"$TARGET" start rotate "$PORT" >&2
PID="$(cat "$STATE_DIR/simplejwt-rs-$PORT.pid")"
cleanup() { "$TARGET" stop "$PORT" >&2 || true; }
trap cleanup EXIT

sample() {
  local rss fds
  rss="$(awk '/^VmRSS/ {print $2}' "/proc/$PID/status")"
  fds="$(ls "/proc/$PID/fd" | wc -l)"
  printf '%6s  rss %6.1f MiB  fds %5d\n' "$1" "$(echo "$rss / 1024" | bc -l)" "$fds"
}

echo "soak: ${DURATION}s, $CONNECTIONS connections, backend ${CONFORMANCE_BACKEND:-sqlite}, pid $PID, $(nproc) cores, loadavg $(cut -d' ' -f1-3 /proc/loadavg)"
sample 0s
OUT="$(mktemp)"
wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s -s bench/lua/soak.lua \
  "http://127.0.0.1:$PORT" >"$OUT" 2>&1 &
WRK=$!
start=$SECONDS
while kill -0 "$WRK" 2>/dev/null; do
  sleep "$SAMPLE" # sampling interval of a report, not a wait on an event
  kill -0 "$WRK" 2>/dev/null && sample "$((SECONDS - start))s"
done
wait "$WRK" || true
sample end
grep -v '^SOAK' "$OUT" | grep -E 'soak:|Requests/sec|Socket errors|Non-2xx' || true
RESULT="$(grep '^SOAK' "$OUT" || true)"
rm -f "$OUT"
echo "$RESULT"
[[ -n "$RESULT" ]] || { echo "soak: wrk printed no result" >&2; exit 1; }
errors="$(sed -E 's/.*non200=([0-9]+) socket_errors=([0-9]+).*/\1 \2/' <<<"$RESULT")"
read -r non200 socket <<<"$errors"
echo "errors: $((non200 + socket))"
[[ $((non200 + socket)) -eq 0 ]]
