#!/usr/bin/env bash
# Fault check (b): SIGTERM under load. wrk drives `files(first: 20)`; in
# the middle of the run the server gets SIGTERM. PASS when no in-flight
# request failed: wrk saw no non-2xx answer, no GraphQL error and no socket
# error other than connect refusals (which can only happen once the listener
# is closed, i.e. after shutdown began), and the server exited 0 within
# SHUTDOWN_TIMEOUT.
#
# wrk connects without blocking and learns of a refused connection when it
# first writes: it counts refusals as *write* errors, not connect errors (with
# the listener gone, every reconnect attempt adds one). So connect and write
# errors are both counted as refusals here; a read error is a connection the
# server closed while a request was on it, a lost request.
#
# Beside wrk, scripts/faults/witness (8 keep-alive Go clients) classifies each
# failure: refused, unanswered (the connection ended before any byte of an
# answer: a request sent on a connection the server was closing as idle, or
# one still in the listen backlog) or failed (error status, GraphQL error,
# answer cut short, timeout). It is printed for diagnosis; the verdict
# follows wrk.
#
#   scripts/faults/sigterm.sh            # CONNS=64 LOAD_SECONDS=10 TERM_AFTER=4
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CONNS="${CONNS:-64}"
LOAD_SECONDS="${LOAD_SECONDS:-10}"
TERM_AFTER="${TERM_AFTER:-4}"
PORT="${PORT:-18411}"

faults_start
(cd "$root" && go build -o "$tmp/witness" ./scripts/faults/witness)
files_ok || { echo "FAIL sigterm: the server does not answer before the test"; exit 1; }

log "wrk -c$CONNS for ${LOAD_SECONDS}s; SIGTERM after ${TERM_AFTER}s"
run_wrk "$LOAD_SECONDS" "$CONNS" "$tmp/wrk.out" &
wrk_pid=$!
pids+=("$wrk_pid")
timeout $((LOAD_SECONDS + 30)) "$tmp/witness" -url "$gql" -token "$HEAVY_TOKEN" -body "$tmp/files.json" \
  -conns 8 -seconds "$LOAD_SECONDS" >"$tmp/witness.out" 2>&1 &
witness_pid=$!
pids+=("$witness_pid")
sleep "$TERM_AFTER"
term_at=$(date +%s%N)
kill -TERM "$server_pid"
set +e
wait "$server_pid"
server_rc=$?
set -e
stopped_ms=$((($(date +%s%N) - term_at) / 1000000))
wait "$wrk_pid" || true
wait "$witness_pid" || true

requests="$(wrk_field "$tmp/wrk.out" requests)"
non2xx="$(wrk_field "$tmp/wrk.out" non2xx)"
connect="$(wrk_field "$tmp/wrk.out" connect)"
readerr="$(wrk_field "$tmp/wrk.out" read)"
writeerr="$(wrk_field "$tmp/wrk.out" write)"
timeouts="$(wrk_field "$tmp/wrk.out" timeout)"
gqlerr="$(wrk_field "$tmp/wrk.out" gqlerrors)"
if [ -z "$requests" ]; then
  echo "FAIL sigterm: wrk produced no result:"
  cat "$tmp/wrk.out"
  exit 1
fi
echo "   server exit status $server_rc, stopped ${stopped_ms} ms after SIGTERM"
echo "   wrk: $requests requests; non-2xx $non2xx; GraphQL errors $gqlerr; socket errors: connect $connect, read $readerr, write $writeerr, timeout $timeouts"
echo "   witness (8 more keep-alive clients, Go): $(sed -n 's/^WITNESS //p' "$tmp/witness.out")"
grep '^  failed:' "$tmp/witness.out" | sed 's/^/   /' || true
show_log

fail=""
[ "$server_rc" = 0 ] || fail="$fail server exited $server_rc;"
[ "$non2xx" = 0 ] || fail="$fail $non2xx non-2xx answers;"
[ "$gqlerr" = 0 ] || fail="$fail $gqlerr GraphQL errors;"
[ "$readerr" = 0 ] || fail="$fail $readerr read errors (connections closed with a request sent on them and no answer);"
[ "$timeouts" = 0 ] || fail="$fail $timeouts timeouts;"
if [ -z "$fail" ]; then
  echo "PASS sigterm: no in-flight request failed ($requests requests; $((connect + writeerr)) refused reconnects after the listener closed); clean exit in ${stopped_ms} ms"
else
  echo "FAIL sigterm:$fail"
  exit 1
fi
