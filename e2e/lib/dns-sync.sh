#!/usr/bin/env bash
# Keeps the cluster DNS's hosts file equal to the Services' ClusterIPs, every second; dnsmasq re-reads
# it on SIGHUP. Run in the background by cluster.sh: dns-sync.sh STATE_DIR CLUSTER_DOMAIN
set -uo pipefail
W=$1
DOMAIN=$2
export KUBECONFIG="$W/admin.kubeconfig"
while :; do
  if kubectl get services -A --no-headers \
    -o custom-columns=IP:.spec.clusterIP,NAME:.metadata.name,NS:.metadata.namespace >"$W/dns/hosts.new" 2>/dev/null; then
    awk -v d="$DOMAIN" '$1 != "None" { print $1, $2 "." $3 ".svc." d }' "$W/dns/hosts.new" >"$W/dns/hosts.next"
    if ! cmp -s "$W/dns/hosts.next" "$W/dns/hosts"; then
      mv "$W/dns/hosts.next" "$W/dns/hosts"
      kill -HUP "$(cat "$W/dns/dnsmasq.pid")" 2>/dev/null
    fi
  fi
  sleep 1
done
