// One measurement in a fresh process: reads a model file one way and prints a JSON line with what it
// learned (to compare the ways), the time and the process's peak RSS (VmHWM). Called by run.ts.
import { readFileSync } from "node:fs";
import { externalDataFiles, numel, readModel, readModelOutline, shapeValueKept } from "@sfprompt/engine";
import { perSampleFlops, shapesOnlyModel, trafficShapesOfModel, weightCount } from "@sfprompt/core";
import { onnxTypes, type ProtoMessage } from "../../packages/engine/src/proto/onnx-schema.js";

const [mode, path, bindingsArg] = process.argv.slice(2) as [string, string, string | undefined];
const bindings = JSON.parse(bindingsArg ?? "{}") as Record<string, number>;

function peakRssMiB(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
  return m ? Math.round(Number(m[1]) / 1024) : -1;
}

function run(): unknown {
  switch (mode) {
    case "files-before": {
      // externalDataFiles before 624c925: the whole file read and decoded by protobufjs
      const msg = onnxTypes().ModelProto.decode(readFileSync(path)) as unknown as ProtoMessage;
      const inits = ((msg["graph"] as ProtoMessage)["initializer"] as ProtoMessage[]) ?? [];
      return inits.filter((t) => Number(t["data_location"] ?? 0) === 1).length;
    }
    case "files-after":
      return externalDataFiles(path);
    case "read-before":
      // what bundleFlops and initialParams read before: readModel, every weight in the IR
      return readModel(path).graph.initializers.size;
    case "outline-after":
      return readModelOutline(path).initializers.size;
    case "flops-before":
      return perSampleFlops(readModel(path), bindings);
    case "flops-after":
      return perSampleFlops(
        readModelOutline(path, { values: (_, t) => shapeValueKept(t.dtype, numel(t.dims)) }),
        bindings,
      );
    case "check-before": {
      // sfprompt validate's model check before 5bb7a0d: readModel, then the inputs without a value
      const m = readModel(path);
      return m.graph.inputs.filter((i) => !m.graph.initializers.has(i.name)).map((i) => i.name);
    }
    case "check-after": {
      // and now (model-check.ts): the outline, external data files opened, not read
      const o = readModelOutline(path, { checkExternalData: true });
      return o.model.graph.inputs.filter((i) => !o.initializers.has(i.name)).map((i) => i.name);
    }
    case "traffic-before":
    case "traffic-after": {
      // sfprompt traffic's shapes of examples/minilm-job.yaml's split: readModel before b49c495, shapesOnlyModel now
      const model = mode === "traffic-before" ? readModel(path) : shapesOnlyModel(path);
      const s = trafficShapesOfModel(
        model,
        { headBlocks: 1, promptLength: 10, numClasses: 10, pooling: "mean" },
        { sequenceLength: bindings["sequence"] ?? 24 },
      );
      return {
        a_h: s.headOutput.shape,
        promptTail: weightCount(s.promptTail),
        whole: weightCount(s.wholeModel),
      };
    }
    default:
      throw new Error(`unknown mode ${mode}`);
  }
}

const t0 = performance.now();
try {
  const result = run();
  const ms = Math.round(performance.now() - t0);
  console.log(JSON.stringify({ ok: true, result, ms, peakRssMiB: peakRssMiB() }));
} catch (e) {
  const error = (e as Error).message.split("\n")[0]?.slice(0, 300);
  console.log(
    JSON.stringify({ ok: false, error, ms: Math.round(performance.now() - t0), peakRssMiB: peakRssMiB() }),
  );
}
