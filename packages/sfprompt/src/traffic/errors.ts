// The traffic planner's error: an input it cannot size frames from, naming the field or tensor.

/** A model, job or flag the planner cannot plan with; `field` names it. */
export class TrafficPlanError extends Error {
  override readonly name = "TrafficPlanError";
  constructor(
    readonly field: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${field}: ${detail}`, options);
  }
}
