// Errors of the demo model: a recipe that does not fit together, and a cache that cannot be used.

/** A demo recipe field has a value the builder cannot use. */
export class DemoRecipeError extends Error {
  override readonly name = "DemoRecipeError";
  constructor(
    readonly field: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`demo recipe: ${field} ${detail}`, options);
  }
}

/** The model cache folder cannot be read or written, or holds a broken entry. */
export class DemoCacheError extends Error {
  override readonly name = "DemoCacheError";
  constructor(
    readonly path: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`demo model cache ${path}: ${detail}`, options);
  }
}
