#!/usr/bin/env bash
# Side-by-side A/B of two server binaries on the same requests: both run at
# once (SQLite, temp DATA_DIR each, the same seeded files), and each scenario
# alternates A, B, A, B... so that the machine's noise falls on both alike.
# Besides wrk's rate and latency, it reads each server's CPU time from
# /proc/PID/stat before and after every run: CPU-µs per request depends far
# less on what else the machine does.
#
#   scripts/load/ab.sh BIN_A BIN_B
#
# Settings: ROUNDS (3), DURATION (8s), CONNECTIONS (16), THREADS (2), FILES (100),
# PORT_A (18430), PORT_B (18431), SCENARIOS ("typename get-files post-files me":
# which of GET { __typename }, GET and POST files(first: 20), POST me { id username }).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bin_a="${1:?usage: $0 BIN_A BIN_B}"
bin_b="${2:?usage: $0 BIN_A BIN_B}"
rounds="${ROUNDS:-3}"
duration="${DURATION:-8s}"
conns="${CONNECTIONS:-16}"
threads="${THREADS:-2}"
nfiles="${FILES:-100}"
port_a="${PORT_A:-18430}"
port_b="${PORT_B:-18431}"
scenarios=" ${SCENARIOS:-typename get-files post-files me} "
tmp="$(mktemp -d -t cutline-ab.XXXXXX)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

start() { # name bin port
  mkdir -p "$tmp/$1"
  env ADDR="127.0.0.1:$3" DATA_DIR="$tmp/$1" LOG_LEVEL=warn ACCESS_TOKEN_TTL=4h \
    RATE_LIMIT_IP=0 RATE_LIMIT_USER=0 "$2" >"$tmp/$1.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do
    curl -fsS --max-time 1 "http://127.0.0.1:$3/readyz" >/dev/null 2>&1 && return
    sleep 0.1
  done
  echo "server $1 did not start:"; cat "$tmp/$1.log"; exit 2
}

seed() { # port -> prints the token
  local base="http://127.0.0.1:$1" tok
  tok="$(curl -fsS "$base/graphql" -H 'Content-Type: application/json' \
    -d '{"query":"mutation { register(input: {username: \"bench\", password: \"correct horse battery\"}) { accessToken } }"}' \
    | sed 's/.*"accessToken":"\([^"]*\)".*/\1/')"
  for i in $(seq 1 "$nfiles"); do
    printf 'name,age,city\nAda,%d,NYC\nBob,25,LA\n' "$i" |
      curl -fsS -o /dev/null -H "Authorization: Bearer $tok" --data-binary @- "$base/api/v1/files?name=f$i.csv&tags=t$((i % 5))"
  done
  echo "$tok"
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

start A "$bin_a" "$port_a"
start B "$bin_b" "$port_b"
pid_a="${pids[0]}"
pid_b="${pids[1]}"
tok_a="$(seed "$port_a")"
tok_b="$(seed "$port_b")"
hz="$(getconf CLK_TCK)"

urlencode() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$1"; }
listing='{ files(first: 20) { edges { node { id name size rowCount userTags } } pageInfo { hasNextPage endCursor } } }'
printf '%s' "{\"query\":\"$listing\"}" >"$tmp/listing.json"
printf '%s' '{"query":"{ me { id username } }"}' >"$tmp/me.json"

# scenario NAME METHOD PATH [BODY_FILE]
scenario() {
  local name="$1" method="$2" path="$3" body="${4:-}"
  for side in A B; do : >"$tmp/$name.$side"; done
  for r in $(seq 1 "$rounds"); do
    for side in A B; do
      local port="$port_a" pid="$pid_a" tok="$tok_a"
      if [ "$side" = B ]; then port="$port_b" pid="$pid_b" tok="$tok_b"; fi
      local c0 c1 out
      c0="$(cpu_ticks "$pid")"
      out="$(WRK_METHOD="$method" WRK_BODY_FILE="$body" WRK_TOKEN="$tok" WRK_CHECK_ERRORS=1 \
        wrk -t"$threads" -c"$conns" -d"$duration" -s "$here/request.lua" "http://127.0.0.1:$port$path" | grep '^RESULT')"
      c1="$(cpu_ticks "$pid")"
      echo "$out cpu_ticks=$((c1 - c0))" >>"$tmp/$name.$side"
    done
  done
  for side in A B; do
    awk -v hz="$hz" -v name="$name" -v side="$side" '
      { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        rps[NR] = v["rps"]; p50[NR] = v["p50_us"]; reqs = v["requests"]; bad += v["non2xx"] + v["gqlerrors"]
        cpu[NR] = v["cpu_ticks"] * 1e6 / hz / reqs }
      function median(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
        return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
      END { printf "| %s | %s | %.0f | %.0f | %.1f | %d |\n", name, side, median(rps, NR), median(p50, NR), median(cpu, NR), bad }' "$tmp/$name.$side"
  done
}

echo "load: $(cut -d' ' -f1-3 /proc/loadavg); $rounds rounds of $duration, $conns connections, $threads threads, A=$bin_a B=$bin_b"
echo "| scenario | binary | req/s (median) | p50 µs (median) | server CPU µs per request (median) | non-2xx or errors |"
echo "|---|---|---|---|---|---|"
want() { case "$scenarios" in *" $1 "*) return 0 ;; esac; return 1; }
if want typename; then scenario "GET { __typename }" GET "/graphql?query=$(urlencode '{ __typename }')"; fi
if want get-files; then scenario "GET files(first: 20)" GET "/graphql?query=$(urlencode "$listing")"; fi
if want post-files; then scenario "POST files(first: 20)" POST "/graphql" "$tmp/listing.json"; fi
if want me; then scenario "POST me { id username }" POST "/graphql" "$tmp/me.json"; fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
