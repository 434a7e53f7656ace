#!/usr/bin/env bash
# Checks the live HTTP gateway against docs/openapi.yaml with schemathesis:
# generated requests to every route (examples, boundaries, fuzzing, stateful
# sequences); every response must be documented (status, content type, body
# schema, headers), no 5xx, the token enforced, 405 for undeclared methods.
#
#   scripts/schemathesis.sh [FULCRUMD] [MAX_SECONDS] [OPENAPI]
#
# Starts its own fulcrumd (demo data, a token, free ports) and stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
fulcrumd="${1:-.build/debug/fulcrumd}"
max_seconds="${2:-120}"
openapi="${3:-docs/openapi.yaml}"
bash scripts/setup-python.sh
data="$(mktemp -d)"
out="$(mktemp)"
token="schemathesis-token"
"$fulcrumd" serve --data "$data" --listen 127.0.0.1:0 --http 127.0.0.1:0 --demo --token "$token" --json > "$out" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$data" "$out"' EXIT
for _ in $(seq 1 100); do
  grep -q '"http"' "$out" && break
  sleep 0.1
done
http="$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["http"])' "$out")"
schemathesis run "$openapi" --url "http://$http" -H "Authorization: Bearer $token" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance,ignored_auth,unsupported_method \
  --max-examples 30 --generation-deterministic --max-time "$max_seconds" --no-color
