// @sfprompt/kube-testing: a real Kubernetes API server for tests, envtest style.
//
// Binaries: `bash scripts/kube-bins.sh` builds and caches etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler, kubectl and helm under ~/.cache/sfprompt/kube/<KUBE_VERSION>/bin
// (scripts/test.sh runs it first). KUBEBUILDER_ASSETS (and TEST_ASSET_ETCD / _KUBE_APISERVER /
// _KUBECTL) take precedence. A missing binary is a KubeBinaryMissingError naming that script.
//
// API:
//   startControlPlane(opts?: ControlPlaneOptions) → Promise<ControlPlane>
//     ControlPlaneOptions { controllerManager?: boolean; scheduler?: boolean; apiServerArgs?: string[];
//                           startTimeoutMs?: number }
//     ControlPlane { kubeconfigPath: string; kubeConfig: KubeConfig; apiUrl: string; external: boolean;
//                    dir: string | undefined; stop(): Promise<void> }
//     etcd (--unsafe-no-fsync, temp data dir) + kube-apiserver on 127.0.0.1 with envtest's flags (RBAC,
//     ServiceAccount admission off, 10.0.0.0/24 services, privileged allowed) and an admin client
//     certificate in system:masters. controllerManager adds kube-controller-manager (garbage
//     collection, Deployment → ReplicaSet → Pods, Jobs, default ServiceAccounts; node lifecycle off);
//     scheduler adds kube-scheduler (binds pods to nodes made with createReadyNode). No kubelet: pods
//     never run; tests write pod status as a kubelet would. Start: 4–6 s, 6–9 s with both extras.
//     With SFPROMPT_USE_EXISTING_CLUSTER=1 and KUBECONFIG set, returns that cluster (stop() leaves it).
//     Call stop() in an `after` hook; processes and temp folders are also killed/removed at process
//     exit or SIGINT/SIGTERM/SIGHUP (SFPROMPT_KEEP_KUBE_TMP=1 keeps the folder and its logs/).
//   applyYaml(kc, yamlText, opts?: ApplyOptions) → Promise<KubernetesObject[]>  server-side apply in
//     document order, objects sent as written (unlike KubernetesObjectApi.patch, which drops a CRD
//     schema's x-kubernetes-* keys); ApplyOptions { fieldManager? = "sfprompt-test", namespace?, force? = true,
//     crdEstablishedTimeoutMs? = 30000 } (an applied CRD is waited for as by waitForCrd).
//   waitForCrd(kc, crdName, { timeoutMs? = 30000, openApi? = true }) → Promise<void>  until the CRD is
//     Established and its served versions are in /openapi/v3 (so `kubectl explain` works).
//   applyObjects(kc, objects, opts?), parseManifests(yamlText) → KubernetesObject[]
//   waitFor(fn, { timeoutMs? = 10000, intervalMs? = 100, description?, signal? }) → Promise<T>  polls
//     until fn returns a value other than undefined/null/false; a throw counts as "not yet".
//   freePort() → Promise<number>, freePorts(n) → Promise<number[]>  loopback ports free a moment ago
//     (bound to port 0 and closed; a caller retries if another process takes one first).
//   createReadyNode(kc, { name, labels?, taints?, capacity? }) → Promise<V1Node>  a Node with a Ready
//     status and capacity (default cpu 8, memory 32Gi, pods 110; e.g. "nvidia.com/gpu": "1").
//   kubectl(args, kubeconfigPath, opts?: CommandOptions) → Promise<CommandResult { code, stdout, stderr }>
//   helm(args, opts?: HelmOptions) → Promise<CommandResult>   (HelmOptions adds kubeconfigPath)
//     CommandOptions { input?, allowFailure?, timeoutMs? = 60000, env? }; a non-zero exit throws
//     KubeCommandError (code, stdout, stderr) unless allowFailure. Private kubectl cache and helm homes.
//   resolveKubeBinary(name), kubeCacheBinDir(), KUBE_VERSION
//   goModuleFiles({ module, version, files, zipSha256, timeoutMs? }) → Promise<Map<path, text>>  files of
//     a Go module from the Go module proxy (GOPROXY's first URL, else proxy.golang.org): the module zip,
//     checked against zipSha256, read in memory; only the named files are cached, under
//     ~/.cache/sfprompt/go-modules/<module>@<version>/. goProxyUrl(), goModuleCacheDir(module, version).
//     The zip is read with @sfprompt/core/zip (the project's one zip reader); a damaged one is a
//     GoModuleFetchError whose cause is that module's ZipFormatError.
//   checkPromql(exprs) → Promise<{ expr, error: string | undefined }[]>  each PromQL expression parsed by
//     promtool (`check rules`, as a recording rule's expr). ensurePromtool() → Promise<path>:
//     $PROMTOOL_BIN, PATH, /usr/bin, else promtool taken once from Debian's prometheus package
//     (`apt-get download`, `dpkg-deb -x`; no install) into ~/.cache/sfprompt/debian/prometheus/;
//     ensurePrometheusTool("prometheus") the same for the server.
//   startPrometheus({ scrapeConfigs, scrapeInterval? = "1s", startTimeoutMs? = 30000 }) →
//     Promise<TestPrometheus { url, query(expr) → Promise<PromSample[]>, stop() }>  a throw-away
//     Prometheus on a free loopback port with those scrape_configs (temp TSDB); query is an instant
//     query, a refused one a PromQueryError.
//   Errors: KubeBinaryMissingError, ControlPlaneStartError, CertificateError, KubeCommandError,
//     WaitTimeoutError, ManifestError, GoModuleFetchError, PromtoolUnavailableError, PromQueryError.
export { startControlPlane, type ControlPlane, type ControlPlaneOptions } from "./control-plane.js";
export { applyObjects, applyYaml, parseManifests, type ApplyOptions } from "./apply.js";
export { waitFor, type WaitOptions } from "./wait.js";
export { freePort, freePorts } from "./ports.js";
export { createReadyNode, type ReadyNodeOptions } from "./nodes.js";
export { waitForCrd, type WaitForCrdOptions } from "./crd.js";
export { helm, kubectl, type CommandOptions, type CommandResult, type HelmOptions } from "./commands.js";
export { KUBE_VERSION, kubeCacheBinDir, resolveKubeBinary, type KubeBinary } from "./binaries.js";
export { goModuleCacheDir, goModuleFiles, goProxyUrl, type GoModuleFilesOptions } from "./go-module.js";
export {
  startPrometheus,
  PromQueryError,
  type PrometheusOptions,
  type PromSample,
  type TestPrometheus,
} from "./prometheus-server.js";
export {
  checkPromql,
  ensurePrometheusTool,
  ensurePromtool,
  promtoolCacheDir,
  type PrometheusTool,
  type PromqlCheck,
} from "./prometheus-tools.js";
export {
  CertificateError,
  ControlPlaneStartError,
  GoModuleFetchError,
  KubeBinaryMissingError,
  KubeCommandError,
  ManifestError,
  PromtoolUnavailableError,
  WaitTimeoutError,
} from "./errors.js";
