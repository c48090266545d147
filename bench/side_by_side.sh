#!/usr/bin/env bash
# Side-by-side load benchmark, one sitting: ours vs the reference vs the ceiling.
#
#   bench/side_by_side.sh [--out FILE]       (default bench/results/latest.md, + .json)
#
# Same tool and parameters as ../shared/anchors/load.sh (wrk -t1 -c64 -d10s
# --timeout 10s, loopback). Knobs (environment): DURATION, CONNECTIONS,
# TARGETS ("ceiling ours reference"), SCENARIOS ("protected verify refresh
# refresh_rotate login protected_under_login"), LOGIN_CONNECTIONS (8),
# ROTATE_TOKENS_OURS / ROTATE_TOKENS_REF, NO_BUILD=1, GUNICORN_* — see bench/README.md.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec python3 "$HERE/lib/harness.py" side-by-side "$@"
