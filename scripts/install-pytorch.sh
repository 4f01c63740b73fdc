#!/usr/bin/env bash
# Debian's PyTorch for the CPU, for the interop tests (npm run test:pytorch) and the PyTorch
# examples (examples/pytorch/). Idempotent. OpenBLAS, because without it PyTorch falls back to the
# reference BLAS (~40× slower matmuls).
set -euo pipefail
if /usr/bin/python3 -c 'import torch' >/dev/null 2>&1; then
  echo "install-pytorch: $(/usr/bin/python3 -c 'import torch; print("torch", torch.__version__)') already installed"
  exit 0
fi
# as root apt-get runs directly; otherwise through sudo
SUDO=''
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "install-pytorch: needs root (or sudo) to run apt-get" >&2
    exit 1
  fi
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-torch libopenblas0-pthread >/dev/null
echo "install-pytorch: installed $(/usr/bin/python3 -c 'import torch; print("torch", torch.__version__)')"
