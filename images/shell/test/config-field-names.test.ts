// The server and client entry points on a run config they refuse (real child processes): the
// config.invalid line names the job's field the bad one was made from, as the job's author wrote it
// (spec.…, metadata.name), with the run config's own path beside it; a field the operator derives
// (names.…) is named as the run config has it. They named only the run config's path.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { ENTRY, runConfig, spawnEntry, tempDir } from "./harness.js";

const tmp = tempDir();
after(() => tmp.remove());

const NAME = "fields";
const good = runConfig({}, NAME);

const cases: {
  name: string;
  entry: string;
  config: unknown;
  env?: Record<string, string>;
  field: string;
  runConfigField?: string;
}[] = [
  {
    name: "a field the schema refuses (training.rounds 0), on the server",
    entry: ENTRY.server,
    config: { ...good, training: { ...good.training, rounds: 0 } },
    field: "spec.training.rounds",
    runConfigField: "training.rounds",
  },
  {
    name: "a field under a spec section (data.partitioning.alpha -1), on a client",
    entry: ENTRY.client,
    config: { ...good, data: { ...good.data, partitioning: { ...good.data.partitioning, alpha: -1 } } },
    field: "spec.data.partitioning.alpha",
    runConfigField: "data.partitioning.alpha",
  },
  {
    name: "a client count other than the pod's, on a client",
    entry: ENTRY.client,
    config: good,
    env: { SFPROMPT_CLIENT_COUNT: "5" },
    field: "spec.clients.count",
    runConfigField: "clients.count",
  },
  {
    name: "another job's name, on the server",
    entry: ENTRY.server,
    config: good,
    env: { SFPROMPT_JOB: "other" },
    field: "metadata.name",
    runConfigField: "job.name",
  },
  {
    name: "another subject prefix (derived by the operator), on the server",
    entry: ENTRY.server,
    config: good,
    env: { SFPROMPT_SUBJECT_PREFIX: "sfp.other" },
    field: "names.subjectPrefix",
  },
];

describe("config.invalid names the job's field", () => {
  for (const [i, c] of cases.entries()) {
    it(`${c.name}: ${c.field}`, async () => {
      const path = tmp.write(`config-${i}.json`, JSON.stringify(c.config));
      const proc = spawnEntry(c.entry, [], {
        SFPROMPT_RUN_CONFIG: path,
        SFPROMPT_JOB: NAME,
        SFPROMPT_NAMESPACE: "test",
        SFPROMPT_SUBJECT_PREFIX: good.names.subjectPrefix,
        SFPROMPT_CLIENT_INDEX: "0",
        SFPROMPT_CLIENT_COUNT: "2",
        NATS_URL: "nats://127.0.0.1:1", // refused before it connects
        SFPROMPT_HTTP_HOST: "127.0.0.1",
        SFPROMPT_HTTP_PORT: "0",
        ...c.env,
      });
      try {
        assert.equal((await proc.exited).code, 1, proc.stderr());
        const line = proc.logs.find((l) => l.event === "config.invalid");
        assert.ok(line, proc.stderr());
        assert.equal(line.path, path);
        assert.equal(line.field, c.field);
        assert.equal(line.runConfigField, c.runConfigField);
        const named =
          c.runConfigField === undefined ? c.field : `${c.field} (run config ${c.runConfigField})`;
        assert.ok(String(line.error).startsWith(`${path}: ${named}: `), String(line.error));
      } finally {
        proc.kill("SIGKILL");
      }
    });
  }
});
