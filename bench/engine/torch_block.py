"""PyTorch side of the engine benchmark (run with /usr/bin/python3, Debian's python3-torch).

  export OUT.onnx --hidden D --heads H --mlp M --seq S --batch B
      writes the torchvision ViT EncoderBlock (fixed seed) as ONNX: input `hidden_states`, output
      `block_output`, dynamic batch axis, parameters kept as named initializers; and OUT.inputs.bin:
      the block input x, then the upstream gradient r (float32 LE), shared by both sides.
  time GRAD.bin --hidden D --heads H --mlp M --seq S --batch B --threads T --warmup W [--weights]
      times eager forward + backward of the same block (same seed, so the same weights), one step per
      "step" line on stdin (protocol of stepper.ts); at the end writes the last dL/dx to GRAD.bin and
      prints peak RSS and versions.
"""

import argparse
import json
import resource
import sys
import time

import torch
from torchvision.models.vision_transformer import EncoderBlock

SEED = 0


def rss_peak_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def build(a: argparse.Namespace) -> torch.nn.Module:
    torch.manual_seed(SEED)
    block = EncoderBlock(a.heads, a.hidden, a.mlp, dropout=0.0, attention_dropout=0.0)
    return block.eval()


def inputs(a: argparse.Namespace) -> tuple:
    g = torch.Generator().manual_seed(SEED + 1)
    x = torch.randn(a.batch, a.seq, a.hidden, generator=g)
    r = torch.randn(a.batch, a.seq, a.hidden, generator=g)
    return x, r


def export(a: argparse.Namespace) -> None:
    block = build(a)
    x, r = inputs(a)
    torch.onnx.export(
        block,
        (x,),
        a.out,
        opset_version=17,
        input_names=["hidden_states"],
        output_names=["block_output"],
        dynamic_axes={"hidden_states": {0: "batch"}, "block_output": {0: "batch"}},
        do_constant_folding=False,  # keeps every parameter under its own name (for --weights)
    )
    with open(a.out + ".inputs.bin", "wb") as f:
        f.write(x.numpy().astype("<f4").tobytes() + r.numpy().astype("<f4").tobytes())


def blas_library() -> str:
    """The BLAS shared object torch's GEMMs went through (Debian builds torch against generic BLAS)."""
    with open("/proc/self/maps") as f:
        libs = {line.split()[-1] for line in f if "blas" in line.lower() and line.split()[-1].startswith("/")}
    return ", ".join(sorted(libs)) or "none mapped"


def time_block(a: argparse.Namespace) -> None:
    """Line protocol of bench/engine/stepper.ts: warm up, print {"ready": true}; per "step" line
    print one step's timings; on "done" write the last dL/dx and print the summary."""
    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)
    baseline = rss_peak_kib()
    block = build(a)
    for p in block.parameters():
        p.requires_grad_(a.weights)  # the body is frozen unless --weights
    x, r = inputs(a)
    x.requires_grad_(True)

    def step() -> dict:
        x.grad = None
        block.zero_grad(set_to_none=True)
        c0 = time.process_time()
        t0 = time.perf_counter()
        y = block(x)
        t1 = time.perf_counter()
        y.backward(r)
        t2 = time.perf_counter()
        c = time.process_time() - c0
        return {
            "stepMs": (t2 - t0) * 1e3,
            "forwardMs": (t1 - t0) * 1e3,
            "backwardMs": (t2 - t1) * 1e3,
            "cpuMs": c * 1e3,
        }

    for _ in range(max(a.warmup, 1)):
        step()
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        if line.strip() != "step":
            break
        print(json.dumps(step()), flush=True)
    with open(a.out, "wb") as f:
        f.write(x.grad.numpy().astype("<f4").tobytes())
    summary = {
        "side": "pytorch",
        "variant": "eager",
        "rssBaselineKiB": baseline,
        "rssPeakKiB": rss_peak_kib(),
        "threads": torch.get_num_threads(),
        "versions": {"torch": torch.__version__, "python": sys.version.split()[0], "blas": blas_library()},
    }
    print(json.dumps(summary), flush=True)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("command", choices=["export", "time"])
    p.add_argument("out", nargs="?")
    for name in ("hidden", "heads", "mlp", "seq", "batch"):
        p.add_argument(f"--{name}", type=int, required=True)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--weights", action="store_true")
    a = p.parse_args()
    export(a) if a.command == "export" else time_block(a)


if __name__ == "__main__":
    main()
