/**
 * A local, in-process AWS STS endpoint for tests and demos.
 *
 * - `node:http` on 127.0.0.1, ephemeral port; speaks the STS Query protocol
 *   (form-encoded POST, `Action` + `Version=2011-06-15`) and answers the XML
 *   real STS answers (namespace https://sts.amazonaws.com/doc/2011-06-15/).
 * - AssumeRole, GetSessionToken and GetCallerIdentity are SigV4-verified by
 *   re-signing the request with `@smithy/signature-v4`.
 * - A role registry enforces trust, ExternalId, MFA, MaxSessionDuration and
 *   the 1-hour role-chaining limit with STS's own error codes and messages.
 * - Issued credentials expire by an injectable clock.
 * - Faults (throttle, 5xx, delay, socket reset, malformed XML, clock skew,
 *   arbitrary STS error) can be injected per call, per action or per rate.
 *
 * This file holds the server's start, its state and the controls a test turns (roles, faults, tokens, the call log);
 * `http-handler.ts` the HTTP side (read, count in flight, fault, answer, call log), `action-router.ts` which action
 * answers a request; the STS semantics live in the modules next to it. Nothing here logs, and no secret is ever
 * recorded in `calls`.
 */
import { randomBytes, type KeyObject } from 'node:crypto';
import type { STSClientConfig } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity } from '@aws-sdk/types';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ServerAwsStsConfig } from '../../config/server-aws-sts.config.js';
import { seededRandom } from './seeded-random.js';
import { routeAction } from './action-router.js';
import { CredentialStore, type LocalStsIdentity } from './credentials.js';
import type { LocalStsCall } from './exchange.js';
import { FaultInjector, type LocalStsFault, type LocalStsFaultOptions } from './faults.js';
import { LocalStsHttp } from './http-handler.js';
import { RoleRegistry, type LocalStsRole } from './iam-rules.js';
import { OutboundTokens } from './outbound-tokens.js';
import { ROLE_ARN_PATTERN } from './role-arn.js';
import type { StsActionContext } from './sts-actions.js';

/** Options of LocalStsServer.start(). */
export interface LocalStsServerOptions {
  /** Base identities (long-term keys). The first is `baseIdentity`. Default: one local test user. */
  identities?: LocalStsIdentity[];
  roles?: LocalStsRole[];
  /** Server clock in epoch ms (default Date.now): credential expiry, Expiration, Date header. */
  now?: () => number;
  /** The only accepted MFA TokenCode (default '123456'). */
  validMfaCode?: string;
  /** Seed for the fault-rate RNG (default 1). */
  seed?: number;
  /**
   * When set, signed requests whose x-amz-date differs from `now()` by more than
   * this many seconds get 403 SignatureDoesNotMatch "Signature expired".
   * Off by default so fake clocks do not break signing.
   */
  maxClockSkewSeconds?: number;
}

/** The region of the signing scope the server expects (any region signs correctly; this one is the default). */
const LOCAL_STS_REGION = 'us-east-1';

/**
 * Starts a local STS endpoint on a free port of 127.0.0.1 (see the file comment); stop it with `close()`.
 * Rejects (and closes) on invalid options.
 */
export function startLocalSts(options: LocalStsServerOptions = {}): Promise<LocalStsServer> {
  return LocalStsServer.start(options);
}

/** The local STS endpoint; see the file comment. Start it with `startLocalSts()`, stop it with `close()`. */
export class LocalStsServer {
  /** `http://127.0.0.1:<port>`, for the SDK's `endpoint`. */
  readonly endpoint: string;
  /** The first configured identity: the keys to sign with. */
  readonly baseIdentity: LocalStsIdentity;

  private readonly now: () => number;
  private readonly credentials: CredentialStore;
  private readonly roles = new RoleRegistry();
  private readonly actionContext: StsActionContext;
  private readonly faults: FaultInjector;
  private readonly outboundTokens: OutboundTokens;
  private readonly http: LocalStsHttp;

  private constructor(server: Server, port: number, options: LocalStsServerOptions) {
    this.endpoint = `http://127.0.0.1:${port}`;
    this.now = options.now ?? Date.now;
    this.faults = new FaultInjector(seededRandom(options.seed ?? 1));
    this.credentials = new CredentialStore(options.identities, this.now);
    this.outboundTokens = new OutboundTokens(this.now);
    this.baseIdentity = this.credentials.baseIdentity;
    const { roles, credentials, now } = this;
    this.actionContext = {
      roles,
      credentials,
      now,
      validMfaCode: options.validMfaCode ?? '123456',
      authorizationMessages: new Map(),
      organization: { rootSessionsEnabled: false, memberAccounts: new Set() },
      tradeInTokens: new Map(),
    };
    const routing = {
      sts: this.actionContext,
      authContext: { credentials, now, maxClockSkewSeconds: options.maxClockSkewSeconds },
      outboundTokens: this.outboundTokens,
      baseAccount: this.baseIdentity.account,
    };
    this.http = new LocalStsHttp(server, now, this.faults, (request) => routeAction(routing, request));
    for (const role of options.roles ?? []) this.addRole(role);
  }

  /** Listens on an ephemeral port of 127.0.0.1; rejects (and closes) on invalid options. */
  static async start(options: LocalStsServerOptions = {}): Promise<LocalStsServer> {
    const server = createServer();
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const port = (server.address() as AddressInfo).port;
    let instance: LocalStsServer;
    try {
      instance = new LocalStsServer(server, port, options);
    } catch (err) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      throw err;
    }
    instance.http.listen();
    return instance;
  }

  /**
   * Options for `ServerAwsStsModule.configure(...)` pointing the module at this server, signed as `baseIdentity`,
   * region `us-east-1`: `configure(sts.moduleConfig({ cache: false }))`. Yours are merged over them, `clientConfig`
   * included (its `endpoint` stays this server's).
   */
  moduleConfig(overrides: ServerAwsStsConfig = {}): ServerAwsStsConfig {
    const { accessKeyId, secretAccessKey } = this.baseIdentity;
    const clientConfig = { ...overrides.clientConfig, endpoint: this.endpoint };
    return { AWS_REGION: LOCAL_STS_REGION, credentials: { accessKeyId, secretAccessKey }, ...overrides, clientConfig };
  }

  /**
   * Options for a plain `new STSClient(...)` talking to this server: its endpoint, region `us-east-1`, and
   * `credentials` (default: `baseIdentity`'s keys; pass credentials the server issued to call as that session).
   */
  stsClientConfig(credentials: AwsCredentialIdentity = this.baseIdentity): STSClientConfig {
    const { accessKeyId, secretAccessKey, sessionToken } = credentials;
    return { endpoint: this.endpoint, region: LOCAL_STS_REGION, credentials: { accessKeyId, secretAccessKey, sessionToken } };
  }

  /** Adds a role; throws on an invalid ARN, a duplicate or an invalid maxSessionDuration. */
  addRole(role: LocalStsRole): void {
    this.roles.add(role);
  }

  /**
   * An encoded authorization failure message, as an AWS service appends it to an AccessDenied, that this server's
   * DecodeAuthorizationMessage decodes into `decoded` (as JSON). Any other message is answered with
   * InvalidAuthorizationMessageException.
   */
  encodeAuthorizationMessage(decoded: Record<string, unknown>): string {
    const encoded = randomBytes(96).toString('base64url');
    this.actionContext.authorizationMessages.set(encoded, JSON.stringify(decoded));
    return encoded;
  }

  /**
   * Turns the account's outbound identity federation on (the default) or off: while off, GetWebIdentityToken is
   * answered with OutboundWebIdentityFederationDisabledException, as before an admin enables it in IAM.
   */
  setOutboundWebIdentityFederation(enabled: boolean): void {
    this.outboundTokens.enabled = enabled;
  }

  /**
   * Organizations centralized root access of the organization whose management account is `baseIdentity`'s: while
   * off (the default), AssumeRoot is refused with AccessDenied; while on, it opens root sessions of `memberAccounts`.
   */
  setCentralizedRootAccess(enabled: boolean, memberAccounts: readonly string[] = []): void {
    this.actionContext.organization = { rootSessionsEnabled: enabled, memberAccounts: new Set(memberAccounts) };
  }

  /**
   * A trade-in token, as a customer's approval of a temporary delegation hands one to the partner: GetDelegatedAccessToken
   * exchanges it for a session of the role `principalArn` until it expires (then ExpiredTradeInTokenException).
   * Throws on an invalid role ARN.
   */
  issueTradeInToken(principalArn: string, expiresInSeconds = 300): string {
    if (!ROLE_ARN_PATTERN.test(principalArn)) throw new Error(`LocalStsServer: invalid role ARN ${principalArn}`);
    const token = randomBytes(48).toString('base64url');
    this.actionContext.tradeInTokens.set(token, { principalArn, expiresAt: this.now() + expiresInSeconds * 1000 });
    return token;
  }

  /** The public key GetWebIdentityToken's `RS256` or `ES384` tokens verify with (what a JWKS endpoint publishes). */
  webIdentityTokenPublicKey(algorithm: 'RS256' | 'ES384'): KeyObject {
    return this.outboundTokens.publicKey(algorithm);
  }

  /** Changes a role's settings (never its ARN). */
  updateRole(arn: string, patch: Partial<LocalStsRole>): void {
    this.roles.update(arn, patch);
  }

  /** Forgets a role. */
  removeRole(arn: string): void {
    this.roles.remove(arn);
  }

  /** Injects a fault into the next matching call(s); see LocalStsFaultOptions. */
  injectFault(fault: LocalStsFault, options: LocalStsFaultOptions = {}): void {
    this.faults.inject(fault, options);
  }

  /** Removes every injected fault. */
  clearFaults(): void {
    this.faults.clear();
  }

  /** A copy of the calls answered (or abandoned) so far, oldest first. */
  get calls(): ReadonlyArray<LocalStsCall> {
    return this.http.calls;
  }

  /** Number of calls so far, of one action when given. */
  callCount(action?: string): number {
    return this.http.callCount(action);
  }

  /** The most requests of `action` (of any action when not given) the server was handling at once, from body to answer. */
  peakInFlight(action?: string): number {
    return this.http.peakInFlight(action);
  }

  /** Empties the call log, and starts each action's peak in flight again from the requests running now. */
  resetCalls(): void {
    this.http.resetCalls();
  }

  /** Forgets credentials it issued, as if AWS revoked them: they are then answered with InvalidClientTokenId. */
  revokeCredentials(accessKeyId: string): boolean {
    return this.credentials.revoke(accessKeyId);
  }

  /** Number of credential sets issued and not yet expired (by the server clock). */
  activeCredentialCount(): number {
    return this.credentials.activeCount();
  }

  /** Stops listening, cancels delays and destroys open connections; idempotent. */
  close(): Promise<void> {
    return this.http.close();
  }
}
