// A client process that was mid-round when its job ended without it: against a real nats-server, a
// real lingering server process and two real client processes of a one-round job whose quorum is one,
// client-0 stops while it trains round 1 (SIGSTOP, or its network cut while its state report waits
// for a reply); the round closes at its timeout with client-1's update, the job finishes and the
// server lingers. Back, client-0 learns the end through its normal path (the job.finished event, or
// the lingering server's `done` reply to its state report, ADR 0041 amendment 11), logs the round it
// did not finish and exits 0, well within its request timeout: a request whose reply went with the
// dropped connection is sent again at the reconnect instead of waiting out its timeout.
import assert from "node:assert/strict";
import { test } from "node:test";
import { connect } from "@nats-io/transport-node";
import type { RunConfig } from "@sfprompt/api";
import { eventSubject } from "@sfprompt/protocol";
import { ENTRY, get, runConfig, spawnEntry, type LogLine, type Proc } from "../../shell/test/harness.js";
import { useProcessFixture } from "../../shell/test/process-fixture.js";
import { requestCounts } from "../../shell/test/request-histogram.js";
import { startTcpRelay } from "../../shell/test/tcp-relay.js";
import { badMessages } from "../../shell/test/traffic-series.js";
import { LINGER, delta, lingeringPort } from "../../server/test/lingering-job.js";

const f = useProcessFixture();

// Long, so that the bound below (a quarter of it) leaves a loaded machine room to reconnect, resend and
// exit (a 5 s bound on a 20 s timeout was tight there), while a request that waited out its timeout
// cannot pass it.
const REQUEST_TIMEOUT_S = 60;

/** One round, two clients, quorum one: the round closes at its 3 s timeout with client-1's update. */
function endsWithoutClient0(name: string): RunConfig {
  return runConfig(
    {
      training: { rounds: 1, quorum: { count: 1 }, roundTimeoutSeconds: 3 },
      transport: { requestTimeoutSeconds: REQUEST_TIMEOUT_S },
    },
    name,
  );
}

const running: Proc[] = [];

interface Job {
  readonly server: Proc;
  readonly slow: Proc;
  readonly other: Proc;
  /** The lingering server's /metrics body. */
  scrape(): Promise<string>;
}

/**
 * Starts the server and both clients (client-0 on `url`), holds client-0 once `held` resolves, and
 * resolves once the server lingers and client-1 exited.
 */
async function runJob(
  config: RunConfig,
  url: string,
  held: Promise<void>,
  hold: (slow: Proc) => void,
): Promise<Job> {
  const name = config.job.name;
  const server = spawnEntry(ENTRY.server, f.entryArgs(config, `${name}-server`), LINGER);
  const client = (index: number, natsUrl: string): Proc => {
    const args = f.entryArgs(config, `${name}-${index}`);
    args[args.indexOf("--nats-url") + 1] = natsUrl;
    return spawnEntry(ENTRY.client, [...args, "--client-index", String(index)]);
  };
  const job = { server, slow: client(0, url), other: client(1, f.nats.url) };
  running.push(server, job.slow, job.other);
  await held;
  hold(job.slow);
  const port = await lingeringPort(server);
  assert.equal((await job.other.exited).code, 0, job.other.stderr());
  return { ...job, scrape: async () => (await get(port, "/metrics")).body };
}

/** What client-0 did once back: exit code, ms to exit, its log lines since. */
async function comeBack(
  slow: Proc,
  resume: () => void,
): Promise<{ code: number | null; ms: number; logs: LogLine[] }> {
  const from = slow.logs.length;
  const at = performance.now();
  resume();
  const { code } = await slow.exited;
  return { code, ms: performance.now() - at, logs: slow.logs.slice(from) };
}

/**
 * Every line names the job and client-0; the finish is said with how the client learned it (ADR 0041
 * amendment 13); the unfinished round is named; client-done, exit 0.
 */
function checkLines(logs: readonly LogLine[], job: string, learnedFrom: readonly string[]): void {
  for (const l of logs) {
    assert.equal(l.job, job, `${l.event} carries the job`);
    assert.equal(l.client, "client-0", `${l.event} carries the client`);
  }
  const finished = logs.find((l) => l.event === "job-finished");
  assert.equal(finished?.level, "info", "the finish that stopped the round is said");
  assert.ok(
    learnedFrom.includes(String(finished.learnedFrom)),
    `learned from ${String(finished.learnedFrom)}`,
  );
  assert.equal(finished.rounds, 0);
  const unfinished = logs.find((l) => l.event === "round-unfinished");
  assert.equal(unfinished?.round, 1, "the round the job ended in is named");
  assert.equal(logs.find((l) => l.event === "client-done")?.rounds, 0);
  assert.equal(logs.find((l) => l.event === "process.exit")?.code, 0);
}

test("a client stopped mid-round while the other finished the job learns the end from job.finished once continued, and exits 0 at once", async () => {
  const config = endsWithoutClient0("mid-round-stopped");
  const nc = await connect({ servers: f.nats.url });
  try {
    // stopped as soon as its server tells that it trains
    const training = new Promise<void>((resolve) =>
      nc.subscribe(eventSubject(config.names.job, "client.state"), {
        callback: (_err, msg) => {
          const e = msg.json<{ client: string; state: string }>();
          if (e.client === "client-0" && e.state === "local-update") resolve();
        },
      }),
    );
    const job = await runJob(config, f.nats.url, training, (slow) => slow.kill("SIGSTOP"));
    const before = await job.scrape();
    const back = await comeBack(job.slow, () => job.slow.kill("SIGCONT"));
    const trace = back.logs.map((l) => JSON.stringify(l)).join("\n");
    assert.equal(back.code, 0, `${job.slow.stderr()}\n${trace}`);
    assert.ok(back.ms < (REQUEST_TIMEOUT_S * 1000) / 4, `exited ${back.ms} ms after SIGCONT\n${trace}`);
    // the buffered job.finished, or the round state if the client read it first
    checkLines(back.logs, config.names.job, ["job-event", "round-state"]);
    assert.deepEqual(
      back.logs.filter((l) => l.level === "warn" || l.level === "error"),
      [],
    );
    const after = await job.scrape();
    assert.deepEqual(delta(requestCounts(before), requestCounts(after)), {}, "nothing asked of the server");
    assert.deepEqual(delta(badMessages(before), badMessages(after)), {});
  } finally {
    await nc.close();
    for (const p of running.splice(0)) p.kill("SIGKILL");
  }
});

test("a client cut off from NATS while its state report waited, back after the end, sends it again at the reconnect, stops at the lingering server's done reply and exits 0 well within its request timeout", async () => {
  const config = endsWithoutClient0("mid-round-cut");
  // the relay drops client-0's connection at its local-update report: its reply never comes
  const relay = await startTcpRelay(f.nats.url, "local-update");
  try {
    const job = await runJob(config, relay.url, relay.wasCut, () => undefined);
    const before = await job.scrape();
    const back = await comeBack(job.slow, () => relay.restore());
    const trace = back.logs.map((l) => JSON.stringify(l)).join("\n");
    assert.equal(back.code, 0, `${job.slow.stderr()}\n${trace}`);
    assert.ok(
      back.ms < (REQUEST_TIMEOUT_S * 1000) / 4,
      `exited ${back.ms} ms after the network came back\n${trace}`,
    );
    checkLines(back.logs, config.names.job, ["server-reply"]);
    const resent = back.logs.find((l) => l.event === "request-resent");
    assert.equal(resent?.subject, `sfp.${config.names.job}.round.report`, trace);
    assert.equal(resent.round, 1);
    // the resent report's `done` ends it: no body request meets the missing responder, nothing is
    // given up, and the only warning is the resend
    assert.deepEqual(
      back.logs.filter((l) => l.level === "warn" || l.level === "error").map((l) => l.event),
      ["request-resent"],
      trace,
    );
    const after = await job.scrape();
    assert.deepEqual(delta(requestCounts(before), requestCounts(after)), { "report/ok": 1 }, trace);
    assert.deepEqual(delta(badMessages(before), badMessages(after)), {});
  } finally {
    for (const p of running.splice(0)) p.kill("SIGKILL");
    await relay.close();
  }
});

test("a client stopped mid-round, sent SIGTERM as well as the job's finish, exits 0 without an error line when continued", async () => {
  const config = endsWithoutClient0("mid-round-sigterm");
  const nc = await connect({ servers: f.nats.url });
  try {
    const training = new Promise<void>((resolve) =>
      nc.subscribe(eventSubject(config.names.job, "client.state"), {
        callback: (_err, msg) => {
          const e = msg.json<{ client: string; state: string }>();
          if (e.client === "client-0" && e.state === "local-update") resolve();
        },
      }),
    );
    const job = await runJob(config, f.nats.url, training, (slow) => slow.kill("SIGSTOP"));
    // the job.finished event and SIGTERM both wait for it: whichever it takes first stops its round,
    // and a SIGTERM taken as the finish stops it makes runClient rethrow the finish (JobFinishedError)
    const back = await comeBack(job.slow, () => {
      job.slow.kill("SIGTERM");
      job.slow.kill("SIGCONT");
    });
    const trace = back.logs.map((l) => JSON.stringify(l)).join("\n");
    assert.equal(back.code, 0, `${job.slow.stderr()}\n${trace}`);
    assert.deepEqual(
      back.logs.filter((l) => l.level === "error").map((l) => l.event),
      [],
      trace,
    );
    assert.equal(back.logs.find((l) => l.event === "process.exit")?.code, 0, trace);
  } finally {
    await nc.close();
    for (const p of running.splice(0)) p.kill("SIGKILL");
  }
});
