#!/usr/bin/env bash
# The speed figures of docs/BENCHMARKS.md "The targets, each beside its
# reference": every figure measured in one run beside the reference it is
# judged against, with the tree's own server binary:
#
#   upload    1 GiB to POST /api/v1/files (scripts/uploadbench) beside cp of the same file
#   multipart the GraphQL multipart upload beside the REST upload (scripts/uploadbench -graphql,
#             then BenchmarkUpload{REST,GraphQL})
#   lineage   lineage(UPSTREAM, depth: 10) through the handler beside the recursive SQL
#             (BenchmarkLineageAgainstSQL, PostgreSQL and SQLite)
#   large     the 65,879-node answer: bytes per node, peak and kept (BenchmarkLineageLargeAnswer, GOGC 400)
#   cut       the cut of 1 GiB on one and two workers beside DuckDB on two threads (scripts/cutbench)
#   load      me beside a bare net/http handler, files(first: 20) beside PostGraphile (scripts/load/run.sh)
#
#   scripts/targets/run.sh [SECTION...]      (default: all, in the order above)
#
# Settings (environment): ROUNDS=3 (upload, multipart and cut rounds)
# FILE=/tmp/cutbench.csv SIZE=1GiB (the file uploaded and cut; generated when
# missing), DUCKDB_NODE (a folder with @duckdb/node-api installed; npm installs
# it into /tmp/targets-duckdb when unset), PGHOST/PGPORT/PGUSER (loopback
# PostgreSQL with trust auth, as the load script needs), DURATION=8s (load).
# Nothing here asserts a figure: it prints them, with the load average.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
ROUNDS="${ROUNDS:-3}"
FILE="${FILE:-/tmp/cutbench.csv}"
SIZE="${SIZE:-1GiB}"
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"
case "$PGHOST" in 127.0.0.1|localhost|::1) ;; *) echo "PGHOST must be loopback" >&2; exit 2 ;; esac
sections=("$@")
[ ${#sections[@]} -gt 0 ] || sections=(upload multipart lineage large cut load)

work="$(mktemp -d /tmp/targets.XXXXXX)"
db="cutline_targets_$$"
cleanup() {
  psql -X -q -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d postgres \
    -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { echo; echo "== $* ($(date -u +%H:%M:%S) UTC, load average $(cut -d' ' -f1-3 /proc/loadavg))"; }
median() { sort -n | awk '{a[NR]=$1} END {if (NR) print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

say "building $(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet HEAD || echo '+changes') on $(nproc) cores"
(cd "$root" && go build -o "$work/cutline" . \
  && go build -o "$work/uploadbench" ./scripts/uploadbench \
  && go build -o "$work/cutbench" ./scripts/cutbench \
  && go test -c -o "$work/app.test" ./internal/app)

pgdb() {
  PGOPTIONS='-c client_min_messages=warning' psql -X -q -v ON_ERROR_STOP=1 -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d postgres \
    -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null
  echo "postgres://$PGUSER@$PGHOST:$PGPORT/$db?sslmode=disable"
}

upload() {
  say "upload: $SIZE to POST /api/v1/files beside cp, $ROUNDS rounds"
  local r c u results="$work/upload"
  : >"$results"
  for r in $(seq 1 "$ROUNDS"); do
    # uploadbench writes the file first when it is missing or too small.
    u=$("$work/uploadbench" -bin "$work/cutline" -file "$FILE" -size "$SIZE" | grep '^uploaded')
    c=$( { /usr/bin/time -f '%e' cp "$FILE" "$work/copy.csv"; } 2>&1 | tail -1)
    rm -f "$work/copy.csv"
    echo "round $r: cp $c s; $u"
    echo "cp $c" >>"$results"
    sed -E 's/.* in ([0-9.]+)s:.*server CPU ([0-9.]+)s.*/wall \1\ncpu \2/' <<<"$u" >>"$results"
  done
  local cpm wm um
  cpm=$(awk '$1=="cp" {print $2}' "$results" | median)
  wm=$(awk '$1=="wall" {print $2}' "$results" | median)
  um=$(awk '$1=="cpu" {print $2}' "$results" | median)
  echo "medians: cp $cpm s, upload $wm s (speed $(awk -v c="$cpm" -v w="$wm" 'BEGIN {printf "%.2f", c / w}')x cp's), server CPU $um s"
}

multipart() {
  say "multipart: $SIZE through GraphQL uploadFile beside POST /api/v1/files (uploadbench, the client apart), $ROUNDS rounds"
  local r m u results="$work/multipart"
  : >"$results"
  for r in $(seq 1 "$ROUNDS"); do
    for m in rest graphql; do
      u=$("$work/uploadbench" -bin "$work/cutline" -file "$FILE" -size "$SIZE" $([ $m = graphql ] && echo -graphql) | grep '^uploaded')
      echo "round $r $m: $u"
      sed -E "s/.* in ([0-9.]+)s:.*server CPU ([0-9.]+)s.*/$m-wall \1\n$m-cpu \2/" <<<"$u" >>"$results"
    done
  done
  local rw gw rc gc
  rw=$(awk '$1=="rest-wall" {print $2}' "$results" | median); gw=$(awk '$1=="graphql-wall" {print $2}' "$results" | median)
  rc=$(awk '$1=="rest-cpu" {print $2}' "$results" | median); gc=$(awk '$1=="graphql-cpu" {print $2}' "$results" | median)
  echo "medians: REST $rw s, $rc CPU-s; GraphQL $gw s, $gc CPU-s (speed $(awk -v a="$rw" -v b="$gw" 'BEGIN {printf "%.2f", a / b}') of REST's, CPU $(awk -v a="$rc" -v b="$gc" 'BEGIN {printf "%.2f", b / a}'))"
  say "multipart: BenchmarkUploadGraphQL beside BenchmarkUploadREST (16 MiB, 10 uploads each, the client in the same process), $ROUNDS rounds"
  for r in $(seq 1 "$ROUNDS"); do
    (cd "$root/internal/app" && "$work/app.test" -test.run '^$' \
      -test.bench 'BenchmarkUpload(REST|GraphQL)$' -test.benchtime 10x -test.benchmem) | grep '^Benchmark'
  done
}

lineage() {
  local url
  url=$(pgdb)
  say "lineage: BenchmarkLineageAgainstSQL, 300 calls each, PostgreSQL and SQLite"
  (cd "$root/internal/app" && TEST_DATABASE_URL="$url" "$work/app.test" -test.run '^$' \
    -test.bench 'LineageAgainstSQL' -test.benchtime 300x) | grep -E '^Benchmark|seeded'
}

large() {
  local url
  url=$(pgdb)
  say "large: BenchmarkLineageLargeAnswer, direct answers, GOGC 400 (the server's default)"
  (cd "$root/internal/app" && GOGC=400 TEST_DATABASE_URL="$url" "$work/app.test" -test.run '^$' \
    -test.bench 'LineageLargeAnswer/.*/direct' -test.benchtime 3x -test.benchmem) | grep -E '^Benchmark'
}

cut_() {
  if [ -z "${DUCKDB_NODE:-}" ]; then
    export DUCKDB_NODE=/tmp/targets-duckdb
    if [ ! -d "$DUCKDB_NODE/node_modules/@duckdb/node-api" ]; then
      mkdir -p "$DUCKDB_NODE"
      (cd "$DUCKDB_NODE" && npm install --silent --no-audit --no-fund @duckdb/node-api >/dev/null)
    fi
  fi
  say "cut: $SIZE, one and two workers beside DuckDB on two threads, $ROUNDS rounds"
  # cutbench builds its service program from the tree, so it runs from the root.
  (cd "$root" && "$work/cutbench" -file "$FILE" -size "$SIZE" -modes service:1,service:2,duckdb -rounds "$ROUNDS")
}

load() {
  say "load: me beside net/http, files(first: 20) beside PostGraphile"
  DURATION="${DURATION:-8s}" GRAPHILE_CLUSTER="${GRAPHILE_CLUSTER:-0}" CUTLINE_BIN="$work/cutline" \
    "$root/scripts/load/run.sh"
}

for s in "${sections[@]}"; do
  case "$s" in
    upload) upload ;; multipart) multipart ;; lineage) lineage ;; large) large ;; cut) cut_ ;; load) load ;;
    *) echo "unknown section: $s (upload, multipart, lineage, large, cut, load)" >&2; exit 2 ;;
  esac
done
