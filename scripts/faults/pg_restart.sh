#!/usr/bin/env bash
# Fault check (a): PostgreSQL restarted under load. wrk drives
# `files(first: 20)` while the local cluster is restarted with
# `pg_ctlcluster --skip-systemctl-redirect 15 main restart`. PASS when,
# without restarting the server, /readyz and a `files(first: 20)` query
# answer again within RECOVER_SECONDS (default 10) of the restart finishing,
# and a following burst of load (5 s, 16 connections) has no error at all:
# broken pooled connections must not linger.
#
# This restarts the SHARED local PostgreSQL cluster: every other client on
# the machine loses its connections. It refuses to run unless
# FAULTS_ALLOW_PG_RESTART=1. Run it last, once.
#
#   FAULTS_ALLOW_PG_RESTART=1 scripts/faults/pg_restart.sh
set -euo pipefail

if [ "${FAULTS_ALLOW_PG_RESTART:-0}" != 1 ]; then
  echo "refusing: this restarts the shared PostgreSQL cluster; set FAULTS_ALLOW_PG_RESTART=1 to run it" >&2
  exit 2
fi
PG_VERSION="${PG_VERSION:-15}"
PG_CLUSTER="${PG_CLUSTER:-main}"
command -v pg_ctlcluster >/dev/null 2>&1 || { echo "missing tool: pg_ctlcluster" >&2; exit 2; }

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RECOVER_SECONDS="${RECOVER_SECONDS:-10}"
PORT="${PORT:-18412}"

faults_start
files_ok || { echo "FAIL pg-restart: the server does not answer before the test"; exit 1; }

log "wrk -c16 for 20 s; PostgreSQL restart after 5 s"
run_wrk 20 16 "$tmp/wrk.out" &
wrk_pid=$!
pids+=("$wrk_pid")
sleep 5
t0=$(date +%s%N)
pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" "$PG_CLUSTER" restart
t1=$(date +%s%N)
restart_ms=$(((t1 - t0) / 1000000))
log "PostgreSQL restarted in ${restart_ms} ms; polling /readyz and a query"

ready_ms=""
query_ms=""
deadline=$((SECONDS + 60))
while [ "$SECONDS" -lt "$deadline" ]; do
  now=$(date +%s%N)
  if [ -z "$ready_ms" ] && curl -fsS --max-time 2 -o /dev/null "$base/readyz" 2>/dev/null; then
    ready_ms=$(((now - t1) / 1000000))
  fi
  if [ -z "$query_ms" ] && files_ok; then
    query_ms=$(((now - t1) / 1000000))
  fi
  [ -n "$ready_ms" ] && [ -n "$query_ms" ] && break
  sleep 0.2
done
wait "$wrk_pid" || true

# wf OUTFILE NAME: a wrk result field, 0 when wrk printed none.
wf() { local v; v="$(wrk_field "$1" "$2")"; echo "${v:-0}"; }
during_req="$(wf "$tmp/wrk.out" requests)"
during_err="$(($(wf "$tmp/wrk.out" non2xx) + $(wf "$tmp/wrk.out" gqlerrors) + $(wf "$tmp/wrk.out" read) + $(wf "$tmp/wrk.out" timeout)))"
echo "   during the restart: $during_req requests, $during_err failed (expected while the database is down)"
echo "   /readyz 200 after ${ready_ms:-never} ms, files query OK after ${query_ms:-never} ms (from the end of the restart)"

if kill -0 "$server_pid" 2>/dev/null; then
  echo "   the server process $server_pid kept running (not restarted)"
else
  echo "FAIL pg-restart: the server process died"
  exit 1
fi

log "after recovery: wrk -c16 for 5 s"
run_wrk 5 16 "$tmp/after.out"
after_req="$(wf "$tmp/after.out" requests)"
after_err="$(($(wf "$tmp/after.out" non2xx) + $(wf "$tmp/after.out" gqlerrors) + $(wf "$tmp/after.out" read) +
  $(wf "$tmp/after.out" write) + $(wf "$tmp/after.out" connect) + $(wf "$tmp/after.out" timeout)))"
[ "$after_req" -gt 0 ] || after_err=$((after_err + 1)) # wrk produced no result
echo "   after recovery: $after_req requests, $after_err failed"
show_log

fail=""
if [ -z "$ready_ms" ] || [ "$ready_ms" -gt $((RECOVER_SECONDS * 1000)) ]; then fail="$fail /readyz not back within ${RECOVER_SECONDS}s;"; fi
if [ -z "$query_ms" ] || [ "$query_ms" -gt $((RECOVER_SECONDS * 1000)) ]; then fail="$fail query not back within ${RECOVER_SECONDS}s;"; fi
[ "$after_err" = 0 ] || fail="$fail $after_err errors in the load after recovery;"
if [ -z "$fail" ]; then
  echo "PASS pg-restart: answering again ${query_ms} ms after PostgreSQL came back, no errors afterwards ($after_req requests)"
else
  echo "FAIL pg-restart:$fail"
  exit 1
fi
