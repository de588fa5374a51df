# A one-node Kubernetes cluster on this machine from the binaries scripts/kube-bins.sh builds: etcd,
# kube-apiserver, kube-controller-manager, kube-scheduler, containerd (CRI, runc, CNI bridge), a real
# kubelet, kube-proxy (iptables) and dnsmasq as the cluster DNS. Everything is started by hand (no
# systemd here) with its state under $W. Sourced by run.sh; see docs/e2e.md for why each setting is
# what it is (platform-notes §A: cgroup v1, no CAP_SYS_RESOURCE).
# shellcheck source=pki.sh
. "$(dirname "${BASH_SOURCE[0]}")/pki.sh"

ETCD_PORT=23791
ETCD_PEER_PORT=23801
API_PORT=26443
KUBELET_PORT=20250
SCHED_PORT=20259
CTRD_SOCK="$W/containerd/containerd.sock"

start_etcd() {
  start_bg etcd "$KUBE_BIN/etcd" --name=e2e --data-dir="$W/etcd" \
    --listen-client-urls="http://127.0.0.1:$ETCD_PORT" --advertise-client-urls="http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster="e2e=http://127.0.0.1:$ETCD_PEER_PORT" --unsafe-no-fsync --log-level=warn
}

start_apiserver() {
  local ip=$1
  # Bound to every address: pods reach it through the `kubernetes` Service, which kube-proxy maps to
  # the advertised host address.
  start_bg kube-apiserver "$KUBE_BIN/kube-apiserver" --advertise-address="$ip" --bind-address=0.0.0.0 \
    --secure-port="$API_PORT" --cert-dir="$W/pki/apiserver-generated" \
    --tls-cert-file="$W/pki/apiserver.crt" --tls-private-key-file="$W/pki/apiserver.key" \
    --client-ca-file="$W/pki/ca.crt" --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
    --service-account-issuer="https://kubernetes.default.svc.$CLUSTER_DOMAIN" \
    --service-account-key-file="$W/pki/sa.pub" --service-account-signing-key-file="$W/pki/sa.key" \
    --service-cluster-ip-range="$SERVICE_CIDR" --allow-privileged=true --authorization-mode=Node,RBAC \
    --kubelet-client-certificate="$W/pki/admin.crt" --kubelet-client-key="$W/pki/admin.key" \
    --kubelet-preferred-address-types=InternalIP
  wait_until 90 "kube-apiserver /readyz" kubectl get --raw=/readyz
}

start_controller_manager() {
  start_bg kube-controller-manager "$KUBE_BIN/kube-controller-manager" --kubeconfig="$KUBECONFIG" \
    --leader-elect=false --secure-port=0 --use-service-account-credentials=false \
    --service-account-private-key-file="$W/pki/sa.key" --root-ca-file="$W/pki/ca.crt" \
    --cluster-cidr="$POD_CIDR" --allocate-node-cidrs=false
}

start_scheduler() {
  start_bg kube-scheduler "$KUBE_BIN/kube-scheduler" --kubeconfig="$KUBECONFIG" \
    --authentication-kubeconfig="$KUBECONFIG" --authorization-kubeconfig="$KUBECONFIG" \
    --leader-elect=false --bind-address=127.0.0.1 --secure-port="$SCHED_PORT" --cert-dir="$W/pki/scheduler"
}

# containerd's default config with: state under $W, the local pause image, CNI from Debian's plugins,
# restrict_oom_score_adj (the CRI plugin would otherwise give the pause container oom_score_adj -998,
# which needs CAP_SYS_RESOURCE) and network namespaces under its state folder (not /run/netns).
write_containerd_config() {
  mkdir -p "$W/containerd" "$W/cni/net.d"
  containerd config default | sed \
    -e "s|^root = .*|root = \"$W/containerd/root\"|" \
    -e "s|^state = .*|state = \"$W/containerd/state\"|" \
    -e "s|^  address = \"/run/containerd/containerd.sock\"|  address = \"$CTRD_SOCK\"|" \
    -e "s|sandbox_image = .*|sandbox_image = \"localhost/sfprompt-e2e-pause:1\"|" \
    -e "s|restrict_oom_score_adj = false|restrict_oom_score_adj = true|" \
    -e "s|netns_mounts_under_state_dir = false|netns_mounts_under_state_dir = true|" \
    -e "s|bin_dir = \"/opt/cni/bin\"|bin_dir = \"/usr/lib/cni\"|" \
    -e "s|conf_dir = \"/etc/cni/net.d\"|conf_dir = \"$W/cni/net.d\"|" >"$W/containerd/config.toml"
  cat >"$W/cni/net.d/10-sfpe2e.conflist" <<CNI
{
  "cniVersion": "0.4.0",
  "name": "sfpe2e",
  "plugins": [
    { "type": "bridge", "bridge": "$CNI_BRIDGE", "isGateway": true, "ipMasq": true, "hairpinMode": true,
      "ipam": { "type": "host-local", "ranges": [[{ "subnet": "$POD_CIDR" }]], "routes": [{ "dst": "0.0.0.0/0" }],
                "dataDir": "$W/cni/ipam" } },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
CNI
}

start_containerd() {
  write_containerd_config
  start_bg containerd containerd --config "$W/containerd/config.toml"
  wait_until 30 "containerd's socket" ctr -a "$CTRD_SOCK" version
}

import_image() { # TARBALL
  ctr -a "$CTRD_SOCK" -n k8s.io images import "$1" >/dev/null
}

start_kubelet() {
  local ip=$1
  mkdir -p "$W/kubelet"
  # failCgroupV1: kubelet >= 1.35 refuses cgroup v1 otherwise; oomScoreAdj 0: lowering it needs
  # CAP_SYS_RESOURCE; anonymous + AlwaysAllow: the API server's `kubectl logs` needs no kubelet PKI.
  cat >"$W/kubelet/config.yaml" <<KC
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
cgroupDriver: cgroupfs
failSwapOn: false
oomScoreAdj: 0
address: 0.0.0.0
port: $KUBELET_PORT
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 20248
clusterDNS: ["$ip"]
clusterDomain: $CLUSTER_DOMAIN
authentication:
  anonymous: {enabled: true}
  webhook: {enabled: false}
  x509: {clientCAFile: "$W/pki/ca.crt"}
authorization: {mode: AlwaysAllow}
containerRuntimeEndpoint: unix://$CTRD_SOCK
imageGCHighThresholdPercent: 100
evictionHard: {memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%"}
podPidsLimit: -1
registerNode: true
serializeImagePulls: false
podLogsDir: "$W/pod-logs"
KC
  start_bg kubelet "$KUBE_BIN/kubelet" --config="$W/kubelet/config.yaml" --kubeconfig="$KUBECONFIG" \
    --root-dir="$W/kubelet/root" --hostname-override="$NODE_NAME" --node-ip="$ip" --v=1
  wait_until 120 "node $NODE_NAME to be Ready" kubectl wait --for=condition=Ready "node/$NODE_NAME" --timeout=2s
}

start_kube_proxy() {
  # masqueradeAll: replies between pods on the bridge must come back through the host's conntrack.
  cat >"$W/kube-proxy.yaml" <<KP
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clientConnection: {kubeconfig: "$KUBECONFIG"}
hostnameOverride: $NODE_NAME
clusterCIDR: $POD_CIDR
iptables: {masqueradeAll: true}
conntrack: {maxPerCore: 0}
healthzBindAddress: 127.0.0.1:20256
metricsBindAddress: 127.0.0.1:20249
KP
  start_bg kube-proxy "$KUBE_BIN/kube-proxy" --config="$W/kube-proxy.yaml"
}

# Cluster DNS: dnsmasq answers <service>.<namespace>.svc.cluster.local from a hosts file that a loop
# rewrites from the Services' ClusterIPs (no CoreDNS image can be had here); other names are refused.
start_dns() {
  local ip=$1
  mkdir -p "$W/dns" && : >"$W/dns/hosts"
  start_bg dnsmasq dnsmasq --keep-in-foreground --no-resolv --no-hosts --addn-hosts="$W/dns/hosts" \
    --listen-address="$ip" --bind-interfaces --port=53 --local="/$CLUSTER_DOMAIN/" --pid-file="$W/dns/dnsmasq.pid" \
    --log-facility=- --user=root
  start_bg dns-sync bash "$(dirname "${BASH_SOURCE[0]}")/dns-sync.sh" "$W" "$CLUSTER_DOMAIN"
}

# Fixed ports (the kubelet, kube-proxy and the DNS need known ones): a leftover of a killed run, or
# anything else, holding one would make a component fail in confusing ways later.
check_ports_free() {
  local ip=$1 port
  for port in $ETCD_PORT $ETCD_PEER_PORT $API_PORT $KUBELET_PORT $SCHED_PORT 20248 20249 20256; do
    [ -z "$(ss -Hltn "sport = :$port")" ] || die "TCP port $port is in use (a previous e2e run still running? bash e2e/run.sh --down)"
  done
  [ -z "$(ss -Hlun "src $ip and sport = :53")" ] || die "UDP $ip:53 is in use; the e2e's DNS server needs it"
}

start_cluster() {
  local ip
  ip=$(host_ip)
  [ -n "$ip" ] || die "no host address found (ip route get 1.1.1.1 gave no source)"
  check_ports_free "$ip"
  log "host address $ip; state in $W"
  mkdir -p "$W"
  # The bridge plugin (isGateway) turns IPv4 forwarding on; teardown puts back what was there.
  cat /proc/sys/net/ipv4/ip_forward >"$W/ip_forward.orig"
  make_pki "$ip"
  write_kubeconfig "https://127.0.0.1:$API_PORT"
  start_etcd
  start_apiserver "$ip"
  start_controller_manager
  start_scheduler
  start_dns "$ip"
  start_kube_proxy
  start_containerd
}
