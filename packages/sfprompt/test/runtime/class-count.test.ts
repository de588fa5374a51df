// spec.classes.numClasses against the job's data: the built-in sets' classes (read from no file) and
// the labels of loaded data, each refused with the field, the largest label and what to do.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkBuiltinClasses, checkLabelsFit, ClassCountError, createDataset } from "../../src/index.js";
import { jobConfig } from "./job-fixture.js";

/** Loaded data of `labels`, one 1-element sample each, with `names` as its classes. */
function data(labels: number[], names: string[]): ReturnType<typeof createDataset> {
  return createDataset({
    x: new Float32Array(labels.length),
    sampleShape: [1],
    labels: Int32Array.from(labels),
    classNames: names,
  });
}

function refusal(f: () => void): string {
  try {
    f();
  } catch (error) {
    assert.ok(error instanceof ClassCountError, String(error));
    assert.equal(error.field, "spec.classes.numClasses");
    return error.message;
  }
  assert.fail("not refused");
}

describe("checkBuiltinClasses", () => {
  it("refuses fewer classes than the built-in source has, naming its largest label and class", () => {
    const c = jobConfig({ classes: { numClasses: 5 } });
    assert.match(
      refusal(() => checkBuiltinClasses(c)),
      /^spec\.classes\.numClasses: is 5, but spec\.data\.source \(builtin: fashion-mnist\) holds label 9 \("Ankle boot"\), of 10 classes: .*set numClasses to 10 \(or more\)/,
    );
  });

  it("names spec.data.evalSource when the held-out set is the one with more classes", () => {
    const c = jobConfig({
      classes: { numClasses: 5 },
      data: { source: { jsonl: { path: "/data/train.jsonl" } }, evalSource: { builtin: "digits" } },
    });
    assert.match(
      refusal(() => checkBuiltinClasses(c)),
      /but spec\.data\.evalSource \(builtin: digits\) holds label 9/,
    );
  });

  it("takes as many classes as the set has, or more", () => {
    for (const numClasses of [10, 12]) checkBuiltinClasses(jobConfig({ classes: { numClasses } }));
  });
});

describe("checkLabelsFit", () => {
  it("refuses loaded data with a label at or beyond numClasses, naming it and its class", () => {
    const c = jobConfig({ classes: { numClasses: 2 } });
    assert.match(
      refusal(() => checkLabelsFit(c, data([0, 2, 1], ["cat", "dog", "owl"]), "spec.data.source")),
      /^spec\.classes\.numClasses: is 2, but spec\.data\.source holds label 2 \("owl"\), of 3 classes: the classifier predicts labels 0\.\.1 only/,
    );
  });

  it("takes data whose labels are all below numClasses, though it names more classes", () => {
    checkLabelsFit(
      jobConfig({ classes: { numClasses: 2 } }),
      data([0, 1, 1], ["a", "b", "c"]),
      "spec.data.source",
    );
  });
});
