// labelChanges: given the release's pods that carry the leader label, what the leader changes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { labelChanges, type LabelChanges, type LabelledPod } from "../../src/leader/leader-pod-label.js";

const pod = (name: string): LabelledPod => ({ name, resourceVersion: `rv-${name}` });

const cases: { name: string; labelled: LabelledPod[]; want: LabelChanges }[] = [
  { name: "no pod labelled: label this one", labelled: [], want: { labelSelf: true, clear: [] } },
  {
    name: "only this pod labelled: nothing to do",
    labelled: [pod("op-0")],
    want: { labelSelf: false, clear: [] },
  },
  {
    name: "a former leader still labelled: label this one and clear it at its resourceVersion",
    labelled: [pod("op-1")],
    want: { labelSelf: true, clear: [pod("op-1")] },
  },
  {
    name: "this pod and two stale ones labelled: clear both",
    labelled: [pod("op-2"), pod("op-0"), pod("op-1")],
    want: { labelSelf: false, clear: [pod("op-2"), pod("op-1")] },
  },
];
for (const c of cases) {
  test(`leader label: ${c.name}`, () => {
    assert.deepEqual(labelChanges(c.labelled, "op-0"), c.want);
  });
}
