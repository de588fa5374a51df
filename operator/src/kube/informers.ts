// Informers (list + watch caches) for the jobs and for the children the operator manages, in the
// watched namespaces. Every change maps to the key of the job it concerns; the caller queues that key.
import {
  KubernetesObjectApi,
  ListWatch,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
} from "@kubernetes/client-node";
import { API_VERSION, GROUP, KIND, PLURAL, VERSION } from "@sfprompt/api";
import { controllingJob } from "../desired/owner.js";
import type { Logger } from "../log.js";
import { MANAGED_SELECTOR, jobKey, serverPodJob } from "../names.js";
import { backoffDelay } from "../queue/backoff.js";
import { CHILD_KINDS, watchPath, type ChildKind } from "./child-kinds.js";
import { StoppableWatch } from "./stoppable-watch.js";

export interface InformerOptions {
  /** Namespaces to watch; empty watches all. */
  namespaces: readonly string[];
  /** Delay before an informer whose watch failed lists again. */
  restartDelayMs: number;
  log: Logger;
}

type Cache = ListWatch<KubernetesObject>;

export class Informers {
  private readonly jobCaches: Cache[] = [];
  private readonly childCaches = new Map<string, Cache[]>();
  private readonly restarts = new Set<NodeJS.Timeout>();
  /** Lists started again after a failed watch, not yet done. */
  private readonly relisting = new Set<Promise<void>>();
  /** Every cache's watch requests, ended by stop(). */
  private readonly watch: StoppableWatch;
  private readonly failures = new Map<Cache, number>();
  private stopped = false;
  private synced = false;

  constructor(
    kc: KubeConfig,
    private readonly opts: InformerOptions,
    private readonly onKey: (key: string) => void,
  ) {
    const api = KubernetesObjectApi.makeApiClient(kc);
    this.watch = new StoppableWatch(kc);
    for (const ns of this.scopes()) {
      this.jobCaches.push(
        this.make(`/apis/${GROUP}/${VERSION}`, PLURAL, ns, API_VERSION, KIND, api, undefined),
      );
      for (const child of CHILD_KINDS) {
        const caches = this.childCaches.get(child.kind) ?? [];
        caches.push(
          this.make(child.groupPath, child.plural, ns, child.apiVersion, child.kind, api, MANAGED_SELECTOR),
        );
        this.childCaches.set(child.kind, caches);
      }
    }
  }

  /** Lists everything and starts watching; resolves once every cache holds its initial list. */
  async start(): Promise<void> {
    await Promise.all(this.all().map((c) => c.start()));
    this.synced = true;
  }

  /**
   * Stops every cache and resolves once none has a request under way: no watch is open or opened
   * after this (a stopped ListWatch watches again by itself when its watch ends; ADR 0009 amendment 7).
   * The caches keep the objects they hold.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.restarts) clearTimeout(t);
    this.restarts.clear();
    await Promise.all(this.all().map((c) => c.stop()));
    await this.watch.stop();
    await Promise.allSettled([...this.relisting]);
  }

  /** True once the initial lists are in. */
  get hasSynced(): boolean {
    return this.synced;
  }

  job(namespace: string, name: string): KubernetesObject | undefined {
    for (const c of this.jobCaches) {
      const j = c.get(name, namespace);
      if (j) return j;
    }
    return undefined;
  }

  jobs(): KubernetesObject[] {
    return this.jobCaches.flatMap((c) => [...c.list()]);
  }

  /** Cached objects of `kind` in `namespace` controlled by the job with `uid`. */
  children(kind: string, namespace: string, uid: string): KubernetesObject[] {
    return (this.childCaches.get(kind) ?? [])
      .flatMap((c) => [...c.list(namespace)])
      .filter((o) => (o.metadata?.ownerReferences ?? []).some((r) => r.controller === true && r.uid === uid));
  }

  /**
   * Cached pods of the server Deployment of the job `name` in `namespace`: a ReplicaSet controls them,
   * so children() does not return them; their template's labels and job-name annotation tell them.
   */
  serverPods(namespace: string, name: string): KubernetesObject[] {
    return (this.childCaches.get("Pod") ?? [])
      .flatMap((c) => [...c.list(namespace)])
      .filter((o) => serverPodJob(o.metadata) === name);
  }

  private scopes(): (string | undefined)[] {
    return this.opts.namespaces.length > 0 ? [...this.opts.namespaces] : [undefined];
  }

  private all(): Cache[] {
    return [...this.jobCaches, ...[...this.childCaches.values()].flat()];
  }

  private make(
    groupPath: string,
    plural: string,
    namespace: string | undefined,
    apiVersion: string,
    kind: string,
    api: KubernetesObjectApi,
    labelSelector: string | undefined,
  ): Cache {
    const list = (): Promise<KubernetesListObject<KubernetesObject>> =>
      api.list(apiVersion, kind, namespace, undefined, undefined, undefined, undefined, labelSelector);
    const cache = new ListWatch(
      watchPath(groupPath, plural, namespace),
      this.watch,
      list,
      false,
      labelSelector,
      undefined,
      { delayFn: this.watch.pause },
    );
    const isJob = kind === KIND;
    const enqueue = (obj: KubernetesObject): void => {
      this.failures.delete(cache); // events flow again: the next failure starts from a short delay
      const ns = obj.metadata?.namespace ?? "";
      // a server pod (its ReplicaSet controls it) concerns the job too: its state is ServerReady's message
      const name = isJob
        ? obj.metadata?.name
        : (controllingJob(obj.metadata?.ownerReferences) ??
          (kind === "Pod" ? serverPodJob(obj.metadata) : undefined));
      if (name) this.onKey(jobKey(ns, name));
    };
    cache.on("add", enqueue);
    cache.on("update", enqueue);
    cache.on("delete", enqueue);
    cache.on("error", (err: unknown) => this.restart(cache, kind, err));
    return cache;
  }

  // ListWatch stops on an error other than a watch timeout or 410; listing again restores the cache.
  // The first retries come fast: right after a CRD is installed its watch answers 429 for a moment.
  private restart(cache: Cache, kind: string, err: unknown): void {
    if (this.stopped) return;
    const failures = (this.failures.get(cache) ?? 0) + 1;
    this.failures.set(cache, failures);
    const retryMs = backoffDelay({ baseMs: 100, maxMs: this.opts.restartDelayMs }, failures);
    this.opts.log.warn("watch failed; listing again", { kind, err, retryMs });
    const t = setTimeout(() => {
      this.restarts.delete(t);
      if (this.stopped) return;
      const relist = cache.start().catch((e: unknown) => this.restart(cache, kind, e));
      this.relisting.add(relist);
      void relist.finally(() => this.relisting.delete(relist));
    }, retryMs);
    this.restarts.add(t);
  }
}

export type { ChildKind };
