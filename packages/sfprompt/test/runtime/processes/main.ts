// A server or client process for the process-kill tests, as thin as an image's entry point: read the
// run config, connect to NATS, run the role, print the outcome as one JSON line, exit.
// Usage: main.ts server|client CONFIG.json BUNDLE_DIR NATS_URL [CLIENT_INDEX]
import { readFileSync } from "node:fs";
import { connect } from "@nats-io/transport-node";
import { RunConfigSchema } from "@sfprompt/api";
import { jsonLogger, loadFashionMnist, partitionForJob, runClient, runServer } from "@sfprompt/core";

const [role, configPath, bundleDir, url, index] = process.argv.slice(2);
const config = RunConfigSchema.parse(JSON.parse(readFileSync(configPath!, "utf8")));
const nc = await connect({ servers: url! });
const logger = jsonLogger({ level: "warn" });
if (role === "server") {
  const evalData = await loadFashionMnist({ split: "test", perClass: 30 });
  const r = await runServer(config, {
    nc,
    bundle: bundleDir!,
    evalData,
    logger,
    pollWaitMs: 500,
    selectionWaitMs: 1500,
    lingerMs: 600,
  });
  const startedFrom = Object.fromEntries([...r.startedFrom].map(([k, t]) => [k, [...t.data]]));
  process.stdout.write(
    `${JSON.stringify({ resumedFrom: r.resumedFrom, rounds: r.rounds.map((m) => m.round), startedFrom })}\n`,
  );
} else {
  const train = await loadFashionMnist({ split: "train", perClass: 40 });
  const data = partitionForJob(train, config.data.partitioning, config.clients.count)[Number(index)]!;
  const r = await runClient(config, Number(index), {
    nc,
    bundle: bundleDir!,
    data,
    logger,
    retryDelayMs: 200,
  });
  process.stdout.write(`${JSON.stringify({ rounds: r.rounds })}\n`);
}
await nc.drain();
