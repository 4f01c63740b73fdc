#!/usr/bin/env bash
# Installs a software WebGPU adapter for machines without a GPU: Mesa's lavapipe (a CPU Vulkan
# driver) and the Vulkan loader. Idempotent. Needs root (or sudo) and Debian/Ubuntu apt.
#  - Debian 12 (bookworm): Mesa 22 is too old for Dawn's Vulkan backend, so libvulkan1 and
#    mesa-vulkan-drivers come from bookworm-backports (Mesa 25). Mesa 22's EGL stays for
#    Dawn's OpenGL ES compatibility fallback.
#  - Newer Debian / Ubuntu: the stock packages.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-software-gpu: needs root (or sudo) to run apt-get" >&2; exit 1; fi
fi

# Looks for the files themselves: no `ldconfig -p | grep -q` (under pipefail, grep quitting early
# can kill ldconfig with SIGPIPE and read as "not installed"), and ldconfig may not be on PATH.
have_lavapipe() {
  local icd lib
  icd=$(ls /usr/share/vulkan/icd.d/lvp_icd*.json 2>/dev/null | head -n 1 || true)
  lib=$(ls /usr/lib/*-linux-gnu/libvulkan.so.1 /lib/*-linux-gnu/libvulkan.so.1 /usr/lib64/libvulkan.so.1 \
    /usr/lib/libvulkan.so.1 2>/dev/null | head -n 1 || true)
  [ -n "$icd" ] && [ -n "$lib" ]
}

. /etc/os-release
pkgs="libvulkan1 mesa-vulkan-drivers libegl1 libgles2"
export DEBIAN_FRONTEND=noninteractive

if [ "${ID:-}" = "debian" ] && [ "${VERSION_CODENAME:-}" = "bookworm" ]; then
  list=/etc/apt/sources.list.d/bookworm-backports.list
  if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    echo "deb http://deb.debian.org/debian bookworm-backports main" | $SUDO tee "$list" >/dev/null
  fi
  ver=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true)
  case "$ver" in
    2[5-9].*|[3-9][0-9].*) if have_lavapipe; then echo "install-software-gpu: lavapipe (Mesa $ver) already installed"; exit 0; fi ;;
  esac
  $SUDO apt-get update -qq
  # The Mesa 25 Vulkan driver depends on matching backports libs (libdrm, llvm); -t pulls them.
  $SUDO apt-get install -y -qq -t bookworm-backports libvulkan1 mesa-vulkan-drivers >/dev/null
  $SUDO apt-get install -y -qq libegl1 libgles2 >/dev/null
else
  if have_lavapipe; then echo "install-software-gpu: lavapipe already installed"; exit 0; fi
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq $pkgs >/dev/null
fi

if have_lavapipe; then
  echo "install-software-gpu: installed $(dpkg-query -W -f='mesa-vulkan-drivers ${Version}' mesa-vulkan-drivers)"
else
  echo "install-software-gpu: lavapipe ICD not found after install" >&2
  echo "  ICDs: $(ls /usr/share/vulkan/icd.d/ 2>&1 | tr '\n' ' ')" >&2
  echo "  packages: $(dpkg-query -W -f='${Package} ${Version}; ' libvulkan1 mesa-vulkan-drivers 2>&1)" >&2
  exit 1
fi
