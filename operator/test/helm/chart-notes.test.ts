// The install notes' first job, rendered by helm: it must land in a namespace the operator watches.
// With operator.watchNamespaces set, the notes' `kubectl apply` went to the user's current namespace
// (usually default, which the operator then ignores: the job stays without status) and the notes read
// its rounds from jobs/default/demo.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { helm } from "@sfprompt/kube-testing";
import { CHART, NAMESPACE, RELEASE } from "./chart.js";

async function installNotes(values: Record<string, unknown>): Promise<string> {
  const set = Object.entries(values).flatMap(([k, v]) => ["--set-json", `${k}=${JSON.stringify(v)}`]);
  const r = await helm(["install", RELEASE, CHART, "--namespace", NAMESPACE, "--dry-run=client", ...set]);
  return r.stdout.slice(r.stdout.indexOf("NOTES:"));
}

const cases = [
  { name: "watching every namespace", values: {}, ns: "default" },
  { name: "watching two namespaces", values: { "operator.watchNamespaces": ["team-a", "team-b"] }, ns: "team-a" },
];

describe("the install notes' demo job", () => {
  for (const c of cases) {
    it(`is created, watched and read in a namespace the operator watches (${c.name})`, async () => {
      const notes = await installNotes(c.values);
      assert.match(notes, new RegExp(`kubectl apply -n ${c.ns} -f -`), notes);
      assert.match(notes, new RegExp(`kubectl get sfpj -n ${c.ns} -w`), notes);
      assert.match(notes, new RegExp(`kubectl describe sfpj -n ${c.ns} demo`), notes);
      assert.match(notes, new RegExp(`/proxy/jobs/${c.ns}/demo/accuracy\\.svg`), notes);
    });
  }
});
