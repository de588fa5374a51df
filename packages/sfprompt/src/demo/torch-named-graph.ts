// A GraphBuilder whose nodes are named as torch.onnx exports name them (<scope>/<Op>, <scope>/<Op>_1,
// outputs <name>_output_0), so that the splitter finds the blocks of the models we build in code (the
// demo ViT, MiniLM) exactly as in a real export.
import { GraphBuilder } from "@sfprompt/engine";

export class TorchNamedGraph {
  readonly b = new GraphBuilder({ opset: 17 });
  readonly #counts = new Map<string, number>();

  /** Adds `opType` under `scope`; returns its output's name. */
  op(scope: string, opType: string, inputs: string[], attrs: Parameters<GraphBuilder["op"]>[2] = {}): string {
    const key = `${scope}/${opType}`;
    const k = this.#counts.get(key) ?? 0;
    this.#counts.set(key, k + 1);
    const name = k === 0 ? key : `${key}_${k}`;
    return this.b.op(opType, inputs, attrs, { name, outputs: [`${name}_output_0`] });
  }
}
