#!/usr/bin/env bash
# Debian 12's own Mesa 22 OpenGL ES driver (llvmpipe), beside whatever Mesa the system has, for the
# adapter matrix (scripts/test-adapters.mjs): it is what Dawn's OpenGL ES backend gives a stock
# Debian 12 machine without the Vulkan loader, before install-software-gpu.sh moves Mesa to 25.
# Downloads the packages with apt-get download (no root needed, nothing installed), unpacks them
# under ${XDG_CACHE_HOME:-~/.cache}/wgslgrad/mesa-22 and prints the environment that points
# libglvnd's EGL and Mesa's loader at them:
#   eval "$(bash scripts/stock-mesa-gl.sh)" && node my-script.js
# Exits 2 (printing why to stderr) on a system that is not Debian 12 with apt.
set -euo pipefail
. /etc/os-release 2>/dev/null || true
if [ "${ID:-}" != debian ] || [ "${VERSION_CODENAME:-}" != bookworm ] || ! command -v apt-get >/dev/null; then
  echo "stock-mesa-gl: not Debian 12 (bookworm) with apt-get: its stock Mesa 22 is not to be had here" >&2
  exit 2
fi
arch=$(dpkg --print-architecture)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo "$(uname -m)-linux-gnu")
# the newest 22.x that bookworm's own archive offers (not backports)
ver=$(apt-cache madison libgl1-mesa-dri | awk -F'|' '$2 ~ /^ *22\./ { gsub(/ /, "", $2); print $2; exit }')
if [ -z "$ver" ]; then
  echo "stock-mesa-gl: apt knows no Mesa 22 libgl1-mesa-dri (run apt-get update)" >&2
  exit 1
fi
dir=${XDG_CACHE_HOME:-$HOME/.cache}/wgslgrad/mesa-$ver
lib=$dir/root/usr/lib/$multiarch
if [ ! -f "$dir/done" ]; then
  rm -rf "$dir"
  mkdir -p "$dir/debs"
  # as root, apt's sandbox user (_apt) cannot write to a folder of ours: download unsandboxed
  sandbox=()
  [ "$(id -u)" -ne 0 ] || sandbox=(-o APT::Sandbox::User=root)
  (cd "$dir/debs" && apt-get -q "${sandbox[@]}" download \
    "libegl-mesa0:$arch=$ver" "libgl1-mesa-dri:$arch=$ver" "libglapi-mesa:$arch=$ver" "libgbm1:$arch=$ver" >&2)
  for f in "$dir"/debs/*.deb; do dpkg-deb -x "$f" "$dir/root"; done
  touch "$dir/done"
fi
echo "export LD_LIBRARY_PATH=$lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
echo "export __EGL_VENDOR_LIBRARY_FILENAMES=$dir/root/usr/share/glvnd/egl_vendor.d/50_mesa.json"
echo "export LIBGL_DRIVERS_PATH=$lib/dri"
