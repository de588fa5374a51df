# The e2e's steps against the running cluster: install the chart, run the job to Succeeded, delete it
# and check what it leaves, uninstall. Sourced by run.sh after common.sh; resume.sh adds the second
# job.

RELEASE=sfprompt-operator
OP_NS=sfprompt-system
JOB_NS=sfprompt-e2e
JOB=e2e-demo
JOB_SELECTOR="sfprompt.io/job=$JOB"

helm_install() {
  log "helm install $RELEASE (namespace $OP_NS) with the local images"
  helm install "$RELEASE" "$E2E_ROOT/helm/sfprompt-operator" --namespace "$OP_NS" --create-namespace \
    --set image.registry=localhost --set image.repository=sfprompt-operator --set image.tag=e2e \
    --set image.pullPolicy=Never \
    --set jobImages.server.registry=localhost --set jobImages.server.repository=sfprompt-server \
    --set jobImages.server.tag=e2e --set jobImages.client.registry=localhost \
    --set jobImages.client.repository=sfprompt-client --set jobImages.client.tag=e2e \
    --set jobImages.pullPolicy=Never \
    --set nats.image.registry=localhost --set nats.image.repository=sfprompt-e2e-nats \
    --set nats.image.tag="$NATS_TAG" --set nats.image.pullPolicy=Never \
    --set nats.persistence.enabled=false \
    --wait --timeout 5m >"$W/logs/helm-install.log" 2>&1 || {
    cat "$W/logs/helm-install.log" >&2
    die "helm install failed"
  }
  kubectl -n "$OP_NS" get pods -o wide >&2
}

# NATS's monitoring endpoint through the API server's service proxy (no port-forward needed): the
# JetStream streams' names, sorted; with --state, name=messages/bytes/last_seq of each.
nats_streams() {
  kubectl get --raw "/api/v1/namespaces/$OP_NS/services/http:$RELEASE-nats:8222/proxy/jsz?streams=true" |
    STREAM_STATE="${1:-}" node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);
      const st=process.env.STREAM_STATE==="--state";
      const names=(j.account_details??[]).flatMap(a=>(a.stream_detail??[]).map(x=>
        st?`${x.name}=${x.state?.messages}/${x.state?.bytes}/${x.state?.last_seq}`:x.name));
      console.log(names.sort().join(" "))})'
}

# The three streams the operator's finalizer deletes with job NAME (default bucket, ADR 0045), sorted
# as nats_streams sorts: round state, artifacts, events.
job_streams() {
  local tok="sfp-${JOB_NS}_$1"
  echo "KV_$tok-state OBJ_$tok-artifacts $tok-events"
}

job_phase() { kubectl -n "$JOB_NS" get sfpj "${1:-$JOB}" -o 'jsonpath={.status.phase}' 2>/dev/null; }

# Keeps every job's pod logs under $W/logs/pods while it runs (pods may be gone once it finished).
save_pod_logs() {
  local p
  mkdir -p "$W/logs/pods"
  local f
  for p in $(kubectl -n "$JOB_NS" get pods -l sfprompt.io/job -o name 2>/dev/null); do
    f="$W/logs/pods/${p#pod/}.log"
    # A container being removed answers "unable to retrieve container logs ..." with exit 0; a log
    # only grows, so a shorter answer never replaces what was saved before.
    kubectl -n "$JOB_NS" logs "$p" >"$f.new" 2>/dev/null &&
      [ "$(stat -c %s "$f.new")" -ge "$(stat -c %s "$f" 2>/dev/null || echo 0)" ] &&
      ! grep -q '^unable to retrieve container logs' "$f.new" &&
      mv "$f.new" "$f"
  done
  rm -f "$W/logs/pods/"*.new
}

run_job() {
  kubectl create namespace "$JOB_NS" >/dev/null
  # the Secret the clients' SFPROMPT_E2E_SECRET comes from (valueFrom.secretKeyRef)
  kubectl -n "$JOB_NS" create secret generic e2e-env --from-literal=mark=from-secret >/dev/null
  log "kubectl apply -f e2e/job.yaml (namespace $JOB_NS)"
  # The webhook's pod is ready before kube-proxy has programmed its Service (a second or two): the
  # API server then gets "connection refused"; retried as a user would.
  wait_until 60 "the admission webhook to admit e2e/job.yaml" kubectl -n "$JOB_NS" apply -f "$E2E_ROOT/e2e/job.yaml"
  wait_succeeded "$JOB"
}

# wait_succeeded NAME: polls job NAME until Succeeded (dies when Failed or after the time limit),
# saving pod logs meanwhile, then prints its status.
wait_succeeded() {
  local name=$1 limit=${SFPROMPT_E2E_JOB_TIMEOUT:-900} start phase last=""
  start=$(date +%s)
  while :; do
    phase=$(job_phase "$name" || true)
    [ "$phase" != "$last" ] && log "job $name phase: ${phase:-<none>}" && last=$phase
    save_pod_logs
    capture_client_env
    case "$phase" in
      Succeeded) break ;;
      Failed) die "job $name failed (run.sh's exit handler saves the cluster's state and logs)" ;;
    esac
    [ $(($(date +%s) - start)) -ge "$limit" ] && die "job $name did not succeed within ${limit}s (SFPROMPT_E2E_JOB_TIMEOUT)"
    sleep 3
  done
  log "job $name Succeeded after $(($(date +%s) - start)) s; its status:"
  kubectl -n "$JOB_NS" get sfpj "$name" -o wide >&2
  kubectl -n "$JOB_NS" get sfpj "$name" -o jsonpath='{.status}' | node -e \
    'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.error(JSON.stringify(JSON.parse(s),null,2)))'
}

# jsonpath on a job (default: the first one), e.g. job_field '{.status.server.executionProvider}'.
job_field() { kubectl -n "$JOB_NS" get sfpj "${2:-$JOB}" -o "jsonpath=$1"; }

# A client may still be exiting when its job turns Succeeded (pod Running, state done): the operator
# leaves it --finished-client-grace-seconds (30) to exit by itself (ADR 0012, amendment 2). Waits up to
# 40 s for every client of job $1 (default: the first) to show phase Succeeded on the node; leaves
# the clients' phase@node list in CLIENTS and the seconds waited in CLIENTS_WAITED.
CLIENTS="" CLIENTS_WAITED=0
wait_clients_succeeded() {
  local want="Succeeded@$NODE_NAME Succeeded@$NODE_NAME "
  CLIENTS_WAITED=0
  CLIENTS=$(job_field '{range .status.clients[*]}{.phase}@{.node} {end}' "${1:-$JOB}")
  while [ "$CLIENTS" != "$want" ] && [ "$CLIENTS_WAITED" -lt 40 ]; do
    sleep 2
    CLIENTS_WAITED=$((CLIENTS_WAITED + 2))
    CLIENTS=$(job_field '{range .status.clients[*]}{.phase}@{.node} {end}' "${1:-$JOB}")
  done
}

# What Succeeded must mean: both rounds done, an accuracy measured, every client's pod Succeeded on
# the node, bytes counted both ways.
check_succeeded_status() {
  local rounds acc up down clients
  rounds=$(job_field '{.status.round}/{.status.rounds}')
  acc=$(job_field '{.status.metrics.accuracy}')
  up=$(job_field '{.status.communication.up}')
  down=$(job_field '{.status.communication.down}')
  wait_clients_succeeded
  clients=$CLIENTS
  [ "$rounds" = 2/2 ] || die "status.round/rounds is $rounds, expected 2/2"
  [ -n "$acc" ] || die "status.metrics.accuracy is empty"
  [ "${up:-0}" -gt 0 ] && [ "${down:-0}" -gt 0 ] || die "status.communication counts no bytes (up=$up down=$down)"
  [ "$clients" = "Succeeded@$NODE_NAME Succeeded@$NODE_NAME " ] ||
    die "status.clients: $clients ${CLIENTS_WAITED} s after the job succeeded (.status.clients[*].reason says why)"
  log "status: rounds $rounds, accuracy $acc, bytes up $up down $down, clients $clients"
}

# The operator's per-round views of the job (ADR 0023 amendment 1) through the API server's service
# proxy to the chart's leader Service, as docs/operator.md shows: rounds.json lists rounds 1..2 with
# bytes, its last accuracy is status.metrics.accuracy, and both charts are SVG documents.
check_job_rounds() {
  local base="/api/v1/namespaces/$OP_NS/services/http:$RELEASE-leader:http/proxy/jobs/$JOB_NS/$JOB" got acc svg chart
  acc=$(job_field '{.status.metrics.accuracy}')
  got=$(kubectl get --raw "$base/rounds.json" | STATUS_ACC="$acc" node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{
    const j=JSON.parse(s), r=j.rounds??[], last=r[r.length-1];
    const ok=r.every(x=>x.bytes?.total>0)&&last!==undefined&&Math.abs(last.accuracy-Number(process.env.STATUS_ACC))<1e-9;
    console.log(`${r.map(x=>x.round).join(",")} ${ok?"ok":"mismatch: "+s.replace(/\s+/g," ").slice(0,300)}`)})') ||
    die "GET $base/rounds.json failed"
  [ "$got" = "1,2 ok" ] || die "rounds.json: rounds $got (expected 1,2 with bytes and last accuracy $acc)"
  for chart in accuracy traffic; do
    svg=$(kubectl get --raw "$base/$chart.svg") || die "GET $base/$chart.svg failed"
    case "$svg" in *"<svg"*"</svg>"*) ;; *) die "$chart.svg is not an SVG document: ${svg:0:200}" ;; esac
  done
  log "operator's rounds view: rounds $got, accuracy.svg and traffic.svg served"
}

# The job's own env reached its pods (spec.clients.env, spec.server.env): read from the client pods
# while they run (run_job calls capture_client_env; a finished job keeps only its finished client pods),
# and from the server Deployment's template (kept, scaled to 0, once the job finished).
CLIENT_ENV_MARKS=""
capture_client_env() {
  [ "$CLIENT_ENV_MARKS" = "client/e2e-env client/e2e-env " ] && return 0
  CLIENT_ENV_MARKS=$(kubectl -n "$JOB_NS" get pods -l "$JOB_SELECTOR,app.kubernetes.io/component=client" \
    -o 'jsonpath={range .items[*]}{.spec.containers[0].env[?(@.name=="SFPROMPT_E2E_MARK")].value}/{.spec.containers[0].env[?(@.name=="SFPROMPT_E2E_SECRET")].valueFrom.secretKeyRef.name} {end}' 2>/dev/null || true)
}
check_job_env() {
  local server
  # client pods whose Secret key did not resolve would not have started, so Succeeded shows it did
  [ "$CLIENT_ENV_MARKS" = "client/e2e-env client/e2e-env " ] ||
    die "the client pods' SFPROMPT_E2E_MARK/SFPROMPT_E2E_SECRET's Secret were '$CLIENT_ENV_MARKS' while they ran, expected 'client/e2e-env client/e2e-env '"
  server=$(kubectl -n "$JOB_NS" get deploy "$JOB-server" \
    -o 'jsonpath={.spec.template.spec.containers[0].env[?(@.name=="SFPROMPT_E2E_MARK")].value}')
  [ "$server" = server ] || die "the server Deployment's SFPROMPT_E2E_MARK is '$server', expected 'server'"
  log "env: SFPROMPT_E2E_MARK=client and SFPROMPT_E2E_SECRET from Secret e2e-env on both client pods (which ran), SFPROMPT_E2E_MARK=server in the server Deployment"
}

# The server asked for CUDA on a node with no GPU and an image with no CUDA provider: the job's
# status and the server's own log must say it runs on CPU.
check_cpu_fallback() {
  local req act cond f
  req=$(job_field '{.status.server.requestedExecutionProvider}')
  act=$(job_field '{.status.server.executionProvider}')
  cond=$(job_field '{.status.conditions[?(@.type=="CpuFallback")].status}')
  [ "$req/$act/$cond" = "cuda/cpu/True" ] ||
    die "status.server says requested=$req actual=$act, CpuFallback=$cond; expected cuda/cpu/True"
  f=$(grep -l '"server-ready"' "$W"/logs/pods/*.log 2>/dev/null | head -n 1)
  [ -n "$f" ] || die "no server pod log with a server-ready line was captured (logs: $W/logs/pods)"
  grep '"server-ready"' "$f" | grep -q '"requested":"cuda","actual":"cpu"' || die "the server's log does not show the CPU fallback ($f)"
  log "server fell back to CPU: status.server $req -> $act, CpuFallback=True, and its log says so"
}

# delete_job_and_check NAME [STREAMS]: deletes job NAME and checks that its children and its three
# JetStream streams (seen before) are gone, and that exactly STREAMS (sorted; default none) are left.
delete_job_and_check() {
  local name=$1 expected=${2:-} before after left s
  before=$(nats_streams)
  log "JetStream streams before deleting $name: ${before:-<none>}"
  for s in $(job_streams "$name"); do
    [[ " $before " == *" $s "* ]] || die "job $name has no JetStream stream $s to delete; the check would prove nothing"
  done
  log "kubectl delete sfpj $name"
  kubectl -n "$JOB_NS" delete sfpj "$name" --timeout=120s >&2
  wait_until 120 "the children of $name to be garbage-collected" \
    bash -c "[ -z \"\$(kubectl -n $JOB_NS get deploy,rs,pods,svc,configmaps,secrets -l sfprompt.io/job=$name -o name)\" ]"
  left=$(kubectl -n "$JOB_NS" get all,configmaps,secrets -l "sfprompt.io/job=$name" -o name)
  [ -z "$left" ] || die "children left after deleting $name: $left"
  after=$(nats_streams)
  log "JetStream streams after deleting $name: ${after:-<none>}"
  [ "$after" = "$expected" ] || die "JetStream streams after deleting $name: '$after', expected '$expected'"
}

helm_uninstall() {
  log "helm uninstall $RELEASE"
  helm uninstall "$RELEASE" --namespace "$OP_NS" --wait --timeout 2m >&2
  log "release uninstalled; deleting the namespaces"
  kubectl delete namespace "$JOB_NS" "$OP_NS" --timeout=120s >&2
  log "namespaces deleted"
  wait_until 120 "every pod to be gone from the API" bash -c '[ -z "$(kubectl get pods -A -o name)" ]'
  # ...and from the node: the kubelet stopped every container (exited ones are removed later by the
  # kubelet's container GC, once a minute, or by the teardown).
  wait_until 60 "containerd to run no container" bash -c "set -o pipefail; ctr -a $CTRD_SOCK -n k8s.io tasks ls | awk 'NR > 1 && \$3 == \"RUNNING\" { exit 1 }'"
  log "no pod in the API, no container running in containerd"
}

# On failure: what the cluster looked like, into the logs folder (and a summary on stderr).
dump_state() {
  [ -f "$KUBECONFIG" ] || return 0 # failed before the cluster existed
  mkdir -p "$W/logs"
  {
    kubectl get nodes -o wide
    kubectl get all -A -o wide
    kubectl -n "$JOB_NS" get sfpj -o yaml
    kubectl get events -A --sort-by=.lastTimestamp
    kubectl describe pods -A
  } >"$W/logs/cluster-state.txt" 2>&1 || true
  kubectl -n "$OP_NS" logs deploy/"$RELEASE" >"$W/logs/operator.log" 2>&1 ||
    kubectl -n "$OP_NS" logs -l app.kubernetes.io/component=operator --tail=-1 >"$W/logs/operator.log" 2>&1 || true
  save_pod_logs || true
  kubectl get pods -A -o wide >&2 || true
  return 0
}
