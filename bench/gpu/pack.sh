#!/usr/bin/env bash
# Packs what bench/gpu/device-check.sh needs on a GPU machine that has CUDA 13 (and cuDNN 9) but no
# Node, no npm registry and no project: this machine's node binary, the staged runtime + CLI
# (built dist/, production node_modules, ORT's linux/x64 binaries) with ONNX Runtime's CUDA provider
# beside them (images/ort-cuda-from-pypi.mjs: PyPI's onnxruntime-gpu wheel of the same version; the
# NuGet feed that onnxruntime-node's installer uses is not reachable from our machines), the
# benchmark bundled to one file, nats-server, and the cached demo model. One xz stream, cut into
# parts of at most PART_MIB MiB so that each fits one call's transfer limit.
# Usage: bash bench/gpu/pack.sh [OUT_DIR (default .gpu)] [PART_MIB (default 56)]
#        bash bench/gpu/pack.sh --bench-only [OUT_DIR]   (only OUT_DIR/bench-gpu-body.mjs, which
#        device-check.sh uses instead of the packed one: a changed benchmark without re-sending the parts)
set -euo pipefail
cd "$(dirname "$0")/../.."
bundle_bench() {
  node_modules/.bin/esbuild bench/gpu/body.ts --bundle --platform=node --format=esm --packages=external \
    --log-level=warning --outfile="$1"
}
if [ "${1:-}" = "--bench-only" ]; then
  mkdir -p "${2:-.gpu}"
  bundle_bench "${2:-.gpu}/bench-gpu-body.mjs"
  git rev-parse --short HEAD >"${2:-.gpu}/commit"
  exit 0
fi
out="${1:-.gpu}"
part_mib="${2:-56}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
root="$work/sf"
mkdir -p "$root/bin" "$root/cache"

ort_version="$(node -p 'require("onnxruntime-node/package.json").version')"
echo "building; onnxruntime-node $ort_version" >&2
node node_modules/typescript/bin/tsc -b images/server images/client packages/cli
node images/stage-prod.mjs "$root/app" --dist --cli
(cd "$root/app" && ONNXRUNTIME_NODE_INSTALL=skip npm install --omit=dev --ignore-scripts --prefer-offline \
  --no-audit --no-fund --loglevel=error)
node images/stage-prod.mjs --prune-ort "$root/app" x64
rm -f "$root/app/package-lock.json"
bundle_bench "$root/app/bench-gpu-body.mjs"
cp examples/demo-job.yaml "$root/demo-job.yaml"

node images/ort-cuda-from-pypi.mjs "$root/app" --cache "${SFPROMPT_GPU_WHEELS:-$HOME/.cache/sfprompt/gpu-wheels}"

cp "$(command -v node)" "$root/bin/node"
cp "$(command -v nats-server)" "$root/bin/nats-server"
cp -r "${SFPROMPT_CACHE:-$HOME/.cache/sfprompt}/models" "$root/cache/models"
git rev-parse --short HEAD >"$root/commit"

rm -rf "$out"
mkdir -p "$out"
echo "compressing $(du -sh "$root" | cut -f1) ..." >&2
tar -C "$work" -cf - sf | xz -T0 -6 | split -b "${part_mib}M" -d -a 2 - "$out/part-"
ls -l "$out" >&2
