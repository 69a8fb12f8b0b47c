import type { SharedEncryptionKey } from './credential-envelope.js';
import type { RedisStore } from './redis-store.js';
import type { SharedTierEvent } from '../../observability/sts-events.js';

/** The shared tier's options with their defaults applied. */
export interface SharedTierSettings {
  /** The app's Redis client, as the tier talks to it. */
  store: () => RedisStore;
  /** The first seals, every one opens. */
  encryptionKeys: () => SharedEncryptionKey[];
  keyPrefix: string;
  commandTimeoutMs: number;
}

/** What the shared tier needs from the service around it. */
export interface SharedTierContext {
  /** The base principal (an assumed-role session as its role): entries are shared only between equal ones. */
  principal(): Promise<string>;
  /** STS's clock (ms since epoch): judges whether a shared value is still usable. */
  now(): number;
  mandatoryWindowMs: number;
  /** How long a fetch (and so a lock) may take: the operation timeout (ms). */
  operationTimeoutMs: number;
  /** Requests remembered for invalidation: twice the cache's `maxEntries`. */
  maxEntries: number;
  emit(event: SharedTierEvent): void;
  /** A load that found another instance's lock has its answer, `ms` after it began to wait (off the hit path). */
  waited(ms: number, result: SharedWaitResult): void;
  /**
   * Another instance invalidated the entry this instance holds under `localKey` (only if `onlyIf` accepts the access
   * key id of what it holds, when given): drop it, and say what was dropped.
   */
  onRemoteInvalidation(localKey: string, onlyIf?: (accessKeyId: string) => boolean): DroppedCredentials | undefined;
  /** The requests whose credentials this instance holds now, so an invalidation reaches them however old they are. */
  held(): Iterable<SharedRequest>;
}

/** What an invalidation dropped from the instance's cache. */
export interface DroppedCredentials {
  accessKeyId: string;
  /** When they expire (ms since epoch). */
  expiration: number;
}

/**
 * How a load that waited on another instance ended: with that instance's value (`adopted`), with credentials it
 * fetched itself (`fetched`: the holder took too long or failed, or Redis did), or with its own fetch failing.
 */
export type SharedWaitResult = 'adopted' | 'fetched' | 'failed';

/** A request as the shared tier sees it. */
export interface SharedRequest {
  /** The instance's cache key. */
  localKey: string;
  /** The canonical request (in this process only): with the base principal, it names the Redis keys. */
  canonical: string;
}
