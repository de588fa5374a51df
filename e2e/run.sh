#!/usr/bin/env bash
# npm run e2e: the Helm chart installed into a real one-node cluster and an example job run to
# Succeeded (DESIGN.md §6 item 5). Starts etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, containerd, a real kubelet, kube-proxy and a DNS server on this machine (root
# needed); builds the operator, server, client, NATS and pause images locally and imports them into
# containerd; helm-installs helm/sfprompt-operator; labels the node as edge and GPU node; applies
# e2e/job.yaml and waits for Succeeded; applies e2e/job-resume.yaml, which goes on from the first
# job's checkpoint (spec.output.resumeFrom), and checks that it trained round 3 only and left the
# first job as it was; deletes both jobs and checks that their children and JetStream streams are
# gone; uninstalls; tears everything down. docs/e2e.md has the details and timings.
#
# Env: SFPROMPT_E2E_DIR (state, default /tmp/sfprompt-e2e; removed at the end),
#      SFPROMPT_E2E_LOGS (logs of the last run are copied here, default /tmp/sfprompt-e2e-logs),
#      SFPROMPT_E2E_JOB_TIMEOUT (seconds for the job to succeed, default 900),
#      SFPROMPT_E2E_KEEP=1 (leave the cluster running at the end; `bash e2e/run.sh --down` stops it).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$HERE/lib/common.sh"
. "$HERE/lib/cluster.sh"
. "$HERE/lib/teardown.sh"
. "$HERE/lib/images.sh"
. "$HERE/lib/checks.sh"
. "$HERE/lib/resume.sh"
E2E_LOGS="${SFPROMPT_E2E_LOGS:-/tmp/sfprompt-e2e-logs}"

if [ "${1:-}" = "--down" ]; then
  teardown_cluster
  exit 0
fi

[ "$(id -u)" = 0 ] || die "the e2e runs a kubelet and containerd, which need root"

# Debian packages the cluster needs (platform-notes §A); the project's other scripts install podman.
ensure_packages() {
  local missing=() c
  for c in containerd:containerd runc:runc podman:podman dnsmasq:dnsmasq-base iptables:iptables \
    conntrack:conntrack gcc:gcc nats-server:nats-server openssl:openssl; do
    command -v "${c%%:*}" >/dev/null || missing+=("${c#*:}")
  done
  [ -f /usr/lib/cni/bridge ] || missing+=(containernetworking-plugins)
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]} from Debian"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" libc6-dev >/dev/null
}

finish() {
  local rc=$?
  [ $rc -ne 0 ] && dump_state
  if [ "${SFPROMPT_E2E_KEEP:-}" = 1 ]; then
    log "cluster left running (KUBECONFIG=$KUBECONFIG); stop it with: bash e2e/run.sh --down"
  else
    rm -rf "$E2E_LOGS"
    teardown_cluster
    check_clean || rc=1
  fi
  [ $rc -eq 0 ] && log "PASS in $(($(date +%s) - T0)) s" || log "FAIL (logs: $E2E_LOGS)"
  exit $rc
}

# A run that was killed leaves its state behind: clean it up first.
[ -d "$W" ] && teardown_cluster
ensure_packages
# npm packages and the TypeScript build (a fresh clone has neither: the image builds compile)
log "npm packages and build (scripts/setup.sh)"
bash "$E2E_ROOT/scripts/setup.sh" >&2
log "kube binaries (scripts/kube-bins.sh with kubelet and kube-proxy)"
KUBE_BINS_EXTRA="kubelet kube-proxy" bash "$E2E_ROOT/scripts/kube-bins.sh" >&2
mkdir -p "$W/logs"
trap finish EXIT
build_images
log "images built; starting the cluster"
start_cluster
import_images
start_kubelet "$(host_ip)"
kubectl label node "$NODE_NAME" node-role.kubernetes.io/edge=true nvidia.com/gpu.present=true >&2
log "cluster up: node $NODE_NAME Ready (edge + GPU labels)"
helm_install
run_job
check_succeeded_status
check_job_rounds
check_job_env
check_cpu_fallback
run_resume_job
check_resumed_status
# the source first: its finalizer deletes its default bucket and streams only, the second job's stay
delete_job_and_check "$JOB" "$(job_streams "$RESUME_JOB")"
delete_job_and_check "$RESUME_JOB"
helm_uninstall
