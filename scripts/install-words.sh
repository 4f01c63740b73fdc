#!/usr/bin/env bash
# Debian's American English word list (wamerican: /usr/share/dict/words), the default data of
# npm run example:char-transformer. Idempotent; needs root or sudo for apt-get (the example takes
# any text file with --data instead).
set -euo pipefail
if [ -s /usr/share/dict/words ]; then
  echo "install-words: $(wc -l < /usr/share/dict/words) words already in /usr/share/dict/words"
  exit 0
fi
SUDO=''
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "install-words: needs root (or sudo) to run apt-get; or pass the example any text file with --data" >&2
    exit 1
  fi
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq wamerican >/dev/null
echo "install-words: installed $(wc -l < /usr/share/dict/words) words in /usr/share/dict/words"
