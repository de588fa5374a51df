// What a role resolves before it runs: the method check that names the field, and the bundle inputs
// taken from the process settings (flags and env, as readSettings reads them).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createLogger, readSettings } from "../src/index.js";
import { JobInputError, requireImageMethod, roleBundleInputs } from "../src/inputs/index.js";

describe("requireImageMethod", () => {
  test("accepts a method the image runs", () => {
    assert.doesNotThrow(() => requireImageMethod("sfprompt", ["sfprompt", "fl-full"]));
  });

  test("rejects another with a JobInputError that names the field and what the image runs", () => {
    assert.throws(
      () => requireImageMethod("centralized", ["sfprompt", "fl-full"]),
      (e: unknown) =>
        e instanceof JobInputError &&
        e.field === "spec.method" &&
        /centralized runs only with sfprompt run \(this image runs sfprompt, fl-full\)/.test(e.message),
    );
  });
});

describe("roleBundleInputs", () => {
  test("carries the settings' bundle, model and cache paths with the role's logger and signal", () => {
    const settings = readSettings(
      "client",
      ["--config", "/c.yaml", "--client-index", "0", "--bundle-dir", "/b", "--model-path", "/m.onnx"],
      { HOME: "/home/u" },
    );
    const logger = createLogger({ write: () => {} });
    const signal = new AbortController().signal;
    const inputs = roleBundleInputs({ settings, logger, signal });
    assert.deepEqual(
      { bundleDir: inputs.bundleDir, modelPath: inputs.modelPath, cacheDir: inputs.cacheDir },
      { bundleDir: "/b", modelPath: "/m.onnx", cacheDir: "/home/u/.cache/sfprompt" },
    );
    assert.equal(inputs.logger, logger);
    assert.equal(inputs.signal, signal);
  });
});
