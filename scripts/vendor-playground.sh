#!/usr/bin/env bash
# Vendors the GraphiQL page's npm packages into internal/playground/third_party,
# the way Go vendors modules: exact versions, integrity checked, licences kept.
#
#   scripts/vendor-playground.sh           fetch every package in PINS with `npm pack`, check
#                                          the tarball against its pinned sha512 integrity, copy
#                                          the listed files and the package's LICENSE into
#                                          third_party/NAME@VERSION/, and write SHA256SUMS
#   scripts/vendor-playground.sh --check   offline: the folder holds exactly the files PINS
#                                          names, each matching SHA256SUMS (CI runs this)
#
# The server embeds the folder (go:embed), so a built binary needs no network to
# serve /playground.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$root/internal/playground/third_party"
pins="$dir/PINS"
sums="$dir/SHA256SUMS"

# pinned_files prints every vendored path (NAME@VERSION/FILE) that PINS names.
pinned_files() {
  grep -v '^[[:space:]]*\(#\|$\)' "$pins" | while read -r name version _integrity files; do
    for f in $files LICENSE; do echo "$name@$version/$f"; done
  done | LC_ALL=C sort
}

check() {
  local want have bad=0
  want="$(pinned_files)"
  have="$(cd "$dir" && find . -mindepth 2 -type f | sed 's|^\./||' | LC_ALL=C sort)"
  if [ "$want" != "$have" ]; then
    echo "FAIL: $dir does not hold exactly the files PINS names:"
    diff <(echo "$want") <(echo "$have") | sed -n 's/^[<>]/  &/p'
    bad=1
  fi
  listed="$(awk '{print $2}' "$sums" | LC_ALL=C sort)"
  if [ "$want" != "$listed" ]; then
    echo "FAIL: SHA256SUMS does not list exactly the files PINS names; run $0"
    bad=1
  fi
  if ! (cd "$dir" && sha256sum --quiet --strict -c SHA256SUMS); then
    echo "FAIL: vendored files differ from SHA256SUMS"
    bad=1
  fi
  if [ "$bad" = 0 ]; then echo "vendored playground files match their pinned hashes ($(echo "$want" | wc -l) files)"; fi
  return "$bad"
}

fetch() {
  command -v npm >/dev/null || { echo "npm is needed to fetch the packages"; exit 2; }
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  # Start from nothing but PINS, so a version bump leaves no stale folder.
  find "$dir" -mindepth 1 -maxdepth 1 -type d -exec rm -rf {} +
  grep -v '^[[:space:]]*\(#\|$\)' "$pins" | while read -r name version integrity files; do
    echo "== $name@$version"
    tgz="$(cd "$tmp" && npm pack --silent "$name@$version" | tail -1)"
    got="sha512-$(openssl dgst -sha512 -binary "$tmp/$tgz" | base64 -w0)"
    if [ "$got" != "$integrity" ]; then
      echo "FAIL: $name@$version: the tarball's integrity is $got, PINS says $integrity"
      exit 1
    fi
    mkdir -p "$tmp/x/$name"
    tar -xzf "$tmp/$tgz" -C "$tmp/x/$name"
    for f in $files LICENSE; do
      [ -f "$tmp/x/$name/package/$f" ] || { echo "FAIL: $name@$version has no $f"; exit 1; }
      mkdir -p "$(dirname "$dir/$name@$version/$f")"
      cp "$tmp/x/$name/package/$f" "$dir/$name@$version/$f"
      chmod 644 "$dir/$name@$version/$f"
    done
  done
  (cd "$dir" && pinned_files | xargs sha256sum) >"$sums"
  check
}

case "${1:-}" in
  --check) check ;;
  "") fetch ;;
  *) echo "usage: $0 [--check]"; exit 2 ;;
esac
