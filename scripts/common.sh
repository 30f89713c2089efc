# Helpers shared by scripts/load/run.sh and scripts/faults/lib.sh (sourced,
# not run). psql_admin needs PGHOST, PGPORT and PGUSER.
# shellcheck shell=bash

psql_admin() { psql -X -q -v ON_ERROR_STOP=1 -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d postgres "$@"; }

log() { echo "== $*" >&2; }

# stop_pids PID...: asks each process to stop, waits up to 15 s for each,
# then kills what is left.
stop_pids() {
  local pid
  for pid in "$@"; do
    kill -0 "$pid" 2>/dev/null && kill "$pid" 2>/dev/null
  done
  for pid in "$@"; do
    for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  return 0
}
