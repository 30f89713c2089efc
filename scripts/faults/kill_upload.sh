#!/usr/bin/env bash
# Fault check: kill -9 in the middle of a large REST upload into the folder
# bucket (SQLite, the embedded defaults). PASS when, after the kill:
#   - the upload's temporary object is the only trace (no row, no object),
#     and `cutline check` reports nothing wrong (the temporary object is
#     younger than the sweep's grace period, so an upload may still own it);
#   - once that object is older than the grace period (its time set back
#     two hours), `cutline check` reports it as a stale temporary object
#     and exits 1: what the sweep removes.
#
#   scripts/faults/kill_upload.sh        # SIZE_MB=200
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SIZE_MB="${SIZE_MB:-200}"
PORT="${PORT:-18412}"
base="http://127.0.0.1:$PORT"
tmp="$(mktemp -d -t cutline-kill-upload.XXXXXX)"
server_pid=""
cleanup() {
  local rc=$?
  [ -n "$server_pid" ] && kill -9 "$server_pid" 2>/dev/null || true
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT

export DATA_DIR="$tmp/data" DATABASE_URL="sqlite://$tmp/data/cutline.db" BLOB_URL="file://$tmp/data/blobs" \
  JWT_SECRET="faults-secret-$(date +%s%N)" MAX_FILE_SIZE="$((SIZE_MB * 2))MiB" LOG_LEVEL=warn
(cd "$root" && go build -o "$tmp/cutline" .)
ADDR="127.0.0.1:$PORT" "$tmp/cutline" >"$tmp/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do curl -fsS -o /dev/null "$base/readyz" 2>/dev/null && break; sleep 0.1; done

token="$(curl -fsS -H 'Content-Type: application/json' "$base/graphql" --data-binary \
  '{"query":"mutation { register(input: {username: \"ada\", password: \"correct horse battery\"}) { accessToken } }"}' |
  sed -E 's/.*"accessToken":"([^"]+)".*/\1/')"

# A slow body, so that the kill lands in the middle of it.
{ printf 'id,name,score\n'; head -c "$((SIZE_MB << 20))" < <(yes '12345,somebody,67.5'); } >"$tmp/big.csv"
curl -sS -o /dev/null --limit-rate 20M -H "Authorization: Bearer $token" -H 'Content-Type: text/csv' \
  --data-binary @"$tmp/big.csv" "$base/api/v1/files?name=big.csv" 2>/dev/null &
curl_pid=$!
sleep 2
kill -9 "$server_pid"
wait "$server_pid" 2>/dev/null || true
server_pid=""
wait "$curl_pid" 2>/dev/null || true

mapfile -t temps < <(find "$tmp/data/blobs" -name '*.tmp')
echo "temporary objects after kill -9: ${#temps[@]}"
[ "${#temps[@]}" -eq 1 ] || { echo "FAIL kill_upload: want one temporary object"; exit 1; }

if ! "$tmp/cutline" check >"$tmp/check1.out" 2>&1; then
  cat "$tmp/check1.out"
  echo "FAIL kill_upload: check reports a problem right after the kill"
  exit 1
fi
cat "$tmp/check1.out"

touch -d '2 hours ago' "${temps[0]}"
if "$tmp/cutline" check >"$tmp/check2.out" 2>&1; then
  cat "$tmp/check2.out"
  echo "FAIL kill_upload: check does not see the stale temporary object"
  exit 1
fi
cat "$tmp/check2.out"
grep -q '^stale temporary object: files/' "$tmp/check2.out" || { echo "FAIL kill_upload: wrong report"; exit 1; }
echo "PASS kill_upload"
