#!/usr/bin/env bash
# Debian's Chromium for the browser tests (npm run test:browser, npm run test:page), driven by
# playwright-core with executablePath /usr/bin/chromium: no browser download. Idempotent.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  echo "install-chromium: $(/usr/bin/chromium --version 2>/dev/null || echo chromium) already installed"
  exit 0
fi
# as root apt-get runs directly; otherwise through sudo
SUDO=''
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "install-chromium: needs root (or sudo) to run apt-get" >&2
    exit 1
  fi
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
echo "install-chromium: installed $(/usr/bin/chromium --version 2>/dev/null)"
