import { Logger } from '@nestjs/common';
import { READ_LOG } from './tier-scripts.js';
import type { RedisStore } from './redis-store.js';

/** One invalidation in the fleet's log. */
export interface LoggedInvalidation {
  /** The Redis address invalidated. */
  address: string;
  /** The `invalidate()` it belongs to, the same across its addresses and relays. */
  origin: string;
  /** The instance that wrote it. */
  instance: string;
  /** Only the credentials with this access key tag (`CredentialEnvelope.accessKeyTag`); undefined: any. */
  accessKeyTag?: string;
  /** Every address its writer invalidated with it (`address` included): nobody needs to relay to those. */
  covered: string[];
}

/** Entries read per round trip. */
const PAGE = 500;
/**
 * A new instance reads the log from this long before it started (ms), as Redis's clock has it (Redis stamps the
 * entries): an invalidation another instance could not propagate before this one fetched (an outage) reaches it too.
 */
const LOOKBACK_MS = 5 * 60_000;

/**
 * The fleet's log of invalidations as this instance reads it: from where it left off, so an invalidation made while
 * its subscription was down (a dropped connection, a proxy's idle timeout) still reaches it. Read on every
 * (re)subscription, every `log` message, and periodically. When the log was trimmed past where this instance left off
 * (it could not read while the fleet wrote more than the log keeps), what it missed is unknown:
 * `lost()` drops everything the instance holds.
 */
export class FleetLog {
  readonly #logger = new Logger('StsSharedCache');
  /** The last entry read; undefined before the first read, which starts from the look-back. */
  #cursor?: string;
  readonly #startedAt = performance.now();
  #reading?: Promise<void>;
  #again = false;

  constructor(
    private readonly key: string,
    /** The most entries the log keeps (`XADD MAXLEN ~`). */
    private readonly cap: number,
    private readonly run: (command: (redis: RedisStore) => Promise<unknown>) => Promise<unknown>,
    private readonly apply: (entry: LoggedInvalidation) => void,
    /** Drops every credential the instance holds; answers how many. */
    private readonly lost: () => number,
  ) {}

  /** Applies every entry after the last one read (once at a time: a call while one runs reads again after it). */
  catchUp(): Promise<void> {
    if (this.#reading !== undefined) {
      this.#again = true;
      return this.#reading;
    }
    this.#reading = (async () => {
      do {
        this.#again = false;
        for (;;) {
          const lookBack = String(Math.round(LOOKBACK_MS + performance.now() - this.#startedAt));
          const args = [this.#cursor ?? '', String(PAGE), String(this.cap), lookBack];
          const answer = await this.run((redis) => redis.eval(READ_LOG, [this.key], args));
          if (!Array.isArray(answer) || !Array.isArray(answer[1])) return; // failed: read again next time, from the same place
          const [oldest, page, from] = answer as [string, Array<[string, string[]]>, string];
          this.#cursor ??= String(from);
          // The entry it left off at is gone, with what may have followed it.
          if (oldest !== '' && isAfter(oldest, this.#cursor)) {
            const dropped = this.lost();
            if (dropped > 0) {
              this.#logger.warn(
                `The fleet's invalidation log was trimmed past what this instance had read: it dropped the ${dropped} credentials it held`,
              );
            }
          }
          for (const [id, fields] of page) {
            this.#cursor = id;
            const entry = entryOf(fields);
            if (entry !== undefined) this.apply(entry);
          }
          if (page.length < PAGE) break;
        }
      } while (this.#again);
    })().finally(() => (this.#reading = undefined));
    return this.#reading;
  }
}

/** Whether stream id `a` (`<ms>-<seq>`) comes after `b`. */
function isAfter(a: string, b: string): boolean {
  const [aMs, aSeq] = a.split('-').map(BigInt);
  const [bMs, bSeq] = b.split('-').map(BigInt);
  return aMs > bMs || (aMs === bMs && aSeq > bSeq);
}

function entryOf(fields: unknown): LoggedInvalidation | undefined {
  if (!Array.isArray(fields)) return undefined;
  const values = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) values.set(String(fields[i]), String(fields[i + 1]));
  const [address, origin, instance, tag, covered] = ['a', 'o', 'i', 't', 'c'].map((field) => values.get(field));
  if (address === undefined || origin === undefined || instance === undefined) return undefined;
  const others = covered === undefined || covered === '' ? [] : covered.split(' ');
  return { address, origin, instance, accessKeyTag: tag === '' ? undefined : tag, covered: [address, ...others] };
}
