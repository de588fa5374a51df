// A finished job whose status was lost while its NATS cannot be reached gets its ROUND back from its
// outcome record, on a real kube-apiserver and a real nats-server stopped before the loss: the record
// keeps the round the status had when the job finished (ADR 0034, amendment 8). Before, its read-back
// needed the event stream, and the job showed 0/4 for as long as NATS was away. With a valid spec and
// with one that no longer reads (reportInvalid); older CRD, so that a spec zod refuses can be stored.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { connect } from "@nats-io/transport-node";
import { installOlderCrd } from "../older-crd-rules.js";
import { failedAfterTwoRounds, finishedJobHelpers, OUTCOME, reads } from "./finished-jobs.js";
import {
  condition,
  patchJobSpec,
  runOperator,
  startWorld,
  testConfig,
  waitForJob,
  type OperatorWorld,
} from "./harness.js";

const w = {} as OperatorWorld;
before(async () => {
  w.world = await startWorld({ nats: true });
  await installOlderCrd(w.world);
  w.operator = await runOperator(w.world, testConfig(w.world));
  w.nc = await connect({ servers: w.world.nats!.url });
});
after(async () => {
  if (!w.nc?.isClosed()) await w.nc?.drain();
  await w.operator?.stop();
  await w.world?.stop();
});
const { whileStopped, writeStatus, configMap } = finishedJobHelpers(w);

test("a finished job's status lost while NATS is away comes back with the round its outcome record kept", async () => {
  for (const name of ["nonats-valid", "nonats-invalid"]) {
    await failedAfterTwoRounds(w, name);
    const record = JSON.parse((await configMap(name)).annotations[OUTCOME]!) as Record<string, unknown>;
    assert.deepEqual([record.reason, record.round], ["ModelNotFound", 2], `${name}'s outcome record`);
  }
  await patchJobSpec(w.world, "nonats-invalid", { training: { quorum: { count: 3, fraction: null } } });
  await waitForJob(
    w.world,
    "nonats-invalid",
    (j) => condition(j, "SpecRejected")?.status === "True",
    "nonats-invalid's spec rejected",
  );
  const gone = new Map<string, string>();
  await whileStopped(async () => {
    // NATS away for good: the operator that starts next can read no event stream
    await w.nc.close();
    await w.world.nats!.stop();
    for (const name of ["nonats-valid", "nonats-invalid"]) gone.set(name, await writeStatus(name, null));
  });
  for (const name of ["nonats-valid", "nonats-invalid"]) {
    const back = await waitForJob(
      w.world,
      name,
      (j) => reads(j) && j.metadata!.resourceVersion !== gone.get(name) && j.status?.phase === "Failed",
      `${name}'s status written again`,
    );
    assert.equal(condition(back, "Failed")?.reason, "ModelNotFound", `${name}: its reason, from the record`);
    assert.deepEqual(
      [back.status?.round, back.status?.rounds, back.status?.progress],
      [2, 4, "2/4"],
      `${name}: the round its record kept, the rounds of its kept run config`,
    );
  }
});
