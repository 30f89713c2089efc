# Shared set-up for the fault scripts (sourced, not run): builds the server
# and the seeder, creates a throw-away PostgreSQL database, starts the
# server on it, seeds a smaller dataset than scripts/load, and cleans
# everything up on exit (also on failure or Ctrl-C).
#
# After faults_start the caller has: $tmp, $dburl, $server_pid, $base,
# $gql, the seed variables (HEAVY_TOKEN, ...) and $tmp/files.json (the
# `files(first: 20)` request body). CUTLINE_BIN=PATH uses that server binary
# instead of building one from the tree.
# shellcheck shell=bash

set -euo pipefail

faults_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$faults_dir/../.." && pwd)"
load_dir="$root/scripts/load"
export GOFLAGS=-mod=mod

PGHOST="${PGHOST:-127.0.0.1}"
PGPORT="${PGPORT:-5432}"
PGUSER="${PGUSER:-postgres}"
case "$PGHOST" in 127.0.0.1 | localhost) ;; *) echo "PGHOST must be a loopback address" >&2; exit 2 ;; esac

for tool in go wrk psql curl; do
  command -v "$tool" >/dev/null 2>&1 || { echo "missing tool: $tool" >&2; exit 2; }
done

db="cutline_faults_$$"
dburl="postgres://$PGUSER@$PGHOST:$PGPORT/$db?sslmode=disable"
tmp="$(mktemp -d -t cutline-faults.XXXXXX)"
pids=()
db_created=0
server_pid=""

# shellcheck source=../common.sh
. "$root/scripts/common.sh"

faults_cleanup() {
  local rc=$?
  set +e
  stop_pids "${pids[@]}"
  if [ "$db_created" = 1 ]; then
    # PostgreSQL may still be restarting after the restart check: retry briefly.
    for _ in $(seq 1 30); do
      psql_admin -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 && break
      sleep 1
    done
  fi
  rm -rf "$tmp"
  exit "$rc"
}
trap faults_cleanup EXIT
trap 'exit 130' INT TERM

# wait_ready URL SECONDS: polls until URL answers 2xx; returns 1 on timeout.
wait_ready() {
  local deadline=$((SECONDS + $2))
  while [ "$SECONDS" -lt "$deadline" ]; do
    curl -fsS --max-time 2 -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.2
  done
  return 1
}

# start_server [VAR=value...]: starts the built server on $base with the
# database; extra settings go in the environment.
start_server() {
  env ADDR="127.0.0.1:$PORT" DATABASE_URL="$dburl" DATA_DIR="$tmp/data" JWT_SECRET="$JWT_SECRET" \
    LOG_LEVEL=warn ACCESS_TOKEN_TTL=4h SHIM_RATE_LIMIT=1000000000 \
    RATE_LIMIT_IP=1000000000 RATE_LIMIT_IP_BURST=1000000000 \
    RATE_LIMIT_USER=1000000000 RATE_LIMIT_USER_BURST=1000000000 "$@" \
    "$tmp/cutline" >>"$tmp/server.log" 2>&1 &
  server_pid=$!
  pids+=("$server_pid")
  if ! wait_ready "$base/readyz" 30; then
    echo "the server did not become ready:" >&2
    tail -20 "$tmp/server.log" >&2
    exit 1
  fi
}

# faults_start [SEED_ARGS...]: build, create the database, start, seed.
faults_start() {
  PORT="${PORT:-18410}"
  base="http://127.0.0.1:$PORT"
  gql="$base/graphql"
  JWT_SECRET="faults-secret-$(date +%s%N)"
  log "building the server and the seeder"
  if [ -n "${CUTLINE_BIN:-}" ]; then cp "$CUTLINE_BIN" "$tmp/cutline"; else (cd "$root" && go build -o "$tmp/cutline" .); fi
  (cd "$root" && go build -o "$tmp/seed" ./scripts/load/seed)
  log "creating database $db"
  psql_admin -c "CREATE DATABASE $db"
  db_created=1
  start_server "${SERVER_ENV[@]}"
  log "seeding"
  "$tmp/seed" -base "$base" -db "$dburl" -users 200 -files 20000 -heavy-files 5000 -objects 50 "$@" >"$tmp/seed.env" &
  pids+=("$!")
  wait "$!"
  # shellcheck disable=SC1091
  . "$tmp/seed.env"
  printf '%s' '{"query":"{ files(first: 20) { edges { node { id name size rowCount userTags systemTags createdAt } } } }"}' >"$tmp/files.json"
}
SERVER_ENV=()

# files_ok: one `files(first: 20)` query answers 20 files without errors.
files_ok() {
  local out
  out="$(curl -sS --max-time 5 -H 'Content-Type: application/json' -H "Authorization: Bearer $HEAVY_TOKEN" \
    --data-binary @"$tmp/files.json" "$gql" 2>/dev/null)" || return 1
  [[ "$out" != *'"errors"'* ]] && [ "$(grep -o '"createdAt"' <<<"$out" | wc -l)" -eq 20 ]
}

# run_wrk SECONDS CONNS OUTFILE: wrk on files(first: 20), GraphQL errors counted.
run_wrk() {
  WRK_METHOD=POST WRK_BODY_FILE="$tmp/files.json" WRK_TOKEN="$HEAVY_TOKEN" WRK_CHECK_ERRORS=1 \
    timeout $(($1 + 60)) wrk -t2 -c"$2" -d"${1}s" --timeout 10s -s "$load_dir/request.lua" "$gql" >"$3" 2>&1 || true
}

# show_log: the server log at warn and above, grouped (count, line without
# time and request id), at most 10 groups. No early-closing pipe readers:
# with pipefail a SIGPIPE would end the script.
show_log() {
  [ -s "$tmp/server.log" ] || return 0
  echo "   server log (warn and above), $(wc -l <"$tmp/server.log") lines, grouped:"
  sed -E 's/^time=[^ ]+ //; s/ ?request_id=[0-9a-f]+//' "$tmp/server.log" | sort | uniq -c | sort -rn |
    awk 'NR <= 10 { print "     " substr($0, 1, 240) }'
}

# wrk_field OUTFILE NAME: a number from the RESULT line of run_wrk's output.
wrk_field() {
  sed -nE "s/^RESULT.* $2=([0-9.]+).*/\1/p" "$1"
}
