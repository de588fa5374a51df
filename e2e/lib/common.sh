# Shared helpers of the e2e scripts: logging, waiting, and the settings every part reads.
# Sourced, never run.

E2E_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# All state (certificates, etcd, containerd, kubelet, logs) lives under W; teardown removes it.
W="${SFPROMPT_E2E_DIR:-/tmp/sfprompt-e2e}"
KUBE_BIN="${SFPROMPT_CACHE:-$HOME/.cache/sfprompt}/kube/1.35.4/bin"
NODE_NAME=sfprompt-e2e
# Ranges chosen to clash with neither podman's 10.88.0.0/16 nor the kube-testing harness's 10.0.0.0/24.
SERVICE_CIDR=10.97.0.0/24
KUBERNETES_SVC_IP=10.97.0.1
POD_CIDR=10.98.0.0/24
CNI_BRIDGE=sfpe2e0
CLUSTER_DOMAIN=cluster.local
export KUBECONFIG="$W/admin.kubeconfig"
export PATH="$KUBE_BIN:$PATH"
export HELM_CACHE_HOME="$W/helm/cache" HELM_CONFIG_HOME="$W/helm/config" HELM_DATA_HOME="$W/helm/data"

T0=${T0:-$(date +%s)}
log() { printf '[e2e %4ss] %s\n' "$(($(date +%s) - T0))" "$*" >&2; }
die() {
  printf '[e2e] ERROR: %s\n' "$*" >&2
  exit 1
}

# wait_until SECONDS DESCRIPTION CMD...: runs CMD every second until it succeeds; dies after SECONDS.
wait_until() {
  local limit=$1 what=$2 start
  shift 2
  start=$(date +%s)
  until "$@" >/dev/null 2>&1; do
    [ $(($(date +%s) - start)) -ge "$limit" ] && die "timed out after ${limit}s waiting for $what"
    sleep 1
  done
}

# The address pods reach the host on (kube-apiserver, the DNS server): the source of the default route.
host_ip() { ip -4 route get 1.1.1.1 | sed -n 's/.* src \([0-9.]*\).*/\1/p'; }

# start_bg NAME CMD...: runs CMD in the background with its output in $W/logs/NAME.log, pid in $W/pids/NAME.
start_bg() {
  local name=$1
  shift
  mkdir -p "$W/logs" "$W/pids"
  "$@" >"$W/logs/$name.log" 2>&1 &
  echo $! >"$W/pids/$name"
}

# Fails (with the log's tail) when the background process NAME has exited.
alive() {
  local pid
  pid=$(cat "$W/pids/$1")
  kill -0 "$pid" 2>/dev/null && return 0
  tail -n 30 "$W/logs/$1.log" >&2
  die "$1 exited (log: $W/logs/$1.log)"
}
