#!/usr/bin/env bash
# Fault check: kill -9 of one replica under an upload load. Two server
# processes share one throw-away PostgreSQL database (and one folder
# bucket); a websocket subscriber (graphql-transport-ws, fileEvents) holds a
# subscription on replica B while UPLOADERS loops upload small files through
# REST to replica A, which is killed with SIGKILL after KILL_AFTER seconds.
# WAIT_SECONDS later (long enough for B to notice that A fell silent, three
# 10 s heartbeats, and check its count) the files table is read. PASS when
# every file row committed by A was announced to the subscriber on B, or the
# subscriber was told to RESYNC; the output says which, and how many uploads
# A committed without answering them (the commits a kill cuts off).
#
# CUTLINE_BIN=PATH runs that server binary instead of building one from the
# tree (an older revision, to compare).
#
#   scripts/faults/kill_replica.sh      # UPLOADERS=8 KILL_AFTER=3 WAIT_SECONDS=45
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
UPLOADERS="${UPLOADERS:-8}"
KILL_AFTER="${KILL_AFTER:-3}"
WAIT_SECONDS="${WAIT_SECONDS:-45}"
PORT_A="${PORT_A:-18421}"
PORT_B="${PORT_B:-18422}"
PGHOST="${PGHOST:-127.0.0.1}"
PGPORT="${PGPORT:-5432}"
PGUSER="${PGUSER:-postgres}"
case "$PGHOST" in 127.0.0.1 | localhost) ;; *) echo "PGHOST must be a loopback address" >&2; exit 2 ;; esac
for tool in go psql curl; do
  command -v "$tool" >/dev/null 2>&1 || { echo "missing tool: $tool" >&2; exit 2; }
done
# shellcheck source=../common.sh
. "$root/scripts/common.sh"

db="cutline_kill_replica_$$"
dburl="postgres://$PGUSER@$PGHOST:$PGPORT/$db?sslmode=disable"
tmp="$(mktemp -d -t cutline-kill-replica.XXXXXX)"
pids=()
db_created=0
cleanup() {
  local rc=$?
  set +e
  stop_pids "${pids[@]}"
  [ "$db_created" = 1 ] && psql_admin -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "building the server and the subscriber"
if [ -n "${CUTLINE_BIN:-}" ]; then cp "$CUTLINE_BIN" "$tmp/cutline"; else (cd "$root" && go build -o "$tmp/cutline" .); fi
(cd "$root" && go build -o "$tmp/subscriber" ./scripts/faults/subscriber)
psql_admin -c "CREATE DATABASE $db"
db_created=1

export DATABASE_URL="$dburl" BLOB_URL="file://$tmp/blobs" JWT_SECRET="faults-secret-$(date +%s%N)" LOG_LEVEL=warn \
  RATE_LIMIT_IP=0 RATE_LIMIT_USER=0 REGISTER_RATE_LIMIT=0
mkdir -p "$tmp/blobs"
start() { # start NAME PORT: a replica; sets started_pid
  ADDR="127.0.0.1:$2" DATA_DIR="$tmp/data-$1" "$tmp/cutline" >>"$tmp/server-$1.log" 2>&1 &
  started_pid=$!
  pids+=("$started_pid")
  for _ in $(seq 1 150); do curl -fsS -o /dev/null "http://127.0.0.1:$2/readyz" 2>/dev/null && return 0; sleep 0.2; done
  echo "replica $1 did not become ready:" >&2
  tail -20 "$tmp/server-$1.log" >&2
  exit 1
}
start a "$PORT_A"
a_pid=$started_pid
start b "$PORT_B"

token="$(curl -fsS -H 'Content-Type: application/json' "http://127.0.0.1:$PORT_A/graphql" --data-binary \
  '{"query":"mutation { register(input: {username: \"ada\", password: \"correct horse battery\"}) { accessToken } }"}' |
  sed -E 's/.*"accessToken":"([^"]+)".*/\1/')"
[ -n "$token" ] || { echo "FAIL kill_replica: cannot register"; exit 1; }

"$tmp/subscriber" -url "ws://127.0.0.1:$PORT_B/graphql" -token "$token" >"$tmp/events.log" 2>&1 &
pids+=("$!")
for _ in $(seq 1 100); do grep -q '^READY' "$tmp/events.log" && break; sleep 0.1; done
grep -q '^READY' "$tmp/events.log" || { cat "$tmp/events.log"; echo "FAIL kill_replica: the subscriber did not start"; exit 1; }
# A first upload through A that B's subscriber hears proves the path works
# (the subscription is live on B) before the load starts.
probe="$(curl -fsS -H "Authorization: Bearer $token" -H 'Content-Type: text/csv' --data-binary $'a,b\n1,2\n' \
  "http://127.0.0.1:$PORT_A/api/v1/files?name=probe.csv" | sed -E 's/.*"id":"([^"]+)".*/\1/')"
for _ in $(seq 1 100); do grep -q "$probe" "$tmp/events.log" && break; sleep 0.1; done
grep -q "$probe" "$tmp/events.log" || { cat "$tmp/events.log"; echo "FAIL kill_replica: the probe's event never reached B"; exit 1; }

log "uploading through A with $UPLOADERS loops; kill -9 of A after ${KILL_AFTER}s"
for i in $(seq 1 "$UPLOADERS"); do
  (
    n=0
    while :; do
      n=$((n + 1))
      if curl -sS -o /dev/null -w '%{http_code}\n' --max-time 10 -H "Authorization: Bearer $token" -H 'Content-Type: text/csv' \
        --data-binary $'id,name\n1,x\n2,y\n' "http://127.0.0.1:$PORT_A/api/v1/files?name=l$i-$n.csv" >>"$tmp/codes-$i" 2>/dev/null; then :; else
        echo failed >>"$tmp/codes-$i"
        break
      fi
    done
  ) &
  pids+=("$!")
done
sleep "$KILL_AFTER"
kill -9 "$a_pid"
log "killed A; waiting ${WAIT_SECONDS}s"
sleep "$WAIT_SECONDS"

psql -X -q -At -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d "$db" -c "SELECT id FROM files WHERE deleted_at IS NULL ORDER BY id" >"$tmp/committed"
sed -nE 's/^EVENT CREATED (.*)$/\1/p' "$tmp/events.log" | sort -u >"$tmp/announced"
committed=$(wc -l <"$tmp/committed")
announced=$(wc -l <"$tmp/announced")
answered=$(cat "$tmp"/codes-* | grep -c '^201$' || true)
missing=$(comm -23 "$tmp/committed" "$tmp/announced" | wc -l)
resyncs=$(grep -c '^RESYNC' "$tmp/events.log" || true)
echo "files committed by A: $committed (answered 201 to the uploaders: $((answered + 1)), counting the probe)"
echo "CREATED events heard on B: $announced; committed but never heard: $missing; RESYNCs on B: $resyncs"
grep '^RESYNC\|^ERROR' "$tmp/events.log" | head -5 || true
if [ "$missing" -eq 0 ]; then
  echo "PASS kill_replica: every committed file was announced on B"
elif [ "$resyncs" -gt 0 ]; then
  echo "PASS kill_replica: $missing committed files were not announced, and B's subscriber was told to RESYNC"
else
  comm -23 "$tmp/committed" "$tmp/announced" | head -5
  echo "FAIL kill_replica: $missing committed files were never announced on B, and no RESYNC"
  exit 1
fi
