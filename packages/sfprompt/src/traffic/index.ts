// The traffic planner (docs/traffic.md): what each method sends per round, by encoding real frames.
export * from "./errors.js";
export * from "./frame-bytes.js";
export * from "./traffic-shapes.js";
export * from "./round-exchanges.js";
export * from "./plan-traffic.js";
export * from "./compare-methods.js";
