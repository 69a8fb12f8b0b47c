import { Logger } from '@nestjs/common';
import type { SharedTierEvent } from '../sts-events.js';

/**
 * The Redis commands the shared tier sends, as ioredis and iovalkey (clients and `Cluster`) have them. No command
 * names two keys, so Redis Cluster works.
 */
export interface SharedRedisClient {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, expiryMode: 'PX', milliseconds: number): Promise<unknown>;
  set(key: string, value: string, expiryMode: 'PX', milliseconds: number, setMode: 'NX'): Promise<unknown>;
  del(key: string): Promise<number>;
  eval(script: string, numberOfKeys: number, key: string, argument: string): Promise<unknown>;
  publish(channel: string, message: string): Promise<number>;
  /** A new connection with the same options: the shared tier's only one of its own, for its subscription. */
  duplicate(): SharedRedisSubscriber;
}

/** The connection the shared tier subscribes on (from `duplicate()`), closed on module destroy. */
export interface SharedRedisSubscriber {
  subscribe(channel: string): Promise<unknown>;
  on(event: 'message', listener: (channel: string, message: string) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  /** Emitted when the connection is (re)established. */
  on(event: 'ready', listener: () => void): unknown;
  disconnect(): void;
}

/** Why the shared tier is being skipped: Redis failed lately and the tier is backing off. */
export class SharedTierBackingOff extends Error {
  override readonly name = 'SharedTierBackingOff';
}

/** After a failure Redis is left alone 1 s, then 2 s, 4 s… up to this (ms). */
const MAX_BACKOFF_MS = 30_000;
/** At most one warning per this long, so a Redis that fails some commands and answers others cannot flood the log (ms). */
const WARNING_INTERVAL_MS = 60_000;

/** A short, non-secret name for a Redis failure: its code (`ECONNREFUSED`, `OOM`…) or its class, never its message. */
function failureCode(error: unknown): string {
  const { code, name } = (error ?? {}) as { code?: unknown; name?: unknown };
  if (typeof code === 'string' && /^[A-Z][A-Z0-9_]{0,31}$/.test(code)) return code;
  return typeof name === 'string' && /^\w{1,64}$/.test(name) ? name : 'Error';
}

/**
 * Runs the shared tier's Redis commands, each bounded by `timeoutMs`, and keeps track of outages: after a failure
 * (an error, a timeout) every command is refused at once for a backoff, so a Redis that is down, slow or full costs
 * callers nothing but the first bounded command. An outage is logged once when it starts and once when it ends, and
 * emitted as `shared-tier` events.
 */
export class RedisCommands {
  readonly #logger = new Logger('StsSharedCache');
  #failures = 0;
  #retryAt = 0;
  #warnedAt = -Infinity;
  /** Whether the outage under way was logged (then its end is logged too). */
  #warned = false;

  constructor(
    readonly redis: SharedRedisClient,
    private readonly timeoutMs: number,
    private readonly emit: (event: SharedTierEvent) => void,
  ) {}

  /** False while backing off after a failure: the tier should not be asked. */
  get available(): boolean {
    return this.#failures === 0 || performance.now() >= this.#retryAt;
  }

  /**
   * The command's answer, or a rejection when it failed, took longer than the bound, or Redis is backing off.
   * `late` sees the answer of a command that arrives after the bound (to undo a lock taken too late).
   */
  run<T>(command: (redis: SharedRedisClient) => Promise<T>, late?: (answer: T) => void): Promise<T> {
    if (!this.available) return Promise.reject(new SharedTierBackingOff('Redis failed lately; the shared tier is backing off'));
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    const answer = Promise.resolve().then(() => command(this.redis));
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        reject(Object.assign(new Error(`Redis did not answer within ${this.timeoutMs} ms`), { name: 'TimeoutError' }));
      }, this.timeoutMs);
      timer.unref();
    });
    answer.then((value) => timedOut && late?.(value), () => undefined);
    return Promise.race([answer, deadline]).then(
      (value) => {
        clearTimeout(timer);
        this.succeeded();
        return value;
      },
      (error: unknown) => {
        clearTimeout(timer);
        this.failed(error);
        throw error;
      },
    );
  }

  private succeeded(): void {
    if (this.#failures === 0) return;
    this.#failures = 0;
    if (this.#warned) this.#logger.log('Redis answers again: the shared credential tier is back in use');
    this.emit({ type: 'shared-tier', state: 'available' });
  }

  private failed(error: unknown): void {
    const now = performance.now();
    if (this.#failures > 0 && now < this.#retryAt) return; // sent before the outage was noticed: already counted
    const code = failureCode(error);
    const backoff = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** this.#failures);
    this.#retryAt = now + backoff;
    if (this.#failures++ > 0) return; // one line and one event per outage, not per command
    this.emit({ type: 'shared-tier', state: 'unavailable', errorCode: code });
    this.#warned = now - this.#warnedAt >= WARNING_INTERVAL_MS;
    if (!this.#warned) return;
    this.#warnedAt = now;
    this.#logger.warn(`Redis failed (${code}): the shared credential tier is skipped (local cache and STS serve as without it) until Redis answers again; next try in ${backoff / 1000} s`);
  }
}
