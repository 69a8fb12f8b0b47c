import type { ResolvedStsConfig } from '../../config/server-aws-sts.config.js';

/**
 * For every field of the resolved config, what of it belongs to the shared tier's scope (instances share an entry
 * only when their scopes are equal), or `null` when it does not shape the credentials STS returns or how their use
 * is audited. A `Record` over every key: a new config field does not compile until it is decided here.
 */
export const SHARING_SCOPE: { readonly [Field in keyof ResolvedStsConfig]-?: ((config: ResolvedStsConfig) => unknown) | null } = {
  // The STS endpoint answering: a regional endpoint issues session tokens valid in every region, the global one
  // tokens only for the regions enabled by default; another endpoint is another STS.
  region: (config) => config.region ?? regionOf(config.clientConfig.region),
  clientConfig: (config) => endpointOf(config.clientConfig.endpoint),
  // Generated session names (`<prefix>-…`) name the caller in CloudTrail and in `sts:RoleSessionName` conditions.
  sessionNamePrefix: (config) => config.sessionNamePrefix,
  // An instance that refuses a request must not adopt what one that allows it fetched.
  requireExternalId: (config) => config.requireExternalId,
  // Applied to each request before it is keyed: its duration and ExternalId are in the request's canonical text.
  defaultSessionDuration: null,
  maxSessionDuration: null,
  defaultExternalId: null,
  // Maps a request to one of those requests, keyed like any other.
  tenant: null,
  // The base principal (asked of STS) is the other half of the scope.
  credentials: null,
  // How the library runs, not what STS returns.
  ownsRequestHandler: null,
  operationTimeoutMs: null,
  maxConcurrentStsCalls: null,
  cache: null,
  clients: null,
  meterProvider: null,
};

/** The parts of `config` in the sharing scope, in a stable order (JSON-serialisable, no secret). */
export function sharingScope(config: ResolvedStsConfig): unknown[] {
  return Object.entries(SHARING_SCOPE)
    .filter(([, part]) => part !== null)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([field, part]) => [field, part!(config) ?? null]);
}

/** A region given as text; one given as a provider function is unknown here (undefined). */
function regionOf(region: unknown): string | undefined {
  return typeof region === 'string' ? region : undefined;
}

/** An endpoint as text: a string, a URL, or an SDK endpoint object; a provider function reads as `'custom'`. */
function endpointOf(endpoint: unknown): string | undefined {
  if (endpoint === undefined) return undefined;
  if (typeof endpoint === 'string' || endpoint instanceof URL) return String(endpoint);
  if (typeof endpoint === 'function') return 'custom';
  const { protocol, hostname, port, path } = endpoint as { protocol?: string; hostname?: string; port?: number; path?: string };
  return `${protocol ?? ''}//${hostname ?? ''}:${port ?? ''}${path ?? ''}`;
}
