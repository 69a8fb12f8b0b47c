import { Logger } from '@nestjs/common';
import type { SharedTierEvent } from '../../observability/sts-events.js';

/** An invalidation of one Redis address the fleet has not heard of yet. */
export interface PendingInvalidation {
  address: string;
  /** The invalidation it belongs to, the same across the addresses and relays of one `invalidate()`. */
  origin: string;
  /** Only the credentials with this access key id (`invalidateIfCurrent`); undefined: whatever the address holds. */
  accessKeyId?: string;
  /** With `accessKeyId`: how the fleet's log names it (`CredentialEnvelope.accessKeyTag`). */
  accessKeyTag?: string;
  /** Every address the invalidation reaches from this instance (this one included): the log says so, so that no one relays to them. */
  covered: string[];
}

/** Invalidations sent to Redis at once (an `invalidateWhere` of thousands must not open thousands of commands). */
const CONCURRENCY = 16;

/**
 * Invalidations this instance made and Redis has not taken yet: kept (one per address, the last one winning, an
 * unconditional one never replaced by a conditional one) and sent again on every `flush()` until Redis takes them.
 * The first time some cannot be sent, an `invalidation-pending` event says so; `invalidations-propagated` when all are.
 */
export class InvalidationQueue {
  readonly #pending = new Map<string, PendingInvalidation>();
  readonly #logger = new Logger('StsSharedCache');
  #flushing?: Promise<void>;
  #again = false;
  #announced = false;
  /** Invalidations queued since start (a replaced pending one not counted again), and those Redis took. */
  readonly counts = { queued: 0, propagated: 0 };

  constructor(
    private readonly propagate: (invalidation: PendingInvalidation) => Promise<boolean>,
    private readonly emit: (event: SharedTierEvent) => void,
    private readonly maxPending: number,
  ) {}

  get size(): number {
    return this.#pending.size;
  }

  /** Whether an invalidation of `address` waits for Redis. */
  has(address: string): boolean {
    return this.#pending.has(address);
  }

  /**
   * Queues an invalidation and sends it now. One per address: an unconditional one covers any conditional one; two
   * conditional ones of different credentials become one unconditional one, which covers both (the first must reach
   * the replicas still holding its credentials).
   */
  add(added: PendingInvalidation): void {
    const queued = this.#pending.get(added.address);
    if (queued !== undefined && queued.accessKeyId === undefined && added.accessKeyId !== undefined) return;
    if (queued === undefined) this.counts.queued++;
    const coversBoth = queued?.accessKeyId !== undefined && added.accessKeyId !== undefined && queued.accessKeyId !== added.accessKeyId;
    const invalidation = coversBoth ? { address: added.address, origin: added.origin, covered: added.covered } : added;
    this.#pending.delete(invalidation.address);
    this.#pending.set(invalidation.address, invalidation);
    if (this.#pending.size > this.maxPending) {
      const [oldest] = this.#pending.keys();
      this.#pending.delete(oldest);
      this.#logger.warn(
        `More than ${this.maxPending} invalidations wait for Redis: the oldest is dropped, and stays local to this instance`,
      );
    }
    void this.flush();
  }

  /** Sends every pending invalidation (once at a time: a call while one runs runs again after it). */
  flush(): Promise<void> {
    if (this.#flushing !== undefined) {
      this.#again = true;
      return this.#flushing;
    }
    this.#flushing = (async () => {
      do {
        this.#again = false;
        const batch = [...this.#pending.values()];
        for (let start = 0; start < batch.length; start += CONCURRENCY) {
          await Promise.all(batch.slice(start, start + CONCURRENCY).map((invalidation) => this.#send(invalidation)));
        }
      } while (this.#again && this.#pending.size > 0);
      this.#announce();
    })().finally(() => (this.#flushing = undefined));
    return this.#flushing;
  }

  /** Forgets what is pending (module destroy). */
  clear(): void {
    this.#pending.clear();
  }

  async #send(invalidation: PendingInvalidation): Promise<void> {
    const sent = await this.propagate(invalidation).catch(() => false);
    if (sent && this.#pending.get(invalidation.address) === invalidation) {
      this.#pending.delete(invalidation.address);
      this.counts.propagated++;
    }
  }

  #announce(): void {
    if (this.#pending.size > 0 && !this.#announced) {
      this.#announced = true;
      this.emit({ type: 'shared-tier', state: 'invalidation-pending', pending: this.#pending.size });
    } else if (this.#pending.size === 0 && this.#announced) {
      this.#announced = false;
      this.emit({ type: 'shared-tier', state: 'invalidations-propagated' });
    }
  }
}
