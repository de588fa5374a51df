// A process of `sfprompt run` (proc/main.ts) outlives a NATS outage longer than nats.js's default
// reconnect budget (10 attempts, 2 s apart): `sfprompt run --nats URL` works against a NATS server
// that may restart, as the images do. Real nats-server (killed, then started on the same port and
// store), real server process.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import type { RunConfig } from "@sfprompt/api";
import { jobSubjects, requestFrame, type DecodedFrame } from "@sfprompt/protocol";
import { startLocalNats, type LocalNats } from "@sfprompt/protocol/testing";
import { writeProcessConfig } from "../src/proc/process-config.js";
import { tinyBundle } from "../../sfprompt/test/runtime/bundle-fixture.js";
import { jobConfig } from "../../sfprompt/test/runtime/job-fixture.js";

const MAIN = new URL("../src/proc/main.ts", import.meta.url).pathname;

/** A poll as client-0 sends it; resolves with the reply, or the error when none came. */
async function poll(url: string, config: RunConfig, step: number): Promise<DecodedFrame | Error> {
  const nc = await connect({ servers: url });
  try {
    return await requestFrame(
      nc,
      jobSubjects(config.names.job).roundReport,
      {
        kind: "control",
        job: config.names.job,
        client: "client-0",
        round: 1,
        step,
        meta: { op: "poll", lastRound: 0 },
      },
      { timeoutMs: 5000, retries: 0 },
    );
  } catch (error) {
    return error as Error;
  } finally {
    await nc.close();
  }
}

async function untilAnswered(url: string, config: RunConfig, ms: number): Promise<DecodedFrame | Error> {
  const deadline = Date.now() + ms;
  for (let step = 1; ; step++) {
    const r = await poll(url, config, step);
    if (!(r instanceof Error) || Date.now() > deadline) return r;
    await new Promise((res) => setTimeout(res, 300));
  }
}

test("a server process of sfprompt run answers again after NATS was away for longer than 20 s", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sfprompt-proc-outage-"));
  const bundle = tinyBundle();
  let nats: LocalNats = await startLocalNats({ storeDir: join(dir, "js") });
  const config = jobConfig({ training: { evaluation: { everyRounds: 0 } } });
  const path = writeProcessConfig(dir, "server.json", {
    runConfig: config,
    natsUrl: nats.url,
    bundleDir: bundle.dir,
    modelPath: join(dir, "unused.onnx"),
  });
  const child = spawn(process.execPath, ["--conditions=source", "--import", "tsx", MAIN, "server", path], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (b: Buffer) => (stderr = (stderr + b.toString()).slice(-6000)));
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  try {
    const first = await untilAnswered(nats.url, config, 60_000);
    assert.ok(!(first instanceof Error), `the server answered a poll: ${String(first)}\n${stderr}`);
    const port = nats.port;
    process.kill(nats.pid, "SIGKILL");
    await nats.stop();
    await new Promise((r) => setTimeout(r, 23_000));
    nats = await startLocalNats({ storeDir: join(dir, "js"), port });
    const after = await untilAnswered(nats.url, config, 15_000);
    assert.ok(!(after instanceof Error), `the server answered after the outage: ${String(after)}\n${stderr}`);
    assert.equal(after.header.meta["action"], "wait", "one client of three: the server waits for more");
    child.kill("SIGTERM");
    assert.equal(await exited, 0, stderr);
  } finally {
    child.kill("SIGKILL");
    await nats.stop();
    bundle.remove();
    rmSync(dir, { recursive: true, force: true });
  }
});
