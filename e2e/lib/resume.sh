# The e2e's second job (ADR 0044, 0046): e2e/job-resume.yaml goes on from the first job's round-2
# checkpoint (spec.output.resumeFrom) while the first one is still there, trains round 3 only, and
# leaves the first job as it finished. Sourced by run.sh after checks.sh.

RESUME_JOB=e2e-resume

# What the second job must leave as it is: the first job's status as its training wrote it, and the
# state of its three JetStream streams (its bucket is only read, ADR 0044; nothing else writes there
# once it finished).
source_snapshot() {
  local status streams
  status=$(job_field '{.status.phase} {.status.round}/{.status.rounds} up={.status.communication.up} down={.status.communication.down} accuracy={.status.metrics.accuracy} checkpoint={.status.lastCheckpoint.object}@{.status.lastCheckpoint.round} resumedFrom={.status.resumedFrom} completed={.status.completionTime}')
  streams=$(nats_streams --state | tr ' ' '\n' | { grep -F "_$JOB-" || true; } | tr '\n' ' ')
  [ "$(wc -w <<<"$streams")" = 3 ] || die "expected the three JetStream streams of $JOB, got: $streams"
  echo "$status | $streams"
}

SOURCE_BEFORE=""
run_resume_job() {
  SOURCE_BEFORE=$(source_snapshot)
  log "kubectl apply -f e2e/job-resume.yaml: $RESUME_JOB goes on from $JOB's checkpoint (spec.output.resumeFrom)"
  kubectl -n "$JOB_NS" apply -f "$E2E_ROOT/e2e/job-resume.yaml" >&2
  wait_succeeded "$RESUME_JOB"
}

# What Succeeded must mean for the second job: 3/3 with rounds 1-2 named as the first job's, and
# round 3 as the only one it trained: its checkpoint, its best round (status.metrics counts its own
# rounds only) and its clients' last round. Its bytes are its own round's (ADR 0044 amendment 2):
# fewer than the first job's two rounds, since a round sends at most what both clients' data make
# and the first job's round 2 had both (their lastRound; a client late for round 1 sits it out:
# select-clients.ts), and more, not fewer, had the first job's rounds been counted in.
check_resumed_status() {
  local rounds from ckpt best clients last up down a_up a_down a_last after r
  rounds=$(job_field '{.status.round}/{.status.rounds}' "$RESUME_JOB")
  from=$(job_field '{.status.resumedFrom.job}@{.status.resumedFrom.round}' "$RESUME_JOB")
  ckpt=$(job_field '{.status.lastCheckpoint.round}' "$RESUME_JOB")
  best=$(job_field '{.status.metrics.bestRound}@{.status.metrics.accuracy}' "$RESUME_JOB")
  wait_clients_succeeded "$RESUME_JOB"
  clients=$CLIENTS
  last=$(job_field '{range .status.clients[*]}{.lastRound} {end}' "$RESUME_JOB")
  up=$(job_field '{.status.communication.up}' "$RESUME_JOB")
  down=$(job_field '{.status.communication.down}' "$RESUME_JOB")
  a_up=$(job_field '{.status.communication.up}')
  a_down=$(job_field '{.status.communication.down}')
  a_last=$(job_field '{range .status.clients[*]}{.lastRound} {end}')
  [ "$rounds" = 3/3 ] || die "$RESUME_JOB: status.round/rounds is $rounds, expected 3/3"
  [ "$from" = "$JOB@2" ] || die "$RESUME_JOB: status.resumedFrom is $from (job@round), expected $JOB@2"
  [ "$ckpt" = 3 ] || die "$RESUME_JOB: status.lastCheckpoint.round is '$ckpt', expected its own round 3"
  [[ "$best" == 3@?* ]] || die "$RESUME_JOB: status.metrics bestRound@accuracy is '$best', expected its only own round 3"
  [ "$clients" = "Succeeded@$NODE_NAME Succeeded@$NODE_NAME " ] ||
    die "$RESUME_JOB: status.clients: $clients ${CLIENTS_WAITED} s after the job succeeded (.status.clients[*].reason says why)"
  [ -n "${last// /}" ] || die "$RESUME_JOB: no client reports a last round"
  for r in $last; do [ "$r" = 3 ] || die "$RESUME_JOB: status.clients[].lastRound: ${last% }, expected 3 only"; done
  [ "$a_last" = "2 2 " ] || die "$JOB: status.clients[].lastRound is '$a_last', expected both clients in round 2"
  [ "${up:-0}" -gt 0 ] && [ "${down:-0}" -gt 0 ] || die "$RESUME_JOB: status.communication counts no bytes (up=$up down=$down)"
  [ "$up" -lt "$a_up" ] && [ "$down" -lt "$a_down" ] ||
    die "$RESUME_JOB's bytes (up $up, down $down) are not below $JOB's two rounds' (up $a_up, down $a_down): they count more than its own round 3"
  log "$RESUME_JOB: rounds $rounds, resumedFrom $from, checkpoint and best round $ckpt, clients' last round ${last% }, bytes up $up down $down ($((up * 100 / a_up)) % of $JOB's two rounds)"
  after=$(source_snapshot)
  [ "$after" = "$SOURCE_BEFORE" ] ||
    die "$JOB changed while $RESUME_JOB ran: before '$SOURCE_BEFORE', after '$after'"
  log "$JOB as it finished: $after"
}
