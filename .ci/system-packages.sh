#!/usr/bin/env bash
# System packages the tests need: Debian's chromium for the sample app's browser e2e test
# (playwright-core drives it; `npx playwright install` cannot download browsers here), and Debian's
# redis-server for the shared-store suites (test/store: each starts its own server on loopback).
set -euo pipefail
MISSING=""
command -v chromium >/dev/null 2>&1 || MISSING+=" chromium"
command -v redis-server >/dev/null 2>&1 || MISSING+=" redis-server"
if [ -n "$MISSING" ]; then
  export DEBIAN_FRONTEND=noninteractive
  SUDO=""
  if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  # shellcheck disable=SC2086
  $SUDO apt-get install -y -qq $MISSING >/dev/null
fi
chromium --version
redis-server --version
