import type { CacheLookup } from '../cache/cache-entry.js';
import { cacheKeyOf } from '../cache/cache-key.js';
import { CredentialCache, type CacheClock } from '../cache/credential-cache.js';
import type { ResolvedStsConfig } from '../config/server-aws-sts.config.js';
import { RequestValidator, validateWebIdentityTokenRequest } from '../sts/sts-validation.js';
import type { GetWebIdentityTokenRequest } from '../sts/sts-request.types.js';
import type { WebIdentityToken } from '../sts/web-identity-token.js';

/** A token is never handed out in its last 10 s: the service it is sent to must still accept it on arrival. */
const TOKEN_MANDATORY_WINDOW_SECONDS = 10;

/**
 * GetWebIdentityToken behind a cache of its own (its own `CredentialCache` instance and keyspace, never mixed with
 * credentials): keyed by a hash of the base identity and every input that shapes the token (audiences, algorithm,
 * duration, tags, scope, subject mode), refreshed ahead of expiry by one call for all callers, and never logged.
 * With `cache: false` every call goes to STS. Its transitions are not in `events$`; each STS call is (`sts-call`).
 */
export class CachedWebIdentityTokens {
  readonly #cache?: CredentialCache<WebIdentityToken>;

  constructor(
    config: ResolvedStsConfig,
    private readonly baseIdentityTag: string,
    private readonly fetch: (request: GetWebIdentityTokenRequest) => Promise<WebIdentityToken>,
    clock: CacheClock,
  ) {
    if (config.cache) {
      const settings = { maxEntries: config.cache.maxEntries, mandatoryWindowSeconds: TOKEN_MANDATORY_WINDOW_SECONDS };
      this.#cache = new CredentialCache<WebIdentityToken>(settings, () => undefined, clock);
    }
  }

  /** A current token for `request` (validated first; nothing is sent for an invalid one). */
  get(request: GetWebIdentityTokenRequest): Promise<WebIdentityToken> {
    try {
      return this.#cache ? this.#cache.get(this.lookupOf(request)) : this.fetch(request);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Drops every cached token. */
  clear(): void {
    this.#cache?.clear();
  }

  /** Stops the cache's timers. */
  stop(): void {
    this.#cache?.stop();
  }

  private lookupOf(request: GetWebIdentityTokenRequest): CacheLookup<WebIdentityToken> {
    const input = validateWebIdentityTokenRequest(new RequestValidator('GetWebIdentityToken'), request);
    // The request as validated, read once: later changes to the caller's object do not reach refreshes.
    const frozen: GetWebIdentityTokenRequest = Object.freeze({
      audience: input.Audience as string[],
      signingAlgorithm: input.SigningAlgorithm as GetWebIdentityTokenRequest['signingAlgorithm'],
      durationSeconds: input.DurationSeconds,
      scope: input.Scope,
      subjectMode: input.SubjectMode as GetWebIdentityTokenRequest['subjectMode'],
      tags: input.Tags && Object.fromEntries(input.Tags.map(({ Key, Value }) => [Key, Value])),
    });
    const canonical = JSON.stringify([
      input.Audience,
      input.SigningAlgorithm,
      input.DurationSeconds ?? null,
      input.Scope ?? null,
      input.SubjectMode ?? null,
      (input.Tags ?? []).map(({ Key, Value }) => [Key, Value]).sort(([a], [b]) => String(a).localeCompare(String(b))),
    ]);
    return {
      key: cacheKeyOf(`${this.baseIdentityTag}token${canonical}`),
      load: () => this.fetch(frozen),
      // Tokens name no role: the entry facts are empty (they reach no event).
      info: { roleArn: '', accountId: '' },
      refreshAhead: true,
      rememberRefusals: true,
    };
  }
}
