// round.finished means "resumable from here", against a real nats-server: a server stopped the moment
// it announces round 1 finished has already stored round 1's checkpoint and round state, and one
// started again resumes from round 1.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  checkpointObjectName,
  openArtifactStore,
  openRoundState,
  type ProgressEvent,
} from "@sfprompt/protocol";
import type { ServerHandle } from "@sfprompt/core";
import type { RunConfig } from "@sfprompt/api";
import { jobConfig, natsAndBundleHooks, startClients, startTestServer } from "./job-fixture.js";

const w = natsAndBundleHooks();

function server(config: RunConfig, onEvent: (e: ProgressEvent) => void): Promise<ServerHandle> {
  return startTestServer(config, { nc: w.nats.nc, bundle: w.bundle.dir, onEvent, lingerMs: 300 });
}

test("a server stopped as it announces round 1 finished has stored round 1's checkpoint, and the next one resumes from it", async () => {
  const config = jobConfig({ training: { rounds: 2, roundTimeoutSeconds: 30 } });
  const stop = new AbortController();
  const clients = await startClients(config, {
    connect: () => w.nats.connect(),
    bundle: w.bundle.dir,
    signal: stop.signal,
  });
  const seen: string[] = [];
  let stopped: Promise<void> | undefined;
  const first: ServerHandle = await server(config, (e) => {
    seen.push(e.type === "round.finished" || e.type === "checkpoint.written" ? `${e.type} ${e.round}` : "");
    // whoever sees the round finished may stop the server at once (Ctrl-C in sfprompt run)
    if (e.type === "round.finished" && e.round === 1) stopped ??= first.stop();
  });
  await first.done.catch(() => undefined);
  await stopped;
  const announced = seen.filter((s) => s !== "");
  assert.deepEqual(announced, ["checkpoint.written 1", "round.finished 1"]);
  const store = await openArtifactStore(w.nats.nc, config.names.job);
  assert.ok((await store.get(checkpointObjectName(1))) !== null, "round 1's checkpoint is stored");
  const state = await (await openRoundState(w.nats.nc, config.names.job)).get();
  assert.equal(state?.state.checkpoint, checkpointObjectName(1));

  const second = await server(config, () => {});
  const result = await second.done;
  stop.abort();
  await Promise.all(clients.map((c) => c.done));
  assert.equal(result.resumedFrom, 1);
  assert.deepEqual(
    result.rounds.map((r) => r.round),
    [1, 2],
  );
});
