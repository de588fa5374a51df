// A finished job whose status was lost and read back is left alone once read back, on a real
// kube-apiserver and nats-server: over several resyncs no status write, no ConfigMap write, no new
// Event (STYLE: one status write per reconcile, and none when nothing changed; an event per resync for
// the same fact is a bug). Cases: a valid spec with its round from the stream (ADR 0034 amendment 6), a
// spec that no longer reads with its outcome record written by reportInvalid (ADR 0023 amendment 25),
// and a job held as OutcomeUnknown (ADR 0023 amendments 21, 23, 26). reportInvalid's status writes
// are counted in sfprompt_operator_status_patches_total (ADR 0023 amendment 29).
import assert from "node:assert/strict";
import { test } from "node:test";
import { GROUP, PLURAL, VERSION } from "@sfprompt/api";
import { waitFor } from "@sfprompt/kube-testing";
import { childNames } from "../../src/names.js";
import { jobManifest } from "../fixtures.js";
import { installOlderCrd } from "../older-crd-rules.js";
import { OUTCOME, reads, failedAfterTwoRounds, finishedJobHelpers } from "./finished-jobs.js";
import {
  condition,
  createJob,
  operatorWorldHooks,
  patchJobSpec,
  waitForJob,
  type JobObject,
} from "./harness.js";

// without the quorum-vs-fraction rule, so that a spec zod refuses can be stored
const w = operatorWorldHooks(installOlderCrd);
const { whileStopped, writeStatus, annotate } = finishedJobHelpers(w);

/** What a reconcile could write for the job: its status, its ConfigMap, its Events. */
async function written(name: string): Promise<{ job: string; configMap: string; events: string[] }> {
  const job = (await w.world.custom.getNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    plural: PLURAL,
    namespace: "default",
    name,
  })) as JobObject;
  const cm = await w.world.core.readNamespacedConfigMap({
    name: childNames(name).configMap,
    namespace: "default",
  });
  const events = await w.world.core.listNamespacedEvent({
    namespace: "default",
    fieldSelector: `involvedObject.name=${name}`,
  });
  return {
    job: job.metadata!.resourceVersion!,
    configMap: cm.metadata!.resourceVersion!,
    events: events.items.map((e) => `${e.reason}: ${e.message}`).sort(),
  };
}

test("a finished job read back after its status was lost is not written again, nor told again, on later resyncs", async () => {
  // valid spec, round from the stream
  await failedAfterTwoRounds(w, "quiet-valid");
  // invalid spec, no outcome record: reportInvalid writes it (amendment 25) and reads the round back
  await failedAfterTwoRounds(w, "quiet-invalid");
  await patchJobSpec(w.world, "quiet-invalid", { training: { quorum: { count: 3, fraction: null } } });
  await waitForJob(
    w.world,
    "quiet-invalid",
    (j) => condition(j, "SpecRejected")?.status === "True",
    "quiet-invalid's spec rejected",
  );
  // held as OutcomeUnknown: a deadline (on no stream) and no outcome record
  await createJob(w.world, jobManifest("quiet-held", { clients: { count: 1 }, activeDeadlineSeconds: 1 }));
  await waitForJob(
    w.world,
    "quiet-held",
    (j) => condition(j, "Failed")?.reason === "DeadlineExceeded",
    "quiet-held to pass its deadline",
  );
  const gone = new Map<string, string>();
  await whileStopped(async () => {
    await annotate("quiet-invalid", { [OUTCOME]: null });
    await annotate("quiet-held", { [OUTCOME]: null });
    for (const name of ["quiet-valid", "quiet-invalid", "quiet-held"])
      gone.set(name, await writeStatus(name, null));
  });
  const back = (name: string, what: (j: JobObject) => boolean) =>
    waitForJob(
      w.world,
      name,
      (j) => reads(j) && j.metadata!.resourceVersion !== gone.get(name) && what(j),
      `${name} read back`,
      30_000,
    );
  await back("quiet-valid", (j) => j.status?.progress === "2/4");
  await back(
    "quiet-invalid",
    (j) => j.status?.progress === "2/4" && condition(j, "Failed")?.reason === "ModelNotFound",
  );
  await back("quiet-held", (j) => condition(j, "Failed")?.reason === "OutcomeUnknown");
  await waitFor(
    async () =>
      (
        await w.world.core.readNamespacedConfigMap({
          name: childNames("quiet-invalid").configMap,
          namespace: "default",
        })
      ).metadata?.annotations?.[OUTCOME],
    { timeoutMs: 15_000, description: "quiet-invalid's outcome recorded" },
  );
  // what the read-back reconciles wrote has settled once two resync passes (3 jobs each) have run after it
  const passes = () => w.operator.metrics.reconciles.get({ result: "success" });
  const settle = passes();
  await waitFor(async () => passes() >= settle + 6 || undefined, {
    timeoutMs: 60_000,
    description: "two resync passes after the read-back",
  });
  const names = ["quiet-valid", "quiet-invalid", "quiet-held"];
  const before = await Promise.all(names.map(written));
  const writes = w.operator.metrics.statusWrites.get();
  // three more resyncs of each of the three jobs (every 5 s, testConfig)
  const start = passes();
  await waitFor(async () => passes() >= start + 9 || undefined, {
    timeoutMs: 90_000,
    description: "three more resync passes",
  });
  const later = await Promise.all(names.map(written));
  names.forEach((name, i) => assert.deepEqual(later[i], before[i], `${name}: nothing written again`));
  assert.equal(
    w.operator.metrics.statusWrites.get(),
    writes,
    "no status write on a resync with nothing changed",
  );
});

test("a status written for a spec that does not read is counted in sfprompt_operator_status_patches_total", async () => {
  // a fresh operator counts from 0; the jobs above are settled (the test above) and write nothing
  await whileStopped(async () => undefined);
  const settled = w.operator.metrics.statusWrites.get();
  await createJob(
    w.world,
    jobManifest("counted-invalid", { clients: { count: 1 }, training: { quorum: { count: 3 } } }),
  );
  await waitForJob(
    w.world,
    "counted-invalid",
    (j) => condition(j, "Failed")?.reason === "InvalidSpec",
    "counted-invalid Failed with InvalidSpec",
  );
  assert.ok(
    w.operator.metrics.statusWrites.get() > settled,
    `reportInvalid's status write counted (${settled} before, ${w.operator.metrics.statusWrites.get()} after)`,
  );
});
