// The check the body-service batching tests share: concurrent forwards answered from shared session
// runs must equal the same forwards run one by one, and every request must have run exactly once.
import assert from "node:assert/strict";
import { tensorByName, type DecodedFrame } from "@sfprompt/protocol";

/**
 * Each reply's `output` tensor equals `oneByOne(i)` within 1e-5, and `groups` (the session run sizes
 * the service recorded) covers every request once in fewer runs than requests.
 */
export async function assertBatchedLikeOneByOne(
  replies: readonly DecodedFrame[],
  output: string,
  oneByOne: (i: number) => Promise<{ dims: readonly number[]; data: ArrayLike<number> }>,
  groups: readonly number[],
): Promise<void> {
  for (const [i, r] of replies.entries()) {
    const got = tensorByName(r, output);
    const want = await oneByOne(i);
    assert.deepEqual(got.shape, want.dims);
    (got.data as Float32Array).forEach((v, k) => assert.ok(Math.abs(v - want.data[k]!) < 1e-5, `${i}[${k}]`));
  }
  assert.equal(
    groups.reduce((a, b) => a + b, 0),
    replies.length,
    "every request ran once",
  );
  assert.ok(groups.length < replies.length, `requests shared a run (groups ${JSON.stringify(groups)})`);
}
