// Failure kinds of the test control plane: one class per kind, each saying what to do next.

/** A binary the control plane needs (etcd, kube-apiserver, …) is neither in KUBEBUILDER_ASSETS nor cached. */
export class KubeBinaryMissingError extends Error {
  override readonly name = "KubeBinaryMissingError";
  constructor(
    readonly binary: string,
    readonly searched: readonly string[],
  ) {
    super(
      `${binary} not found (looked in ${searched.join(", ")}); run \`bash scripts/kube-bins.sh\` ` +
        `from the repository root to build and cache it (a cold build takes 10–30 min), ` +
        `or set KUBEBUILDER_ASSETS to a folder that holds it`,
    );
  }
}

/** etcd, kube-apiserver or kube-controller-manager exited or never became ready. */
export class ControlPlaneStartError extends Error {
  override readonly name = "ControlPlaneStartError";
  constructor(
    readonly component: string,
    message: string,
    readonly logTail: string,
    options?: { cause?: unknown },
  ) {
    super(
      `${component}: ${message}${logTail ? `\n--- last lines of ${component}'s log ---\n${logTail}` : ""}`,
      options,
    );
  }
}

/** Generating the test certificates with openssl failed. */
export class CertificateError extends Error {
  override readonly name = "CertificateError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** kubectl or helm exited with a non-zero status. */
export class KubeCommandError extends Error {
  override readonly name = "KubeCommandError";
  constructor(
    readonly command: string,
    readonly args: readonly string[],
    readonly code: number | null,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(
      `${command} ${args.join(" ")} exited with ${code ?? "a signal"}: ${stderr.trim() || stdout.trim()}`,
    );
  }
}

/** A waitFor condition did not hold within its timeout. */
export class WaitTimeoutError extends Error {
  override readonly name = "WaitTimeoutError";
  constructor(description: string, timeoutMs: number, options?: { cause?: unknown }) {
    super(`timed out after ${timeoutMs} ms waiting for ${description}`, options);
  }
}

/** A YAML document given to applyYaml is not a Kubernetes object. */
export class ManifestError extends Error {
  override readonly name = "ManifestError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A file of a Go module could not be had from the Go module proxy (and was not cached). */
export class GoModuleFetchError extends Error {
  override readonly name = "GoModuleFetchError";
  constructor(
    readonly module: string,
    readonly version: string,
    readonly url: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(
      `could not get ${module}@${version} from the Go module proxy (${url}): ${reason}. The test needs ` +
        `the proxy reachable once (GOPROXY names another); the files are then cached under ` +
        `~/.cache/sfprompt/go-modules/ (or $SFPROMPT_CACHE/go-modules/)`,
      options,
    );
  }
}

/**
 * A Prometheus binary (promtool or prometheus) is not on the machine and could not be taken from
 * Debian's prometheus package; the message names the binary and its variable.
 */
export class PromtoolUnavailableError extends Error {
  override readonly name = "PromtoolUnavailableError";
  constructor(
    /** The binary that was wanted. */
    readonly tool: "promtool" | "prometheus",
    reason: string,
    options?: { cause?: unknown },
  ) {
    const env = tool === "promtool" ? "PROMTOOL_BIN" : "PROMETHEUS_BIN";
    super(
      `${tool} unavailable: ${reason}. Install Debian's prometheus package (\`apt-get install ` +
        `prometheus\`, which ships /usr/bin/${tool}), set ${env} to the binary, or make \`apt-get ` +
        `download prometheus\` work once (the binary is then cached under ~/.cache/sfprompt/debian/prometheus/)`,
      options,
    );
  }
}
