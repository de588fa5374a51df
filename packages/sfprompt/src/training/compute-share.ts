// The "local compute" metric of the method notes: the client's FLOPs per round divided by those of a
// federated full fine-tuning client doing the same epochs (forward + backward ≈ 3 × forward).
import { TrainingArgumentError } from "./errors.js";

/** One kind of work a client repeats per sample, e.g. the local-loss step or the EL2N scoring pass. */
export interface ClientRun {
  readonly name: string;
  /** FLOPs of one sample through the graph(s) this run executes (graphFlops of forward + VJP). */
  readonly flopsPerSample: number;
  /** Samples processed in the round (epochs × samples per epoch). */
  readonly samples: number;
}

function nonNegative(v: number, field: string): void {
  if (!(v >= 0) || !Number.isFinite(v))
    throw new TrainingArgumentError(`${field} must be a finite number ≥ 0, got ${v}`, field);
}

/** Σ flopsPerSample · samples over a client's runs in one round. */
export function clientRoundFlops(runs: readonly ClientRun[]): number {
  let total = 0;
  for (const r of runs) {
    nonNegative(r.flopsPerSample, `${r.name}.flopsPerSample`);
    nonNegative(r.samples, `${r.name}.samples`);
    total += r.flopsPerSample * r.samples;
  }
  return total;
}

/** FL full fine-tuning client work: forward + backward of the whole model ≈ 3 × forward, per sample. */
export function fullFineTuningFlops(
  forwardFlopsPerSample: number,
  samplesPerEpoch: number,
  epochs: number,
): number {
  nonNegative(forwardFlopsPerSample, "forwardFlopsPerSample");
  nonNegative(samplesPerEpoch, "samplesPerEpoch");
  nonNegative(epochs, "epochs");
  return 3 * forwardFlopsPerSample * samplesPerEpoch * epochs;
}

/** Inputs of the ratio: the client's measured FLOPs and the baseline's data and epochs. */
export interface ComputeShareInput {
  readonly clientFlops: number;
  /** Forward FLOPs of one sample through the whole (unsplit) model. */
  readonly fullForwardFlopsPerSample: number;
  /** |D_k|: the baseline client trains on all its samples. */
  readonly samplesPerEpoch: number;
  /** Epochs the compared client runs (SFPrompt's local-loss + split epochs). */
  readonly epochs: number;
}

/** The ratio with both sides, so reports can show numerator and denominator. */
export interface ComputeShare {
  readonly clientFlops: number;
  readonly baselineFlops: number;
  readonly share: number;
}

/** clientFlops / (3 · forward · samples · epochs); throws when the baseline does no work. */
export function clientComputeShare(input: ComputeShareInput): ComputeShare {
  nonNegative(input.clientFlops, "clientFlops");
  const baselineFlops = fullFineTuningFlops(
    input.fullForwardFlopsPerSample,
    input.samplesPerEpoch,
    input.epochs,
  );
  if (baselineFlops === 0) {
    throw new TrainingArgumentError(
      "the full fine-tuning baseline does 0 FLOPs: no ratio exists",
      "baselineFlops",
    );
  }
  return { clientFlops: input.clientFlops, baselineFlops, share: input.clientFlops / baselineFlops };
}
