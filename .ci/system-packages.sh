#!/usr/bin/env bash
# System packages the tests need: Debian's chromium for the sample app's browser e2e test
# (playwright-core drives it; `npx playwright install` cannot download browsers here).
set -euo pipefail
if ! command -v chromium >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  SUDO=""
  if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq chromium >/dev/null
fi
chromium --version
