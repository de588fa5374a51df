// Optimizer state to and from bytes (checkpoint/resume), on top of the ParamSet codec: slot tensors
// are stored as "<slot>/<param>", the kind and step in the metadata.
import { ParamSetCodecError, ParamSetMismatchError } from "./errors.js";
import type { OptimizerConfig, OptimizerKind } from "./optimizer-config.js";
import type { OptimizerState } from "./optimizer.js";
import { decodeParamSetWithMeta, encodeParamSet } from "./param-set-codec.js";
import { assertSameLayout, type ParamSet } from "./param-set.js";

const FORMAT = "sfprompt-optimizer-state";
const KINDS: readonly OptimizerKind[] = ["sgd", "adam", "adamw"];

interface Meta {
  format: typeof FORMAT;
  kind: OptimizerKind;
  step: number;
  slots: string[];
}

/** Serialises optimizer state to bytes. */
export function encodeOptimizerState(state: OptimizerState): Uint8Array {
  const flat: ParamSet = new Map();
  const slots = Object.keys(state.slots);
  for (const s of slots) {
    for (const [name, t] of state.slots[s] as ParamSet) flat.set(`${s}/${name}`, t);
  }
  const meta: Meta = { format: FORMAT, kind: state.kind, step: state.step, slots };
  return encodeParamSet(flat, meta);
}

function readMeta(meta: unknown, source: string): Meta {
  const m = meta as Partial<Meta> | undefined;
  if (
    !m ||
    m.format !== FORMAT ||
    !KINDS.includes(m.kind as OptimizerKind) ||
    !Number.isInteger(m.step) ||
    (m.step as number) < 0 ||
    !Array.isArray(m.slots)
  ) {
    throw new ParamSetCodecError(`${source} is not optimizer state (metadata ${JSON.stringify(meta)})`);
  }
  return m as Meta;
}

/** Options: `config` and `params` make a state for another optimizer or another model an error. */
export interface DecodeOptimizerStateOptions {
  readonly config?: OptimizerConfig;
  readonly params?: ParamSet;
  readonly source?: string;
}

/** Decodes bytes from encodeOptimizerState, checking kind and layout when told what to expect. */
export function decodeOptimizerState(
  bytes: Uint8Array,
  opts: DecodeOptimizerStateOptions = {},
): OptimizerState {
  const source = opts.source ?? "optimizer state";
  const { params: flat, meta } = decodeParamSetWithMeta(bytes, { source });
  const m = readMeta(meta, source);
  if (opts.config && opts.config.kind !== m.kind) {
    throw new ParamSetMismatchError(
      `${source} was saved by '${m.kind}' but the job uses '${opts.config.kind}': start the optimizer fresh`,
      undefined,
    );
  }
  const slots: Record<string, ParamSet> = {};
  for (const s of m.slots) slots[s] = new Map();
  for (const [key, t] of flat) {
    const cut = key.indexOf("/");
    const target = cut > 0 ? slots[key.slice(0, cut)] : undefined;
    if (!target) throw new ParamSetCodecError(`${source} holds tensor '${key}' of no declared slot`);
    target.set(key.slice(cut + 1), t);
  }
  if (opts.params) {
    for (const s of m.slots)
      assertSameLayout(opts.params, slots[s] as ParamSet, "params", `${source} slot '${s}'`);
  }
  return { kind: m.kind, step: m.step, slots };
}
