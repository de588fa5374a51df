// @sfprompt/kube-testing: a real Kubernetes API server for tests, envtest style.
//
// Binaries: `bash scripts/kube-bins.sh` builds and caches etcd, kube-apiserver,
// kube-controller-manager, kubectl and helm under ~/.cache/sfprompt/kube/<KUBE_VERSION>/bin
// (scripts/test.sh runs it first). KUBEBUILDER_ASSETS (and TEST_ASSET_ETCD / _KUBE_APISERVER /
// _KUBECTL) take precedence. A missing binary is a KubeBinaryMissingError naming that script.
//
// API:
//   startControlPlane(opts?: { controllerManager?: boolean; apiServerArgs?: string[]; startTimeoutMs?: number })
//     → Promise<ControlPlane{ kubeconfigPath, kubeConfig: KubeConfig, apiUrl, external, dir, stop() }>
//     etcd (--unsafe-no-fsync, temp data dir) + kube-apiserver on 127.0.0.1 with envtest's flags
//     (RBAC, ServiceAccount admission off, 10.0.0.0/24 services, privileged allowed), admin client
//     certificate in system:masters; with controllerManager, kube-controller-manager too (garbage
//     collection, Deployment → ReplicaSet, default ServiceAccounts; no scheduler, no kubelet, so pods
//     stay Pending unless a test patches their status). About 3–6 s on 2 cores. With
//     SFPROMPT_USE_EXISTING_CLUSTER=1 and KUBECONFIG set, returns that cluster (stop() leaves it).
//     Call stop() in an `after` hook; processes and temp folders are also killed/removed at process
//     exit or SIGINT/SIGTERM (SFPROMPT_KEEP_KUBE_TMP=1 keeps the folder and its logs/).
//   applyYaml(kc, yamlText, opts?: ApplyOptions) → Promise<KubernetesObject[]>   server-side apply,
//     field manager "sfprompt-test", force; waits for applied CRDs to be Established.
//   applyObjects(kc, objects, opts?), parseManifests(yamlText)
//   waitFor(fn, { timeoutMs?, intervalMs?, description?, signal? }) → Promise<T>   polls until fn
//     returns a value other than undefined/null/false; a throw counts as "not yet".
//   kubectl(args, kubeconfigPath, opts?: { input?, allowFailure?, timeoutMs?, env? }) → Promise<{ code, stdout, stderr }>
//   helm(args, opts?: { kubeconfigPath?, input?, allowFailure?, timeoutMs?, env? }) → Promise<{ code, stdout, stderr }>
//     both throw KubeCommandError (code, stdout, stderr) on a non-zero exit unless allowFailure.
//   resolveKubeBinary(name), kubeCacheBinDir(), KUBE_VERSION
//   Errors: KubeBinaryMissingError, ControlPlaneStartError, CertificateError, KubeCommandError,
//     WaitTimeoutError, ManifestError.
export { startControlPlane, type ControlPlane, type ControlPlaneOptions } from "./control-plane.js";
export { applyObjects, applyYaml, parseManifests, type ApplyOptions } from "./apply.js";
export { waitFor, type WaitOptions } from "./wait.js";
export { createReadyNode, type ReadyNodeOptions } from "./nodes.js";
export { helm, kubectl, type CommandOptions, type CommandResult, type HelmOptions } from "./commands.js";
export { KUBE_VERSION, kubeCacheBinDir, resolveKubeBinary, type KubeBinary } from "./binaries.js";
export {
  CertificateError,
  ControlPlaneStartError,
  KubeBinaryMissingError,
  KubeCommandError,
  ManifestError,
  WaitTimeoutError,
} from "./errors.js";
