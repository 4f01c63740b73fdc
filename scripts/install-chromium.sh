#!/usr/bin/env bash
# Debian's Chromium for the browser tests (npm run test:browser, npm run test:page), driven by
# playwright-core with executablePath /usr/bin/chromium: no browser download. Idempotent.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  echo "install-chromium: $(/usr/bin/chromium --version 2>/dev/null || echo chromium) already installed"
  exit 0
fi
SUDO=''
[ "$(id -u)" -eq 0 ] || SUDO='sudo'
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
echo "install-chromium: installed $(/usr/bin/chromium --version 2>/dev/null)"
