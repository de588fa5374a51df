#!/usr/bin/env bash
# Runs on the GPU machine, from the repository root, after bench/gpu/pack.sh's parts arrived in
# .gpu/: unpacks them (ONNX Runtime's CUDA provider already beside libonnxruntime.so.1), finds CUDA 13's
# and cuDNN 9's libraries (the machine's Python wheels: nvidia-cublas, nvidia-cudnn-cu13, ...), then
#   1. bench/gpu/body.ts: the body partition on CUDA vs CPU (demo ViT, ViT-B/16), side by side;
#   2. `sfprompt run` of the demo job with the server on CUDA and cpuFallback false, so that a CUDA
#      failure fails the run instead of falling back.
# Everything it keeps goes to $OUT (or ./gpu-out): gpu-body.{md,json}, the run's metrics.json and the
# server's log.
# Usage: bash bench/gpu/device-check.sh [--skip-bench] [--skip-run] [--bench-args "..."]
set -uo pipefail
out="${OUT:-$PWD/gpu-out}"
mkdir -p "$out"
skip_bench=0 skip_run=0 bench_args=""
while [ $# -gt 0 ]; do
  case "$1" in
    --skip-bench) skip_bench=1 ;;
    --skip-run) skip_run=1 ;;
    --bench-args) bench_args="$2"; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

base=/tmp/sfgpu
if [ ! -x "$base/sf/bin/node" ]; then
  rm -rf "$base" && mkdir -p "$base"
  if command -v xz >/dev/null; then
    cat .gpu/part-* | xz -d | tar -C "$base" -xf - || exit 1
  else
    cat .gpu/part-* | python3 -c 'import lzma,sys; sys.stdout.buffer.write(lzma.decompress(sys.stdin.buffer.read()))' \
      | tar -C "$base" -xf - || exit 1
  fi
fi
sf="$base/sf"
# a benchmark re-bundled after packing (pack.sh --bench-only)
[ -f .gpu/bench-gpu-body.mjs ] && cp .gpu/bench-gpu-body.mjs "$sf/app/"
libs="$(python3 - <<'EOF'
import glob, os, site
dirs = set()
for sp in site.getsitepackages():
    for pat in ("nvidia/*/lib", "nvidia/cu13/lib", "nvidia/*/lib64"):
        for d in glob.glob(os.path.join(sp, pat)):
            if glob.glob(os.path.join(d, "*.so*")):
                dirs.add(d)
print(":".join(sorted(dirs)))
EOF
)"
export LD_LIBRARY_PATH="$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export PATH="$sf/bin:$PATH"
export SFPROMPT_CACHE="$sf/cache"
echo "node $(node --version); GPU: $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader)"
echo "library path: $LD_LIBRARY_PATH" | tr ':' '\n' | head -20
for l in libcublas.so.13 libcudart.so.13 libcurand.so.10 libcudnn.so.9; do
  found="$(for d in ${libs//:/ }; do ls "$d/$l" 2>/dev/null; done | head -1)"
  echo "$l: ${found:-NOT FOUND}"
done
rc=0
if [ "$skip_bench" = 0 ]; then
  # shellcheck disable=SC2086
  commit="$(cat .gpu/commit 2>/dev/null || cat "$sf/commit")"
  (cd "$sf/app" && node bench-gpu-body.mjs --out "$out" --commit "$commit" $bench_args) 2>&1 \
    | tee "$out/bench.log" || rc=1
fi
if [ "$skip_run" = 0 ]; then
  sed -e 's/executionProvider: cpu/executionProvider: cuda\n    cpuFallback: false/' "$sf/demo-job.yaml" >"$base/demo-cuda.yaml"
  grep -n -A1 executionProvider "$base/demo-cuda.yaml"
  start=$(date +%s)
  node "$sf/app/packages/cli/dist/main.js" run "$base/demo-cuda.yaml" --fresh --out "$base/run" \
    >"$out/run.log" 2>&1
  run_rc=$?
  [ "$run_rc" = 0 ] || rc=1
  echo "sfprompt run (server on CUDA): exit $run_rc, $(( $(date +%s) - start )) s"
  tail -n 25 "$out/run.log"
  cp "$base/run/metrics.json" "$out/" 2>/dev/null
  cp "$base/run/logs/server.log" "$out/server.log" 2>/dev/null
  grep -h '"execution-provider"\|cuda-unavailable\|server-ready' "$base/run/logs/server.log" | head -5
fi
exit $rc
