#!/usr/bin/env bash
# A/B of two revisions on BenchmarkUploadPostgres (internal/app: small
# uploads through the whole handler on PostgreSQL, one at a time and from 8
# goroutines, with the event relay on), run alternately (A, B, A, B...) so
# that the machine's noise falls on both:
#
#   TEST_DATABASE_URL=postgres://... scripts/abcompare/events.sh OLD_REV [NEW_REV]   (NEW_REV defaults to HEAD)
#
# Each revision is exported with git archive and its internal/app tests
# compiled once; a revision without the benchmark gets the current tree's
# bench_events_test.go, which uses only helpers both have. Prints every run,
# then the medians.
#
# Settings (environment): ROUNDS=3  BENCHTIME=3s
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
old="$(git -C "$root" rev-parse --short "${1:?usage: events.sh OLD_REV [NEW_REV]}")"
new="$(git -C "$root" rev-parse --short "${2:-HEAD}")"
ROUNDS="${ROUNDS:-3}"
BENCHTIME="${BENCHTIME:-3s}"
: "${TEST_DATABASE_URL:?set TEST_DATABASE_URL to a PostgreSQL database the tests may use}"
work="$(mktemp -d /tmp/abevents.XXXXXX)"
trap 'rm -rf "$work"' EXIT

build() { # rev name
  mkdir -p "$work/$2"
  git -C "$root" archive "$1" | tar -x -C "$work/$2"
  [ -f "$work/$2/internal/app/bench_events_test.go" ] || cp "$root/internal/app/bench_events_test.go" "$work/$2/internal/app/"
  (cd "$work/$2" && go test -c -o "$work/$2.test" ./internal/app)
}
build "$old" A
build "$new" B

echo "A = $old, B = $new; $(nproc) cores; $(uptime)"
results="$work/results"
for r in $(seq 1 "$ROUNDS"); do
  for v in A B; do
    (cd "$work/$v/internal/app" && "$work/$v.test" -test.run '^$' -test.bench BenchmarkUploadPostgres \
      -test.benchtime "$BENCHTIME" 2>/dev/null) | grep '^BenchmarkUploadPostgres' | while read -r name _ ns _; do
      echo "round $r $v $name $ns ns/op"
      echo "$v ${name#BenchmarkUploadPostgres/} $ns" >>"$results"
    done
  done
done
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
echo
echo "| upload (median of $ROUNDS) | A ($old) | B ($new) | B/A |"
echo "|---|---|---|---|"
for m in $(awk '{print $2}' "$results" | sort -ru); do
  a=$(awk -v m=$m '$1=="A" && $2==m {print $3}' "$results" | median)
  b=$(awk -v m=$m '$1=="B" && $2==m {print $3}' "$results" | median)
  echo "| $m | $(echo "scale=2; $a / 1000000" | bc) ms | $(echo "scale=2; $b / 1000000" | bc) ms | $(echo "scale=2; $b / $a" | bc) |"
done
