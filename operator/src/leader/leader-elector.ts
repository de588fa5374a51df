// Leader election on a coordination.k8s.io/v1 Lease: acquire, renew, release. Writes carry the read
// resourceVersion, so when two candidates race, the API server lets one win and the other gets 409.
import { CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from "@kubernetes/client-node";
import { httpStatus } from "../errors.js";
import type { Logger } from "../log.js";
import { decide, observe, type LeaseRecord, type Observation } from "./lease-decision.js";

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  /** A leader that could not renew for this long steps down. */
  renewDeadlineMs: number;
  retryPeriodMs: number;
  log: Logger;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
}

function record(lease: V1Lease | undefined): LeaseRecord {
  const s = lease?.spec;
  return {
    holder: s?.holderIdentity ?? "",
    renewTime: s?.renewTime ? new Date(s.renewTime).toISOString() : "",
    durationMs: (s?.leaseDurationSeconds ?? 0) * 1000,
  };
}

export class LeaderElector {
  private readonly api: CoordinationV1Api;
  private observation: Observation | undefined;
  private leader = false;
  private lastRenew = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private running: Promise<void> = Promise.resolve();

  constructor(
    kc: KubeConfig,
    private readonly opts: LeaderElectionOptions,
  ) {
    this.api = kc.makeApiClient(CoordinationV1Api);
  }

  get isLeader(): boolean {
    return this.leader;
  }

  start(): void {
    this.schedule(0);
  }

  /** Stops campaigning; a leader hands the lease back so another candidate can take it at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    if (this.leader) {
      await this.release().catch((err: unknown) =>
        this.opts.log.warn("could not release the lease", { err }),
      );
      this.setLeader(false);
    }
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick().then((next) => this.schedule(next));
    }, ms);
  }

  private async tick(): Promise<number> {
    try {
      const won = await this.tryAcquireOrRenew();
      if (won) {
        this.lastRenew = Date.now();
        this.setLeader(true);
      } else if (this.leader) {
        this.setLeader(false);
      }
    } catch (err) {
      this.opts.log.warn("lease update failed", { lease: this.opts.name, err });
      if (this.leader && Date.now() - this.lastRenew > this.opts.renewDeadlineMs) this.setLeader(false);
    }
    return this.opts.retryPeriodMs;
  }

  private setLeader(on: boolean): void {
    if (on === this.leader) return;
    this.leader = on;
    this.opts.log.info(on ? "became leader" : "stopped leading", {
      lease: `${this.opts.namespace}/${this.opts.name}`,
      identity: this.opts.identity,
    });
    if (on) this.opts.onStartedLeading();
    else this.opts.onStoppedLeading();
  }

  private spec(previous: V1Lease | undefined, now: Date): V1Lease["spec"] {
    const prev = previous?.spec;
    const kept = prev?.holderIdentity === this.opts.identity;
    return {
      holderIdentity: this.opts.identity,
      leaseDurationSeconds: Math.ceil(this.opts.leaseDurationMs / 1000),
      acquireTime: kept && prev?.acquireTime ? new V1MicroTime(prev.acquireTime) : new V1MicroTime(now),
      renewTime: new V1MicroTime(now),
      leaseTransitions: (prev?.leaseTransitions ?? 0) + (kept ? 0 : 1),
    };
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name } = this.opts;
    const now = new Date();
    let lease: V1Lease | undefined;
    try {
      lease = await this.api.readNamespacedLease({ name, namespace });
    } catch (err) {
      if (httpStatus(err) !== 404) throw err;
    }
    if (!lease) return this.create(now);
    this.observation = observe(this.observation, record(lease), now.getTime());
    const decision = decide(this.observation, this.opts.identity, now.getTime());
    if (decision.action === "wait") return false;
    try {
      await this.api.replaceNamespacedLease({
        name,
        namespace,
        body: { ...lease, spec: this.spec(lease, now) },
      });
      return true;
    } catch (err) {
      if (httpStatus(err) === 409) return false; // someone else wrote first
      throw err;
    }
  }

  private async create(now: Date): Promise<boolean> {
    const { namespace, name } = this.opts;
    try {
      await this.api.createNamespacedLease({
        namespace,
        body: { metadata: { name, namespace }, spec: this.spec(undefined, now) },
      });
      return true;
    } catch (err) {
      if (httpStatus(err) === 409) return false;
      throw err;
    }
  }

  // client-go's ReleaseOnCancel: keep the record but name no holder, so others need not wait it out.
  private async release(): Promise<void> {
    const { namespace, name } = this.opts;
    const lease = await this.api.readNamespacedLease({ name, namespace });
    if (lease.spec?.holderIdentity !== this.opts.identity) return;
    const now = new V1MicroTime(new Date());
    await this.api.replaceNamespacedLease({
      name,
      namespace,
      body: {
        ...lease,
        spec: { ...lease.spec, holderIdentity: "", leaseDurationSeconds: 1, renewTime: now },
      },
    });
  }
}
