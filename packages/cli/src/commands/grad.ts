// `sfprompt grad`: writes the gradient model of an ONNX model (see @sfprompt/engine writeGradientModel).
import { dirname } from "node:path";
import { saveActivationsPaths, writeGradientModel, type GradientMode } from "@sfprompt/engine";
import type { Command } from "../command.js";
import { UsageError } from "../errors.js";
import { removeMadeDirs } from "../make-dirs.js";
import { flagsGradientError } from "../gradient-build-error.js";
import { modelFileError } from "../model-file-error.js";
import { makeOutDir } from "../out-dir.js";

export const gradCommand: Command = {
  name: "grad",
  summary: "write a model that computes the outputs and the gradients of chosen inputs/initializers",
  usage: "grad --model M.onnx --wrt a,b,... --out G.onnx [--mode recompute|save-activations]",
  flags: [
    { name: "model", placeholder: "M.onnx", description: "the ONNX model to differentiate", required: true },
    {
      name: "wrt",
      placeholder: "a,b,...",
      description: "comma-separated float graph inputs or initializers",
      required: true,
    },
    { name: "out", placeholder: "G.onnx", description: "where to write the gradient model", required: true },
    {
      name: "mode",
      placeholder: "MODE",
      description: "recompute (one model, default) or save-activations (G.onnx + G.backward.onnx)",
      choices: ["recompute", "save-activations"],
    },
  ],
  async run(flags, io) {
    const wrt = String(flags["wrt"])
      .split(",")
      .map((s) => s.trim());
    if (wrt.some((w) => w === ""))
      throw new UsageError("grad: --wrt has an empty name; separate names with single commas");
    const mode = (flags["mode"] ?? "recompute") as GradientMode;
    const out = String(flags["out"]);
    const made = makeOutDir(dirname(out), out);
    try {
      await writeGradientModel({ model: String(flags["model"]), wrt, out, mode });
    } catch (error) {
      removeMadeDirs(made, dirname(out)); // nothing half-made is left, nor the folders made for it
      throw flagsGradientError(error, String(flags["model"]), "grad") ?? modelFileError(error, "--model");
    }
    const written = mode === "recompute" ? [out] : Object.values(saveActivationsPaths(out));
    io.out(JSON.stringify({ event: "grad.written", mode, wrt, files: written }));
    return 0;
  },
};
