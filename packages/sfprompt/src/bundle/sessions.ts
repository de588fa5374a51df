// ORT sessions of a partition bundle, created on first use with the chosen execution provider: CUDA
// when asked (falling back to CPU when allowed, and saying so), else CPU.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import {
  ORT_CUDA_PROVIDER_FILES,
  ortBinDir,
  ortCudaNeeds,
  ortVersion,
} from "../archive/ort-cuda-provider.js";
import {
  GraphSession,
  OnnxIoError,
  readModel,
  readModelOutline,
  type ModelOutline,
  type WantValues,
  type Model,
  type SessionOptions,
  type Tensor,
} from "@sfprompt/engine";
import { BundleError, CudaUnavailableError, SessionRunError } from "../runtime/errors.js";
import { PREPARE_AGAIN } from "./tensors.js";
import type { Logger } from "../runtime/logger.js";

export type ExecutionProvider = "cuda" | "cpu";

/** How sessions are created. */
export interface SessionConfig {
  /** Ask for CUDA first (default cpu). */
  readonly executionProvider?: ExecutionProvider;
  /** With cuda: fall back to CPU when CUDA cannot be used (default true). */
  readonly cpuFallback?: boolean;
  /** Intra-op threads per session (default 1: clients and tests share few cores). */
  readonly intraOpThreads?: number;
  readonly logger?: Logger;
  /**
   * What to do about a graph file of the bundle that cannot be read (damaged, cut short) or that lacks
   * an output the manifest names (another version's): a caller that knows the job gives the whole
   * command that prepares its bundle again (prepareCommandOf, ADR 0016 amendment 60). Default
   * PREPARE_AGAIN.
   */
  readonly bundleFix?: string;
}

function ortPackageDir(): string {
  return dirname(createRequire(import.meta.url).resolve("onnxruntime-node/package.json"));
}

/** The folder this process's onnxruntime-node loads its runtime and execution providers from. */
export function ortNativeDir(): string {
  return ortBinDir(ortPackageDir());
}

/** What the installed onnxruntime-node's CUDA provider needs, from its pin. */
function cudaNeeds(): string {
  try {
    return ortCudaNeeds(ortVersion(ortPackageDir())) ?? "the CUDA and cuDNN versions it was built for";
  } catch {
    return "the CUDA and cuDNN versions it was built for";
  }
}

/**
 * ORT's message when CUDA fails ("Failed to load shared library") does not say which library: its
 * log line on stderr does. This adds what we can tell: whether the CUDA provider is installed at all
 * (the default images and npm install have none), and what to do either way.
 */
export function cudaFailureReason(message: string, dir = ortNativeDir()): string {
  if (!existsSync(join(dir, ORT_CUDA_PROVIDER_FILES[0])))
    return (
      `${message}: onnxruntime-node has no CUDA provider (no libonnxruntime_providers_cuda.so in ${dir}); ` +
      `use a GPU server image built with ORT_INSTALL=pypi, or run images/ort-cuda-from-pypi.mjs (docs/images.md)`
    );
  return (
    `${message}: the CUDA provider is installed in ${dir}, so a library it needs is missing or no GPU is visible ` +
    `(ONNX Runtime's log names the library); it needs ${cudaNeeds()} on the library path, and a GPU (the NVIDIA container runtime in a pod)`
  );
}

/** A lazily opened set of sessions over the graph files of one bundle directory. */
export class SessionPool {
  readonly #dir: string;
  readonly #config: SessionConfig;
  readonly #sessions = new Map<string, Promise<GraphSession>>();
  #provider: ExecutionProvider | undefined;
  #fallbackReason: string | undefined;

  constructor(dir: string, config: SessionConfig = {}) {
    this.#dir = dir;
    this.#config = config;
  }

  /** The provider the sessions actually use (known after the first session was created). */
  get provider(): ExecutionProvider | undefined {
    return this.#provider;
  }

  /** Why CUDA could not be used, when it was asked for and the sessions fell back to CPU. */
  get fallbackReason(): string | undefined {
    return this.#fallbackReason;
  }

  /** The session of `file` (relative to the bundle), created on first use. */
  get(file: string): Promise<GraphSession> {
    let s = this.#sessions.get(file);
    if (s === undefined) {
      s = this.#open(file);
      this.#sessions.set(file, s);
      // a failed creation is not cached: the next call tries again
      s.catch(() => this.#sessions.delete(file));
    }
    return s;
  }

  /** Runs `file` on `feeds`, wrapping ORT failures with the graph's name. */
  async run(
    file: string,
    feeds: Record<string, Tensor>,
    fetches?: readonly string[],
  ): Promise<Record<string, Tensor>> {
    const session = await this.get(file);
    try {
      return await session.run(feeds, fetches);
    } catch (cause) {
      throw new SessionRunError(file, `ORT run failed: ${(cause as Error).message}`, { cause });
    }
  }

  /** What to do about a graph file of the bundle that cannot be read or lacks an output (SessionConfig.bundleFix). */
  get bundleFix(): string {
    return this.#config.bundleFix ?? PREPARE_AGAIN;
  }

  /** The BundleError of a graph file of the bundle that cannot be read, with what to do (bundleFix). */
  #unreadable(path: string, cause: unknown): BundleError {
    return new BundleError(`cannot read ${path}: the bundle is damaged: ${this.bundleFix}`, { cause });
  }

  /** Reads a graph of the bundle as IR (for initial parameter values and FLOPs). */
  readModel(file: string): Model {
    try {
      return readModel(join(this.#dir, file));
    } catch (cause) {
      throw this.#unreadable(join(this.#dir, file), cause);
    }
  }

  /** Reads a graph of the bundle without its weights, with the values `values` chooses (readModelOutline). */
  readModelOutline(file: string, values?: WantValues): ModelOutline {
    try {
      return readModelOutline(join(this.#dir, file), values === undefined ? {} : { values });
    } catch (cause) {
      throw this.#unreadable(join(this.#dir, file), cause);
    }
  }

  /**
   * The session of a graph file: GraphSession opens the file itself, so its external data stays in
   * the bundle's files (ORT reads them) and a graph past 2 GiB opens (ADR 0006 amendment 7).
   */
  async #create(file: string, options: SessionOptions): Promise<GraphSession> {
    const path = join(this.#dir, file);
    try {
      return await GraphSession.create(path, options);
    } catch (cause) {
      if (cause instanceof OnnxIoError) throw this.#unreadable(path, cause);
      throw cause;
    }
  }

  async #open(file: string): Promise<GraphSession> {
    const threads = this.#config.intraOpThreads ?? 1;
    const wanted = this.#config.executionProvider ?? "cpu";
    if (wanted === "cuda" && this.#provider !== "cpu") {
      try {
        const s = await this.#create(file, { intraOpNumThreads: threads, executionProviders: ["cuda"] });
        this.#noteProvider("cuda");
        return s;
      } catch (cause) {
        if (cause instanceof BundleError) throw cause;
        if (this.#config.cpuFallback === false)
          throw new CudaUnavailableError(file, cudaFailureReason((cause as Error).message), { cause });
        this.#fallbackReason ??= cudaFailureReason((cause as Error).message);
        this.#config.logger?.log("warn", "cuda-unavailable", {
          graph: file,
          error: (cause as Error).message,
          reason: this.#fallbackReason,
        });
      }
    }
    try {
      const s = await this.#create(file, { intraOpNumThreads: threads, executionProviders: ["cpu"] });
      this.#noteProvider("cpu");
      return s;
    } catch (cause) {
      if (cause instanceof BundleError) throw cause;
      throw new SessionRunError(file, `cannot create an ORT session: ${(cause as Error).message}`, { cause });
    }
  }

  #noteProvider(p: ExecutionProvider): void {
    if (this.#provider === undefined) this.#config.logger?.log("info", "execution-provider", { provider: p });
    this.#provider = p;
  }

  /** Releases every session created so far. */
  async release(): Promise<void> {
    const all = [...this.#sessions.values()];
    this.#sessions.clear();
    const settled = await Promise.allSettled(all);
    for (const s of settled) if (s.status === "fulfilled") await s.value.release();
  }
}
