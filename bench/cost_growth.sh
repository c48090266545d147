#!/usr/bin/env bash
# Cost growth: throughput of protected, refresh and blacklist at 10^3..10^6
# outstanding + blacklisted rows, and flushexpiredtokens on 10^6 rows under traffic.
#
#   bench/cost_growth.sh [--out FILE]        (default bench/results/cost_growth.md, + .json)
#
# Knobs (environment): DURATION, CONNECTIONS, SIZES ("1000 10000 100000 1000000"),
# SCENARIOS ("protected refresh blacklist"), BLACKLISTED_FRACTION (0.5),
# EXPIRED_FRACTION (0), FLUSH_ROWS (1000000; 0 skips the flush test),
# FLUSH_EXPIRED_FRACTION (0.5), FLUSH_BATCH, FLUSH_SLICE (1s), FLUSH_SCENARIO
# (protected | refresh | blacklist), SIZES=none (flush test only), NO_BUILD=1,
# KEEP_DB=1 — see bench/README.md.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec python3 "$HERE/lib/harness.py" cost-growth "$@"
