#!/usr/bin/env bash
# Fault check (c): soak. A steady request rate (SOAK_RATE, default 100/s;
# mix of me, files, lineage, rows and small uploads) for SOAK_SECONDS
# (default 600), sampling the server's VmRSS every 10 s. PASS when no
# request failed and RSS stayed flat: the mean of the last third of the
# samples (after a 30 s warm-up) within 10% of the first third's.
#
#   scripts/faults/soak.sh                    # 10 minutes
#   SOAK_SECONDS=120 scripts/faults/soak.sh
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SOAK_SECONDS="${SOAK_SECONDS:-600}"
SOAK_RATE="${SOAK_RATE:-100}"
PORT="${PORT:-18413}"
case "$SOAK_SECONDS" in '' | *[!0-9]*) echo "SOAK_SECONDS must be a whole number of seconds" >&2; exit 2 ;; esac

faults_start
(cd "$root" && go build -o "$tmp/soak" ./scripts/faults/soak)
files_ok || { echo "FAIL soak: the server does not answer before the test"; exit 1; }

log "soak: $SOAK_RATE req/s for ${SOAK_SECONDS}s"
set +e
timeout $((SOAK_SECONDS + 120)) "$tmp/soak" -base "$base" -pid "$server_pid" -seconds "$SOAK_SECONDS" -rate "$SOAK_RATE" \
  -token "$HEAVY_TOKEN" -upload-token "$UPLOADER_TOKEN" -lineage-file "$LINEAGE_FILE" -rows-file "$ROWS_FILE" &
soak_pid=$!
pids+=("$soak_pid")
wait "$soak_pid"
rc=$?
set -e
show_log
exit $rc
