#!/usr/bin/env bash
# Consumer check: installs the packed package into the apps under test/consumer/ the way a user does,
# outside the repo (so nothing resolves through the repo's node_modules), then type-checks each app
# (tsc --noEmit) and runs its own tests, written with nestjs-ezid/testing:
#   cjs-jest-express    CommonJS + jest (@swc/jest) + Express, Nest 12
#   esm-vitest-fastify  ESM ("type": "module") + Vitest (unplugin-swc) + Fastify, Nest 12
#   nest11-jest         CommonJS + jest (@swc/jest) + Express, Nest 11
# Every app pins its dependencies exactly; nestjs-ezid's own dependencies resolve as they would for a user.
# The two Nest 12 apps also run the README's "Your first test" verbatim (jest and Vitest).
#
# Usage: bash .ci/consumer-check.sh [<package tarball> [<results dir>]]
#   without a tarball: builds and packs the repo first. Runs on the `node` first on PATH.
#   EZID_CONSUMER_CHECK=0 skips it.   CONSUMER_APPS="a b" runs only those apps.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

if [ "${EZID_CONSUMER_CHECK:-1}" = "0" ]; then
  echo "consumer check skipped (EZID_CONSUMER_CHECK=0)"
  exit 0
fi

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
TARBALL="${1:-}"
RESULTS="${2:-$WORK}"
mkdir -p "$RESULTS"
if [ -z "$TARBALL" ]; then
  npm run build >/dev/null
  TARBALL="$WORK/$(npm pack --silent --pack-destination "$WORK")"
fi
TARBALL="$(cd "$(dirname "$TARBALL")" && pwd)/$(basename "$TARBALL")"
NODE_VERSION="$(node --version)"
APPS="${CONSUMER_APPS:-$(ls test/consumer)}"

failed=0
for app in $APPS; do
  printf '\n--- consumer app %s on Node %s ---\n' "$app" "$NODE_VERSION"
  dir="$WORK/$app"
  mkdir -p "$dir"
  # Only the app's sources: never a node_modules or build output a local run left behind.
  tar -C "test/consumer/$app" --exclude=node_modules --exclude=dist -cf - . | tar -C "$dir" -xf -
  # An app with a README_TEST file also runs the README's "Your first test" verbatim, at that path.
  if [ -f "$dir/README_TEST" ]; then
    node .ci/readme-first-test.cjs README.md >"$dir/$(tr -d '[:space:]' <"$dir/README_TEST")"
  fi
  start=$SECONDS
  # Each stage runs even if an earlier one failed (bar the install), so one run shows every problem.
  install=FAIL typecheck=- tests=-
  if (cd "$dir" && npm install --no-audit --no-fund --loglevel=error "$TARBALL"); then
    install=ok
    echo "installed nestjs-ezid $(cd "$dir" && node -p 'require("nestjs-ezid/package.json").version') in $((SECONDS - start)) s"
    if (cd "$dir" && npx tsc --noEmit -p tsconfig.json); then typecheck=ok; else typecheck=FAIL; fi
    if (cd "$dir" && npm test); then tests=ok; else tests=FAIL; fi
  fi
  status=ok
  [ "$install/$typecheck/$tests" = "ok/ok/ok" ] || status=FAIL
  echo "$NODE_VERSION $app $status (install $install, tsc $typecheck, tests $tests) $((SECONDS - start))s" |
    tee -a "$RESULTS/consumer.txt"
  [ "$status" = ok ] || failed=$((failed + 1))
done
cd "$ROOT"
if [ "$failed" -gt 0 ]; then
  echo "consumer check on Node $NODE_VERSION: $failed app(s) failed" >&2
  exit 1
fi
echo "consumer check on Node $NODE_VERSION: all apps passed"
