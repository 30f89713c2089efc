#!/usr/bin/env bash
# Runs the graphql-http server audit (GraphQL over HTTP conformance) against
# Cutline's /graphql and prints every MUST and SHOULD result.
#
#   scripts/graphql-http-audit/run.sh                                  # builds and starts its own server (SQLite, temp DATA_DIR)
#   scripts/graphql-http-audit/run.sh http://127.0.0.1:8080/graphql    # audits a running server
#
# Exits 1 when a MUST or a SHOULD is not met, 0 otherwise; exits 0 with
# "skipped: node not found" when node or npm is unavailable, except under
# CI=true, where that fails. CUTLINE_BIN=PATH uses that server
# binary instead of building one. AUDIT_PORT picks the port of the
# server it starts (default 18390).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  if [ "${CI:-}" = true ]; then
    echo "FAIL: node and npm are needed for the graphql-http audit"
    exit 1
  fi
  echo "skipped: node not found (node and npm are needed for the graphql-http audit)"
  exit 0
fi

if [ ! -d "$here/node_modules/graphql-http" ]; then
  echo "installing graphql-http (npm ci)..."
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi

url="${1:-}"
tmp=""
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  if [ -n "$tmp" ]; then rm -rf "$tmp"; fi
}
trap cleanup EXIT INT TERM

if [ -z "$url" ]; then
  port="${AUDIT_PORT:-18390}"
  tmp="$(mktemp -d -t cutline-audit.XXXXXX)"
  if [ -n "${CUTLINE_BIN:-}" ]; then
    cp "$CUTLINE_BIN" "$tmp/cutline"
  else
    echo "building the server..."
    (cd "$root" && GOFLAGS=-mod=mod go build -o "$tmp/cutline" .)
  fi
  ADDR="127.0.0.1:$port" DATA_DIR="$tmp/data" LOG_LEVEL=warn "$tmp/cutline" >"$tmp/server.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do
    if curl -fsS --max-time 1 "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then break; fi
    if ! kill -0 "$pid" 2>/dev/null; then echo "the server exited:"; cat "$tmp/server.log"; exit 2; fi
    sleep 0.1
  done
  url="http://127.0.0.1:$port/graphql"
fi

echo "auditing $url"
set +e
node "$here/audit.mjs" "$url"
rc=$?
set -e
exit $rc
