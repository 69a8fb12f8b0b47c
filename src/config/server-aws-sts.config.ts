import type { STSClientConfig } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@aws-sdk/types';
import { metrics, type MeterProvider } from '@opentelemetry/api';
import { baseCredentialProvider } from './base-identity.js';
import { resolveCacheOptions, type CredentialCacheOptions, type CredentialCacheSettings } from './cache-options.js';
import { boundedProvider } from '../sts/operation-deadline.js';
import { withRequestHandlerDefaults } from './request-handler-defaults.js';
import { GLOBAL_REGION, validateEndpointChoice } from './sts-endpoint.js';
import { STS_LIMITS } from '../sts/sts-limits.js';
import { StsError, StsValidationError } from '../errors/sts-error.js';
import type { RequestTenantOptions } from '../tenant/request-tenant-options.js';
import { RequestValidator } from '../sts/sts-validation.js';

/** Options of the pool of AWS SDK clients behind `StsService.clientFor`. */
export interface ClientPoolOptions {
  /**
   * Most clients kept, one per (client class, request, client config); the least recently used is destroyed to
   * make room. Each holds its own sockets (idle keep-alive connections included) and costs about 28 KiB of heap:
   * 100 clients ≈ 3 MiB. 1–10,000. Default: 100.
   */
  maxEntries?: number;
}

/** Options of the library's OpenTelemetry metrics. */
export interface MetricsOptions {
  /** The provider of the meter `nestjs-aws-sts`. Default: the global one (`metrics.getMeterProvider()`). */
  meterProvider?: MeterProvider;
}

/**
 * Configuration of `ServerAwsStsModule`. A class, so an app can extend it with its own settings and provide it
 * from its config service (`configureAsync({ useFactory: () => ServerAwsStsConfig.fromEnv() })`).
 */
export class ServerAwsStsConfig {
  /**
   * Region of the STS endpoint: the regional endpoint `https://sts.<region>.amazonaws.com` (the SDK's default), or
   * `aws-global` for the global endpoint `https://sts.amazonaws.com` (served from us-east-1; no FIPS or dual-stack
   * variant; AssumeRoot, GetWebIdentityToken and GetScopedCredentials are not served there). Default: the SDK's region chain.
   */
  AWS_REGION?: string;
  /**
   * Send STS calls to the region's FIPS 140 endpoint (`sts-fips.<region>.amazonaws.com`), as the SDK resolves it.
   * Not with `aws-global` nor a custom `clientConfig.endpoint`. Default: the SDK's (`AWS_USE_FIPS_ENDPOINT`, the
   * profile's `use_fips_endpoint`, else false).
   */
  useFipsEndpoint?: boolean;
  /**
   * Send STS calls to the region's dual-stack endpoint, reachable over IPv4 and IPv6 (`sts.<region>.api.aws`), as
   * the SDK resolves it. Not with `aws-global` nor a custom `clientConfig.endpoint`. Default: the SDK's
   * (`AWS_USE_DUALSTACK_ENDPOINT`, the profile's `use_dualstack_endpoint`, else false).
   */
  useDualstackEndpoint?: boolean;
  /** Shared-config profile of the base identity, used through `fromIni`. Default: none (the SDK's default chain). */
  AWS_PROFILE?: string;
  /** Session length when a request gives none, in seconds (900–43200). Default: 3600. */
  DEFAULT_SESSION_DURATION?: number;
  /** Upper bound for any requested role session, in seconds (900–43200). Default: 43200. */
  MAX_SESSION_DURATION?: number;
  /**
   * ExternalId sent when an `assumeRole` request gives none (absent, not `null`): for apps that assume roles in one partner account
   * whose trust policy names this value. Not for many tenants: one ExternalId shared by every customer is the
   * confused-deputy set-up the ExternalId exists to prevent; give each tenant its own in the request. With
   * `requireExternalId`, it does not satisfy the check. Default: none.
   */
  EXTERNAL_ID?: string;
  /**
   * The base identity that calls STS: static credentials or a provider function (refreshed by the SDK).
   * Default: `fromIni({ profile: AWS_PROFILE })` when `AWS_PROFILE` is set, otherwise `fromNodeProviderChain()`.
   */
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /**
   * Passed to `new STSClient(...)`: `endpoint`, `maxAttempts` (default 3), `retryMode`, `requestHandler`…
   * Request handler options are merged over `{ connectionTimeout: 3000, requestTimeout: 10000, throwOnRequestTimeout: true }`
   * (milliseconds), so a hung endpoint fails with a `TimeoutError` instead of hanging. A handler instance, or an
   * `httpAgent` / `httpsAgent` you pass, stays yours: the library never destroys it. The clients of `createClient`
   * and `clientFor` get the same defaults under their own config's handler options.
   */
  clientConfig?: STSClientConfig;
  /**
   * Every `StsService` call, and every cache fetch a caller waits on, settles within this many seconds or rejects
   * with a retryable `StsError` `TimeoutError` — a hung base credential provider, MFA code function or endpoint
   * included. 1–300. Default: 30. Also the longest module destroy waits for `clientFor` clients still serving sends
   * or streams before it destroys them.
   */
  operationTimeoutSeconds?: number;
  /**
   * Most STS requests this instance has in flight at once; the others wait their turn, first come first served, and
   * each caller still settles within `operationTimeoutSeconds` (a wait counts against it). 1–1,000. Default: 16.
   *
   * Why 16: STS throttles per account with a token bucket whose rate AWS does not publish and will not raise, shared
   * by every replica and every other caller of the account. Without a bound, a restart or fan-out with 400 cold
   * tenants sends 400 AssumeRole calls at once from each replica, straight into `Throttling`. At STS's usual 20–100 ms
   * a call, 16 in flight still make 160–800 calls a second per instance (a cold start of 1,000 tenants takes about
   * 1–6 s: `npm run bench -- cold` measures it), while a fleet of N replicas sends at most 16·N at once. Raise it for a
   * slow or distant endpoint; lower it when many replicas share one account.
   */
  maxConcurrentStsCalls?: number;
  /**
   * Refuse an `assumeRole` into another account than the caller's own unless the request carries its own
   * `externalId` (`EXTERNAL_ID` does not count). Default: false.
   */
  requireExternalId?: boolean;
  /** Prefix of generated session names (1–32 characters of `[\w+=,.@-]`). Default: `nestjs-aws-sts`. */
  sessionNamePrefix?: string;
  /** The credential cache, or `false` to send every `getCredentials` to STS. Default: `{}` (all defaults). */
  cache?: CredentialCacheOptions | false;
  /**
   * The pool behind `clientFor`: at most `maxEntries` SDK clients (default 100), each destroyed when it leaves the
   * pool. Default: `{}` (all defaults).
   */
  clients?: ClientPoolOptions;
  /**
   * OpenTelemetry metrics (docs/metrics-and-health.md lists the instruments). Default: `{}`, the global `MeterProvider` — a no-op
   * until the app registers one, which it must do before the Nest app is created. `false`: no instruments at all.
   */
  metrics?: MetricsOptions | false;
  /**
   * How a request maps to its tenant's role, for `sts.current`: `{ resolve: (request) => ({ roleArn, externalId }) }`
   * (see `RequestTenantOptions` and docs/request-tenant.md). Default: none (`sts.current` refuses with
   * `NoRequestTenant`).
   */
  tenant?: RequestTenantOptions;

  constructor(init: Partial<ServerAwsStsConfig> = {}) {
    Object.assign(this, init);
  }

  /**
   * Reads `AWS_REGION`, `AWS_PROFILE`, `STS_SESSION_DURATION`, `STS_MAX_SESSION_DURATION` and `STS_EXTERNAL_ID`.
   * Unset or empty variables keep their defaults; a non-numeric duration fails at bootstrap.
   */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): ServerAwsStsConfig {
    const read = (name: string) => (env[name] === undefined || env[name] === '' ? undefined : env[name]);
    const seconds = (name: string) => (read(name) === undefined ? undefined : Number(read(name)));
    return new ServerAwsStsConfig({
      AWS_REGION: read('AWS_REGION'),
      AWS_PROFILE: read('AWS_PROFILE'),
      DEFAULT_SESSION_DURATION: seconds('STS_SESSION_DURATION'),
      MAX_SESSION_DURATION: seconds('STS_MAX_SESSION_DURATION'),
      EXTERNAL_ID: read('STS_EXTERNAL_ID'),
    });
  }
}

/** The config with every default applied and every field checked: what the service runs on. */
export interface ResolvedStsConfig {
  region?: string;
  defaultSessionDuration: number;
  maxSessionDuration: number;
  /** `EXTERNAL_ID`, behind a function so that inspecting the config (or the service) never shows it. */
  defaultExternalId: () => string | undefined;
  /** The base identity, each resolution bounded by 80% of the operation timeout. */
  credentials: AwsCredentialIdentityProvider;
  /** The STS client's config, with the request handler defaults merged in. */
  clientConfig: STSClientConfig;
  /** False when the request handler or its agents are the user's: then the library never destroys them. */
  ownsRequestHandler: boolean;
  operationTimeoutMs: number;
  /** Most STS requests in flight at once from this instance. */
  maxConcurrentStsCalls: number;
  requireExternalId: boolean;
  sessionNamePrefix: string;
  cache: CredentialCacheSettings | false;
  /** The pool behind `clientFor`, defaults applied. */
  clients: Required<ClientPoolOptions>;
  /** Where the library's instruments come from; undefined with `metrics: false`. */
  meterProvider?: MeterProvider;
  /** How a request maps to its tenant's role (`sts.current`); undefined when not configured. */
  tenant?: RequestTenantOptions;
}

/** STS requests in flight at once per instance, by default: see `ServerAwsStsConfig.maxConcurrentStsCalls`. */
const DEFAULT_MAX_CONCURRENT_STS_CALLS = 16;

/** The base credential provider gets this share of the operation timeout. */
const BASE_PROVIDER_SHARE_OF_TIMEOUT = 0.8;

const { min: MIN_DURATION, max: MAX_DURATION } = STS_LIMITS.roleDuration;
/** Generated session names are the prefix, a dash and 31 more characters: the prefix may use the rest. */
const SESSION_NAME_PREFIX_LIMITS = { ...STS_LIMITS.roleSessionName, min: 1, max: 32 };

function isStaticCredentials(credentials: unknown): boolean {
  const { accessKeyId, secretAccessKey } = (credentials ?? {}) as Partial<AwsCredentialIdentity>;
  return typeof credentials === 'object' && typeof accessKeyId === 'string' && typeof secretAccessKey === 'string';
}

/** Applies defaults and checks every field with the request validators; throws one `StsError` naming each bad field. */
export function resolveStsConfig(config: ServerAwsStsConfig = {}): ResolvedStsConfig {
  const validate = new RequestValidator('Configuration');
  const problems: string[] = [];
  // Each check throws at its first broken rule; the config reports every bad field at once.
  const check = (run: () => void) => {
    try {
      run();
    } catch (error) {
      if (!(error instanceof StsValidationError)) throw error;
      problems.push(`${error.field} ${error.rule}`);
    }
  };

  const defaultSessionDuration = config.DEFAULT_SESSION_DURATION ?? STS_LIMITS.roleDuration.default;
  const maxSessionDuration = config.MAX_SESSION_DURATION ?? MAX_DURATION;
  const externalId = config.EXTERNAL_ID;
  const prefix = config.sessionNamePrefix ?? 'nestjs-aws-sts';
  const operationTimeoutSeconds = config.operationTimeoutSeconds ?? 30;
  const maxConcurrentStsCalls = config.maxConcurrentStsCalls ?? DEFAULT_MAX_CONCURRENT_STS_CALLS;
  check(() => config.AWS_REGION === undefined || config.AWS_REGION === GLOBAL_REGION || validate.region(config.AWS_REGION, 'AWS_REGION'));
  check(() => validateEndpointChoice(validate, config));
  check(() =>
    validate.require(
      config.AWS_PROFILE === undefined || (typeof config.AWS_PROFILE === 'string' && config.AWS_PROFILE.length > 0),
      'AWS_PROFILE',
      'must be a non-empty string',
    ),
  );
  check(() => validate.integer(maxSessionDuration, 'MAX_SESSION_DURATION', MIN_DURATION, MAX_DURATION, { unit: '' }));
  check(() =>
    validate.integer(
      defaultSessionDuration,
      'DEFAULT_SESSION_DURATION',
      MIN_DURATION,
      Math.min(MAX_DURATION, maxSessionDuration) || MAX_DURATION,
      { unit: '', maxName: 'MAX_SESSION_DURATION' },
    ),
  );
  check(() => validate.externalId(externalId, 'EXTERNAL_ID'));
  check(() => validate.text(prefix, 'sessionNamePrefix', SESSION_NAME_PREFIX_LIMITS));
  check(() =>
    validate.require(
      config.credentials === undefined || typeof config.credentials === 'function' || isStaticCredentials(config.credentials),
      'credentials',
      'must be { accessKeyId, secretAccessKey, sessionToken? } or a credential provider function',
    ),
  );
  check(() => validate.integer(operationTimeoutSeconds, 'operationTimeoutSeconds', 1, 300, { unit: '' }));
  check(() => validate.integer(maxConcurrentStsCalls, 'maxConcurrentStsCalls', 1, 1_000, { unit: '' }));

  const metricsOptions = config.metrics ?? {};
  check(() =>
    validate.require(
      metricsOptions === false ||
        (typeof metricsOptions === 'object' &&
          metricsOptions !== null &&
          (metricsOptions.meterProvider === undefined || typeof metricsOptions.meterProvider?.getMeter === 'function')),
      'metrics',
      'must be false or { meterProvider?: MeterProvider }',
    ),
  );

  const cache = config.cache === false ? false : resolveCacheOptions(config.cache ?? {}, validate, check);

  const clientOptions = config.clients ?? {};
  const clients: Required<ClientPoolOptions> = { maxEntries: 100 };
  check(() => validate.require(typeof clientOptions === 'object' && clientOptions !== null, 'clients', 'must be { maxEntries?: number }'));
  if (typeof clientOptions === 'object' && clientOptions !== null) {
    clients.maxEntries = clientOptions.maxEntries ?? 100;
    check(() => validate.integer(clients.maxEntries, 'clients.maxEntries', 1, 10_000, { unit: '' }));
  }

  const tenant = config.tenant;
  const tenantOk = tenant === undefined || (typeof tenant === 'object' && tenant !== null && typeof tenant.resolve === 'function');
  check(() => validate.require(tenantOk, 'tenant.resolve', 'must be a function (request) => ({ roleArn, externalId, ... })'));

  if (problems.length > 0) {
    throw new StsError(`Invalid ServerAwsStsConfig: ${problems.join('; ')}`, { code: 'InvalidConfiguration', operation: 'Configuration' });
  }

  const operationTimeoutMs = operationTimeoutSeconds * 1000;
  const { useFipsEndpoint, useDualstackEndpoint } = config;
  const { clientConfig, ownsRequestHandler } = withRequestHandlerDefaults({
    ...config.clientConfig,
    ...(useFipsEndpoint === undefined ? {} : { useFipsEndpoint }),
    ...(useDualstackEndpoint === undefined ? {} : { useDualstackEndpoint }),
  });
  return {
    region: config.AWS_REGION,
    defaultSessionDuration,
    maxSessionDuration,
    defaultExternalId: () => externalId,
    // Shorter than an operation's deadline, so the resolution every caller shares is dropped before any operation
    // times out waiting on it: the next caller always asks the provider afresh.
    credentials: boundedProvider(baseCredentialProvider(config), BASE_PROVIDER_SHARE_OF_TIMEOUT * operationTimeoutMs),
    clientConfig,
    ownsRequestHandler,
    operationTimeoutMs,
    maxConcurrentStsCalls,
    requireExternalId: config.requireExternalId ?? false,
    sessionNamePrefix: prefix,
    cache,
    clients,
    meterProvider: metricsOptions === false ? undefined : (metricsOptions.meterProvider ?? metrics.getMeterProvider()),
    tenant,
  };
}
