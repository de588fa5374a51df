// Prints the path of the demo model (`model.source.builtin: demo`) in this machine's cache, pre-training
// it first when absent (about a minute on 2 cores), so the e2e images can carry it.
import { ensureDemoModel } from "@sfprompt/core";

const model = await ensureDemoModel();
process.stdout.write(`${model.path}\n`);
