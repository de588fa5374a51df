#!/usr/bin/env bash
# Builds images/Dockerfile for both roles (ROLE=server, ROLE=client) and operator/Dockerfile as written, on a machine that cannot
# pull their default BASE: it first builds a stand-in BASE FROM scratch (busybox for the shell, the
# host's node and npm, their libraries, a CA bundle) and passes it as --build-arg BASE, with
# DEBIAN_DATASETS="" (no apt in the stand-in). npm reaches the registry through the host network; the
# host's npm cache is mounted to spare downloads. Tags localhost/sfprompt-{server,client,operator}:dockerfile
# and runs each (--help; the operator with an unknown flag). Not part of the test suite (minutes, needs podman: build-local.sh first).
# --gpu: also the GPU server variant (ORT_INSTALL=pypi, ADR 0033), tagged :dockerfile-cuda, checked to
# hold ORT's CUDA provider beside libonnxruntime.so.1 and to load it (the stand-in BASE has no CUDA
# libraries, so ONNX Runtime must then name the first one it lacks: libcublasLt.so.13).
set -euo pipefail
gpu=0
[ "${1:-}" = "--gpu" ] && gpu=1

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
W="${SFPROMPT_IMAGE_WORK:-$HOME/.cache/sfprompt/images}"
export CONTAINERS_CONF="$W/containers.conf"
[ -f "$CONTAINERS_CONF" ] || { echo "run images/build-local.sh first (it writes $CONTAINERS_CONF)" >&2; exit 1; }
P=(podman --root "$W/storage" --runroot "$W/runroot" --tmpdir "$W/ptmp")
log() { printf '[dockerfile-check] %s\n' "$*" >&2; }
command -v busybox >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends busybox-static >/dev/null

B="$W/base-ctx"
rm -rf "$B" && mkdir -p "$B/rootfs/bin" "$B/rootfs/usr/bin" "$B/rootfs/usr/local/bin" "$B/rootfs/usr/local/lib" "$B/rootfs/tmp" "$B/rootfs/root" "$B/rootfs/etc/ssl/certs"
R="$B/rootfs"
cp "$(command -v busybox)" "$R/bin/busybox"
for a in $(busybox --list); do [ -e "$R/bin/$a" ] || ln -s busybox "$R/bin/$a"; done
ln -s /bin/busybox "$R/usr/bin/env" # the shebang of npm's bin scripts
NODE="$(readlink -f "$(command -v node)")"
cp "$NODE" "$R/usr/bin/node"
# node's libraries and those onnxruntime-node's binaries need (librt, ...), as a Debian base has them
ORT_BIN="$ROOT/node_modules/onnxruntime-node/bin"
for l in $({ ldd "$NODE"; find "$ORT_BIN" -path '*linux*' \( -name '*.node' -o -name '*.so*' \) -exec ldd {} \; 2>/dev/null; } | grep -o '^\s*/[^ ]*\|=> /[^ ]*' | grep -o '/[^ ]*' | sort -u); do
  case "$l" in "$ROOT"/*) continue ;; esac
  mkdir -p "$R$(dirname "$l")" && cp -L "$l" "$R$l"
done
NPM_DIR="$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")"
cp -r "$NPM_DIR" "$R/usr/local/lib/npm"
printf '#!/bin/sh\nexec /usr/bin/node /usr/local/lib/npm/bin/npm-cli.js "$@"\n' >"$R/usr/local/bin/npm"
printf '#!/bin/sh\nexec /usr/bin/node /usr/local/lib/npm/bin/npx-cli.js "$@"\n' >"$R/usr/local/bin/npx"
chmod +x "$R/usr/local/bin/npm" "$R/usr/local/bin/npx"
cp /etc/ssl/certs/ca-certificates.crt "$R/etc/ssl/certs/"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$R/etc/passwd"
printf 'root:x:0:\n' >"$R/etc/group"
chmod 1777 "$R/tmp"
printf 'FROM scratch\nCOPY rootfs/ /\nENV PATH=/usr/local/bin:/usr/bin:/bin HOME=/root\n' >"$B/Containerfile"
log "building the stand-in BASE localhost/sfprompt-node-base:dev"
"${P[@]}" build -q --pull=never -f "$B/Containerfile" -t localhost/sfprompt-node-base:dev "$B" >/dev/null

for role in server client; do
  log "building images/Dockerfile with ROLE=$role"
  start=$(date +%s)
  "${P[@]}" build --pull=never --network=host -v "$HOME/.npm:/root/.npm" \
    --build-arg BASE=localhost/sfprompt-node-base:dev --build-arg DEBIAN_DATASETS= --build-arg ROLE="$role" \
    -f "$ROOT/images/Dockerfile" -t "localhost/sfprompt-$role:dockerfile" "$ROOT" >"$W/dockerfile-$role.log" 2>&1 ||
    { tail -30 "$W/dockerfile-$role.log" >&2; exit 1; }
  usage="$("${P[@]}" run --rm --pull=never --network=none "localhost/sfprompt-$role:dockerfile" --help)" || { log "FAILED: --help: $usage"; exit 1; }
  [[ "$usage" == *"sfprompt-$role"* ]] || { log "FAILED: the ROLE=$role image runs another entry point: $usage"; exit 1; }
  log "built in $(($(date +%s) - start)) s; --help: ${usage%%$'\n'*}"
  log "user: $("${P[@]}" image inspect "localhost/sfprompt-$role:dockerfile" --format '{{.Config.User}} {{.Config.Entrypoint}}')"
done
if [ "$gpu" = 1 ]; then
  log "building images/Dockerfile with ROLE=server ORT_INSTALL=pypi (GPU server)"
  start=$(date +%s)
  "${P[@]}" build --pull=never --network=host -v "$HOME/.npm:/root/.npm" \
    --build-arg BASE=localhost/sfprompt-node-base:dev --build-arg DEBIAN_DATASETS= --build-arg ROLE=server \
    --build-arg ORT_INSTALL=pypi -f "$ROOT/images/Dockerfile" -t localhost/sfprompt-server:dockerfile-cuda "$ROOT" \
    >"$W/dockerfile-server-cuda.log" 2>&1 || { tail -30 "$W/dockerfile-server-cuda.log" >&2; exit 1; }
  grep -h "ONNX Runtime CUDA provider" -A2 "$W/dockerfile-server-cuda.log" >&2 || true
  probe='const o=require("/app/node_modules/onnxruntime-node");
const fs=require("fs");const d="/app/node_modules/onnxruntime-node/bin/napi-v6/linux/x64";
console.log(fs.readdirSync(d).join(" "));
const m=Buffer.from("CAg6RQoaCgF4EgF5GghJZGVudGl0eSIISWRlbnRpdHkSBWdyYXBoWg8KAXgSCgoICAESBAoCCAFiDwoBeRIKCggIARIECgIIAUICEBE=","base64");
o.InferenceSession.create(m,{executionProviders:["cuda"]}).then(()=>console.log("cuda session opened"),e=>console.log("cuda:",e.message));'
  out="$("${P[@]}" run --rm --pull=never --network=none --entrypoint /usr/bin/node localhost/sfprompt-server:dockerfile-cuda -e "$probe" 2>&1)"
  log "GPU image: $(printf '%s' "$out" | grep -v '^\s*$' | grep -o 'libonnxruntime[^ ]*\|cannot open shared object file[^[]*\|with error: [^ ]*\|cuda session opened' | sort -u | tr '\n' ' ')"
  [[ "$out" == *libonnxruntime_providers_cuda.so* && "$out" == *"libcublasLt.so.13"* ]] ||
    { log "FAILED: the GPU image's CUDA provider is missing or does not load: $out"; exit 1; }
  log "built in $(($(date +%s) - start)) s; $("${P[@]}" image inspect localhost/sfprompt-server:dockerfile-cuda --format '{{.Size}}') bytes"
fi
# The operator image: its own Dockerfile, the same stand-in BASE. Its entry point has no --help; an
# unknown flag makes it load every module and exit 2 naming the known flags.
log "building operator/Dockerfile"
start=$(date +%s)
"${P[@]}" build --pull=never --network=host -v "$HOME/.npm:/root/.npm" \
  --build-arg BASE=localhost/sfprompt-node-base:dev \
  -f "$ROOT/operator/Dockerfile" -t "localhost/sfprompt-operator:dockerfile" "$ROOT" >"$W/dockerfile-operator.log" 2>&1 ||
  { tail -30 "$W/dockerfile-operator.log" >&2; exit 1; }
out="$("${P[@]}" run --rm --pull=never --network=none localhost/sfprompt-operator:dockerfile --no-such-flag 2>&1)" && {
  log "FAILED: the operator accepted an unknown flag"
  exit 1
}
[[ "$out" == *"known flags"* ]] || { log "FAILED: operator entry point: $out"; exit 1; }
log "built in $(($(date +%s) - start)) s; an unknown flag is refused naming the known flags"
log "user: $("${P[@]}" image inspect localhost/sfprompt-operator:dockerfile --format '{{.Config.User}} {{.Config.Entrypoint}}')"
"${P[@]}" images --filter reference='localhost/sfprompt-*:dockerfile' --format '{{.Repository}}:{{.Tag}} {{.Size}}'
