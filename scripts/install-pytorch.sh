#!/usr/bin/env bash
# Debian's PyTorch for the CPU, for the interop tests (npm run test:pytorch) and the PyTorch
# examples (examples/pytorch/). Idempotent. OpenBLAS, because without it PyTorch falls back to the
# reference BLAS (~40× slower matmuls).
set -euo pipefail
if /usr/bin/python3 -c 'import torch' >/dev/null 2>&1; then
  echo "install-pytorch: $(/usr/bin/python3 -c 'import torch; print("torch", torch.__version__)') already installed"
  exit 0
fi
SUDO=''
[ "$(id -u)" -eq 0 ] || SUDO='sudo'
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-torch libopenblas0-pthread >/dev/null
echo "install-pytorch: installed $(/usr/bin/python3 -c 'import torch; print("torch", torch.__version__)')"
