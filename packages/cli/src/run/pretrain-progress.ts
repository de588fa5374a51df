// The demo model's pre-training as `sfprompt run` and `sfprompt demo-model` show it: a bar on a TTY,
// a line every 10 % otherwise.
import { ensureDemoModel, type DemoModel, type PretrainProgress } from "@sfprompt/core";
import { bar, formatDuration, StatusLine } from "./progress-view.js";
import { plural } from "../plural.js";

export interface DemoModelOptions {
  readonly cacheDir?: string;
  readonly signal?: AbortSignal;
}

/** The demo model, pre-training it (with progress on `out`) when the cache lacks it. */
export async function demoModelWithProgress(
  out: StatusLine,
  options: DemoModelOptions = {},
): Promise<DemoModel> {
  const started = Date.now();
  let lastDecile = -1;
  const onProgress = (p: PretrainProgress): void => {
    const f = p.step / p.steps;
    const elapsed = (Date.now() - started) / 1000;
    const eta = f > 0 ? formatDuration((elapsed * (1 - f)) / f) : "?";
    const text =
      `pre-training demo ViT on Fashion-MNIST ${bar(f)} ${(f * 100).toFixed(0)}% ` +
      `epoch ${p.epoch + 1}/${p.epochs} step ${p.step}/${p.steps} loss ${p.loss.toFixed(3)} eta ${eta}`;
    if (out.tty) out.status(text);
    else if (Math.floor(f * 10) > lastDecile) {
      lastDecile = Math.floor(f * 10);
      out.line(text);
    }
  };
  const model = await ensureDemoModel({
    ...(options.cacheDir === undefined ? {} : { cacheDir: options.cacheDir }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    onProgress,
    onBuildStart: (dir) =>
      out.line(
        `demo model: not cached; pre-training the project's own ViT on Fashion-MNIST (once) into ${dir}`,
      ),
  });
  out.clear();
  const c = model.card;
  out.line(
    `demo model: ${model.built ? "pre-trained" : "cached"} ${model.path} ` +
      `(Fashion-MNIST test accuracy ${(c.testAccuracy * 100).toFixed(1)}%, ${plural(c.epochs, "epoch")} on ` +
      `${plural(c.data.trainSamples, "sample")}, ${formatDuration(c.seconds)})`,
  );
  return model;
}
