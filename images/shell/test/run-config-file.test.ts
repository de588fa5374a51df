// Run config files: an SFPromptRunConfig or an SFPromptJob manifest, in YAML or JSON, validated with
// the api's schemas; errors and identity checks name the field.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import yaml from "js-yaml";
import { toRunConfig, applyDefaults } from "@sfprompt/api";
import {
  ConfigFileError,
  applyOverrides,
  checkIdentity,
  parseRunConfigText,
  readSettings,
} from "../src/index.js";
import { runConfig } from "./harness.js";

const manifest = {
  apiVersion: "sfprompt.io/v1alpha1",
  kind: "SFPromptJob",
  metadata: { name: "m1", namespace: "ns" },
  spec: { clients: { count: 3 } },
};

describe("parseRunConfigText", () => {
  test("a run config in JSON and the same in YAML parse to the same object", () => {
    const c = runConfig({}, "same");
    const fromJson = parseRunConfigText("c.json", JSON.stringify(c));
    const fromYaml = parseRunConfigText("c.yaml", yaml.dump(c));
    assert.equal(fromJson.source, "run-config");
    assert.deepEqual(fromJson.config, c);
    assert.deepEqual(fromYaml.config, c);
  });

  test("a job manifest is resolved with toRunConfig", () => {
    const loaded = parseRunConfigText("job.yaml", yaml.dump(manifest));
    assert.equal(loaded.source, "job-manifest");
    assert.deepEqual(loaded.config, toRunConfig(applyDefaults(manifest)));
    assert.equal(loaded.config.names.job, "ns_m1");
  });

  const c = runConfig({}, "bad");
  // said: the job's field first where the run config's was made from one (config-field-names)
  // says: the message after the field, where it is checked
  const bad: { name: string; text: string; field: string; said?: string; says?: RegExp }[] = [
    {
      name: "rounds 0",
      text: JSON.stringify({ ...c, training: { ...c.training, rounds: 0 } }),
      field: "training.rounds",
      said: "spec.training.rounds (run config training.rounds)",
    },
    { name: "an unknown top-level key", text: JSON.stringify({ ...c, extra: 1 }), field: "extra" },
    // a run config's paths are not the job's: no "kubectl explain sfpromptjob.training"
    {
      name: "a misspelt training field",
      text: JSON.stringify({ ...c, training: { ...c.training, roundz: 3 } }),
      field: "training.roundz",
      said: "spec.training.roundz (run config training.roundz)",
      says: /: is not a field here; check the spelling$/,
    },
    // it was "is required (a mapping)": parsed without the input, a wrong type read as missing
    {
      name: "a number where training's mapping goes",
      text: JSON.stringify({ ...c, training: 4 }),
      field: "training",
      said: "spec.training (run config training)",
      says: /: must be a mapping \(got 4\)$/,
    },
    { name: "a wrong kind", text: JSON.stringify({ ...c, kind: "Other" }), field: "kind" },
    {
      name: "a manifest with clients.count 0",
      text: yaml.dump({ ...manifest, spec: { clients: { count: 0 } } }),
      field: "spec.clients.count",
    },
    { name: "a list instead of an object", text: "- 1\n- 2\n", field: "(root)" },
    { name: "text that is not YAML", text: "a: [1,\n", field: "(file)" },
  ];
  for (const b of bad) {
    test(`${b.name} is refused naming ${b.field}`, () => {
      assert.throws(
        () => parseRunConfigText("f", b.text),
        (e: unknown) =>
          e instanceof ConfigFileError &&
          e.field === b.field &&
          e.message.startsWith(`f: ${b.said ?? b.field}: `) &&
          (b.says === undefined || b.says.test(e.message)),
      );
    });
  }
});

describe("checkIdentity and applyOverrides", () => {
  const c = runConfig({}, "who");
  const cases: { name: string; env: Record<string, string>; field?: string }[] = [
    {
      name: "matching env passes",
      env: {
        SFPROMPT_JOB: "who",
        SFPROMPT_NAMESPACE: "test",
        SFPROMPT_SUBJECT_PREFIX: "sfp.test_who",
        SFPROMPT_CLIENT_COUNT: "2",
      },
    },
    { name: "another job's name", env: { SFPROMPT_JOB: "other" }, field: "job.name" },
    { name: "another namespace", env: { SFPROMPT_NAMESPACE: "prod" }, field: "job.namespace" },
    {
      name: "another subject prefix",
      env: { SFPROMPT_SUBJECT_PREFIX: "sfp.x" },
      field: "names.subjectPrefix",
    },
    { name: "another client count", env: { SFPROMPT_CLIENT_COUNT: "5" }, field: "clients.count" },
    { name: "a client index beyond the count", env: { SFPROMPT_CLIENT_INDEX: "2" }, field: "clients.count" },
  ];
  for (const k of cases) {
    test(k.field ? `${k.name} is refused naming ${k.field}` : k.name, () => {
      const s = readSettings("client", [], { SFPROMPT_CONFIG: "f", SFPROMPT_CLIENT_INDEX: "0", ...k.env });
      if (k.field === undefined) return assert.doesNotThrow(() => checkIdentity("f", c, s));
      assert.throws(
        () => checkIdentity("f", c, s),
        (e: unknown) => e instanceof ConfigFileError && e.field === k.field,
      );
    });
  }

  test("the NATS URL and execution provider settings override the config; nothing else changes", () => {
    const s = readSettings("server", ["--nats-url", "nats://x:1", "--execution-provider", "cuda"], {
      SFPROMPT_CONFIG: "f",
    });
    const o = applyOverrides(c, s);
    assert.equal(o.transport.url, "nats://x:1");
    assert.equal(o.server.executionProvider, "cuda");
    assert.deepEqual({ ...o, transport: c.transport, server: c.server }, c);
    assert.equal(c.transport.url, undefined, "the input is not mutated");
  });
});
