// An overall rate limit for the work queue (client-go's BucketRateLimiter): `qps` tokens per second,
// at most `burst` saved up, so a storm of failing keys cannot hammer the API server.

export interface TokenBucketOptions {
  qps: number;
  burst: number;
  /** Clock in ms; injectable so tests need no sleeps. */
  now?: () => number;
}

export class TokenBucket {
  private tokens: number;
  private last: number;
  private readonly now: () => number;

  constructor(private readonly opts: TokenBucketOptions) {
    this.now = opts.now ?? Date.now;
    this.tokens = opts.burst;
    this.last = this.now();
  }

  /** Reserves one token and returns how long (ms) the caller must wait before using it. */
  reserve(): number {
    const t = this.now();
    this.tokens = Math.min(this.opts.burst, this.tokens + ((t - this.last) / 1000) * this.opts.qps);
    this.last = t;
    this.tokens -= 1;
    // A negative balance is a debt that refills at qps; the wait is how long until it is paid.
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.opts.qps) * 1000);
  }
}
