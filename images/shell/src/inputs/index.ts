// @sfprompt/process-shell/inputs: the model, partition bundle and data a server or client process
// needs, resolved from the run config (kept apart from the shell so that it loads ORT only here).
export * from "./errors.js";
export * from "./bundle-dir.js";
export * from "./job-data.js";
export * from "./role-inputs.js";
export * from "./text-encoding.js";
