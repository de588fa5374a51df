// Errors of resolving a process's inputs (model, partition bundle, data) from the run config.

// The model, bundle or data the run config names cannot be had in this process (one class with
// sfprompt run's processes).
export { JobInputError } from "@sfprompt/core";

/** The process setting of its cache folder, as the images read it (the CLI's is SFPROMPT_CACHE). */
export const CACHE_DIR_SETTING = "--cache-dir / SFPROMPT_CACHE_DIR";

/** The process setting of a prepared bundle folder it is given. */
export const BUNDLE_DIR_SETTING = "--bundle-dir / SFPROMPT_BUNDLE_DIR";
