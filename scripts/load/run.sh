#!/usr/bin/env bash
# Load test: Cutline on PostgreSQL with a realistic dataset, driven by wrk,
# side by side with two references measured in the same run on the same
# machine: a trivial net/http handler (the ceiling) and PostGraphile v4 on the
# same database.
#
#   scripts/load/run.sh
#
# What it does: creates a throw-away database, builds and starts the server
# on it (LOG_LEVEL=warn), seeds 1,000 users and 100,000 files with tags and
# lineage (scripts/load/seed), starts the references, runs wrk for every
# scenario at each concurrency, prints a Markdown table and the ratios to the
# targets, then stops everything and drops the database (also on failure or
# Ctrl-C).
#
# Settings (environment):
#   DURATION=10s  CONNECTIONS="16 64"  THREADS=2
#   WARMUP=5s     unrecorded wrk run against each server before measuring (0s: none)
#   PGHOST=127.0.0.1 PGPORT=5432 PGUSER=postgres   (trust auth; loopback only)
#   SERVER_PORT=18400 CEILING_PORT=18401 GRAPHILE_PORT=18402 GRAPHILE2_PORT=18403
#   GRAPHILE_CLUSTER=1   also measure PostGraphile with --cluster-workers 2 (0 to skip)
#   RESULTS=FILE         also write the Markdown report to FILE
#   KEEP_DB=1            keep the database (and print its URL) instead of dropping it
#   CUTLINE_BIN=PATH     use this server binary instead of building one from the tree
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export GOFLAGS=-mod=mod

DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-16 64}"
THREADS="${THREADS:-2}"
PGHOST="${PGHOST:-127.0.0.1}"
PGPORT="${PGPORT:-5432}"
PGUSER="${PGUSER:-postgres}"
SERVER_PORT="${SERVER_PORT:-18400}"
CEILING_PORT="${CEILING_PORT:-18401}"
GRAPHILE_PORT="${GRAPHILE_PORT:-18402}"
GRAPHILE2_PORT="${GRAPHILE2_PORT:-18403}"
GRAPHILE_CLUSTER="${GRAPHILE_CLUSTER:-1}"

case "$PGHOST" in 127.0.0.1 | localhost) ;; *) echo "PGHOST must be a loopback address" >&2; exit 2 ;; esac
dur_s="${DURATION%s}"
case "$dur_s" in '' | *[!0-9]*) echo "DURATION must be whole seconds, like 10s" >&2; exit 2 ;; esac
warm_s="${WARMUP:-5s}"
warm_s="${warm_s%s}"
case "$warm_s" in '' | *[!0-9]*) echo "WARMUP must be whole seconds, like 5s" >&2; exit 2 ;; esac

for tool in go wrk psql curl; do
  command -v "$tool" >/dev/null 2>&1 || { echo "missing tool: $tool" >&2; exit 2; }
done
have_node=1
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || have_node=0

db="cutline_load_$$"
dburl="postgres://$PGUSER@$PGHOST:$PGPORT/$db?sslmode=disable"
tmp="$(mktemp -d -t cutline-load.XXXXXX)"
pids=()
db_created=0

# shellcheck source=../common.sh
. "$root/scripts/common.sh"

cleanup() {
  local rc=$?
  set +e
  stop_pids "${pids[@]}"
  if [ "$db_created" = 1 ]; then
    if [ "${KEEP_DB:-0}" = 1 ]; then
      echo "kept database: $dburl" >&2
    else
      psql_admin -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 ||
        echo "warning: could not drop database $db" >&2
    fi
  fi
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_http() { # url pid what
  for _ in $(seq 1 300); do
    if curl -fsS --max-time 2 -o /dev/null "$1" 2>/dev/null; then return 0; fi
    kill -0 "$2" 2>/dev/null || { echo "$3 exited during start-up" >&2; return 1; }
    sleep 0.1
  done
  echo "$3 did not answer within 30 s" >&2
  return 1
}

# ---------------------------------------------------------------- build
log "building the server, the ceiling and the seeder"
if [ -n "${CUTLINE_BIN:-}" ]; then cp "$CUTLINE_BIN" "$tmp/cutline"; else (cd "$root" && go build -o "$tmp/cutline" .); fi
(cd "$root" && go build -o "$tmp/ceiling" ./scripts/load/ceiling && go build -o "$tmp/seed" ./scripts/load/seed)

if [ "$have_node" = 1 ] && [ ! -x "$here/postgraphile/node_modules/.bin/postgraphile" ]; then
  log "installing PostGraphile (npm ci)"
  (cd "$here/postgraphile" && timeout 600 npm ci --no-audit --no-fund --loglevel=error)
fi

# ---------------------------------------------------------------- database and server
log "creating database $db"
psql_admin -c "CREATE DATABASE $db"
db_created=1

log "starting the server on 127.0.0.1:$SERVER_PORT"
ADDR="127.0.0.1:$SERVER_PORT" DATABASE_URL="$dburl" DATA_DIR="$tmp/data" \
  JWT_SECRET="load-test-secret-$(date +%s%N)" LOG_LEVEL=warn ACCESS_TOKEN_TTL=4h \
  SHIM_RATE_LIMIT=1000000000 RATE_LIMIT_IP=1000000000 RATE_LIMIT_IP_BURST=1000000000 \
  RATE_LIMIT_USER=1000000000 RATE_LIMIT_USER_BURST=1000000000 REGISTER_RATE_LIMIT=0 "$tmp/cutline" >"$tmp/server.log" 2>&1 &
server_pid=$!
pids+=("$server_pid")
wait_http "http://127.0.0.1:$SERVER_PORT/readyz" "$server_pid" server || { cat "$tmp/server.log" >&2; exit 1; }

log "seeding (1,000 users, 100,000 files)"
# Long steps run in the background so that a signal reaches the trap at once.
"$tmp/seed" -base "http://127.0.0.1:$SERVER_PORT" -db "$dburl" >"$tmp/seed.env" &
pids+=("$!")
wait "$!"
# shellcheck disable=SC1091
. "$tmp/seed.env"

log "starting the ceiling on 127.0.0.1:$CEILING_PORT"
"$tmp/ceiling" -addr "127.0.0.1:$CEILING_PORT" &
ceiling_pid=$!
pids+=("$ceiling_pid")
wait_http "http://127.0.0.1:$CEILING_PORT/" "$ceiling_pid" ceiling

graphile_version=""
graphile_ok=0
graphile2_ok=0
start_graphile() { # port workers role
  local extra=()
  [ "$2" -gt 1 ] && extra=(--cluster-workers "$2")
  "$here/postgraphile/node_modules/.bin/postgraphile" -c "$dburl" -s public -n 127.0.0.1 -p "$1" \
    --disable-query-log --disable-graphiql --disable-default-mutations "${extra[@]}" \
    >"$tmp/graphile-$1.log" 2>&1 &
  local pid=$!
  pids+=("$pid")
  eval "${3}_pid=$pid"
  for _ in $(seq 1 300); do
    if curl -fsS --max-time 2 -o /dev/null -H 'Content-Type: application/json' \
      --data '{"query":"{ __typename }"}' "http://127.0.0.1:$1/graphql" 2>/dev/null; then return 0; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "PostGraphile on port $1 did not start:" >&2
  tail -20 "$tmp/graphile-$1.log" >&2
  return 1
}
if [ "$have_node" = 1 ]; then
  graphile_version="$(cd "$here/postgraphile" && node -p 'require("postgraphile/package.json").version')"
  log "starting PostGraphile $graphile_version on 127.0.0.1:$GRAPHILE_PORT"
  start_graphile "$GRAPHILE_PORT" 1 graphile && graphile_ok=1
  if [ "$GRAPHILE_CLUSTER" = 1 ]; then
    log "starting PostGraphile (--cluster-workers 2) on 127.0.0.1:$GRAPHILE2_PORT"
    start_graphile "$GRAPHILE2_PORT" 2 graphile2 && graphile2_ok=1
  fi
else
  log "node/npm not found: PostGraphile skipped"
fi

# ---------------------------------------------------------------- request bodies
gql="http://127.0.0.1:$SERVER_PORT/graphql"
q_me='{"query":"{ me { id username } }"}'
q_files='{"query":"{ files(first: 20) { edges { node { id name size rowCount userTags systemTags createdAt } } } }"}'
q_graphile="{\"query\":\"{ allFiles(condition: {ownerId: \\\"$HEAVY_ID\\\", deletedAt: null}, first: 20, orderBy: [CREATED_AT_DESC, ID_DESC]) { nodes { id name size rowCount userTags systemTags createdAt } } }\"}"
q_lineage="{\"query\":\"query(\$id: ID!) { file(id: \$id) { lineage(depth: 5) { nodes { distance file { id name } } } } }\",\"variables\":{\"id\":\"$LINEAGE_FILE\"}}"
q_rows="{\"query\":\"query(\$id: ID!, \$w: String) { file(id: \$id) { rows(first: 50, whereSql: \$w) { edges { node { values } } } } }\",\"variables\":{\"id\":\"$ROWS_FILE\",\"w\":\"age >= 30 AND city IN ('NYC', 'LA', 'SF')\"}}"
printf '%s' "$q_me" >"$tmp/me.json"
printf '%s' "$q_files" >"$tmp/files.json"
printf '%s' "$q_graphile" >"$tmp/graphile.json"
printf '%s' "$q_lineage" >"$tmp/lineage.json"
printf '%s' "$q_rows" >"$tmp/rows.json"
{
  echo "id,name,age,city,score"
  for i in $(seq 1 25); do echo "$i,Person $i,$((20 + i)),NYC,$((i * 37 % 1000)).5"; done
} >"$tmp/upload.csv"

# ---------------------------------------------------------------- sanity checks
post() { # url body-file token -> body on stdout
  curl -sS --max-time 10 -H 'Content-Type: application/json' ${3:+-H "Authorization: Bearer $3"} \
    --data-binary @"$2" "$1"
}
check_gql() { # label url body-file token must-contain
  local out
  out="$(post "$2" "$3" "$4")"
  if [[ "$out" == *'"errors"'* ]] || [[ "$out" != *"$5"* ]]; then
    echo "sanity check failed for $1: ${out:0:400}" >&2
    return 1
  fi
  echo "   $1: ${#out} bytes: ${out:0:110}..." >&2
}
log "sanity checks"
check_gql me "$gql" "$tmp/me.json" "$HEAVY_TOKEN" '"username":"heavy"'
check_gql files "$gql" "$tmp/files.json" "$HEAVY_TOKEN" '"userTags"'
check_gql lineage "$gql" "$tmp/lineage.json" "$HEAVY_TOKEN" '"distance":-3'
check_gql rows "$gql" "$tmp/rows.json" "$HEAVY_TOKEN" '"values"'
lineage_nodes="$(post "$gql" "$tmp/lineage.json" "$HEAVY_TOKEN" | grep -o '"distance"' | wc -l)"
rows_n="$(post "$gql" "$tmp/rows.json" "$HEAVY_TOKEN" | grep -o '"values"' | wc -l)"
files_n="$(post "$gql" "$tmp/files.json" "$HEAVY_TOKEN" | grep -o '"createdAt"' | wc -l)"
[ "$graphile_ok" = 1 ] && check_gql postgraphile "http://127.0.0.1:$GRAPHILE_PORT/graphql" "$tmp/graphile.json" "" '"userTags"'
if [ "$graphile_ok" = 1 ]; then
  # Both servers must list the same 20 files in the same order.
  ours="$(post "$gql" "$tmp/files.json" "$HEAVY_TOKEN" | grep -o '"id":"[^"]*"' | tr -d '\n')"
  theirs="$(post "http://127.0.0.1:$GRAPHILE_PORT/graphql" "$tmp/graphile.json" "" | grep -o '"id":"[^"]*"' | tr -d '\n')"
  [ "$ours" = "$theirs" ] || { echo "Cutline and PostGraphile list different files" >&2; exit 1; }
  echo "   files: Cutline and PostGraphile return the same 20 ids in the same order" >&2
fi
code="$(curl -sS --max-time 10 -o "$tmp/upload.out" -w '%{http_code}' -H "Authorization: Bearer $UPLOADER_TOKEN" \
  -H 'Content-Type: text/csv' --data-binary @"$tmp/upload.csv" "http://127.0.0.1:$SERVER_PORT/api/v1/files?name=check.csv")"
[ "$code" = 201 ] || { echo "sanity check failed for upload: $code $(head -c 300 "$tmp/upload.out")" >&2; exit 1; }
echo "   upload: 201, $(wc -c <"$tmp/upload.csv") bytes" >&2

shim_ok=0
shim_note=""
code="$(curl -sS --max-time 10 -o "$tmp/login.out" -w '%{http_code}' -H 'Content-Type: application/json' \
  --data "{\"username\":\"$TYPICAL_USER\",\"password\":\"$PASSWORD\"}" "http://127.0.0.1:$SERVER_PORT/api/accounts/login/")"
if [ "$code" = 200 ] && SHIM_TOKEN="$(grep -o '"access":"[^"]*"' "$tmp/login.out" | cut -d'"' -f4)" && [ -n "$SHIM_TOKEN" ]; then
  code="$(curl -sS --max-time 10 -o "$tmp/list.out" -w '%{http_code}' -H "Authorization: Bearer $SHIM_TOKEN" \
    "http://127.0.0.1:$SERVER_PORT/api/list_cutter/list_saved_files/")"
  if [ "$code" = 200 ]; then
    shim_ok=1
    echo "   shim list_saved_files: 200, $(grep -o '"file_id"' "$tmp/list.out" | wc -l) files, $(wc -c <"$tmp/list.out") bytes" >&2
  else
    shim_note="GET /api/list_cutter/list_saved_files/ answered $code: $(head -c 200 "$tmp/list.out")"
  fi
else
  shim_note="POST /api/accounts/login/ answered $code: $(head -c 200 "$tmp/login.out" | tr '\n' ' ')"
fi
[ -n "$shim_note" ] && echo "   shim: SKIPPED: $shim_note" >&2

# ---------------------------------------------------------------- wrk
results="$tmp/results.tsv"
: >"$results"
clk_tck="$(getconf CLK_TCK)"

# pids_of NAME: the processes whose CPU time a scenario is charged with.
pids_of() {
  case "$1" in
    server) echo "$server_pid" ;;
    ceiling) echo "$ceiling_pid" ;;
    graphile) echo "${graphile_pid:-}" ;;
    graphile2)
      local p="${graphile2_pid:-}"
      [ -n "$p" ] && echo "$p" $(pgrep -P "$p" 2>/dev/null || true)
      ;;
    postgres)
      psql -X -At -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d postgres \
        -c "SELECT pid FROM pg_stat_activity WHERE datname = '$db'" 2>/dev/null | tr '\n' ' '
      ;;
  esac
}
# cpu_ticks PID...: "pid:ticks" (user + system) for each live process.
cpu_ticks() {
  local p
  for p in "$@"; do
    [ -r "/proc/$p/stat" ] && awk -v p="$p" '{ sub(/^.*\) /, ""); print p ":" $12 + $13 }' "/proc/$p/stat" 2>/dev/null
  done
  return 0
}
# ticks_delta BEFORE AFTER: CPU ticks spent between the two snapshots
# (a process that appeared in between counts from zero).
ticks_delta() {
  awk -v before="$1" -v after="$2" 'BEGIN {
    n = split(before, b, " "); for (i = 1; i <= n; i++) { split(b[i], kv, ":"); t[kv[1]] = kv[2] }
    n = split(after, a, " "); s = 0; for (i = 1; i <= n; i++) { split(a[i], kv, ":"); s += kv[2] - (kv[1] in t ? t[kv[1]] : 0) }
    print s }'
}

bench() { # key label conns url pidset [VAR=value...]
  local key=$1 label=$2 c=$3 url=$4 who=$5
  shift 5
  local out line srv_before pg_before srv_after pg_after
  echo "   wrk -t$THREADS -c$c -d$DURATION --latency  $label" >&2
  # shellcheck disable=SC2046
  srv_before="$(cpu_ticks $(pids_of "$who") | tr '\n' ' ')"
  # shellcheck disable=SC2046
  pg_before="$(cpu_ticks $(pids_of postgres) | tr '\n' ' ')"
  out="$(env "$@" timeout $((dur_s + 60)) wrk -t"$THREADS" -c"$c" -d"$DURATION" --timeout 10s --latency \
    -s "$here/request.lua" "$url" 2>&1)" || true
  # shellcheck disable=SC2046
  srv_after="$(cpu_ticks $(pids_of "$who") | tr '\n' ' ')"
  # shellcheck disable=SC2046
  pg_after="$(cpu_ticks $(pids_of postgres) | tr '\n' ' ')"
  line="$(grep '^RESULT' <<<"$out" || true)"
  if [ -z "$line" ]; then
    echo "wrk failed for $label:" >&2
    echo "$out" >&2
    printf '%s\t%s\t%s\tNA\tNA\tNA\tNA\tNA\tNA\tNA\tNA\n' "$key" "$label" "$c" >>"$results"
    return 0
  fi
  local rps p50 p99 non2xx sock gqlerr requests srv_us pg_us
  rps="$(sed -E 's/.* rps=([0-9.]+).*/\1/' <<<"$line")"
  p50="$(sed -E 's/.* p50_us=([0-9]+).*/\1/' <<<"$line")"
  p99="$(sed -E 's/.* p99_us=([0-9]+).*/\1/' <<<"$line")"
  non2xx="$(sed -E 's/.* non2xx=([0-9]+).*/\1/' <<<"$line")"
  sock="$(awk '{for(i=1;i<=NF;i++){split($i,a,"="); if(a[1]=="connect"||a[1]=="read"||a[1]=="write"||a[1]=="timeout") s+=a[2]}} END{print s+0}' <<<"$line")"
  gqlerr="$(sed -E 's/.* gqlerrors=([0-9]+).*/\1/' <<<"$line")"
  requests="$(sed -E 's/.*requests=([0-9]+) .*/\1/' <<<"$line")"
  srv_us="$(awk -v d="$(ticks_delta "$srv_before" "$srv_after")" -v n="$requests" -v hz="$clk_tck" 'BEGIN { printf "%.0f", n ? d * 1e6 / hz / n : 0 }')"
  pg_us="$(awk -v d="$(ticks_delta "$pg_before" "$pg_after")" -v n="$requests" -v hz="$clk_tck" 'BEGIN { printf "%.0f", n ? d * 1e6 / hz / n : 0 }')"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$key" "$label" "$c" "$rps" "$p50" "$p99" "$non2xx" "$sock" "$gqlerr" "$srv_us" "$pg_us" >>"$results"
  echo "     $(printf '%.0f' "$rps") req/s, p50 $((p50 / 1000)).$(printf '%03d' $((p50 % 1000))) ms, p99 $((p99 / 1000)).$(printf '%03d' $((p99 % 1000))) ms, $requests requests, non-2xx $non2xx, socket errors $sock, GraphQL errors $gqlerr; CPU per request: server $srv_us us, PostgreSQL $pg_us us" >&2
}

gql_env() { echo WRK_METHOD=POST WRK_BODY_FILE="$1" WRK_CHECK_ERRORS=1 ${2:+WRK_TOKEN=$2}; }

# Warm-up, not recorded: PostGraphile's JIT and every connection pool.
warm() { # url body-file [token]
  WRK_METHOD=POST WRK_BODY_FILE="$2" WRK_TOKEN="${3:-}" timeout $((warm_s + 60)) \
    wrk -t"$THREADS" -c16 -d"${warm_s}s" -s "$here/request.lua" "$1" >/dev/null 2>&1 || true
}
if [ "$warm_s" -gt 0 ]; then
  log "warm-up: ${warm_s}s per server, not recorded"
  warm "http://127.0.0.1:$CEILING_PORT/graphql" "$tmp/me.json" "$HEAVY_TOKEN"
  warm "$gql" "$tmp/files.json" "$HEAVY_TOKEN"
  [ "$graphile_ok" = 1 ] && warm "http://127.0.0.1:$GRAPHILE_PORT/graphql" "$tmp/graphile.json"
  [ "$graphile2_ok" = 1 ] && warm "http://127.0.0.1:$GRAPHILE2_PORT/graphql" "$tmp/graphile.json"
fi

log "load (wrk -t$THREADS -d$DURATION, connections: $CONNECTIONS)"
for c in $CONNECTIONS; do
  # shellcheck disable=SC2046
  bench ceiling "ceiling: net/http, 60 B JSON (same POST as me)" "$c" "http://127.0.0.1:$CEILING_PORT/graphql" ceiling $(gql_env "$tmp/me.json" "$HEAVY_TOKEN")
  # shellcheck disable=SC2046
  bench me 'Cutline `{ me { id username } }`' "$c" "$gql" server $(gql_env "$tmp/me.json" "$HEAVY_TOKEN")
  # shellcheck disable=SC2046
  bench files 'Cutline `files(first: 20)` with tags (heavy user)' "$c" "$gql" server $(gql_env "$tmp/files.json" "$HEAVY_TOKEN")
  if [ "$graphile_ok" = 1 ]; then
    # shellcheck disable=SC2046
    bench graphile "PostGraphile $graphile_version \`allFiles\` (same 20 rows)" "$c" "http://127.0.0.1:$GRAPHILE_PORT/graphql" graphile $(gql_env "$tmp/graphile.json")
  fi
  if [ "$graphile2_ok" = 1 ]; then
    # shellcheck disable=SC2046
    bench graphile2 "PostGraphile $graphile_version \`allFiles\`, --cluster-workers 2" "$c" "http://127.0.0.1:$GRAPHILE2_PORT/graphql" graphile2 $(gql_env "$tmp/graphile.json")
  fi
  # shellcheck disable=SC2046
  bench lineage "Cutline \`file { lineage(depth: 5) }\` ($lineage_nodes nodes)" "$c" "$gql" server $(gql_env "$tmp/lineage.json" "$HEAVY_TOKEN")
  # shellcheck disable=SC2046
  bench rows "Cutline \`file { rows(first: 50, whereSql) }\` ($rows_n rows)" "$c" "$gql" server $(gql_env "$tmp/rows.json" "$HEAVY_TOKEN")
  if [ "$shim_ok" = 1 ]; then
    bench shim 'Legacy `GET /api/list_cutter/list_saved_files/` (100 files)' "$c" \
      "http://127.0.0.1:$SERVER_PORT/api/list_cutter/list_saved_files/" server WRK_METHOD=GET WRK_TOKEN="$SHIM_TOKEN"
  fi
  bench upload 'Upload `POST /api/v1/files` (1 KB CSV, unique names)' "$c" \
    "http://127.0.0.1:$SERVER_PORT/api/v1/files?tags=load" server WRK_METHOD=POST WRK_BODY_FILE="$tmp/upload.csv" \
    WRK_CONTENT_TYPE=text/csv WRK_TOKEN="$UPLOADER_TOKEN" WRK_UNIQUE_NAME="load-c$c"
done

if ! kill -0 "$server_pid" 2>/dev/null; then
  echo "the server died during the run:" >&2
  tail -50 "$tmp/server.log" >&2
  exit 1
fi
server_rss="$(awk '/^VmHWM:/ {printf "%.0f", $2/1024}' "/proc/$server_pid/status")"
warn_lines="$(grep -c . "$tmp/server.log" || true)"

# ---------------------------------------------------------------- report
report="$tmp/report.md"
{
  echo "### Run of $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo);" \
    "$(go version | awk '{print $3}'), $(wrk -v 2>&1 | awk 'NR == 1 {print $1, $2}'), $(psql -X -At -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d postgres -c 'show server_version' | awk '{print "PostgreSQL", $1}')${graphile_version:+, node $(node -v), PostGraphile $graphile_version}."
  echo
  echo "Data: $SEED_USERS users, $SEED_FILES files ($SEED_HEAVY_FILES owned by the heavy user, $SEED_TYPICAL_FILES by the typical one), $SEED_FILE_TAGS file_tags rows, $SEED_EDGES edges, $SEED_OBJECTS distinct CSV objects."
  echo "wrk -t$THREADS -d$DURATION --latency; every GraphQL answer is checked for \"errors\". CPU per request: user+system time of the"
  echo "server process (PostGraphile: its processes; ceiling: its process) and of the PostgreSQL backends connected to the"
  echo "load database, divided by the requests wrk completed; wrk's own CPU is not counted. Each server was warmed up with an"
  echo "unrecorded ${warm_s} s wrk run first. Load average when the run ended: $(cut -d" " -f1-3 /proc/loadavg) (other work shares the machine)."
  echo
  echo "| scenario | conns | req/s | p50 ms | p99 ms | errors (non-2xx / socket / GraphQL) | server CPU µs/req | PostgreSQL CPU µs/req |"
  echo "|---|---:|---:|---:|---:|---|---:|---:|"
  sort -t$'\t' -k3,3n -s "$results" | while IFS=$'\t' read -r key label c rps p50 p99 non2xx sock gqlerr srv_us pg_us; do
    if [ "$rps" = NA ]; then
      echo "| $label | $c | failed | | | | | |"
    else
      awk -v l="$label" -v c="$c" -v r="$rps" -v a="$p50" -v b="$p99" -v n="$non2xx" -v s="$sock" -v g="$gqlerr" -v su="$srv_us" -v pu="$pg_us" \
        'BEGIN { printf "| %s | %d | %.0f | %.2f | %.2f | %d / %d / %d | %d | %d |\n", l, c, r, a/1000, b/1000, n, s, g, su, pu }'
    fi
  done
  if [ "$shim_ok" != 1 ]; then
    echo
    echo "Legacy shim not measured: $shim_note"
  fi
  echo
  echo "Server peak RSS over the run: ${server_rss} MiB; server log lines at LOG_LEVEL=warn: $warn_lines."
  echo
  echo "Ratios (same run):"
  echo
  get() { awk -F'\t' -v k="$1" -v c="$2" -v f="$3" '$1==k && $3==c {print $f}' "$results"; }
  for c in $CONNECTIONS; do
    me="$(get me "$c" 4)"
    ceil="$(get ceiling "$c" 4)"
    if [ -n "$me" ] && [ -n "$ceil" ] && [ "$me" != NA ] && [ "$ceil" != NA ]; then
      awk -v m="$me" -v x="$ceil" -v c="$c" 'BEGIN { r=m/x; printf "- c=%d: `me` / ceiling = %.2f (target >= 0.60: %s)\n", c, r, (r>=0.6?"met":"NOT met") }'
    fi
    f="$(get files "$c" 4)"
    g="$(get graphile "$c" 4)"
    fp99="$(get files "$c" 6)"
    gp99="$(get graphile "$c" 6)"
    if [ -n "$f" ] && [ -n "$g" ] && [ "$f" != NA ] && [ "$g" != NA ]; then
      awk -v f="$f" -v g="$g" -v fp="$fp99" -v gp="$gp99" -v c="$c" 'BEGIN {
        r=f/g; printf "- c=%d: `files(first: 20)` / PostGraphile = %.2fx req/s (target >= 2.5x: %s); p99 %.2f ms vs %.2f ms (target lower: %s)\n",
          c, r, (r>=2.5?"met":"NOT met"), fp/1000, gp/1000, (fp<gp?"met":"NOT met") }'
    fi
    g2="$(get graphile2 "$c" 4)"
    if [ -n "$f" ] && [ -n "$g2" ] && [ "$f" != NA ] && [ "$g2" != NA ]; then
      awk -v f="$f" -v g="$g2" -v c="$c" 'BEGIN { printf "- c=%d: `files(first: 20)` / PostGraphile with 2 workers = %.2fx req/s (for information)\n", c, f/g }'
    fi
    fs="$(get files "$c" 10)"; fp="$(get files "$c" 11)"; gs="$(get graphile "$c" 10)"; gpg="$(get graphile "$c" 11)"
    if [ -n "$gs" ] && [ "$gs" != NA ] && [ -n "$fs" ] && [ "$fs" != NA ]; then
      awk -v fs="$fs" -v fp="$fp" -v gs="$gs" -v gp="$gpg" -v c="$c" 'BEGIN { printf "- c=%d: CPU per `files(first: 20)` request, server + PostgreSQL: Cutline %d + %d µs, PostGraphile %d + %d µs (PostGraphile / Cutline = %.2f)\n", c, fs, fp, gs, gp, (gs+gp)/(fs+fp) }'
    fi
    ms="$(get me "$c" 10)"; mp="$(get me "$c" 11)"; cs="$(get ceiling "$c" 10)"
    if [ -n "$ms" ] && [ "$ms" != NA ] && [ -n "$cs" ] && [ "$cs" != NA ]; then
      awk -v ms="$ms" -v mp="$mp" -v cs="$cs" -v c="$c" 'BEGIN { printf "- c=%d: CPU per `me` request: server %d µs + PostgreSQL %d µs; ceiling %d µs\n", c, ms, mp, cs }'
    fi
    f_ceil="$(get files "$c" 4)"
    if [ -n "$f_ceil" ] && [ -n "$ceil" ] && [ "$f_ceil" != NA ] && [ "$ceil" != NA ]; then
      awk -v f="$f_ceil" -v x="$ceil" -v c="$c" 'BEGIN { printf "- c=%d: `files(first: 20)` / ceiling = %.3f\n", c, f/x }'
    fi
  done
} >"$report"

echo
cat "$report"
if [ -n "${RESULTS:-}" ]; then cp "$report" "$RESULTS"; fi
if [ -s "$tmp/server.log" ]; then
  echo
  echo "Server log at warn and above, grouped (count, line without time and request id):"
  sed -E 's/^time=[^ ]+ //; s/ ?request_id=[0-9a-f]+//' "$tmp/server.log" | sort | uniq -c | sort -rn | awk 'NR <= 20' 
fi
