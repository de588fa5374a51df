import { test } from "node:test";
import assert from "node:assert/strict";
import type { Status } from "@sfprompt/api";
import { WrittenStatus } from "../../src/status/written-status.js";

const pending: Status = { phase: "Pending", round: 0 };
const running: Status = { phase: "Running", round: 0 };
const later: Status = { phase: "Running", round: 1 };

test("a cache that still shows the replaced status is seen through; one that caught up is trusted again", () => {
  const w = new WrittenStatus();
  w.record("u1", pending, running);
  assert.deepEqual(w.current("u1", pending), running, "stale cache: use what was written");
  assert.deepEqual(w.current("u1", running), running, "caught up");
  assert.deepEqual(w.current("u1", pending), pending, "memo dropped once the cache caught up");
  w.record("u1", running, later);
  assert.deepEqual(w.current("u2", running), running, "other jobs are unaffected");
  w.forget("u1");
  assert.deepEqual(w.current("u1", running), running);
});
