// A client that cannot start its trainer (a bundle missing one of its graphs) fails with the bundle's
// error and leaves nothing on its NATS connection, which its process may keep using: checked against
// the subscriptions a real nats-server lists for that connection.
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { connect } from "@nats-io/transport-node";
import { jobSubjects } from "@sfprompt/protocol";
import { startNatsServer, type TestNats } from "@sfprompt/protocol/testing";
import { BundleError, runClient } from "@sfprompt/core";
import { fashionSubsets, tinyBundle, type BundleFixture } from "./bundle-fixture.js";
import { jobConfig } from "./job-fixture.js";

let nats: TestNats;
let bundle: BundleFixture;
let broken: string;
before(async () => {
  nats = await startNatsServer({ monitoring: true });
  bundle = tinyBundle();
  broken = mkdtempSync(join(tmpdir(), "sfprompt-broken-bundle-"));
  cpSync(bundle.dir, broken, { recursive: true });
  // the local-loss graph: read when the trainer is made (its FLOPs), not when the bundle loads
  const manifest = JSON.parse(readFileSync(join(broken, "manifest.json"), "utf8")) as {
    local: { file: string };
  };
  rmSync(join(broken, manifest.local.file));
});
after(async () => {
  await nats?.stop();
  bundle?.remove();
  if (broken) rmSync(broken, { recursive: true, force: true });
});

/** The subjects nats-server lists as subscribed by the connection named `name`. */
async function subscriptionsOf(name: string): Promise<string[]> {
  const res = await fetch(`${nats.monitorUrl}/connz?subs=1&limit=1024`);
  const body = (await res.json()) as { connections: { name?: string; subscriptions_list?: string[] }[] };
  const conn = body.connections.find((c) => c.name === name);
  assert.ok(conn !== undefined, `connection ${name} in /connz`);
  return conn.subscriptions_list ?? [];
}

test("a client whose trainer cannot be made fails with the bundle's error and keeps no subscription of its job", async () => {
  const config = jobConfig();
  const nc = await connect({ servers: nats.url, name: "client-start-failure" });
  try {
    const { train } = await fashionSubsets(4);
    await assert.rejects(
      runClient(config, 0, { nc, bundle: broken, data: train }),
      (e: unknown) =>
        e instanceof BundleError && /cannot read .*: the bundle is damaged: prepare it again/.test(e.message),
    );
    await nc.flush();
    const subjects = await subscriptionsOf("client-start-failure");
    assert.ok(
      !subjects.includes(jobSubjects(config.names.job).jobEnd),
      `the job-end subscription is left on the connection: ${subjects.join(", ")}`,
    );
  } finally {
    await nc.close();
  }
});
