// The Prometheus Operator's own CRDs for ServiceMonitor and PodMonitor, as its repository publishes
// them (example/prometheus-operator-crd/), from the module github.com/prometheus-operator/prometheus-operator
// on the Go module proxy: the only place CI reaches that carries them. Fetched once (a 4 MB zip) and
// cached under ~/.cache/sfprompt/go-modules/.
import { goModuleFiles } from "@sfprompt/kube-testing";

export const PROMETHEUS_OPERATOR_MODULE = "github.com/prometheus-operator/prometheus-operator";
/**
 * The root module's version the proxy serves (its @v/list has only this one; the newer
 * pkg/apis/monitoring versions are a nested module, whose zip lacks example/).
 */
export const PROMETHEUS_OPERATOR_VERSION = "v0.85.0";
/** sha256 of the module zip v0.85.0 (4,083,849 bytes). */
const ZIP_SHA256 = "0bdb88ed823d0f2e86cf909638439b6ad1da744a228172c7411d9987527dc5d1";

const CRD_DIR = "example/prometheus-operator-crd";
const FILES = [
  `${CRD_DIR}/monitoring.coreos.com_servicemonitors.yaml`,
  `${CRD_DIR}/monitoring.coreos.com_podmonitors.yaml`,
] as const;

/** The ServiceMonitor and PodMonitor CRD manifests (YAML text), in that order. */
export async function prometheusOperatorCrds(): Promise<string[]> {
  const files = await goModuleFiles({
    module: PROMETHEUS_OPERATOR_MODULE,
    version: PROMETHEUS_OPERATOR_VERSION,
    files: FILES,
    zipSha256: ZIP_SHA256,
  });
  return FILES.map((f) => files.get(f)!);
}
