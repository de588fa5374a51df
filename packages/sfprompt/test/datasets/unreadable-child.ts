// Loads one built-in data set from its default place (the environment variable the test sets) and
// prints the outcome as JSON: run by unreadable-builtin.test.ts as a user who cannot read the file.
import { loadDebianSections } from "../../src/datasets/debian-sections.js";
import { loadSklearnDigits } from "../../src/datasets/sklearn-digits.js";

const which = process.argv[2];
try {
  const ds =
    which === "digits"
      ? await loadSklearnDigits()
      : await loadDebianSections({ split: "train", tokenize: () => [1], seqLen: 2, padId: 0 });
  console.log(JSON.stringify({ loaded: ds.labels.length }));
} catch (e) {
  const err = e as Error;
  console.log(JSON.stringify({ name: err.name, message: err.message }));
}
