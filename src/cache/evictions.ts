import { Logger } from '@nestjs/common';
import { infoOf, type CachedValue, type Entry } from './cache-entry.js';
import type { CredentialCacheSettings } from '../config/cache-options.js';
import type { CacheEvent } from '../observability/sts-events.js';

/** At most one warning per this long that valid entries are evicted for capacity (ms). */
const CAPACITY_WARNING_INTERVAL_MS = 60_000;

/** The cache's evictions: each one counted and emitted; valid entries evicted for capacity also warned of. */
export class Evictions {
  /** Entries evicted since start. */
  count = 0;
  private readonly logger = new Logger('StsCredentialCache');
  private capacityWarning = { at: -Infinity, evictedSince: 0 };

  constructor(
    private readonly settings: Pick<CredentialCacheSettings, 'maxEntries'>,
    private readonly emit: (event: CacheEvent) => void,
  ) {}

  /** The LRU made room at `now`: say so loudly when what left could still have been handed out. */
  forCapacity<Value extends CachedValue>(entry: Entry<Value>, now: number): void {
    if (now >= entry.mandatoryAt) return this.evicted(entry, 'expired');
    this.evicted(entry, 'capacity');
    this.capacityWarning.evictedSince++;
    if (now - this.capacityWarning.at >= CAPACITY_WARNING_INTERVAL_MS) {
      this.logger.warn(
        `Evicted ${this.capacityWarning.evictedSince} cached credential set(s) that were still valid to make room: cache.maxEntries (${this.settings.maxEntries}) is smaller than the set of active tenants, so they are assumed again and again. Raise cache.maxEntries.`,
      );
      this.capacityWarning = { at: now, evictedSince: 0 };
    }
  }

  /** One entry left for `reason`: counted and emitted. */
  evicted<Value extends CachedValue>(entry: Entry<Value>, reason: string): void {
    this.count++;
    this.emit({ type: 'eviction', ...infoOf(entry), reason });
  }
}
