// How the JSON Lines readers keep their samples: a line's field checked as an array of finite numbers
// (or integers), and the rows appended to a typed array that grows by doubling.
import { DatasetFormatError } from "./errors.js";

/** `value`, the line's `field` at `where`, as numbers; refused unless an array of finite numbers (integers). */
export function numberArray(value: unknown, field: string, where: string, integers: boolean): number[] {
  const ok =
    Array.isArray(value) &&
    value.every((v) => typeof v === "number" && Number.isFinite(v) && (!integers || Number.isInteger(v)));
  if (!ok)
    throw new DatasetFormatError(
      where,
      `"${field}" must be an array of finite ${integers ? "integers" : "numbers"}`,
    );
  return value as number[];
}

// Grows a typed array by doubling; `take` gives the filled part.
export class Growing<A extends Float32Array | Int32Array> {
  #data: A;
  #used = 0;
  /**
   * `rows`: how many rows (calls of `next`, each of one size) the caller expects, when it knows
   * (a file's lines counted first): the first `next` allocates them all, and `take` then hands out the
   * array without a copy when they came.
   */
  constructor(
    private readonly make: (n: number) => A,
    private readonly rows?: number,
  ) {
    this.#data = make(rows === undefined ? 1024 : 0);
  }
  /** The next `n` elements, for the caller to fill. */
  next(n: number): A {
    if (this.#used + n > this.#data.length) {
      const want = this.#used === 0 && this.rows !== undefined ? this.rows * n : 2 * this.#data.length;
      const bigger = this.make(Math.max(want, this.#used + n));
      bigger.set(this.#data.subarray(0, this.#used));
      this.#data = bigger;
    }
    this.#used += n;
    return this.#data.subarray(this.#used - n, this.#used) as A;
  }
  take(): A {
    return this.#used === this.#data.length ? this.#data : (this.#data.slice(0, this.#used) as A);
  }
}
