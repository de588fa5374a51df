#!/usr/bin/env bash
# Smoke test of the locally built server image (build-local.sh --smoke): a nats-server on loopback,
# the server container on the host network with an untrained demo ViT and a run config mounted; it
# must answer /healthz, become ready (bundle prepared inside the container), show up in nats-server's
# /connz, and on SIGTERM (podman stop) drain and exit 0 well within the grace period. Then a server
# and two client containers train the job's one round to completion and all exit 0.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
W="${SFPROMPT_IMAGE_WORK:-$HOME/.cache/sfprompt/images}"
TAG="${SFPROMPT_IMAGE_TAG:-dev}"
export CONTAINERS_CONF="$W/containers.conf"
P=(podman --root "$W/storage" --runroot "$W/runroot" --tmpdir "$W/ptmp")
S="$W/smoke"
NATS_PORT="${SMOKE_NATS_PORT:-14322}"
MON_PORT="${SMOKE_MONITOR_PORT:-18322}"
HTTP_PORT="${SMOKE_HTTP_PORT:-18380}"
NAME="sfprompt-smoke-$$"
log() { printf '[smoke] %s\n' "$*" >&2; }

rm -rf "$S" && mkdir -p "$S/js"
(cd "$ROOT" && node --conditions=source --import tsx images/smoke-model.ts "$S") >&2
printf 'listen: 127.0.0.1:%s\nhttp: 127.0.0.1:%s\njetstream { store_dir: "%s/js" }\n' "$NATS_PORT" "$MON_PORT" "$S" >"$S/nats.conf"
nats-server -c "$S/nats.conf" >"$S/nats.log" 2>&1 &
NATS_PID=$!
cleanup() {
  # one by one: podman rm stops at the first name that is already gone
  for c in "$NAME" "$NAME-job-server" "$NAME-job-client-0" "$NAME-job-client-1"; do "${P[@]}" rm -f "$c" >/dev/null 2>&1 || true; done
  kill "$NATS_PID" 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$MON_PORT/healthz" >/dev/null && break; sleep 0.1; done

log "starting localhost/sfprompt-server:$TAG"
"${P[@]}" run -d --pull=never --name "$NAME" --network=host -v "$S:/smoke:ro" \
  -e SFPROMPT_RUN_CONFIG=/smoke/run-config.json -e SFPROMPT_JOB=smoke -e SFPROMPT_NAMESPACE=default \
  -e NATS_URL="nats://127.0.0.1:$NATS_PORT" -e SFPROMPT_HTTP_PORT="$HTTP_PORT" -e SFPROMPT_GRACE_SECONDS=20 \
  "localhost/sfprompt-server:$TAG" >/dev/null
started=$(date +%s%N)
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$HTTP_PORT/healthz" >/dev/null && break; sleep 0.1; done
log "/healthz: $(curl -s "http://127.0.0.1:$HTTP_PORT/healthz") after $((($(date +%s%N) - started) / 1000000)) ms"
for _ in $(seq 600); do curl -sf "http://127.0.0.1:$HTTP_PORT/readyz" >/dev/null && break; sleep 0.2; done
log "/readyz: $(curl -s "http://127.0.0.1:$HTTP_PORT/readyz") after $((($(date +%s%N) - started) / 1000000)) ms"
curl -s "http://127.0.0.1:$HTTP_PORT/metrics" | grep -E '^sfprompt_(process_info|ready|nats_connected) ' >&2 || true
curl -s "http://127.0.0.1:$HTTP_PORT/metrics" | grep -E '^sfprompt_process_info' >&2
log "nats /connz: $(curl -s "http://127.0.0.1:$MON_PORT/connz" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const c=JSON.parse(s);console.log(c.num_connections, (c.connections||[]).map(x=>x.name).join(","))})')"

t0=$(date +%s%N)
"${P[@]}" stop -t 20 "$NAME" >/dev/null
stop_ms=$((($(date +%s%N) - t0) / 1000000))
code="$("${P[@]}" inspect "$NAME" --format '{{.State.ExitCode}}')"
log "podman stop (SIGTERM) took ${stop_ms} ms; exit code $code"
log "nats /connz after stop: $(curl -s "http://127.0.0.1:$MON_PORT/connz" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).num_connections))') connections"
logs="$("${P[@]}" logs "$NAME")"
log "container log:"
cut -c1-220 <<<"$logs" >&2
[ "$code" = 0 ] || { log "FAILED: exit code $code"; exit 1; }
# (a variable, not a pipe: grep -q closing the pipe early would fail the pipeline under pipefail)
grep -q '"event":"nats.drained"' <<<"$logs" || { log "FAILED: no nats.drained"; exit 1; }
log "lifecycle OK"

# a whole one-round job across three containers (fresh JetStream state: the job starts clean)
"${P[@]}" rm -f "$NAME" >/dev/null
run_role() { # role name [extra env...]
  local role=$1 name=$2
  shift 2
  "${P[@]}" run -d --pull=never --name "$name" --network=host -v "$S:/smoke:ro" \
    -e SFPROMPT_RUN_CONFIG=/smoke/run-config.json -e NATS_URL="nats://127.0.0.1:$NATS_PORT" -e SFPROMPT_HTTP_PORT=0 \
    "$@" "localhost/sfprompt-$role:$TAG" >/dev/null
}
curl -s "http://127.0.0.1:$MON_PORT/jsz" >/dev/null
t0=$(date +%s)
run_role server "$NAME-job-server"
run_role client "$NAME-job-client-0" -e SFPROMPT_CLIENT_INDEX=0
run_role client "$NAME-job-client-1" -e SFPROMPT_CLIENT_INDEX=1
codes=""
for c in server client-0 client-1; do
  codes="$codes $c=$("${P[@]}" wait "$NAME-job-$c")"
done
log "job containers exited after $(($(date +%s) - t0)) s:$codes"
"${P[@]}" logs "$NAME-job-server" | grep -E '"event":"(round-finished|server.done|process.exit)"' | cut -c1-260 >&2
"${P[@]}" logs "$NAME-job-client-1" | grep -E '"event":"(client.done|process.exit)"' | cut -c1-200 >&2
[ "$codes" = " server=0 client-0=0 client-1=0" ] || { log "FAILED: exit codes$codes"; exit 1; }
log "OK"
