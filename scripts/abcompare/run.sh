#!/usr/bin/env bash
# A/B of two revisions on the 1 GiB cut and the 1 GiB upload, run
# alternately (A, B, A, B...) so that the machine's noise falls on both:
#
#   scripts/abcompare/run.sh OLD_REV [NEW_REV]      (NEW_REV defaults to HEAD)
#
# Each revision is exported with git archive and built once: the server and
# scripts/cutbench. The cut is `cutbench -mode cut` (csvio reader, compiled
# filter, csvio writer over /tmp/cutbench.csv), timed with /usr/bin/time;
# the upload is scripts/uploadbench of the current tree against each
# server binary; beside them, in every round, `cp` of the file to the same
# disk (the reference for the upload's speed). Prints every run, then the
# medians.
#
# Settings (environment): ROUNDS=5  FILE=/tmp/cutbench.csv  SIZE=1GiB
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# Resolved once: a branch that moves during the run does not change what is measured.
old="$(git -C "$root" rev-parse --short "${1:?usage: run.sh OLD_REV [NEW_REV]}")"
new="$(git -C "$root" rev-parse --short "${2:-HEAD}")"
ROUNDS="${ROUNDS:-5}"
FILE="${FILE:-/tmp/cutbench.csv}"
SIZE="${SIZE:-1GiB}"
work="$(mktemp -d /tmp/abcompare.XXXXXX)"
trap 'rm -rf "$work"' EXIT

build() { # rev name
  mkdir -p "$work/$2"
  git -C "$root" archive "$1" | tar -x -C "$work/$2"
  (cd "$work/$2" && go build -o "$work/$2.server" . && go build -o "$work/$2.cutbench" ./scripts/cutbench)
}
build "$old" A
build "$new" B
(cd "$root" && go build -o "$work/uploadbench" ./scripts/uploadbench)
# uploadbench writes the file first when it is missing or smaller than SIZE.

echo "A = $old, B = $new; $(nproc) cores; $(uptime)"
results="$work/results"
for r in $(seq 1 "$ROUNDS"); do
  c=$( { /usr/bin/time -f '%e' cp "$FILE" "$work/copy.csv"; } 2>&1 | tail -1)
  rm -f "$work/copy.csv"
  echo "round $r cp: wall $c s"
  echo "A cp_wall $c" >>"$results"; echo "B cp_wall $c" >>"$results"
  for v in A B; do
    u=$("$work/uploadbench" -bin "$work/$v.server" -file "$FILE" -size "$SIZE" | grep "^uploaded")
    # "uploaded 1074 MB (N rows) in 5.41s: 198 MB/s, server CPU 5.52s"
    us=$(sed -E 's/.* in ([0-9.]+)s:.*/\1/' <<<"$u"); uc=$(sed -E 's/.*server CPU ([0-9.]+)s.*/\1/' <<<"$u")
    echo "round $r $v upload: $u"
    echo "$v up_wall $us" >>"$results"; echo "$v up_cpu $uc" >>"$results"
    # wall seconds, CPU seconds, peak RSS KiB of the cut's process
    t=$( { /usr/bin/time -f '%e %U %S %M' "$work/$v.cutbench" -mode cut -file "$FILE" >/dev/null; } 2>&1 | tail -1)
    read -r wall usr sys rss <<<"$t"
    cpu=$(echo "$usr + $sys" | bc)
    echo "round $r $v cut: wall $wall s, CPU $cpu s, peak RSS $((rss / 1024)) MiB"
    echo "$v cut_wall $wall" >>"$results"; echo "$v cut_cpu $cpu" >>"$results"
  done
done
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
echo
echo "| metric (median of $ROUNDS) | A | B | B/A |"
echo "|---|---|---|---|"
for m in cp_wall up_wall up_cpu cut_wall cut_cpu; do
  a=$(awk -v m=$m '$1=="A" && $2==m {print $3}' "$results" | median)
  b=$(awk -v m=$m '$1=="B" && $2==m {print $3}' "$results" | median)
  echo "| $m (s) | $a | $b | $(echo "scale=2; $b / $a" | bc) |"
done
