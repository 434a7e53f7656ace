#!/usr/bin/env bash
# Installs the PyPI tools the test suite uses, pinned, only when missing:
# schemathesis (checks the HTTP gateway against docs/openapi.yaml).
set -euo pipefail
if ! python3 -c 'import schemathesis' 2>/dev/null || [ "$(python3 -c 'import importlib.metadata as m; print(m.version("schemathesis"))')" != "4.32.5" ]; then
  echo "setup: installing schemathesis 4.32.5 (PyPI)"
  python3 -m pip install --quiet --disable-pip-version-check 'schemathesis==4.32.5'
fi
