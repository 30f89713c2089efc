#!/usr/bin/env bash
# Instruction counts of the upload's pipeline (scripts/abcompare/uploadcpu:
# the copy into a mem bucket, SHA-256, csvio's analysis) in two revisions,
# on the same file, under callgrind. Unlike CPU seconds, the counts do not
# move with the machine's load:
#
#   scripts/abcompare/callgrind.sh OLD_REV [NEW_REV]      (NEW_REV defaults to HEAD)
#
# The driver of the current tree is built in each revision's export (it
# calls only csvio.AnalyzeLimited, which both must have). One process, one
# P (GOMAXPROCS=1) and no asynchronous preemption (callgrind does not
# survive its signals), so that the Go scheduler adds no spinning of its
# own. Prints the totals, instructions per byte, B/A, and the functions
# whose own instructions differ most (callgrind_annotate, self cost).
#
# Settings (environment): FILE=/tmp/uploadcpu.csv  SIZE=32MiB  TOP=25
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
old="$(git -C "$root" rev-parse --short "${1:?usage: callgrind.sh OLD_REV [NEW_REV]}")"
new="$(git -C "$root" rev-parse --short "${2:-HEAD}")"
FILE="${FILE:-/tmp/uploadcpu.csv}"
SIZE="${SIZE:-32MiB}"
TOP="${TOP:-25}"
work="$(mktemp -d /tmp/abcallgrind.XXXXXX)"
trap 'rm -rf "$work"' EXIT

build() { # rev name
  mkdir -p "$work/$2"
  git -C "$root" archive "$1" | tar -x -C "$work/$2"
  mkdir -p "$work/$2/scripts/abcompare/uploadcpu"
  cp "$here/uploadcpu/main.go" "$work/$2/scripts/abcompare/uploadcpu/"
  (cd "$work/$2" && go build -o "$work/$2.bin" ./scripts/abcompare/uploadcpu)
}
build "$old" A
build "$new" B
[ -f "$FILE" ] || "$work/B.bin" -file "$FILE" -size "$SIZE"
bytes=$(stat -c %s "$FILE")

count() { # name: total instructions; per-function self costs in $work/name.fn
  GODEBUG=asyncpreemptoff=1 GOMAXPROCS=1 valgrind --tool=callgrind \
    --callgrind-out-file="$work/$1.out" "$work/$1.bin" -file "$FILE" >"$work/$1.log" 2>&1
  callgrind_annotate --auto=no --inclusive=no --threshold=100 "$work/$1.out" |
    awk '/^ *[0-9,]+ \(/ {
      n = $1; gsub(",", "", n); f = $0
      sub(/^[^)]*\) +/, "", f); sub(/ \[[^]]*\]$/, "", f); sub(/^[^:]*:/, "", f)
      sub(/github.com\/cutline\/cutline\/internal\//, "", f); sub(/'"'"'[0-9]+$/, "", f)
      s[f] += n
    } END { for (f in s) print f "\t" s[f] }' | LC_ALL=C sort >"$work/$1.fn"
  awk -F'\t' '$1 == "PROGRAM TOTALS" {print $2}' "$work/$1.fn"
}
a=$(count A)
b=$(count B)
echo "file: $FILE, $bytes bytes; A = $old, B = $new"
grep -h "bytes," "$work/A.log" "$work/B.log"
echo
echo "| | A ($old) | B ($new) | B/A |"
echo "|---|---|---|---|"
echo "| instructions | $a | $b | $(echo "scale=3; $b / $a" | bc) |"
echo "| per byte | $(echo "scale=1; $a / $bytes" | bc) | $(echo "scale=1; $b / $bytes" | bc) | |"
echo
echo "functions whose own instructions differ most (B - A, A, B; recursive calls folded in):"
LC_ALL=C join -t$'\t' -a1 -a2 -e0 -o 0,1.2,2.2 "$work/A.fn" "$work/B.fn" |
  awk -F'\t' '$1 != "PROGRAM TOTALS" {d = $3 - $2; print (d < 0 ? -d : d) "\t" d "\t" $2 "\t" $3 "\t" $1}' |
  sort -k1,1nr | head -n "$TOP" | cut -f2-
