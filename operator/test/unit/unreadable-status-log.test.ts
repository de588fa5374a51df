// The warn line for a stored status that does not read: once per job and resourceVersion, whichever
// reader (reconcile, scrape) meets it first; again for a new resourceVersion or after the job is gone.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createLogger } from "../../src/log.js";
import { UnreadableStatusLog, unreadableEventMessage } from "../../src/status/unreadable-status.js";

const issues = [{ path: "status.startTime", message: "Invalid ISO datetime" }];
const job = (name: string, resourceVersion: string) => ({
  metadata: { name, namespace: "team-a", uid: `uid-${name}`, resourceVersion },
});

test("one warn line per job and resourceVersion, with the job, its namespace and the issues as fields", () => {
  const lines: string[] = [];
  const log = new UnreadableStatusLog(createLogger({ write: (l) => lines.push(l) }));
  assert.equal(log.report(job("a", "10"), issues), true);
  assert.equal(log.report(job("a", "10"), issues), false, "the same object again: quiet");
  assert.equal(log.report(job("b", "10"), issues), true, "another job");
  assert.equal(log.report(job("a", "11"), issues), true, "a new resourceVersion");
  log.forget("uid-a");
  assert.equal(log.report(job("a", "11"), issues), true, "after the job was forgotten");
  const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(
    parsed.map((p) => [p.level, p.job, p.namespace, p.resourceVersion]),
    [
      ["warn", "a", "team-a", "10"],
      ["warn", "b", "team-a", "10"],
      ["warn", "a", "team-a", "11"],
      ["warn", "a", "team-a", "11"],
    ],
  );
  assert.deepEqual(parsed[0]!.issues, issues);
  assert.equal(
    parsed[0]!.msg,
    "stored status does not read as this operator's API; the operator keeps the fields that read and writes the others again from the job's progress (its pods and event stream)",
  );
});

test("the Event names at most four issues and counts the rest", () => {
  const many = [1, 2, 3, 4, 5, 6].map((i) => ({ path: `status.clients[${i}].index`, message: "x" }));
  const message = unreadableEventMessage(many);
  assert.match(message, /\(status\.clients\[1\]\.index: x; .*status\.clients\[4\]\.index: x and 2 more\); /);
  assert.ok(!message.includes("clients[5]"));
});
