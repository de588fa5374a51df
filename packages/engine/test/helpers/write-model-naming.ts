// A model file whose external data location is one writeModel refuses to write (ADR 0006 amendment
// 12): the fixture of tests that prove such a model is refused where it is read.
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { writeModel, type Model } from "@sfprompt/engine";

/**
 * Writes `model` to `path` with its weights in one external data file that the model names by
 * `location` ("../w.bin"), the data at the place `location` leads to. writeModel writes a stand-in
 * name of the same length in the folder ("___w.bin"), the file is moved, and the name is replaced in
 * the model's bytes: a string of the same length keeps the protobuf framing as it is.
 */
export function writeModelNaming(path: string, model: Model, location: string): void {
  const name = basename(location);
  const stand = "_".repeat(location.length - name.length) + name;
  writeModel(path, model, { externalData: { location: stand } });
  renameSync(join(dirname(path), stand), join(dirname(path), location));
  const bytes = readFileSync(path).toString("latin1");
  if (bytes.split(stand).length < 2)
    throw new Error(`${path} names no external data (nothing past the threshold)`);
  writeFileSync(path, Buffer.from(bytes.replaceAll(stand, location), "latin1"));
}
