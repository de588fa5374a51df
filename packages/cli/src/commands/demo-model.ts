// `sfprompt demo-model`: builds and pre-trains the demo ViT (the project's own weights) on first use
// and prints where it is cached and its card.
import type { Command } from "../command.js";
import { demoModelWithProgress } from "../run/pretrain-progress.js";
import { StatusLine } from "../run/progress-view.js";

export const demoModelCommand: Command = {
  name: "demo-model",
  summary: "build and pre-train the demo ViT on Fashion-MNIST (cached), and print its path and card",
  usage: "demo-model [--cache DIR]",
  flags: [
    {
      name: "cache",
      placeholder: "DIR",
      description: "cache root (default $SFPROMPT_CACHE or ~/.cache/sfprompt); the model goes to DIR/models/",
    },
  ],
  async run(flags, io) {
    const cacheDir = flags["cache"] === undefined ? undefined : String(flags["cache"]);
    const status = new StatusLine(process.stderr);
    const model = await demoModelWithProgress(status, cacheDir === undefined ? {} : { cacheDir });
    io.out(JSON.stringify({ path: model.path, built: model.built, card: model.card }, null, 2));
    return 0;
  },
};
