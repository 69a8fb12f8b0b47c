import type { BatchObservableCallback, Counter, Histogram, Meter, MeterProvider, Observable } from '@opentelemetry/api';
import type { CredentialCacheStats } from './credential-cache.js';
import type { StsEvent } from './sts-events.js';
import { PACKAGE_VERSION } from './version.js';

/** The OpenTelemetry meter's name. */
export const METER_NAME = 'nestjs-aws-sts';

/** What the metrics read from the cache when a reader collects. */
export interface MetricsSource {
  stats(): CredentialCacheStats;
  /** Seconds until the soonest cached credentials expire (STS's clock), or undefined with nothing cached. */
  secondsToSoonestExpiry(): number | undefined;
}

/** From a fast answer to the longest operation timeout (the SDK's default buckets are for milliseconds). */
const CALL_DURATION_BUCKETS_SECONDS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

// Attribute sets are built once: recording never allocates one.
const LOOKUP_HIT = Object.freeze({ result: 'hit' });
const LOOKUP_MISS = Object.freeze({ result: 'miss' });
const LOOKUP_STALE = Object.freeze({ result: 'stale' });

/**
 * The library's OpenTelemetry instruments (see the README's table). STS calls, refreshes and evictions are recorded
 * from the service's events, off the hot path. Lookups, entries, in-flight fetches and the soonest expiry are read
 * from the cache's own counts when a reader collects, so a cache hit records nothing and costs nothing.
 * No attribute carries a role, an account, a session name or a secret.
 */
export class StsMetrics {
  readonly #calls: Counter;
  readonly #callDuration: Histogram;
  readonly #refreshes: Counter;
  readonly #evictions: Counter;
  readonly #observables: Observable[];
  readonly #collect: BatchObservableCallback;
  readonly #meter: Meter;

  constructor(meterProvider: MeterProvider, source: MetricsSource) {
    const meter = meterProvider.getMeter(METER_NAME, PACKAGE_VERSION);
    this.#meter = meter;
    this.#calls = meter.createCounter('aws.sts.calls', { unit: '{call}', description: 'STS API calls, by operation and outcome' });
    this.#callDuration = meter.createHistogram('aws.sts.call.duration', {
      unit: 's',
      description: 'Duration of STS API calls, SDK retries included',
      advice: { explicitBucketBoundaries: CALL_DURATION_BUCKETS_SECONDS },
    });
    this.#refreshes = meter.createCounter('aws.sts.cache.refreshes', { unit: '{refresh}', description: 'Credential fetches for the cache, by outcome and whether callers waited' });
    this.#evictions = meter.createCounter('aws.sts.cache.evictions', { unit: '{entry}', description: 'Cache entries dropped, by reason' });
    const lookups = meter.createObservableCounter('aws.sts.cache.lookups', { unit: '{lookup}', description: 'Cache lookups: hit, miss, or stale (served while refreshes fail)' });
    const entries = meter.createObservableGauge('aws.sts.cache.entries', { unit: '{entry}', description: 'Credential sets cached' });
    const inflight = meter.createObservableGauge('aws.sts.cache.inflight', { unit: '{fetch}', description: 'STS fetches running for the cache' });
    const expiry = meter.createObservableGauge('aws.sts.credentials.expiry', { unit: 's', description: 'Seconds until the soonest cached credentials expire' });
    this.#observables = [lookups, entries, inflight, expiry];
    this.#collect = (result) => {
      const stats = source.stats();
      result.observe(lookups, stats.hits - stats.staleServed, LOOKUP_HIT);
      result.observe(lookups, stats.misses, LOOKUP_MISS);
      result.observe(lookups, stats.staleServed, LOOKUP_STALE);
      result.observe(entries, stats.size);
      result.observe(inflight, stats.inflight);
      const secondsToExpiry = source.secondsToSoonestExpiry();
      if (secondsToExpiry !== undefined) result.observe(expiry, secondsToExpiry);
    };
    meter.addBatchObservableCallback(this.#collect, this.#observables);
  }

  /** Records what an event says about STS calls, refreshes and evictions. */
  record(event: StsEvent): void {
    switch (event.type) {
      case 'sts-call': {
        const { operation, outcome, errorCode } = event;
        this.#callDuration.record(event.durationMs / 1000, { operation, outcome });
        this.#calls.add(1, errorCode === undefined ? { operation, outcome } : { operation, outcome, 'error.type': errorCode });
        return;
      }
      case 'refresh-succeeded':
      case 'refresh-failed':
        this.#refreshes.add(1, { outcome: event.type === 'refresh-succeeded' ? 'success' : 'error', background: event.background === true });
        return;
      case 'eviction':
        this.#evictions.add(1, { reason: event.reason ?? 'expired' });
        return;
      case 'invalidation':
        this.#evictions.add(1, { reason: 'invalidated' });
        return;
    }
  }

  /** Stops reporting the cache's gauges (module destroy). */
  close(): void {
    this.#meter.removeBatchObservableCallback(this.#collect, this.#observables);
  }
}
