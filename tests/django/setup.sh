#!/usr/bin/env bash
# Makes the Python virtualenv tests/import_django.rs runs Django in: the
# reference server's pinned requirements (Django 5.2, djangorestframework-
# simplejwt 5.5.1, ...) from ../shared/anchors/simplejwt_ref, in the same
# place and the same way ../shared/anchors/run-simplejwt.sh makes it, so
# either one serves the other. Reused when its requirements are unchanged.
#
#   tests/django/setup.sh && cargo test --release --test import_django -- --ignored
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
REQ="$ROOT/../shared/anchors/simplejwt_ref/requirements.txt"
VENV="${SIMPLEJWT_REF_VENV:-/tmp/simplejwt-ref-venv}"
hash="$(sha256sum "$REQ" | cut -d' ' -f1)"
if [[ ! -x "$VENV/bin/python" ]]; then
  "${PYTHON:-python3}" -m venv "$VENV"
fi
if [[ "$(cat "$VENV/.simplejwt-ref-req" 2>/dev/null || true)" != "$hash" ]]; then
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$REQ"
  echo "$hash" > "$VENV/.simplejwt-ref-req"
fi
"$VENV/bin/python" -c "import django, rest_framework_simplejwt; print('Django', django.get_version(), 'in', '$VENV')"
