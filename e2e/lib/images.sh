# The images the e2e cluster runs, all built here with no registry and imported into containerd:
#   localhost/sfprompt-e2e-pause:1        the pod sandbox (e2e/pause/pause.c, static, FROM scratch)
#   localhost/sfprompt-e2e-nats:<ver>     the host's nats-server + the libraries it links, FROM scratch
#   localhost/sfprompt-operator:e2e       the operator app (images/stage-prod.mjs --operator) on the host's node
#   localhost/sfprompt-{server,client}:e2e   images/build-local.sh's images plus the demo model, cached
#                                         at build time so that pods need not pre-train it (55 s each)
# Sourced by run.sh after common.sh. Podman state is images/build-local.sh's ($IMG_W).

IMG_W="${SFPROMPT_IMAGE_WORK:-$HOME/.cache/sfprompt/images}"
IMG_TAG=e2e

podman_e2e() {
  CONTAINERS_CONF="$IMG_W/containers.conf" podman --root "$IMG_W/storage" --runroot "$IMG_W/runroot" --tmpdir "$IMG_W/ptmp" "$@"
}

# Copies BINARY and every library ldd lists for it into ROOTFS.
copy_with_libs() { # ROOTFS BINARY DEST
  local r=$1 l
  mkdir -p "$r$(dirname "$3")" && cp -L "$2" "$r$3"
  for l in $(ldd "$2" 2>/dev/null | grep -o '/[^ ]*' || true); do
    mkdir -p "$r$(dirname "$l")" && cp -L "$l" "$r$l"
  done
}

image_id() { podman_e2e image inspect --format '{{.Id}}' "localhost/$1" 2>/dev/null || true; }

# Removes the images with these IDs when nothing tags them any more (the previous run's builds), so
# that the store does not grow by a few hundred MB per run; an image still in use is kept.
drop_untagged() {
  local id
  for id in "$@"; do
    if [ -n "$id" ] && [ -z "$(podman_e2e image inspect --format '{{.RepoTags}}' "$id" 2>/dev/null | tr -d '[]')" ]; then
      podman_e2e rmi "$id" >/dev/null 2>&1 || true # a parent of another image: kept
    fi
  done
  return 0
}

# build_scratch NAME CONTEXT: builds $CONTEXT/Containerfile as localhost/NAME (dropping the old one).
build_scratch() {
  local old
  old=$(image_id "$1")
  podman_e2e build -q --pull=never -f "$2/Containerfile" -t "localhost/$1" "$2" >/dev/null
  drop_untagged "$old"
}

build_pause_image() {
  local c="$W/img/pause"
  mkdir -p "$c/rootfs"
  gcc -static -Os -o "$c/rootfs/pause" "$E2E_ROOT/e2e/pause/pause.c"
  printf 'FROM scratch\nCOPY rootfs/ /\nUSER 65535:65535\nENTRYPOINT ["/pause"]\n' >"$c/Containerfile"
  build_scratch sfprompt-e2e-pause:1 "$c"
}

NATS_TAG="$(nats-server --version 2>/dev/null | sed 's/^nats-server: v//')"

# The chart runs `nats-server --config ...` as user 1000 with a read-only root filesystem.
build_nats_image() {
  local c="$W/img/nats"
  mkdir -p "$c/rootfs/tmp"
  copy_with_libs "$c/rootfs" "$(command -v nats-server)" /usr/local/bin/nats-server
  printf 'FROM scratch\nCOPY rootfs/ /\nENV PATH=/usr/local/bin\nUSER 1000:1000\nENTRYPOINT ["nats-server"]\n' >"$c/Containerfile"
  build_scratch "sfprompt-e2e-nats:$NATS_TAG" "$c"
}

# The operator as operator/Dockerfile builds it, on a FROM-scratch base with the host's node.
build_operator_image() {
  local c="$W/img/operator" node
  node=$(readlink -f "$(command -v node)")
  rm -rf "$c" && mkdir -p "$c/rootfs/tmp" "$c/rootfs/etc"
  (cd "$E2E_ROOT" && node node_modules/typescript/bin/tsc -b operator)
  node "$E2E_ROOT/images/stage-prod.mjs" "$c/app" --dist --operator
  (cd "$c/app" && npm install --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error >/dev/null)
  rm -f "$c/app/package-lock.json"
  copy_with_libs "$c/rootfs" "$node" /usr/bin/node
  chmod 1777 "$c/rootfs/tmp"
  [ -f /etc/ssl/certs/ca-certificates.crt ] && mkdir -p "$c/rootfs/etc/ssl/certs" && cp /etc/ssl/certs/ca-certificates.crt "$c/rootfs/etc/ssl/certs/"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$c/rootfs/etc/passwd"
  printf 'root:x:0:\nnonroot:x:65532:\n' >"$c/rootfs/etc/group"
  cat >"$c/Containerfile" <<CF
FROM scratch
COPY rootfs/ /
COPY app/ /app/
ENV NODE_ENV=production
USER 65532:65532
WORKDIR /app
ENTRYPOINT ["/usr/bin/node", "/app/operator/dist/main.js"]
CF
  build_scratch "sfprompt-operator:$IMG_TAG" "$c"
}

# images/build-local.sh's server and client images, with the demo model in the image's cache folder.
build_job_images() {
  local c="$W/img/model" role model old_base
  (cd "$E2E_ROOT" && node --conditions=source --import tsx e2e/lib/demo-model.ts) >"$W/logs/demo-model.log" ||
    die "building the demo model failed (log: $W/logs/demo-model.log)"
  model=$(tail -n 1 "$W/logs/demo-model.log")
  old_base=("$(image_id "sfprompt-server:$IMG_TAG-base")" "$(image_id "sfprompt-client:$IMG_TAG-base")")
  SFPROMPT_IMAGE_TAG="$IMG_TAG-base" bash "$E2E_ROOT/images/build-local.sh" >"$W/logs/build-local.log" 2>&1 ||
    die "images/build-local.sh failed (log: $W/logs/build-local.log)"
  # The images look the model up where ensureDemoModel keeps it: <cache>/models/<recipe>-<hash>/.
  rm -rf "$c" && mkdir -p "$c/cache/models"
  cp -r "$(dirname "$model")" "$c/cache/models/"
  for role in server client; do
    printf 'FROM localhost/sfprompt-%s:%s-base\nCOPY --chown=10001:10001 cache/ /home/sfprompt/.cache/sfprompt/\n' \
      "$role" "$IMG_TAG" >"$c/Containerfile"
    build_scratch "sfprompt-$role:$IMG_TAG" "$c"
  done
  drop_untagged "${old_base[@]}"
}

build_images() {
  mkdir -p "$W/logs" "$W/img"
  # the first podman call below needs it; on a fresh machine build-local.sh has not written it yet
  # shellcheck source=images/podman-conf.sh
  . "$E2E_ROOT/images/podman-conf.sh"
  write_podman_conf "$IMG_W"
  log "building images: pause, nats $NATS_TAG, operator, server + client (images/build-local.sh)"
  build_pause_image
  build_nats_image
  build_operator_image
  build_job_images
}

import_images() {
  local name tar
  mkdir -p "$W/img"
  for name in "sfprompt-e2e-pause:1" "sfprompt-e2e-nats:$NATS_TAG" "sfprompt-operator:$IMG_TAG" \
    "sfprompt-server:$IMG_TAG" "sfprompt-client:$IMG_TAG"; do
    tar="$W/img/${name//:/-}.tar"
    rm -f "$tar"
    podman_e2e save -q --format docker-archive -o "$tar" "localhost/$name"
    import_image "$tar"
    rm -f "$tar"
  done
}
