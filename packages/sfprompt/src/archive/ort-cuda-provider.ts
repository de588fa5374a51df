// ONNX Runtime's CUDA execution provider for onnxruntime-node, taken from PyPI's onnxruntime-gpu wheel
// of the same version (ADR 0033). onnxruntime-node's own installer fetches these two libraries from
// NuGet, which our build machines cannot reach; PyPI they can. The wheel's provider is the same
// build of the same release: onnxruntime-node's binding loads it from the folder that holds its
// libonnxruntime.so.1 (checked on an H100 with onnxruntime-node 1.30.0: bench/results/gpu-body.md).
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { OrtCudaProviderError } from "./errors.js";
import { downloadWheel, sha256File, type DownloadWheelOptions, type PinnedWheel } from "./pypi-wheel.js";
import { extractZipEntries } from "./zip.js";

/** The libraries onnxruntime-node needs beside libonnxruntime.so.1 to run the CUDA provider. */
export const ORT_CUDA_PROVIDER_FILES = [
  "libonnxruntime_providers_cuda.so",
  "libonnxruntime_providers_shared.so",
] as const;

export interface OrtCudaWheel extends PinnedWheel {
  /** The CUDA major version its provider links (readelf: libcublas.so.N, libcudart.so.N); unknown for an ad-hoc pin. */
  readonly cuda?: number;
  /** The cuDNN major version it loads. */
  readonly cudnn?: number;
}

/** The pinned onnxruntime-gpu wheel per onnxruntime-node version (any CPython tag: the provider is the same). */
export const ORT_CUDA_WHEELS: Readonly<Record<string, OrtCudaWheel>> = {
  "1.30.0": {
    project: "onnxruntime-gpu",
    file: "onnxruntime_gpu-1.30.0-cp312-cp312-manylinux_2_28_x86_64.whl",
    sha256: "6acc0f4b3d5ac5f2984432faa59dd8fcce6775f8b43a7140afa0f322c7a703b1",
    cuda: 13,
    cudnn: 9,
  },
};

export interface InstallOrtCudaOptions extends DownloadWheelOptions {
  /** The onnxruntime-node package folder (…/node_modules/onnxruntime-node). */
  readonly ortPackageDir: string;
  /** Keep the wheel here and reuse it when its sha256 matches (default: download to a temp file, then delete). */
  readonly wheelCacheDir?: string;
  /** Overrides the pinned wheel (tests, or a version not pinned yet). */
  readonly wheel?: OrtCudaWheel;
  /** The platform to install for (default this process's); only linux/x64 has CUDA builds. */
  readonly platform?: string;
  readonly arch?: string;
}

export interface InstalledOrtCuda {
  readonly version: string;
  readonly wheel: OrtCudaWheel;
  /** The folder the libraries went to (beside libonnxruntime.so.1). */
  readonly binDir: string;
  readonly files: string[];
  /** True when the wheel came from the cache folder instead of the index. */
  readonly cached: boolean;
}

/** The folder onnxruntime-node loads its runtime and execution providers from. */
export function ortBinDir(
  ortPackageDir: string,
  platform: string = process.platform,
  arch: string = process.arch,
): string {
  return join(ortPackageDir, "bin", "napi-v6", platform, arch);
}

/** "CUDA 13 and cuDNN 9" for an onnxruntime-node version with a pin that says so; undefined otherwise. */
export function ortCudaNeeds(version: string): string | undefined {
  const pin = ORT_CUDA_WHEELS[version];
  return pin?.cuda === undefined || pin.cudnn === undefined
    ? undefined
    : `CUDA ${pin.cuda} and cuDNN ${pin.cudnn}`;
}

/** The version in onnxruntime-node's package.json. */
export function ortVersion(ortPackageDir: string): string {
  const file = join(ortPackageDir, "package.json");
  try {
    return (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
  } catch (cause) {
    throw new OrtCudaProviderError(`cannot read ${file}: is ${ortPackageDir} onnxruntime-node's folder?`, {
      cause,
    });
  }
}

/** Downloads the pinned onnxruntime-gpu wheel and puts its CUDA provider beside onnxruntime-node's runtime. */
export async function installOrtCudaProvider(o: InstallOrtCudaOptions): Promise<InstalledOrtCuda> {
  const platform = o.platform ?? process.platform;
  const arch = o.arch ?? process.arch;
  if (platform !== "linux" || arch !== "x64")
    throw new OrtCudaProviderError(
      `ONNX Runtime's CUDA provider is built for linux/x64 only, not ${platform}/${arch}: run the GPU server on an amd64 node`,
    );
  const version = ortVersion(o.ortPackageDir);
  const wheel = o.wheel ?? ORT_CUDA_WHEELS[version];
  if (wheel === undefined)
    throw new OrtCudaProviderError(
      `onnxruntime-node ${version} has no pinned onnxruntime-gpu wheel (pinned: ${Object.keys(ORT_CUDA_WHEELS).join(", ")}); ` +
        `add its file name and sha256 from https://pypi.org/project/onnxruntime-gpu/${version}/#files to ORT_CUDA_WHEELS`,
    );
  const binDir = ortBinDir(o.ortPackageDir, "linux", "x64");
  if (!existsSync(join(binDir, "libonnxruntime.so.1")))
    throw new OrtCudaProviderError(
      `${binDir} holds no libonnxruntime.so.1: onnxruntime-node's linux/x64 runtime is missing (was it pruned for another arch?)`,
    );
  let path: string;
  let cached = false;
  if (o.wheelCacheDir !== undefined) {
    mkdirSync(o.wheelCacheDir, { recursive: true });
    path = join(o.wheelCacheDir, wheel.file);
    cached = existsSync(path) && (await sha256File(path)) === wheel.sha256;
    if (!cached) {
      const partial = `${path}.partial`;
      await downloadWheel(wheel, partial, o);
      renameSync(partial, path);
    }
  } else {
    path = join(binDir, `.${wheel.file}.partial`);
    await downloadWheel(wheel, path, o);
  }
  try {
    extractZipEntries(
      path,
      Object.fromEntries(ORT_CUDA_PROVIDER_FILES.map((f) => [`onnxruntime/capi/${f}`, join(binDir, f)])),
    );
  } finally {
    if (o.wheelCacheDir === undefined) rmSync(path, { force: true });
  }
  return { version, wheel, binDir, files: ORT_CUDA_PROVIDER_FILES.map((f) => join(binDir, f)), cached };
}
