import type { AssumeRoleRequest } from '../sts/sts-request.types.js';
import type { CredentialCacheControl } from '../module/credential-cache-control.js';
import type { ClientPoolStats } from '../clients/client-pool.js';
import type { CredentialCacheStats } from '../cache/credential-cache-stats.js';
import type { TemporaryCredentials } from '../sts/temporary-credentials.js';
import { accountOf } from './sts-answers.js';

interface CachedEntry {
  roleArn: string;
  sessionName?: string;
  credentials: Promise<TemporaryCredentials>;
  /** Set once the credentials resolved. */
  accessKeyId?: string;
}

/**
 * The cache of `FakeStsService`: the credentials `getCredentials` handed out, by request, until invalidated; the
 * clients of `clientFor`; the counts its `cache.stats()` and `cache.clientStats()` report.
 */
export class FakeCredentialCache {
  readonly #entries = new Map<string, CachedEntry>();
  /** The clients of `clientFor`, by client class, then by request and config. */
  readonly #clients = new Map<unknown, Map<string, unknown>>();
  readonly #stats = { hits: 0, misses: 0, clientHits: 0, clientsCreated: 0, clientsDestroyed: 0 };
  /** What `FakeStsService.cache` is. */
  readonly control: CredentialCacheControl = this.#control();

  /** The credentials held for `request` (a hit), if any. */
  held(request: AssumeRoleRequest): Promise<TemporaryCredentials> | undefined {
    const entry = this.#entries.get(JSON.stringify(request));
    if (entry) this.#stats.hits++;
    return entry?.credentials;
  }

  /** Holds `credentials` for `request` (a miss) until they reject or are invalidated. */
  hold(request: AssumeRoleRequest, credentials: Promise<TemporaryCredentials>): Promise<TemporaryCredentials> {
    this.#stats.misses++;
    const key = JSON.stringify(request);
    const entry: CachedEntry = { roleArn: request.roleArn, sessionName: request.sessionName, credentials };
    this.#entries.set(key, entry);
    credentials.then(
      ({ accessKeyId }) => (entry.accessKeyId = accessKeyId),
      () => this.#entries.delete(key),
    );
    return credentials;
  }

  /** The client of (client class, request, client config), made by `create` the first time. */
  clientFor<Client>(ClientClass: unknown, request: AssumeRoleRequest, clientConfig: object | undefined, create: () => Client): Client {
    const pool = this.#clients.get(ClientClass) ?? new Map<string, unknown>();
    this.#clients.set(ClientClass, pool);
    const key = JSON.stringify([request, clientConfig ?? {}]);
    if (pool.has(key)) {
      this.#stats.clientHits++;
      return pool.get(key) as Client;
    }
    const client = create();
    this.#stats.clientsCreated++;
    pool.set(key, client);
    return client;
  }

  #control(): CredentialCacheControl {
    const entries = this.#entries;
    const stats = this.#stats;
    const clients = this.#clients;
    /** Drops the entries `matching` picks; returns how many. */
    const drop = (matching: (key: string, entry: CachedEntry) => boolean) =>
      [...entries].filter(([key, entry]) => matching(key, entry)).filter(([key]) => entries.delete(key)).length;
    return {
      invalidate: (request) => drop((key) => key === JSON.stringify(request)) > 0,
      invalidateWhere: async (predicate) =>
        drop((key, { roleArn, sessionName }) => predicate({ key, roleArn, accountId: accountOf(roleArn), sessionName })),
      invalidateIfCurrent: ({ accessKeyId }) => drop((_key, entry) => entry.accessKeyId === accessKeyId) > 0,
      clear: () => {
        entries.clear();
        for (const pool of clients.values()) for (const client of pool.values()) (client as { destroy?: () => void }).destroy?.();
        stats.clientsDestroyed = stats.clientsCreated;
        clients.clear();
      },
      stats: (): CredentialCacheStats => ({
        size: entries.size,
        hits: stats.hits,
        misses: stats.misses,
        refreshes: stats.misses,
        refreshFailures: 0,
        staleServed: 0,
        evictions: 0,
        inflight: 0,
      }),
      clientStats: (): ClientPoolStats => ({
        size: stats.clientsCreated - stats.clientsDestroyed,
        hits: stats.clientHits,
        created: stats.clientsCreated,
        unpooled: 0,
        destroyed: stats.clientsDestroyed,
        draining: 0,
      }),
    };
  }
}
