# Stops the e2e cluster and removes what it left on the machine: containers (their shims), the CNI
# bridge and its iptables chains, kube-proxy's rules, mounts under $W, the kubelet's cgroups, and $W
# itself (logs are copied to $E2E_LOGS first). Safe to run twice or after a partial start.
# Sourced by run.sh after common.sh and cluster.sh.

stop_bg() { # NAME [SIGNAL]
  local f="$W/pids/$1" pid i
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if kill -"${2:-TERM}" "$pid" 2>/dev/null; then
    for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

# Every container task of the k8s.io namespace, killed by pid (shims exit when their task is gone).
kill_containers() {
  local sock="$CTRD_SOCK" id
  [ -S "$sock" ] || return 0
  for id in $(ctr -a "$sock" -n k8s.io tasks ls -q 2>/dev/null); do
    ctr -a "$sock" -n k8s.io tasks kill -s SIGKILL "$id" >/dev/null 2>&1 || true
  done
  sleep 1
  for id in $(ctr -a "$sock" -n k8s.io tasks ls -q 2>/dev/null); do
    ctr -a "$sock" -n k8s.io tasks delete -f "$id" >/dev/null 2>&1 || true
  done
  for id in $(ctr -a "$sock" -n k8s.io containers ls -q 2>/dev/null); do
    ctr -a "$sock" -n k8s.io containers delete "$id" >/dev/null 2>&1 || true
  done
}

unmount_under() { # DIR
  local m
  { findmnt -rn -o TARGET | grep -F "$1/" || true; } | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
}

# Removes the kubelet's kubepods cgroups (deepest first) from every v1 hierarchy.
remove_cgroups() {
  local d
  for d in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/*/kubepods.slice; do
    [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
  return 0
}

# The bridge plugin's masquerade chains are named CNI-<hash> and hang off POSTROUTING with a comment
# naming our network; a pod deleted through the kubelet takes its chain along, so this only catches
# pods that were still running when the kubelet stopped.
remove_cni_leftovers() {
  local rule chain
  ip link del "$CNI_BRIDGE" 2>/dev/null || true
  iptables -t nat -S POSTROUTING 2>/dev/null | grep -F 'sfpe2e' | while read -r rule; do
    chain=$(sed -n 's/.* -j \(CNI-[0-9a-f]*\).*/\1/p' <<<"$rule")
    eval "iptables -t nat ${rule/-A/-D}" 2>/dev/null || true
    [ -n "$chain" ] && iptables -t nat -F "$chain" 2>/dev/null && iptables -t nat -X "$chain" 2>/dev/null
  done
  return 0
}

# The kubelet's chains (KUBE-FIREWALL, KUBE-KUBELET-CANARY, KUBE-IPTABLES-HINT) and whatever
# kube-proxy --cleanup left: the jumps into KUBE-* chains, then the chains themselves.
remove_kube_chains() {
  local ipt t rule chain
  for ipt in iptables ip6tables; do
    command -v "$ipt" >/dev/null || continue
    for t in filter nat mangle; do
      "$ipt" -t "$t" -S 2>/dev/null | grep -E '^-A (INPUT|OUTPUT|FORWARD|PREROUTING|POSTROUTING) .*-j KUBE-' | while read -r rule; do
        eval "$ipt -t $t ${rule/-A/-D}" 2>/dev/null || true
      done
      for chain in $("$ipt" -t "$t" -S 2>/dev/null | sed -n 's/^-N \(KUBE-[A-Za-z0-9_-]*\)$/\1/p'); do
        "$ipt" -t "$t" -F "$chain" 2>/dev/null || true
      done
      for chain in $("$ipt" -t "$t" -S 2>/dev/null | sed -n 's/^-N \(KUBE-[A-Za-z0-9_-]*\)$/\1/p'); do
        "$ipt" -t "$t" -X "$chain" 2>/dev/null || true
      done
    done
  done
  return 0
}

teardown_cluster() {
  log "tearing down"
  stop_bg kubelet
  kill_containers
  stop_bg containerd
  log "kubelet, containers and containerd stopped"
  if [ -f "$W/kube-proxy.yaml" ]; then "$KUBE_BIN/kube-proxy" --config="$W/kube-proxy.yaml" --cleanup >/dev/null 2>&1 || true; fi
  log "kube-proxy cleanup done"
  local c
  for c in kube-proxy dns-sync dnsmasq kube-scheduler kube-controller-manager kube-apiserver etcd; do stop_bg "$c"; done
  log "control plane stopped"
  # Best effort from here on: each step must run even when one before it found something odd.
  unmount_under "$W" || true
  remove_cgroups || true
  remove_cni_leftovers || true
  remove_kube_chains || true
  if [ -f "$W/ip_forward.orig" ]; then cat "$W/ip_forward.orig" >/proc/sys/net/ipv4/ip_forward || true; fi
  log "mounts, cgroups, bridge and iptables chains removed"
  if [ -n "${E2E_LOGS:-}" ] && [ -d "$W/logs" ]; then
    mkdir -p "$E2E_LOGS" && cp -r "$W/logs/." "$E2E_LOGS/"
  fi
  rm -rf "$W"
  # The shim socket and runc state folders are fixed paths; removed only when nothing else uses them.
  rmdir /run/containerd/runc/k8s.io /run/containerd/runc /run/containerd/s /run/containerd 2>/dev/null || true
  log "teardown done"
}

# After teardown_cluster: prints what is still there (processes of ours, the bridge, KUBE-*/our CNI
# iptables chains, mounts under $W, kubepods cgroups, $W) and fails if anything is.
check_clean() {
  local left=()
  ip link show "$CNI_BRIDGE" >/dev/null 2>&1 && left+=("bridge $CNI_BRIDGE")
  iptables-save 2>/dev/null | grep -qE '^:KUBE-|sfpe2e' && left+=("iptables chains KUBE-*/sfpe2e")
  findmnt -rn -o TARGET | grep -qF "$W/" && left+=("mounts under $W")
  ls -d /sys/fs/cgroup/*/kubepods >/dev/null 2>&1 && left+=("kubepods cgroups")
  [ -e "$W" ] && left+=("$W")
  [ -d "$W/pids" ] && left+=("processes listed in $W/pids")
  ss -Hltn "sport = :$API_PORT" | grep -q . && left+=("a listener on the API port $API_PORT")
  if [ ${#left[@]} -gt 0 ]; then
    log "left behind: ${left[*]}"
    return 1
  fi
  log "nothing left behind (no bridge, iptables chains, mounts, cgroups, listeners or $W)"
}
