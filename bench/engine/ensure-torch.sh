#!/usr/bin/env bash
# Installs the PyTorch side of the engine benchmark if missing: Debian's torch 1.13 + torchvision +
# onnx for /usr/bin/python3, and OpenBLAS (Debian's torch is built against the generic BLAS
# interface; with only the reference BLAS installed its GEMMs are ~5x slower, an unfair baseline).
set -euo pipefail

need=()
/usr/bin/python3 -c "import torch, torchvision, onnx" 2>/dev/null || need+=(python3-torch python3-torchvision python3-onnx)
ls /usr/lib/x86_64-linux-gnu/openblas-*/libblas.so.3 >/dev/null 2>&1 || need+=(libopenblas0-openmp)
[ ${#need[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
  echo "bench:engine needs Debian packages ${need[*]}; run as root or: sudo apt-get install ${need[*]}" >&2
  exit 1
fi
echo "bench:engine: installing ${need[*]}" >&2
apt-get update -q >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
